//! `POST /v1/messages`: the mock Anthropic Messages API (auth, request validation, non-streaming
//! reply), and `POST /v1/messages/count_tokens`.
//!
//! Any query string (Claude Code sends `?beta=true`) and any extra body field (`tools`,
//! `metadata`, `context_management`, `cache_control` on blocks, ...) is accepted.

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
use crate::plan::{AppState, Plan, Stop, Turn};
use crate::script::{count_words, next_id, Script};
use crate::tokens::thinking_text;

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
    #[serde(default)]
    tools: Option<Vec<Value>>,
    /// Structured outputs: `{"format": {"type": "json_schema", "schema": {...}}}`.
    #[serde(default)]
    output_config: Option<Value>,
    /// The older structured outputs field: `{"type": "json_schema", "schema": {...}}`.
    #[serde(default)]
    output_format: Option<Value>,
}

/// The body of `POST /v1/messages/count_tokens`.
#[derive(Debug, Deserialize)]
struct CountRequest {
    messages: Vec<InMessage>,
    #[serde(default)]
    system: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct InMessage {
    role: String,
    content: Value,
}

/// The handler for `POST /v1/messages`.
pub(crate) async fn messages(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !has_value(&headers, "x-api-key") {
        return errors::anthropic_missing_key();
    }
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
    if !state.keys.check(crate::keys::Api::Anthropic, key) {
        return errors::anthropic_invalid_key();
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
    if let Some(message) = unpaired_tool_blocks(&req.messages).or_else(|| tools_without_schema(req.tools.as_deref())) {
        return invalid(&message);
    }
    let turn = turn_of(&req);
    let plan = state.plan_request("/v1/messages", &body, &turn);
    if let Some(message) = crate::plan::unoffered(&plan, turn.offered_tools.as_deref()) {
        return invalid(&message);
    }
    tracing::info!(
        target: "mockllm",
        model = %req.model,
        stream = req.stream,
        messages = req.messages.len(),
        tools = req.tools.as_ref().map_or(0, Vec::len),
        directive = %crate::directive::Directive::find(&turn.prompt).map(|d| d.raw).unwrap_or_default(),
        tool_results = ?turn.tool_results,
        reply_tools = ?plan.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        fail = ?plan.fail,
        attempt = plan.attempt,
        "anthropic messages request"
    );
    tracing::debug!(target: "mockllm", body = %String::from_utf8_lossy(&body), "anthropic messages body");
    if let Some(failure) = plan.http_failure() {
        return errors::anthropic_failure(failure, plan.retry_after);
    }
    let input_tokens = input_tokens(&req.messages, req.system.as_ref());
    if req.stream {
        stream::response(&plan, &req.model, input_tokens)
    } else {
        whole_message(&plan, &req.model, input_tokens)
    }
}

/// The handler for `POST /v1/messages/count_tokens`: `{"input_tokens": N}` (words, as for replies).
pub(crate) async fn count_tokens(headers: HeaderMap, body: Bytes) -> Response {
    if !has_value(&headers, "x-api-key") {
        return errors::anthropic_missing_key();
    }
    let req: CountRequest = match serde_json::from_slice(&body) {
        Ok(req) => req,
        Err(e) => return invalid(&format!("invalid request body: {e}")),
    };
    let count = input_tokens(&req.messages, req.system.as_ref());
    tracing::info!(target: "mockllm", input_tokens = count, "anthropic count_tokens request");
    Json(json!({"input_tokens": count})).into_response()
}

fn input_tokens(messages: &[InMessage], system: Option<&Value>) -> u64 {
    let mut texts: Vec<String> = messages.iter().map(|m| text_of(&m.content)).collect();
    texts.extend(system.map(text_of));
    count_words(&texts.iter().map(String::as_str).collect::<Vec<_>>())
}

/// What the plan depends on in a Messages request.
///
/// The prompt is the last user message with text of its own (text blocks other than Claude
/// Code's `<system-reminder>`s and `[Request interrupted ...]` markers), so a tool loop's
/// follow-up requests (whose last message carries only tool results) still see the turn's
/// directive. When the last message has tool results but no text of its own, the reply is the
/// turn's final text; when it also has text of its own (Claude Code merges a new prompt into
/// the message holding an interrupted turn's results), it is a new turn.
fn turn_of(req: &MessagesRequest) -> Turn {
    // Claude Code may put `role: "system"` messages in the conversation; they do not count.
    let last = req.messages.iter().rev().find(|m| m.role != "system").filter(|m| m.role == "user");
    let own = last.map(|m| own_text(&m.content)).unwrap_or_default();
    let tool_results = match last.map(|m| tool_results(&m.content)) {
        Some(results) if !results.is_empty() && own.trim().is_empty() => {
            Some(results.iter().any(|b| b.get("is_error").and_then(Value::as_bool) == Some(true)))
        }
        _ => None,
    };
    let prompt = req
        .messages
        .iter()
        .rev()
        .filter(|m| m.role == "user")
        .map(|m| own_text(&m.content))
        .find(|text| !text.trim().is_empty())
        .unwrap_or_default();
    let prompt_at = req.messages.iter().rposition(|m| m.role == "user" && !own_text(&m.content).trim().is_empty());
    let round = prompt_at.map_or(0, |at| {
        req.messages[at + 1..].iter().filter(|m| m.role == "assistant" && !blocks_of(&m.content, "tool_use").is_empty()).count()
    });
    let thinking_requested =
        req.thinking.as_ref().is_some_and(|t| matches!(t.get("type").and_then(Value::as_str), Some("enabled" | "adaptive")));
    let offered_tools =
        req.tools.as_ref().map(|tools| tools.iter().filter_map(|t| t.get("name").and_then(Value::as_str).map(String::from)).collect());
    let mut texts: Vec<String> = req.system.iter().map(text_of).collect();
    texts.extend(req.messages.iter().map(|m| text_of(&m.content)));
    let schema = req
        .output_config
        .as_ref()
        .and_then(|c| c.get("format"))
        .or(req.output_format.as_ref())
        .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
        .and_then(|f| f.get("schema"))
        .cloned();
    Turn {
        prompt,
        thinking_requested,
        tool_results,
        offered_tools,
        cwd: texts.iter().find_map(|t| working_directory(t)),
        schema,
        max_tokens: usize::try_from(req.max_tokens).ok(),
        round,
    }
}

/// The API's refusal of a history whose tool calls and results do not pair up: every `tool_use`
/// needs a `tool_result` in the very next (user) message, and every `tool_result` a `tool_use` in
/// the message before it.
fn unpaired_tool_blocks(messages: &[InMessage]) -> Option<String> {
    let ids = |content: &Value, kind: &str, field: &str| -> Vec<String> {
        blocks_of(content, kind).iter().filter_map(|b| b.get(field).and_then(Value::as_str).map(String::from)).collect()
    };
    for (i, message) in messages.iter().enumerate() {
        let calls = if message.role == "assistant" { ids(&message.content, "tool_use", "id") } else { Vec::new() };
        let answered = messages.get(i + 1).map(|next| ids(&next.content, "tool_result", "tool_use_id")).unwrap_or_default();
        let missing: Vec<&str> = calls.iter().filter(|id| !answered.contains(id)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Some(format!(
                "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                missing.join(", ")
            ));
        }
        let before = match i.checked_sub(1).map(|j| &messages[j]) {
            Some(previous) if previous.role == "assistant" => ids(&previous.content, "tool_use", "id"),
            _ => Vec::new(),
        };
        for (j, result) in ids(&message.content, "tool_result", "tool_use_id").iter().enumerate() {
            if !before.contains(result) {
                return Some(format!(
                    "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {result}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                ));
            }
        }
    }
    None
}

/// The API's refusal of a tool without a name or an object `input_schema`.
fn tools_without_schema(tools: Option<&[Value]>) -> Option<String> {
    for (i, tool) in tools.unwrap_or_default().iter().enumerate() {
        // Server tools (web search, code execution…) carry a `type` and no schema.
        if tool.get("type").is_some_and(|t| t != "custom") {
            continue;
        }
        if tool.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Some(format!("tools.{i}.name: Field required"));
        }
        match tool.get("input_schema") {
            None => return Some(format!("tools.{i}.custom.input_schema: Field required")),
            Some(schema) if schema.get("type").and_then(Value::as_str) != Some("object") => {
                return Some(format!("tools.{i}.custom.input_schema.type: Input should be 'object'"));
            }
            Some(_) => {}
        }
    }
    None
}

/// The blocks of `kind` in a content value.
fn blocks_of<'a>(content: &'a Value, kind: &str) -> Vec<&'a Value> {
    match content {
        Value::Array(blocks) => blocks.iter().filter(|b| b.get("type").and_then(Value::as_str) == Some(kind)).collect(),
        _ => Vec::new(),
    }
}

/// The `tool_result` blocks of a content value.
fn tool_results(content: &Value) -> Vec<&Value> {
    match content {
        Value::Array(blocks) => blocks.iter().filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result")).collect(),
        _ => Vec::new(),
    }
}

/// The text a user wrote in a content value: its text without `<system-reminder>` spans (Claude
/// Code's, and the interruption reminder PocketDev puts before a prompt) and without
/// `[Request interrupted ...]` markers.
fn own_text(content: &Value) -> String {
    let own = |text: &str| {
        let text = without_reminders(text);
        if text.trim_start().starts_with("[Request interrupted") {
            String::new()
        } else {
            text
        }
    };
    match content {
        Value::String(s) => own(s),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .map(own)
            .filter(|t| !t.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// `text` with every `<system-reminder>...</system-reminder>` span cut out (an unclosed one runs
/// to the end).
fn without_reminders(text: &str) -> String {
    const OPEN: &str = "<system-reminder>";
    const CLOSE: &str = "</system-reminder>";
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find(CLOSE) {
            Some(end) => &rest[start + end + CLOSE.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The directory after Claude Code's `Primary working directory: ` in `text`, if any.
fn working_directory(text: &str) -> Option<String> {
    const MARK: &str = "Primary working directory: ";
    let start = text.find(MARK)? + MARK.len();
    let dir = text[start..].lines().next()?.trim();
    dir.starts_with('/').then(|| dir.to_string())
}

fn whole_message(plan: &Plan, model: &str, input_tokens: u64) -> Response {
    match plan.stream_failure() {
        Some(Failure::Cut) => {
            let mut script = Script::new(plan);
            script.cut();
            return script.into_body().into_response();
        }
        Some(_) => return errors::anthropic_failure(Failure::Http529, plan.retry_after),
        None => {}
    }
    let mut content = Vec::new();
    if plan.thinking > 0 {
        content.push(json!({"type": "thinking", "thinking": thinking_text(plan.thinking), "signature": SIGNATURE}));
    }
    content.push(json!({"type": "text", "text": plan.reply_text()}));
    for tool in &plan.tools {
        content.push(json!({"type": "tool_use", "id": next_id("toolu"), "name": tool.name, "input": tool.input}));
    }
    Json(json!({
        "id": next_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(plan),
        "stop_sequence": null,
        "usage": usage(plan, input_tokens, plan.output_tokens()),
    }))
    .into_response()
}

/// A usage object: `input_tokens` are the uncached prompt tokens, the cache fields come from
/// the directive (`cache_write=`, `cache_read=`).
pub(crate) fn usage(plan: &Plan, input_tokens: u64, output_tokens: usize) -> Value {
    json!({
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": plan.cache_write,
        "cache_read_input_tokens": plan.cache_read,
        "output_tokens": output_tokens,
    })
}

pub(crate) fn stop_reason(plan: &Plan) -> &'static str {
    match plan.stop {
        Stop::EndTurn => "end_turn",
        Stop::ToolUse => "tool_use",
        Stop::MaxTokens => "max_tokens",
    }
}

fn invalid(message: &str) -> Response {
    errors::anthropic(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

fn has_value(headers: &HeaderMap, name: &str) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| !v.trim().is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> MessagesRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn the_working_directory_is_read_from_claude_codes_environment_section() {
        let text = "Env:\n - Primary working directory: /tmp/ws.1\n - Is a git repository: false\n";
        assert_eq!(working_directory(text).as_deref(), Some("/tmp/ws.1"));
        assert_eq!(working_directory("no directory here"), None);
    }

    #[test]
    fn a_tool_loop_follow_up_keeps_the_prompt_and_reports_the_results() {
        let req = request(json!({
            "model": "m", "max_tokens": 10,
            "system": [{"type": "text", "text": " - Primary working directory: /w"}],
            "tools": [{"name": "Write", "input_schema": {}}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "go [[mock tool=write]]"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Write", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "no", "is_error": true}]},
            ],
        }));
        let turn = turn_of(&req);
        assert_eq!(turn.prompt, "go [[mock tool=write]]");
        assert_eq!(turn.tool_results, Some(true));
        assert_eq!(turn.cwd.as_deref(), Some("/w"));
        assert_eq!(turn.offered_tools, Some(vec!["Write".to_string()]));
    }

    #[test]
    fn a_prompt_merged_with_an_interrupted_turns_results_is_a_new_turn() {
        let req = request(json!({
            "model": "m", "max_tokens": 10,
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-reminder>\n[[mock tokens=99]]\n</system-reminder>"},
                    {"type": "text", "text": "write [[mock tool=write]]"},
                ]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Write", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "rejected", "is_error": true},
                    {"type": "text", "text": "[Request interrupted by user for tool use]"},
                    {"type": "text", "text": "next [[mock tokens=4]]"},
                ]},
            ],
        }));
        let turn = turn_of(&req);
        assert_eq!(turn.prompt, "next [[mock tokens=4]]");
        assert_eq!(turn.tool_results, None);
        let only_results = request(json!({
            "model": "m", "max_tokens": 10,
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-reminder>x</system-reminder>"},
                    {"type": "text", "text": "write [[mock tool=write]]"},
                ]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Write", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
                    {"type": "text", "text": "<system-reminder>later</system-reminder>"},
                ]},
                {"role": "system", "content": [{"type": "text", "text": "mid-conversation system text"}]},
            ],
        }));
        let turn = turn_of(&only_results);
        assert_eq!(turn.prompt, "write [[mock tool=write]]");
        assert_eq!(turn.tool_results, Some(false));
    }

    #[test]
    fn a_prompt_after_an_interruption_reminder_in_the_same_text_is_still_the_users_own() {
        let text = "<system-reminder>Your previous response was interrupted.</system-reminder>\n\nnext [[mock tokens=3]]";
        assert_eq!(own_text(&json!(text)).trim(), "next [[mock tokens=3]]");
        assert_eq!(own_text(&json!("<system-reminder>only a reminder")), "");
        assert_eq!(own_text(&json!("[Request interrupted by user]")), "");
    }
}
