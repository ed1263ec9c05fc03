//! The Anthropic Messages endpoint: event order, thinking, tools, whole messages, auth and pacing.

use std::time::{Duration, Instant};

use mockllm::{reply_text, thinking_text, MockConfig};
use serde_json::{json, Value};

use crate::support::{anthropic_body, parse_sse, post_anthropic, spawn, spawn_default};

async fn stream_events(text: &str) -> Vec<(String, Value)> {
    let base = spawn_default().await;
    let response = post_anthropic(&base, &anthropic_body(text, true)).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let body = response.text().await.unwrap();
    parse_sse(&body)
        .into_iter()
        .map(|e| {
            let data = e.json();
            assert_eq!(data["type"], e.event.as_str(), "data type matches event name");
            (e.event, data)
        })
        .collect()
}

fn deltas(events: &[(String, Value)], index: u64, field: &str) -> String {
    events
        .iter()
        .filter(|(name, d)| name == "content_block_delta" && d["index"] == index)
        .filter_map(|(_, d)| d["delta"][field].as_str())
        .collect()
}

#[tokio::test]
async fn a_text_reply_streams_as_block_events_in_the_real_order() {
    let events = stream_events("hello there [[mock tokens=5]]").await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["message_start", "ping", "content_block_start"];
    expected.extend(["content_block_delta"; 5]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let start = &events[0].1["message"];
    assert!(start["id"].as_str().unwrap().starts_with("msg_mock"));
    assert_eq!(start["model"], "claude-mock");
    assert_eq!(start["content"], json!([]));
    assert!(start["usage"]["input_tokens"].as_u64().unwrap() >= 2);
    assert_eq!(events[2].1["content_block"], json!({"type": "text", "text": ""}));
    assert_eq!(deltas(&events, 0, "text"), reply_text(5));
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 5);
}

#[tokio::test]
async fn a_thinking_block_with_a_signature_comes_before_the_text() {
    let events = stream_events("[[mock tokens=4 thinking=3]]").await;
    let starts: Vec<&Value> = events.iter().filter(|(n, _)| n == "content_block_start").map(|(_, d)| d).collect();
    assert_eq!(starts[0]["content_block"]["type"], "thinking");
    assert_eq!(starts[0]["index"], 0);
    assert_eq!(starts[1]["content_block"]["type"], "text");
    assert_eq!(starts[1]["index"], 1);
    assert_eq!(deltas(&events, 0, "thinking"), thinking_text(3));
    assert!(!deltas(&events, 0, "signature").is_empty());
    assert_eq!(deltas(&events, 1, "text"), reply_text(4));
}

#[tokio::test]
async fn a_tool_reply_ends_with_a_streamed_tool_use_block() {
    let events = stream_events("[[mock tokens=2 tool=1]]").await;
    let start = events.iter().rfind(|(n, _)| n == "content_block_start").map(|(_, d)| d.clone()).unwrap();
    assert_eq!(start["content_block"]["type"], "tool_use");
    assert_eq!(start["content_block"]["name"], "Read");
    let input: Value = serde_json::from_str(&deltas(&events, 1, "partial_json")).unwrap();
    assert_eq!(input, json!({"file_path": "README.md"}));
    let delta = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn a_non_streaming_request_gets_a_whole_message() {
    let base = spawn_default().await;
    let response = post_anthropic(&base, &anthropic_body("[[mock tokens=6]]", false)).await;
    assert_eq!(response.status(), 200);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["content"][0]["text"], reply_text(6));
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["usage"]["output_tokens"], 6);
}

#[tokio::test]
async fn a_missing_api_key_is_a_401_in_the_anthropic_shape() {
    let base = spawn_default().await;
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .json(&anthropic_body("hi", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn a_malformed_body_is_a_400_invalid_request_error() {
    let base = spawn_default().await;
    let response = post_anthropic(&base, &json!({"model": "m", "messages": "nope"})).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn tokens_are_paced_by_delay_and_rate() {
    let base = spawn(MockConfig {
        first_token_delay: Duration::from_millis(150),
        tokens_per_sec: 50.0,
        tokens: 6,
        thinking_tokens: 0,
        ..MockConfig::default()
    })
    .await;
    let started = Instant::now();
    let response = post_anthropic(&base, &anthropic_body("hi", true)).await;
    let body = response.text().await.unwrap();
    assert!(body.contains("message_stop"));
    // 150 ms before the first token, then 5 gaps of 20 ms.
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_expected_text_and_health_endpoints_answer() {
    let base = spawn_default().await;
    let text = reqwest::get(format!("{base}/mock/expected?tokens=9")).await.unwrap().text().await.unwrap();
    assert_eq!(text, reply_text(9));
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_reply_over_the_requests_max_tokens_stops_there_with_stop_reason_max_tokens() {
    let base = spawn_default().await;
    let mut body = anthropic_body("[[mock tokens=30 tool=1]]", true);
    body["max_tokens"] = json!(7);
    let text = post_anthropic(&base, &body).await.text().await.unwrap();
    let events: Vec<Value> = parse_sse(&text).iter().map(|e| e.json()).collect();
    let sent: String = events.iter().filter_map(|e| e["delta"]["text"].as_str()).collect();
    assert_eq!(sent, reply_text(7));
    assert!(events.iter().all(|e| e["content_block"]["type"] != "tool_use"));
    let delta = events.iter().find(|e| e["type"] == "message_delta").unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "max_tokens");
    assert_eq!(delta["usage"]["output_tokens"], 7);
    let events = stream_events("[[mock tokens=3 stop=max_tokens]]").await;
    assert_eq!(events[events.len() - 2].1["delta"]["stop_reason"], "max_tokens");
}

#[tokio::test]
async fn cache_tokens_show_in_message_start_and_message_delta_carries_the_cumulative_usage() {
    let events = stream_events("one two [[mock tokens=4 cache_read=300 cache_write=20]]").await;
    let start = &events[0].1["message"]["usage"];
    assert_eq!((start["cache_read_input_tokens"].as_u64(), start["cache_creation_input_tokens"].as_u64()), (Some(300), Some(20)));
    assert_eq!(start["output_tokens"], 1);
    let delta = &events[events.len() - 2].1["usage"];
    assert_eq!(delta["input_tokens"], start["input_tokens"]);
    assert_eq!(delta["cache_read_input_tokens"], 300);
    assert_eq!(delta["cache_creation_input_tokens"], 20);
    assert_eq!(delta["output_tokens"], 4);
}

#[tokio::test]
async fn several_tools_stream_as_consecutive_tool_use_blocks() {
    let events = stream_events("[[mock tokens=2 tools=read,bash]]").await;
    let starts: Vec<&Value> = events.iter().filter(|(n, _)| n == "content_block_start").map(|(_, d)| d).collect();
    let kinds: Vec<(u64, &str)> =
        starts.iter().map(|s| (s["index"].as_u64().unwrap(), s["content_block"]["name"].as_str().unwrap_or("text"))).collect();
    assert_eq!(kinds, [(0, "text"), (1, "Read"), (2, "Bash")]);
    assert_ne!(starts[1]["content_block"]["id"], starts[2]["content_block"]["id"]);
    let read: Value = serde_json::from_str(&deltas(&events, 1, "partial_json")).unwrap();
    let bash: Value = serde_json::from_str(&deltas(&events, 2, "partial_json")).unwrap();
    assert_eq!((read["file_path"].as_str(), bash["command"].as_str()), (Some("README.md"), Some("echo hello-from-mock")));
    let delta = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
}
