//! The OpenAI endpoints: Chat Completions chunks ending in [DONE], Responses events ending in response.completed.

use mockllm::{reply_text, thinking_text};
use serde_json::{json, Value};

use crate::support::{parse_sse, post_openai, spawn_default};

fn chat_body(text: &str) -> Value {
    json!({
        "model": "gpt-mock",
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": text},
        ],
    })
}

#[tokio::test]
async fn chat_completion_chunks_parse_as_json_and_end_with_done() {
    let base = spawn_default().await;
    let response = post_openai(&base, "/v1/chat/completions", &chat_body("[[mock tokens=7 thinking=2]]")).await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(|e| e.json()).collect();
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let field = |name: &str| -> String { chunks.iter().filter_map(|c| c["choices"][0]["delta"][name].as_str()).collect() };
    assert_eq!(field("content"), reply_text(7));
    assert_eq!(field("reasoning_content"), thinking_text(2));
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 9);
    let total = usage["usage"]["total_tokens"].as_u64().unwrap();
    assert_eq!(total, usage["usage"]["prompt_tokens"].as_u64().unwrap() + 9);
}

#[tokio::test]
async fn chat_completions_without_a_bearer_token_are_a_401() {
    let base = spawn_default().await;
    let response = reqwest::Client::new().post(format!("{base}/v1/chat/completions")).json(&chat_body("hi")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn responses_events_are_typed_numbered_and_end_with_response_completed() {
    let base = spawn_default().await;
    let body = json!({
        "model": "gpt-mock",
        "stream": true,
        "instructions": "be brief",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "[[mock tokens=5 thinking=3 tool=1]]"}]}],
    });
    let response = post_openai(&base, "/v1/responses", &body).await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&response.text().await.unwrap());
    for (i, e) in events.iter().enumerate() {
        let data = e.json();
        assert_eq!(data["type"], e.event.as_str());
        assert_eq!(data["sequence_number"], i as u64);
    }
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(&names[..3], ["response.created", "response.in_progress", "response.output_item.added"]);
    assert_eq!(*names.last().unwrap(), "response.completed");
    let joined = |name: &str| -> String {
        events.iter().filter(|e| e.event == name).map(|e| e.json()["delta"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(joined("response.output_text.delta"), reply_text(5));
    assert_eq!(joined("response.reasoning_summary_text.delta"), thinking_text(3));
    let args: Value = serde_json::from_str(&joined("response.function_call_arguments.delta")).unwrap();
    assert_eq!(args, json!({"file_path": "README.md"}));
    let completed = events.last().unwrap().json();
    let usage = &completed["response"]["usage"];
    assert_eq!(completed["response"]["status"], "completed");
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 3);
    let total = usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap();
    assert_eq!(usage["total_tokens"].as_u64().unwrap(), total);
    assert_eq!(completed["response"]["output"].as_array().unwrap().len(), 3);
}
