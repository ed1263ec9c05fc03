//! Retried requests: the same path and body get the next variant of the reply, an HTTP
//! failure counts for none, and `/mock/expected` names every variant.

use mockllm::{reply_text, reply_text_variant};
use serde_json::Value;

use crate::support::{anthropic_body, parse_sse, post_anthropic, post_openai, spawn_default};

async fn streamed_text(base: &str, body: &Value) -> String {
    let text = post_anthropic(base, body).await.text().await.unwrap();
    parse_sse(&text)
        .iter()
        .filter(|e| e.event == "content_block_delta")
        .map(|e| e.json()["delta"]["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_identical_request_gets_the_next_variant_and_another_request_the_first() {
    let base = spawn_default().await;
    let body = anthropic_body("[[mock tokens=12]]", true);
    assert_eq!(streamed_text(&base, &body).await, reply_text(12));
    assert_eq!(streamed_text(&base, &body).await, reply_text_variant(12, 2));
    assert_eq!(streamed_text(&base, &body).await, reply_text_variant(12, 3));
    assert_eq!(streamed_text(&base, &anthropic_body("again [[mock tokens=12]]", true)).await, reply_text(12));
}

#[tokio::test]
async fn a_request_that_failed_with_an_http_error_still_gets_the_first_variant_next() {
    let base = spawn_default().await;
    let body = anthropic_body("[[mock tokens=6 fail=http429 fail_times=1]]", true);
    assert_eq!(post_anthropic(&base, &body).await.status(), 429);
    assert_eq!(streamed_text(&base, &body).await, reply_text(6));
}

#[tokio::test]
async fn the_openai_formats_count_their_attempts_too() {
    let base = spawn_default().await;
    let body = serde_json::json!({"model": "gpt-mock", "input": "[[mock tokens=5]]"});
    let mut texts = Vec::new();
    for _ in 0..2 {
        let reply: Value = post_openai(&base, "/v1/responses", &body).await.json().await.unwrap();
        texts.push(reply["output"][0]["content"][0]["text"].as_str().unwrap().to_string());
    }
    assert_eq!(texts, [reply_text(5), reply_text_variant(5, 2)]);
}

#[tokio::test]
async fn the_expected_endpoint_names_each_attempts_text() {
    let base = spawn_default().await;
    let get = |query: &'static str| {
        let base = base.clone();
        async move { reqwest::get(format!("{base}/mock/expected?{query}")).await.unwrap().text().await.unwrap() }
    };
    assert_eq!(get("tokens=9&attempt=2").await, reply_text_variant(9, 2));
    assert_eq!(get("tokens=9&attempt=1").await, reply_text(9));
    assert_eq!(get("tokens=9").await, reply_text(9));
}
