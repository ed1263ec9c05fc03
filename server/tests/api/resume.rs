//! Resuming the SSE feed: exactly the frames after the cut, none lost, none repeated.

use std::time::Duration;

use rand::Rng;

use crate::helpers::{frames_text, is_turn_end, prompt, read_frames, send_message, spawn_app, Frame};

#[tokio::test]
async fn resuming_from_100_random_cut_points_of_a_2000_token_reply_yields_exactly_the_later_frames() {
    // Arrange: a 2,000-token reply, streamed live while we record every frame.
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    send_message(&app.client, &app.address, &id, &prompt("tokens=2000 rate=4000")).await;
    let all = read_frames(&app.client, &app.address, &id, None, Duration::from_secs(60), |f, _| is_turn_end(f)).await;
    assert_eq!(all.last().map(|f| f.event.as_str()), Some("TurnCompleted"));
    assert_eq!(frames_text(&all), mockllm::reply_text(2000));
    let ids: Vec<u64> = all.iter().map(|f| f.id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "ids are consecutive");
    // Act + Assert: every cut resumes with exactly the rest.
    let mut rng = rand::rng();
    for _ in 0..100 {
        let cut = rng.random_range(0..all.len() - 1);
        let wanted: Vec<Frame> = all[cut + 1..].to_vec();
        let resumed =
            read_frames(&app.client, &app.address, &id, Some(&all[cut].id), Duration::from_secs(10), |_, n| n == wanted.len()).await;
        assert_eq!(resumed.len(), wanted.len(), "cut after {}", all[cut].id);
        assert_eq!(resumed, wanted, "cut after {}", all[cut].id);
    }
}

#[tokio::test]
async fn a_client_cut_mid_stream_resumes_live_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    send_message(&app.client, &app.address, &id, &prompt("tokens=600 rate=300")).await;
    let mut frames: Vec<Frame> = Vec::new();
    // Read in short bursts, dropping the connection each time, as a phone on a bad network would.
    for burst in 0.. {
        assert!(burst < 500, "the turn never ended");
        let last = frames.last().map(|f| f.id.clone());
        let got =
            read_frames(&app.client, &app.address, &id, last.as_deref(), Duration::from_secs(10), |f, n| n == 7 || is_turn_end(f)).await;
        let done = got.last().is_some_and(is_turn_end);
        frames.extend(got);
        if done {
            break;
        }
    }
    let ids: Vec<u64> = frames.iter().map(|f| f.id.parse().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "every frame exactly once, in order");
    assert_eq!(frames_text(&frames), mockllm::reply_text(600));
}
