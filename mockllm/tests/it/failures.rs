//! Injected failures: HTTP errors, fail_times, cut connections and error events.

use mockllm::reply_text;
use serde_json::Value;

use crate::support::{anthropic_body, parse_sse, post_anthropic, read_until_end, spawn_default};

#[tokio::test]
async fn http529_has_retry_after_and_an_overloaded_body() {
    let base = spawn_default().await;
    let response = post_anthropic(&base, &anthropic_body("[[mock fail=http529]]", true)).await;
    assert_eq!(response.status(), 529);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert_eq!(body["error"]["message"], "Overloaded");
}

#[tokio::test]
async fn http500_and_http401_carry_their_error_types() {
    let base = spawn_default().await;
    for (fail, status, kind) in [("http500", 500, "api_error"), ("http401", 401, "authentication_error")] {
        let text = format!("[[mock fail={fail}]]");
        let response = post_anthropic(&base, &anthropic_body(&text, true)).await;
        assert_eq!(response.status(), status);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], kind);
    }
}

#[tokio::test]
async fn fail_times_fails_only_the_first_requests_with_that_directive() {
    let base = spawn_default().await;
    let body = anthropic_body("[[mock fail=http529 fail_times=2 tokens=3]]", true);
    assert_eq!(post_anthropic(&base, &body).await.status(), 529);
    assert_eq!(post_anthropic(&base, &body).await.status(), 529);
    let third = post_anthropic(&base, &body).await;
    assert_eq!(third.status(), 200);
    assert!(third.text().await.unwrap().contains("message_stop"));
}

#[tokio::test]
async fn a_cut_stream_ends_with_a_body_error_before_message_stop() {
    let base = spawn_default().await;
    let body = anthropic_body("[[mock tokens=10 fail=cut after=4]]", true);
    let response = post_anthropic(&base, &body).await;
    assert_eq!(response.status(), 200);
    let (text, errored) = read_until_end(response).await;
    assert!(errored, "the body should end with an error");
    assert!(!text.contains("message_stop"));
    let sent: String = parse_sse(&text)
        .iter()
        .filter(|e| e.event == "content_block_delta")
        .map(|e| e.json()["delta"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, reply_text(4));
}

#[tokio::test]
async fn an_error_event_follows_the_first_tokens_and_ends_the_stream() {
    let base = spawn_default().await;
    let body = anthropic_body("[[mock tokens=10 fail=error_event after=3]]", true);
    let text = post_anthropic(&base, &body).await.text().await.unwrap();
    let events = parse_sse(&text);
    let deltas = events.iter().filter(|e| e.event == "content_block_delta").count();
    assert_eq!(deltas, 3);
    let last = events.last().unwrap();
    assert_eq!(last.event, "error");
    let data = last.json();
    assert_eq!(data["type"], "error");
    assert_eq!(data["error"]["type"], "overloaded_error");
    assert_eq!(data["error"]["message"], "Overloaded");
}
