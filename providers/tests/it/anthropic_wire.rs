//! Hand-written SSE servers: unknown event types and UTF-8 split across network chunks.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use futures::stream;
use providers::BlockKind;

use crate::support::{provider, request, run, serve, Reply};

fn event(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn canned_reply(text_json: &str) -> String {
    [
        event("message_start", r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}"#),
        event("ping", r#"{"type":"ping"}"#),
        event("some_future_event", r#"{"type":"some_future_event","detail":{"x":1}}"#),
        event("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        event("content_block_delta", &format!(r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{text_json}}}}}"#)),
        event("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        event("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}"#),
        event("message_stop", r#"{"type":"message_stop"}"#),
    ]
    .concat()
}

/// A server answering `/v1/messages` with `chunks`, 30 ms apart.
async fn serve_chunks(chunks: Vec<Vec<u8>>) -> String {
    let router = Router::new().route(
        "/v1/messages",
        post(move || {
            let chunks = chunks.clone();
            async move {
                let body = stream::unfold(chunks.into_iter(), |mut it| async move {
                    let chunk = it.next()?;
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Some((Ok::<_, Infallible>(Bytes::from(chunk)), it))
                });
                ([(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(body)).into_response()
            }
        }),
    );
    serve(router).await
}

#[tokio::test]
async fn an_unknown_event_type_is_tolerated() {
    let base = serve_chunks(vec![canned_reply(r#""Hello""#).into_bytes()]).await;
    let reply = Reply::from_items(run(&provider(&base), request("hi")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), "Hello");
    assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(reply.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((3, 2)));
}

#[tokio::test]
async fn a_multi_byte_character_split_across_network_chunks_decodes_correctly() {
    let body = canned_reply(r#""café au lait""#).into_bytes();
    let split = body.iter().position(|b| *b == 0xC3).expect("é starts with 0xC3") + 1;
    let base = serve_chunks(vec![body[..split].to_vec(), body[split..].to_vec()]).await;
    let reply = Reply::from_items(run(&provider(&base), request("hi")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), "café au lait");
}
