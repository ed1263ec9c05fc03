//! The agent script in all three formats: one `step=` per round of a tool loop, the final text after
//! the last, and the APIs' refusals of histories whose calls and results do not pair up.

use serde_json::{json, Value};

use crate::support::{post_anthropic, post_openai, spawn_default};

const SCRIPT: &str = r#"[[mock tokens=2 step="read:calc.py" step="edit:calc.py:a - b:a + b || bash:python3 test_calc.py"]]"#;

fn anthropic_tools() -> Value {
    json!(["read", "edit", "bash"].map(|name| json!({"name": name, "description": name, "input_schema": {"type": "object"}})))
}

/// A whole (not streamed) Anthropic reply to `messages`.
async fn anthropic(base: &str, messages: Value, tools: Value) -> (u16, Value) {
    let body = json!({"model": "claude-mock", "max_tokens": 1000, "tools": tools, "messages": messages});
    let response = post_anthropic(base, &body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn an_anthropic_tool_loop_plays_each_step_then_answers() {
    let base = spawn_default().await;
    let mut messages = vec![json!({"role": "user", "content": SCRIPT})];
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let (status, reply) = anthropic(&base, json!(messages), anthropic_tools()).await;
        assert_eq!(status, 200, "{reply}");
        let calls: Vec<Value> = reply["content"].as_array().unwrap().iter().filter(|b| b["type"] == "tool_use").cloned().collect();
        rounds.push((reply["stop_reason"].as_str().unwrap().to_string(), calls.iter().map(|c| c["name"].to_string()).collect::<Vec<_>>()));
        if calls.is_empty() {
            assert!(reply["content"][0]["text"].as_str().unwrap().starts_with("Done: "), "{reply}");
            break;
        }
        let results: Vec<Value> = calls.iter().map(|c| json!({"type": "tool_result", "tool_use_id": c["id"], "content": "ok"})).collect();
        messages.push(json!({"role": "assistant", "content": reply["content"]}));
        messages.push(json!({"role": "user", "content": results}));
    }
    assert_eq!(
        rounds,
        [
            ("tool_use".to_string(), vec!["\"read\"".to_string()]),
            ("tool_use".to_string(), vec!["\"edit\"".to_string(), "\"bash\"".to_string()]),
            ("end_turn".to_string(), vec![]),
        ]
    );
}

#[tokio::test]
async fn anthropic_refuses_a_tool_use_without_its_result_and_a_result_without_its_call() {
    let base = spawn_default().await;
    let call = json!({"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "read", "input": {}}]});
    let (status, body) =
        anthropic(&base, json!([{"role": "user", "content": SCRIPT}, call, {"role": "user", "content": "next"}]), anthropic_tools()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"));
    let stray = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "x"}]});
    let (status, body) =
        anthropic(&base, json!([{"role": "user", "content": SCRIPT}, {"role": "assistant", "content": "hi"}, stray]), anthropic_tools())
            .await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("unexpected `tool_use_id` found in `tool_result` blocks: toolu_9"));
    let (status, body) = anthropic(&base, json!([{"role": "user", "content": SCRIPT}]), json!([{"name": "read"}])).await;
    assert_eq!((status, body["error"]["message"].as_str().unwrap()), (400, "tools.0.custom.input_schema: Field required"));
}

#[tokio::test]
async fn a_script_calling_a_tool_the_request_does_not_offer_is_refused() {
    let base = spawn_default().await;
    let tools = json!([{"name": "read", "description": "r", "input_schema": {"type": "object"}}]);
    let (status, body) = anthropic(&base, json!([{"role": "user", "content": "[[mock step=\"bash:ls\"]]"}]), tools).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("does not offer: bash"), "{body}");
    let raw = "[[mock step=\"raw:no_such_tool:{}\"]]";
    let (status, body) = anthropic(&base, json!([{"role": "user", "content": raw}]), anthropic_tools()).await;
    assert_eq!((status, body["content"][1]["name"].as_str()), (200, Some("no_such_tool")), "{body}");
}

fn chat_tools() -> Value {
    json!(["read", "edit", "bash"].map(|name| json!({"type": "function", "function": {"name": name, "parameters": {"type": "object"}}})))
}

#[tokio::test]
async fn a_chat_completions_tool_loop_plays_each_step_and_pairs_tool_messages_by_id() {
    let base = spawn_default().await;
    let mut messages = vec![json!({"role": "user", "content": SCRIPT})];
    let mut names = Vec::new();
    for round in 0..3 {
        let body = json!({"model": "m", "tools": chat_tools(), "messages": messages});
        let reply: Value = post_openai(&base, "/v1/chat/completions", &body).await.json().await.unwrap();
        let message = reply["choices"][0]["message"].clone();
        let calls = message["tool_calls"].as_array().cloned().unwrap_or_default();
        names.push(calls.iter().map(|c| c["function"]["name"].as_str().unwrap().to_string()).collect::<Vec<_>>());
        if calls.is_empty() {
            assert_eq!(reply["choices"][0]["finish_reason"], "stop");
            assert!(message["content"].as_str().unwrap().starts_with("Tool failed: "), "round {round}: {message}");
            break;
        }
        messages.push(message);
        for call in &calls {
            // The second round's results fail, so the answer says so.
            let content = if round == 1 { "Error: [exit code 1]" } else { "ok" };
            messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": content}));
        }
    }
    assert_eq!(names, [vec!["read"], vec!["edit", "bash"], vec![]]);
    let unanswered = json!({"model": "m", "messages": [messages[0], messages[1], {"role": "user", "content": "next"}]});
    let response = post_openai(&base, "/v1/chat/completions", &unanswered).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("did not have response messages"), "{body}");
    let stray = json!({"model": "m", "messages": [messages[0], {"role": "tool", "tool_call_id": "call_x", "content": "x"}]});
    assert_eq!(post_openai(&base, "/v1/chat/completions", &stray).await.status(), 400);
}

#[tokio::test]
async fn a_responses_tool_loop_plays_each_step_and_pairs_outputs_by_call_id() {
    let base = spawn_default().await;
    let tools = json!(["read", "edit", "bash"].map(|name| json!({"type": "function", "name": name, "parameters": {"type": "object"}})));
    let mut input = vec![json!({"role": "user", "content": SCRIPT})];
    let mut names = Vec::new();
    for _ in 0..3 {
        let body = json!({"model": "m", "tools": tools, "input": input});
        let reply: Value = post_openai(&base, "/v1/responses", &body).await.json().await.unwrap();
        let calls: Vec<Value> = reply["output"].as_array().unwrap().iter().filter(|i| i["type"] == "function_call").cloned().collect();
        names.push(calls.iter().map(|c| c["name"].as_str().unwrap().to_string()).collect::<Vec<_>>());
        if calls.is_empty() {
            assert_eq!(reply["status"], "completed");
            break;
        }
        for call in &calls {
            input.push(json!({"type": "function_call", "call_id": call["call_id"], "name": call["name"], "arguments": call["arguments"]}));
        }
        for call in &calls {
            input.push(json!({"type": "function_call_output", "call_id": call["call_id"], "output": "ok"}));
        }
    }
    assert_eq!(names, [vec!["read"], vec!["edit", "bash"], vec![]]);
    let unanswered = json!({"model": "m", "input": [input[0], input[1]]});
    let response = post_openai(&base, "/v1/responses", &unanswered).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().starts_with("No tool output found for function call call_mock_"), "{body}");
}
