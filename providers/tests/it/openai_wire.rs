//! Hand-written OpenAI-compatible servers: Ollama-style `reasoning` deltas, a missing `[DONE]`,
//! garbage, a `/v1` base URL, and unknown Responses events.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use providers::openai::OpenAiConfig;
use providers::{BlockKind, ProviderError};

use crate::support::{openai, request, run, serve, Reply};

/// A server answering `path` with `body` as an event stream.
async fn serve_body(path: &'static str, body: String) -> String {
    let router = Router::new().route(
        path,
        post(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response() }
        }),
    );
    serve(router).await
}

fn data(json: &str) -> String {
    format!("data: {json}\n\n")
}

#[tokio::test]
async fn ollama_style_reasoning_and_a_missing_done_after_finish_still_make_a_reply() {
    let body = [
        data(r#"{"choices":[{"index":0,"delta":{"role":"assistant","reasoning":"hmm"}}]}"#),
        data(r#"{"choices":[{"index":0,"delta":{"content":"Hi "}}]}"#),
        data(r#"{"choices":[{"index":0,"delta":{"content":"there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#),
    ]
    .concat();
    let base = serve_body("/v1/chat/completions", body).await;
    // The base URL may end in /v1, as OpenAI SDK users write it.
    let reply = Reply::from_items(run(&openai(OpenAiConfig::chat_completions(), &format!("{base}/v1")), request("hi")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Thinking), "hmm");
    assert_eq!(reply.text_of(BlockKind::Text), "Hi there");
    assert_eq!(reply.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((3, 4)));
    assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"));
}

#[tokio::test]
async fn a_garbage_chunk_is_a_protocol_error() {
    let body = [data(r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#), data("<html>oops</html>")].concat();
    let base = serve_body("/v1/chat/completions", body).await;
    let reply = Reply::from_items(run(&openai(OpenAiConfig::chat_completions(), &base), request("hi")).await);
    assert_eq!(reply.text_of(BlockKind::Text), "Hi");
    assert!(matches!(reply.error, Some(ProviderError::Protocol(_))), "{:?}", reply.error);
}

#[tokio::test]
async fn unknown_responses_events_are_tolerated() {
    let event = |name: &str, json: &str| format!("event: {name}\ndata: {json}\n\n");
    let body = [
        event("response.created", r#"{"type":"response.created","sequence_number":0,"response":{}}"#),
        event("response.some_future_event", r#"{"type":"response.some_future_event","sequence_number":1}"#),
        event(
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","sequence_number":2,"output_index":0,"content_index":0,"delta":"café"}"#,
        ),
        event("response.output_item.done", r#"{"type":"response.output_item.done","sequence_number":3,"output_index":0}"#),
        event(
            "response.completed",
            r#"{"type":"response.completed","sequence_number":4,"response":{"usage":{"input_tokens":2,"output_tokens":1}}}"#,
        ),
    ]
    .concat();
    let base = serve_body("/v1/responses", body).await;
    let reply = Reply::from_items(run(&openai(OpenAiConfig::responses(), &base), request("hi")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), "café");
    assert_eq!(reply.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((2, 1)));
}
