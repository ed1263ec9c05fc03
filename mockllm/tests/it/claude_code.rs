//! What Claude Code needs: `?beta=true`, `HEAD /`, count_tokens, its request shape, and
//! stateless tool loops (tool call first, final text once the results come back).

use mockllm::reply_text;
use serde_json::{json, Value};

use crate::support::{parse_sse, spawn_default};

/// A request shaped like Claude Code's: system blocks with cache_control and the working
/// directory, tools, metadata, thinking, context_management, and system reminders in the prompt.
fn claude_code_body(messages: Value) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "stream": true,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197;"},
            {"type": "text", "text": "You are a Claude agent.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Env:\n - Primary working directory: /tmp/ws\n - Platform: linux\n", "cache_control": {"type": "ephemeral"}},
        ],
        "tools": [
            {"name": "Read", "description": "r", "input_schema": {"type": "object"}},
            {"name": "Write", "description": "w", "input_schema": {"type": "object"}},
            {"name": "Bash", "description": "b", "input_schema": {"type": "object"}},
        ],
        "metadata": {"user_id": "{\"session_id\":\"s\"}"},
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "messages": messages,
    })
}

fn prompt(text: &str) -> Value {
    json!({"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>\nSome context.\n</system-reminder>"},
        {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}},
    ]})
}

async fn post(base: &str, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("x-api-key", "mock-key")
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14")
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The events of a streamed reply to `body` on `/v1/messages?beta=true`.
async fn events(base: &str, body: &Value) -> Vec<Value> {
    let response = post(base, "/v1/messages?beta=true", body).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    parse_sse(&text).iter().map(|e| e.json()).collect()
}

fn text_of(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "content_block_delta" && e["delta"]["type"] == "text_delta")
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect()
}

fn tool_use(events: &[Value]) -> Option<(String, Value)> {
    let start = events.iter().find(|e| e["type"] == "content_block_start" && e["content_block"]["type"] == "tool_use")?;
    let index = &start["index"];
    let json: String = events
        .iter()
        .filter(|e| e["type"] == "content_block_delta" && &e["index"] == index)
        .filter_map(|e| e["delta"]["partial_json"].as_str())
        .collect();
    Some((start["content_block"]["name"].as_str()?.to_string(), serde_json::from_str(&json).unwrap()))
}

fn stop_reason(events: &[Value]) -> String {
    events.iter().find(|e| e["type"] == "message_delta").and_then(|e| e["delta"]["stop_reason"].as_str()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_write_directive_calls_write_with_an_absolute_path_then_finishes_with_done() {
    let base = spawn_default().await;
    let ask = prompt("please [[mock tool=write file=hello.txt content=hello-from-mock tokens=3]]");
    let first = events(&base, &claude_code_body(json!([ask.clone()]))).await;
    let (name, input) = tool_use(&first).expect("a tool_use block");
    assert_eq!(name, "Write");
    assert_eq!(input, json!({"file_path": "/tmp/ws/hello.txt", "content": "hello-from-mock"}));
    assert_eq!(stop_reason(&first), "tool_use");
    let id = first.iter().find(|e| e["content_block"]["type"] == "tool_use").unwrap()["content_block"]["id"].clone();
    assert!(id.as_str().unwrap().starts_with("toolu_"));

    let follow_up = json!([
        ask,
        {"role": "assistant", "content": [
            {"type": "text", "text": reply_text(3)},
            {"type": "tool_use", "id": id, "name": "Write", "input": input},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": "File created successfully", "cache_control": {"type": "ephemeral"}},
        ]},
    ]);
    let second = events(&base, &claude_code_body(follow_up)).await;
    assert_eq!(tool_use(&second), None);
    assert_eq!(stop_reason(&second), "end_turn");
    assert_eq!(text_of(&second), format!("Done: {}", reply_text(3)));
}

#[tokio::test]
async fn a_denied_tool_result_gets_a_tool_failed_reply() {
    let base = spawn_default().await;
    let messages = json!([
        prompt("[[mock tool=bash cmd=\"rm -rf x\" tokens=2]]"),
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "rm -rf x"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "User denied", "is_error": true}]},
    ]);
    let reply = events(&base, &claude_code_body(messages)).await;
    assert_eq!(text_of(&reply), format!("Tool failed: {}", reply_text(2)));
    assert_eq!(stop_reason(&reply), "end_turn");
}

#[tokio::test]
async fn the_read_directive_still_reads_readme_and_no_tool_is_called_unless_offered() {
    let base = spawn_default().await;
    let reply = events(&base, &claude_code_body(json!([prompt("[[mock tool=1 tokens=1]]")]))).await;
    assert_eq!(tool_use(&reply), Some(("Read".to_string(), json!({"file_path": "/tmp/ws/README.md"}))));
    let mut body = claude_code_body(json!([prompt("[[mock tool=write tokens=1]]")]));
    body["tools"] = json!([]);
    let reply = events(&base, &body).await;
    assert_eq!(tool_use(&reply), None);
    assert_eq!(stop_reason(&reply), "end_turn");
}

#[tokio::test]
async fn a_structured_output_request_gets_json_text() {
    let base = spawn_default().await;
    let mut body = claude_code_body(json!([prompt("<session>\nhi [[mock tokens=3]]\n</session>")]));
    body["tools"] = json!([]);
    body["thinking"] = json!({"type": "disabled"});
    body["output_config"] = json!({"format": {"type": "json_schema", "schema": {
        "type": "object", "properties": {"title": {"type": "string"}},
        "required": ["title"], "additionalProperties": false}}});
    let reply = events(&base, &body).await;
    let value: Value = serde_json::from_str(&text_of(&reply)).unwrap();
    let title = value["title"].as_str().unwrap();
    assert_eq!(title, reply_text(3).split_whitespace().collect::<Vec<_>>().join(" "));
}

#[tokio::test]
async fn count_tokens_and_the_root_answer() {
    let base = spawn_default().await;
    let response = post(
        &base,
        "/v1/messages/count_tokens?beta=true",
        &json!({"model": "m", "messages": [{"role": "user", "content": "one two three"}],
                "system": "four", "tools": []}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"input_tokens": 4}));
    let head = reqwest::Client::new().head(format!("{base}/")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let unauthorized =
        reqwest::Client::new().post(format!("{base}/v1/messages/count_tokens")).json(&json!({"messages": []})).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
}
