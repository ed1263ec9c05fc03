//! `POST /v1/messages`: the mock Anthropic Messages API (auth, request validation, non-streaming reply).

mod stream;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::directive::Failure;
use crate::errors;
use crate::plan::{tool_input, AppState, Plan, TOOL_NAME, TOOL_OUTPUT_TOKENS};
use crate::script::{count_words, next_id, Script};
use crate::tokens::{reply_text, thinking_text};

/// The fixed signature of mock thinking blocks.
pub(crate) const SIGNATURE: &str = "bW9ja2xsbS10aGlua2luZy1zaWduYXR1cmU=";

#[derive(Debug, Deserialize)]
struct MessagesRequest {
    model: String,
    max_tokens: u64,
    messages: Vec<InMessage>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    system: Option<Value>,
    #[serde(default)]
    thinking: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct InMessage {
    role: String,
    content: Value,
}

/// The handler for `POST /v1/messages`.
pub(crate) async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !has_value(&headers, "x-api-key") {
        return errors::anthropic_missing_key();
    }
    if !has_value(&headers, "anthropic-version") {
        return invalid("anthropic-version: header is required");
    }
    let req: MessagesRequest = match serde_json::from_slice(&body) {
        Ok(req) => req,
        Err(e) => return invalid(&format!("invalid request body: {e}")),
    };
    if req.messages.is_empty() {
        return invalid("messages: at least one message is required");
    }
    if req.max_tokens == 0 {
        return invalid("max_tokens: must be greater than or equal to 1");
    }
    let last_user = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| text_of(&m.content))
        .unwrap_or_default();
    let thinking_requested = req
        .thinking
        .as_ref()
        .is_some_and(|t| t.get("type").and_then(Value::as_str) == Some("enabled"));
    let plan = state.plan(&last_user, thinking_requested);
    if let Some(failure) = plan.http_failure() {
        return errors::anthropic_failure(failure);
    }
    let mut texts: Vec<String> = req.messages.iter().map(|m| text_of(&m.content)).collect();
    texts.extend(req.system.as_ref().map(text_of));
    let input_tokens = count_words(&texts.iter().map(String::as_str).collect::<Vec<_>>());
    if req.stream {
        stream::response(&plan, &req.model, input_tokens)
    } else {
        whole_message(&plan, &req.model, input_tokens)
    }
}

fn whole_message(plan: &Plan, model: &str, input_tokens: u64) -> Response {
    match plan.stream_failure() {
        Some(Failure::Cut) => {
            let mut script = Script::new(plan);
            script.cut();
            return script.into_body().into_response();
        }
        Some(_) => return errors::anthropic_failure(Failure::Http529),
        None => {}
    }
    let mut content = Vec::new();
    if plan.thinking > 0 {
        content.push(json!({"type": "thinking", "thinking": thinking_text(plan.thinking), "signature": SIGNATURE}));
    }
    content.push(json!({"type": "text", "text": reply_text(plan.tokens)}));
    if plan.tool {
        content.push(json!({"type": "tool_use", "id": TOOL_USE_ID, "name": TOOL_NAME, "input": tool_input()}));
    }
    Json(json!({
        "id": next_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(plan),
        "stop_sequence": null,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens(plan),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }))
    .into_response()
}

/// The id of the mock tool_use block.
pub(crate) const TOOL_USE_ID: &str = "toolu_mock_01";

pub(crate) fn stop_reason(plan: &Plan) -> &'static str {
    if plan.tool {
        "tool_use"
    } else {
        "end_turn"
    }
}

pub(crate) fn output_tokens(plan: &Plan) -> usize {
    plan.thinking + plan.tokens + if plan.tool { TOOL_OUTPUT_TOKENS } else { 0 }
}

fn invalid(message: &str) -> Response {
    errors::anthropic(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

fn has_value(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty())
}

/// The text of a content value: a string, or the `text` of its text blocks joined by newlines.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
