//! `POST /v1/chat/completions`: the mock OpenAI Chat Completions API (streaming chunks and whole replies).
//!
//! Several tool calls stream one after another, each under its own `index` (its first chunk
//! has the `id`, `type` and name); a reply cut by `max_tokens` (or `max_completion_tokens`)
//! ends with `finish_reason: "length"`; the usage chunk (`stream_options.include_usage`)
//! counts cached prompt tokens in `prompt_tokens` and in `prompt_tokens_details.cached_tokens`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{accept, text_of, SSE_HEADERS};
use crate::directive::Failure;
use crate::errors;
use crate::plan::{AppState, Plan, Stop, Turn};
use crate::script::{count_words, next_id, sse_data, unix_now, Script};
use crate::tokens::{thinking_text, thinking_tokens};

#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: String,
    messages: Vec<ChatMessage>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    #[serde(default)]
    reasoning_effort: Option<String>,
    #[serde(default)]
    max_tokens: Option<u64>,
    #[serde(default)]
    max_completion_tokens: Option<u64>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
struct ChatMessage {
    role: String,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_calls: Vec<Value>,
    #[serde(default)]
    tool_call_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// The handler for `POST /v1/chat/completions`.
pub(crate) async fn completions(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req: ChatRequest = match accept(&state.keys, &headers, &body) {
        Ok(req) => req,
        Err(response) => return *response,
    };
    let texts: Vec<String> = req.messages.iter().map(|m| text_of(&m.content)).collect();
    let last_user = req.messages.iter().rev().find(|m| m.role == "user").map(|m| text_of(&m.content)).unwrap_or_default();
    let thinking_requested = req.reasoning_effort.as_deref().is_some_and(|e| e != "none");
    if let Some(message) = unpaired_tool_messages(&req.messages) {
        return errors::openai(StatusCode::BAD_REQUEST, "invalid_request_error", None, &message);
    }
    // After a tool loop's results (`role: tool`), the reply is the turn's final text, or the agent
    // script's next step; a result that starts with `Error` counts as failed.
    let results: Vec<&ChatMessage> = req.messages.iter().rev().take_while(|m| m.role == "tool").collect();
    let failed = results.iter().any(|m| text_of(&m.content).starts_with("Error"));
    let prompt_at = req.messages.iter().rposition(|m| m.role == "user");
    let round =
        prompt_at.map_or(0, |at| req.messages[at + 1..].iter().filter(|m| m.role == "assistant" && !m.tool_calls.is_empty()).count());
    let offered: Option<Vec<String>> = req
        .tools
        .as_ref()
        .map(|tools| tools.iter().filter_map(|t| t.pointer("/function/name").and_then(Value::as_str).map(String::from)).collect());
    let turn = Turn {
        prompt: last_user,
        thinking_requested,
        tool_results: (!results.is_empty()).then_some(failed),
        max_tokens: req.max_completion_tokens.or(req.max_tokens).and_then(|n| usize::try_from(n).ok()),
        offered_tools: offered,
        round,
        ..Turn::default()
    };
    let plan = state.plan_request("/v1/chat/completions", &body, &turn);
    if let Some(message) = crate::plan::unoffered(&plan, turn.offered_tools.as_deref()) {
        return errors::openai(StatusCode::BAD_REQUEST, "invalid_request_error", None, &message);
    }
    if let Some(failure) = plan.http_failure() {
        return errors::openai_failure(failure, plan.retry_after, &req.model);
    }
    let prompt_tokens = count_words(&texts.iter().map(String::as_str).collect::<Vec<_>>());
    let usage = usage(&plan, prompt_tokens);
    let head = Head { id: next_id("chatcmpl"), created: unix_now(), model: req.model };
    if !req.stream {
        return whole(&plan, &head, usage);
    }
    let include_usage = req.stream_options.unwrap_or_default().include_usage;
    let script = stream(&plan, &head, include_usage.then_some(usage));
    (SSE_HEADERS, script.into_body()).into_response()
}

struct Head {
    id: String,
    created: u64,
    model: String,
}

impl Head {
    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Bytes {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        });
        sse_data(&chunk.to_string())
    }
}

fn stream(plan: &Plan, head: &Head, usage: Option<Value>) -> Script {
    let mut s = Script::new(plan);
    s.chunk(head.chunk(json!({"role": "assistant", "content": ""}), None));
    for token in thinking_tokens(plan.thinking) {
        s.token(head.chunk(json!({"reasoning_content": token}), None));
    }
    for (i, token) in plan.reply.iter().enumerate() {
        if i == plan.after && inject_failure(&mut s, plan) {
            return s;
        }
        s.token(head.chunk(json!({"content": token}), None));
    }
    if plan.after >= plan.tokens && inject_failure(&mut s, plan) {
        return s;
    }
    for (index, tool) in plan.tools.iter().enumerate() {
        let call = json!({"index": index, "id": next_id("call"), "type": "function",
            "function": {"name": tool.name, "arguments": ""}});
        s.chunk(head.chunk(json!({"tool_calls": [call]}), None));
        for piece in tool.input_chunks().iter().filter(|p| !p.is_empty()) {
            let call = json!({"index": index, "function": {"arguments": piece}});
            s.token(head.chunk(json!({"tool_calls": [call]}), None));
        }
    }
    s.chunk(head.chunk(json!({}), Some(finish_reason(plan))));
    if let Some(usage) = usage {
        let chunk = json!({
            "id": head.id,
            "object": "chat.completion.chunk",
            "created": head.created,
            "model": head.model,
            "choices": [],
            "usage": usage,
        });
        s.chunk(sse_data(&chunk.to_string()));
    }
    s.chunk(sse_data("[DONE]"));
    s
}

fn inject_failure(s: &mut Script, plan: &Plan) -> bool {
    match plan.stream_failure() {
        Some(Failure::Cut) => s.cut(),
        Some(_) => {
            let err = json!({"error": {"message": "Overloaded", "type": "server_error", "param": null, "code": null}});
            s.chunk(sse_data(&err.to_string()));
        }
        None => return false,
    }
    true
}

fn whole(plan: &Plan, head: &Head, usage: Value) -> Response {
    match plan.stream_failure() {
        Some(Failure::Cut) => {
            let mut script = Script::new(plan);
            script.cut();
            return script.into_body().into_response();
        }
        Some(_) => return errors::openai_failure(Failure::Http529, plan.retry_after, &head.model),
        None => {}
    }
    let mut message = json!({"role": "assistant", "content": plan.reply_text()});
    if plan.thinking > 0 {
        message["reasoning_content"] = json!(thinking_text(plan.thinking));
    }
    if !plan.tools.is_empty() {
        let calls: Vec<Value> = plan
            .tools
            .iter()
            .map(|tool| {
                json!({"id": next_id("call"), "type": "function",
                    "function": {"name": tool.name, "arguments": tool.arguments()}})
            })
            .collect();
        message["tool_calls"] = Value::Array(calls);
    }
    Json(json!({
        "id": head.id,
        "object": "chat.completion",
        "created": head.created,
        "model": head.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(plan)}],
        "usage": usage,
    }))
    .into_response()
}

fn finish_reason(plan: &Plan) -> &'static str {
    match plan.stop {
        Stop::EndTurn => "stop",
        Stop::ToolUse => "tool_calls",
        Stop::MaxTokens => "length",
    }
}

/// The API's refusal of a history whose tool calls and `tool` messages do not pair up.
fn unpaired_tool_messages(messages: &[ChatMessage]) -> Option<String> {
    for (i, message) in messages.iter().enumerate() {
        if message.role == "tool" {
            let answers_a_call = messages[..i].iter().rev().find(|m| m.role != "tool").is_some_and(|m| {
                m.role == "assistant" && m.tool_calls.iter().any(|c| c.get("id").and_then(Value::as_str) == message.tool_call_id.as_deref())
            });
            if !answers_a_call {
                return Some(format!(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'. (messages.[{i}])"
                ));
            }
        }
        if message.role == "assistant" && !message.tool_calls.is_empty() {
            let answered: Vec<&str> =
                messages[i + 1..].iter().take_while(|m| m.role == "tool").filter_map(|m| m.tool_call_id.as_deref()).collect();
            let missing: Vec<&str> =
                message.tool_calls.iter().filter_map(|c| c.get("id").and_then(Value::as_str)).filter(|id| !answered.contains(id)).collect();
            if !missing.is_empty() {
                return Some(format!(
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                    missing.join(", ")
                ));
            }
        }
    }
    None
}

/// `prompt_tokens` counts the words and the cached tokens, as OpenAI's count includes them.
fn usage(plan: &Plan, words: u64) -> Value {
    let prompt_tokens = words + plan.cache_read;
    let completion = plan.output_tokens() as u64;
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": plan.cache_read, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": plan.thinking,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    })
}
