//! Injected failures: HTTP errors, fail_times, cut connections and error events.

use mockllm::reply_text;
use serde_json::{json, Value};

use crate::support::{anthropic_body, parse_sse, post_anthropic, post_openai, read_until_end, spawn_default};

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

#[tokio::test]
async fn http429_is_a_rate_limit_error_with_retry_after_and_rate_limit_headers() {
    let base = spawn_default().await;
    let response = post_anthropic(&base, &anthropic_body("[[mock fail=http429 retry_after=3]]", true)).await;
    assert_eq!(response.status(), 429);
    let headers = response.headers().clone();
    assert_eq!(headers["retry-after"], "3");
    assert_eq!(headers["anthropic-ratelimit-requests-remaining"], "0");
    let reset = headers["anthropic-ratelimit-requests-reset"].to_str().unwrap();
    assert!(reset.ends_with('Z') && reset.contains('T'), "RFC 3339: {reset}");
    assert!(headers["request-id"].to_str().unwrap().starts_with("req_"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("rate limit"));
    assert_eq!(body["request_id"], headers["request-id"].to_str().unwrap());
}

#[tokio::test]
async fn the_openai_formats_answer_429_as_openai_does_and_overload_with_503_never_529() {
    let base = spawn_default().await;
    for path in ["/v1/chat/completions", "/v1/responses"] {
        let body = |text: &str| json!({"model": "gpt-mock", "input": text, "messages": [{"role": "user", "content": text}]});
        let response = post_openai(&base, path, &body("[[mock fail=http429 retry_after=2]]")).await;
        assert_eq!(response.status(), 429, "{path}");
        assert_eq!(response.headers()["retry-after"], "2");
        assert_eq!(response.headers()["x-ratelimit-remaining-requests"], "0");
        assert_eq!(response.headers()["x-ratelimit-reset-requests"], "2s");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "rate_limit_exceeded");
        assert_eq!(error["error"]["type"], "requests");
        assert_eq!(error["error"]["param"], Value::Null);
        assert!(error["error"]["message"].as_str().unwrap().starts_with("Rate limit reached for gpt-mock"));
        let response = post_openai(&base, path, &body("[[mock fail=http529]]")).await;
        assert_eq!(response.status(), 503, "{path}");
        assert_eq!(response.headers()["retry-after"], "1");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "server_is_overloaded");
    }
}
