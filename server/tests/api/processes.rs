//! Several real `pocket-dev` processes: cross-process live feed, worker crash and reclaim, serve restarts.

use std::time::Duration;

use crate::helpers::{
    create_conversation, frames_text, fresh_database, get_view, is_turn_end, prompt, read_frames, reply_text, reply_variant, send_message,
    spawn_mock, wait_until_settled, Process,
};

fn stream_name() -> String {
    format!("pocketdev:test:{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_client_of_one_serve_process_sees_the_tokens_of_a_turn_started_through_another() {
    // Arrange: serve A, serve B (no workers), and a separate worker process.
    let database = fresh_database().await;
    let (mock, _mock_task) = spawn_mock().await;
    let jobs = stream_name();
    let a = Process::start(&["serve", "--no-worker"], &database, &mock, &jobs).await;
    let b = Process::start(&["serve", "--no-worker"], &database, &mock, &jobs).await;
    let _worker = Process::start(&["worker"], &database, &mock, &jobs).await;
    let client = reqwest::Client::new();
    let id = create_conversation(&client, a.address()).await;
    // Act: B's client listens while A takes the prompt.
    let listener = {
        let (client, address, id) = (client.clone(), b.address().to_string(), id.clone());
        tokio::spawn(async move { read_frames(&client, &address, &id, None, Duration::from_secs(30), |f, _| is_turn_end(f)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_message(&client, a.address(), &id, &prompt("tokens=200 rate=400")).await;
    // Assert
    let frames = listener.await.unwrap();
    assert_eq!(frames.last().unwrap().event, "TurnCompleted");
    assert!(frames.iter().filter(|f| f.event == "TextAppended").count() > 1, "text arrived in pieces, as it streamed");
    assert_eq!(frames_text(&frames), mockllm::reply_text(200));
}

#[tokio::test]
async fn killing_the_worker_mid_turn_and_starting_another_ends_the_turn_without_duplicated_text() {
    let database = fresh_database().await;
    let (mock, _mock_task) = spawn_mock().await;
    let jobs = stream_name();
    let serve = Process::start(&["serve", "--no-worker"], &database, &mock, &jobs).await;
    let mut first = Process::start(&["worker"], &database, &mock, &jobs).await;
    let client = reqwest::Client::new();
    let id = create_conversation(&client, serve.address()).await;
    send_message(&client, serve.address(), &id, &prompt("tokens=300 rate=60")).await;
    // Wait until the first worker has streamed some text, then kill -9 it.
    let partial = read_frames(&client, serve.address(), &id, None, Duration::from_secs(20), |f, _| f.event == "TextAppended").await;
    assert!(partial.iter().any(|f| f.event == "TextAppended"), "the first worker started streaming");
    first.kill_hard().await;
    let killed_at = std::time::Instant::now();
    let _second = Process::start(&["worker"], &database, &mock, &jobs).await;
    let view = wait_until_settled(&client, serve.address(), &id, Duration::from_secs(60)).await;
    assert!(killed_at.elapsed() < Duration::from_secs(60));
    assert_eq!(view["messages"][0]["role"], "user", "the user's message is kept");
    // The reclaimed turn completes: its reply is the second attempt's, whole, with nothing of the first.
    assert_eq!(view["status"], "idle", "the turn completed through a reclaim: {view}");
    assert_eq!(reply_variant(&reply_text(&view, 1), 300, 2), Some(2), "completed by the second attempt, nothing spliced: {view}");
}

#[tokio::test]
async fn resuming_after_a_restart_of_the_serve_process_yields_exactly_the_later_frames() {
    let database = fresh_database().await;
    let (mock, _mock_task) = spawn_mock().await;
    let jobs = stream_name();
    let _worker = Process::start(&["worker"], &database, &mock, &jobs).await;
    let mut serve = Process::start(&["serve", "--no-worker"], &database, &mock, &jobs).await;
    let client = reqwest::Client::new();
    let id = create_conversation(&client, serve.address()).await;
    send_message(&client, serve.address(), &id, &prompt("tokens=400 rate=100")).await;
    let before = read_frames(&client, serve.address(), &id, None, Duration::from_secs(20), |_, n| n == 20).await;
    assert_eq!(before.len(), 20);
    serve.kill_hard().await;
    let restarted = Process::start(&["serve", "--no-worker"], &database, &mock, &jobs).await;
    let after =
        read_frames(&client, restarted.address(), &id, Some(&before.last().unwrap().id), Duration::from_secs(30), |f, _| is_turn_end(f))
            .await;
    let mut all = before.clone();
    all.extend(after);
    let ids: Vec<u64> = all.iter().map(|f| f.id.parse().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    assert_eq!(frames_text(&all), mockllm::reply_text(400));
    let view = get_view(&client, restarted.address(), &id).await;
    assert_eq!(reply_text(&view, 1), mockllm::reply_text(400));
}
