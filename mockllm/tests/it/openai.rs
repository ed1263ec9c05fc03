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

/// The chunks of a streamed chat completion, without `[DONE]`.
async fn chat_chunks(body: &Value) -> Vec<Value> {
    let base = spawn_default().await;
    let events = parse_sse(&post_openai(&base, "/v1/chat/completions", body).await.text().await.unwrap());
    assert_eq!(events.last().unwrap().data, "[DONE]");
    events[..events.len() - 1].iter().map(|e| e.json()).collect()
}

#[tokio::test]
async fn chat_stops_with_length_at_max_tokens_and_reports_cached_tokens_in_the_usage_chunk() {
    let mut body = chat_body("[[mock tokens=20 cache_read=50]]");
    body["max_tokens"] = json!(6);
    let chunks = chat_chunks(&body).await;
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, reply_text(6));
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "length");
    let usage = &chunks[chunks.len() - 1]["usage"];
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 50);
    assert!(usage["prompt_tokens"].as_u64().unwrap() >= 50, "the prompt count includes the cached tokens");
    assert_eq!(usage["completion_tokens"], 6);
}

#[tokio::test]
async fn several_chat_tool_calls_stream_under_distinct_indexes() {
    let chunks = chat_chunks(&chat_body("[[mock tokens=1 tools=read,write]]")).await;
    let calls: Vec<&Value> = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0)).collect();
    let firsts: Vec<(u64, &str, &str)> = calls
        .iter()
        .filter(|c| c.get("id").is_some())
        .map(|c| (c["index"].as_u64().unwrap(), c["id"].as_str().unwrap(), c["function"]["name"].as_str().unwrap()))
        .collect();
    let shape: Vec<(u64, &str)> = firsts.iter().map(|(index, _, name)| (*index, *name)).collect();
    assert_eq!(shape, [(0, "Read"), (1, "Write")]);
    assert!(firsts.iter().all(|(_, id, _)| id.starts_with("call_mock_")), "{firsts:?}");
    assert_ne!(firsts[0].1, firsts[1].1, "each call has its own id");
    let arguments = |index: u64| -> Value {
        let text: String = calls.iter().filter(|c| c["index"] == index).filter_map(|c| c["function"]["arguments"].as_str()).collect();
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(arguments(0), json!({"file_path": "README.md"}));
    assert_eq!(arguments(1)["file_path"], "mock-output.txt");
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "tool_calls");
}

/// The events of a streamed Responses reply to `text` with `extra` fields in the body.
async fn responses_events(text: &str, extra: Value) -> Vec<Value> {
    let base = spawn_default().await;
    let mut body = json!({"model": "gpt-mock", "stream": true, "input": [{"role": "user", "content": text}]});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let events = parse_sse(&post_openai(&base, "/v1/responses", &body).await.text().await.unwrap());
    events.iter().map(|e| e.json()).collect()
}

#[tokio::test]
async fn a_responses_reply_over_max_output_tokens_ends_with_response_incomplete() {
    let events = responses_events("[[mock tokens=20 cache_read=40]]", json!({"max_output_tokens": 5})).await;
    let text: String = events.iter().filter(|e| e["type"] == "response.output_text.delta").filter_map(|e| e["delta"].as_str()).collect();
    assert_eq!(text, reply_text(5));
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["status"], "incomplete");
    assert_eq!(last["response"]["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(last["response"]["output"][0]["status"], "incomplete");
    let usage = &last["response"]["usage"];
    assert_eq!((usage["output_tokens"].as_u64(), usage["input_tokens_details"]["cached_tokens"].as_u64()), (Some(5), Some(40)));
    assert!(usage["input_tokens"].as_u64().unwrap() >= 40, "the input count includes the cached tokens");
}

#[tokio::test]
async fn several_responses_tool_calls_are_function_call_items_in_order() {
    let events = responses_events("[[mock tokens=1 tools=bash,read]]", json!({})).await;
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    let calls: Vec<&Value> = last["response"]["output"].as_array().unwrap().iter().filter(|i| i["type"] == "function_call").collect();
    let names: Vec<(&str, &str)> = calls.iter().map(|c| (c["name"].as_str().unwrap(), c["call_id"].as_str().unwrap())).collect();
    assert_eq!(names.iter().map(|(name, _)| *name).collect::<Vec<_>>(), ["Bash", "Read"]);
    assert!(names.iter().all(|(_, id)| id.starts_with("call_mock_")) && names[0].1 != names[1].1, "{names:?}");
    assert_ne!(calls[0]["id"], calls[1]["id"]);
    let added: Vec<u64> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.added" && e["item"]["type"] == "function_call")
        .map(|e| e["output_index"].as_u64().unwrap())
        .collect();
    assert_eq!(added, [1, 2]);
}
