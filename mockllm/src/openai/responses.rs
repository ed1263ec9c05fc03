//! `POST /v1/responses`: the mock OpenAI Responses API (typed, sequence-numbered SSE events).
//!
//! Each tool call is its own `function_call` output item (own `id` and `call_id`), in order. A
//! reply cut by `max_output_tokens` ends with `response.incomplete` (status `incomplete`,
//! `incomplete_details.reason: "max_output_tokens"`, the message item `incomplete`) instead of
//! `response.completed`; `usage.input_tokens` includes the cached tokens of
//! `input_tokens_details.cached_tokens`.

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
use crate::plan::{AppState, Plan, Stop, ToolCall, Turn};
use crate::script::{count_words, next_id, typed_sse, unix_now, Script};
use crate::tokens::{thinking_text, thinking_tokens};

#[derive(Debug, Deserialize)]
struct ResponsesRequest {
    model: String,
    input: Value,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    reasoning: Option<Value>,
    #[serde(default)]
    max_output_tokens: Option<u64>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
}

/// The handler for `POST /v1/responses`.
pub(crate) async fn responses(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req: ResponsesRequest = match accept(&state.keys, &headers, &body) {
        Ok(req) => req,
        Err(response) => return *response,
    };
    let (mut texts, last_user) = input_texts(&req.input);
    texts.extend(req.instructions.clone());
    let thinking_requested = req.reasoning.as_ref().is_some_and(|r| r.get("effort").and_then(Value::as_str) != Some("none"));
    let items: &[Value] = req.input.as_array().map(Vec::as_slice).unwrap_or_default();
    if let Some(message) = unpaired_function_calls(items) {
        return errors::openai(StatusCode::BAD_REQUEST, "invalid_request_error", None, &message);
    }
    // After a tool loop's results (last `function_call_output` items), the reply is the turn's final
    // text, or the agent script's next step; an output that starts with `Error` counts as failed.
    let kind = |item: &Value| item.get("type").and_then(Value::as_str).map(String::from);
    let results: Vec<&Value> = items.iter().rev().take_while(|item| kind(item).as_deref() == Some("function_call_output")).collect();
    let failed = results.iter().any(|item| item.get("output").and_then(Value::as_str).is_some_and(|o| o.starts_with("Error")));
    let prompt_at = items.iter().rposition(|item| item.get("role").and_then(Value::as_str) == Some("user"));
    let after_prompt = prompt_at.map_or(&items[..0], |at| &items[at + 1..]);
    // A round is a run of `function_call` items (one reply's calls).
    let round = after_prompt
        .iter()
        .enumerate()
        .filter(|(i, item)| {
            kind(item).as_deref() == Some("function_call") && (*i == 0 || kind(&after_prompt[i - 1]).as_deref() != Some("function_call"))
        })
        .count();
    let offered: Option<Vec<String>> =
        req.tools.as_ref().map(|tools| tools.iter().filter_map(|t| t.get("name").and_then(Value::as_str).map(String::from)).collect());
    let turn = Turn {
        prompt: last_user,
        thinking_requested,
        tool_results: (!results.is_empty()).then_some(failed),
        max_tokens: req.max_output_tokens.and_then(|n| usize::try_from(n).ok()),
        offered_tools: offered,
        round,
        ..Turn::default()
    };
    let plan = state.plan_request("/v1/responses", &body, &turn);
    if let Some(message) = crate::plan::unoffered(&plan, turn.offered_tools.as_deref()) {
        return errors::openai(StatusCode::BAD_REQUEST, "invalid_request_error", None, &message);
    }
    if let Some(failure) = plan.http_failure() {
        return errors::openai_failure(failure, plan.retry_after, &req.model);
    }
    let input_tokens = count_words(&texts.iter().map(String::as_str).collect::<Vec<_>>());
    let ids = Ids { response: next_id("resp"), reasoning: next_id("rs"), message: next_id("msg") };
    let skeleton = json!({
        "id": ids.response, "object": "response", "created_at": unix_now(),
        "status": "in_progress", "error": null, "incomplete_details": null,
        "instructions": req.instructions, "max_output_tokens": req.max_output_tokens,
        "model": req.model, "output": [], "parallel_tool_calls": true,
        "previous_response_id": null, "reasoning": req.reasoning, "store": false,
        "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
        "tools": [], "top_p": 1.0, "truncation": "disabled", "usage": null, "metadata": {},
    });
    let mut events = Events { s: Script::new(&plan), seq: 0 };
    let output = match events.play(&plan, &ids, &skeleton) {
        Some(output) => output,
        None if req.stream => return (SSE_HEADERS, events.s.into_body()).into_response(),
        None if plan.stream_failure() == Some(Failure::Cut) => {
            let mut cut = Script::new(&plan);
            cut.cut();
            return cut.into_body().into_response();
        }
        None => return errors::openai_failure(Failure::Http529, plan.retry_after, &req.model),
    };
    let mut done = skeleton;
    let terminal = if plan.stop == Stop::MaxTokens {
        done["status"] = json!("incomplete");
        done["incomplete_details"] = json!({"reason": "max_output_tokens"});
        "response.incomplete"
    } else {
        done["status"] = json!("completed");
        "response.completed"
    };
    done["output"] = Value::Array(output);
    done["usage"] = usage(&plan, input_tokens);
    if !req.stream {
        return Json(done).into_response();
    }
    events.push(terminal, json!({"response": done}), false);
    (SSE_HEADERS, events.s.into_body()).into_response()
}

struct Ids {
    response: String,
    reasoning: String,
    message: String,
}

struct Events {
    s: Script,
    seq: u64,
}

impl Events {
    fn push(&mut self, name: &str, mut fields: Value, paced: bool) {
        fields["sequence_number"] = json!(self.seq);
        self.seq += 1;
        let bytes: Bytes = typed_sse(name, &fields);
        if paced {
            self.s.token(bytes);
        } else {
            self.s.chunk(bytes);
        }
    }

    /// Scripts every event up to (not including) `response.completed` (or `.incomplete`); returns the output
    /// items, or `None` if an injected failure ended the stream.
    fn play(&mut self, plan: &Plan, ids: &Ids, skeleton: &Value) -> Option<Vec<Value>> {
        self.push("response.created", json!({"response": skeleton}), false);
        self.push("response.in_progress", json!({"response": skeleton}), false);
        let mut output = Vec::new();
        if plan.thinking > 0 {
            let item_id = &ids.reasoning;
            let at = json!({"item_id": item_id, "output_index": output.len(), "summary_index": 0});
            let added = json!({"id": item_id, "type": "reasoning", "summary": []});
            self.push("response.output_item.added", json!({"output_index": output.len(), "item": added}), false);
            let part = json!({"type": "summary_text", "text": ""});
            self.push("response.reasoning_summary_part.added", with(&at, "part", part), false);
            for token in thinking_tokens(plan.thinking) {
                self.push("response.reasoning_summary_text.delta", with(&at, "delta", json!(token)), true);
            }
            let text = thinking_text(plan.thinking);
            self.push("response.reasoning_summary_text.done", with(&at, "text", json!(text)), false);
            let part = json!({"type": "summary_text", "text": text});
            self.push("response.reasoning_summary_part.done", with(&at, "part", part.clone()), false);
            let item = json!({"id": item_id, "type": "reasoning", "summary": [part]});
            self.push("response.output_item.done", json!({"output_index": output.len(), "item": item}), false);
            output.push(item);
        }
        let item_id = &ids.message;
        let at = json!({"item_id": item_id, "output_index": output.len(), "content_index": 0});
        let added = json!({"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []});
        self.push("response.output_item.added", json!({"output_index": output.len(), "item": added}), false);
        let part = json!({"type": "output_text", "text": "", "annotations": []});
        self.push("response.content_part.added", with(&at, "part", part), false);
        for (i, token) in plan.reply.iter().enumerate() {
            if i == plan.after && self.inject_failure(plan, skeleton) {
                return None;
            }
            let delta = with(&with(&at, "delta", json!(token)), "logprobs", json!([]));
            self.push("response.output_text.delta", delta, true);
        }
        if plan.after >= plan.tokens && self.inject_failure(plan, skeleton) {
            return None;
        }
        let text = plan.reply_text();
        let done = with(&with(&at, "text", json!(text)), "logprobs", json!([]));
        self.push("response.output_text.done", done, false);
        let part = json!({"type": "output_text", "text": text, "annotations": []});
        self.push("response.content_part.done", with(&at, "part", part.clone()), false);
        let status = if plan.stop == Stop::MaxTokens { "incomplete" } else { "completed" };
        let item = json!({"id": item_id, "type": "message", "status": status, "role": "assistant", "content": [part]});
        self.push("response.output_item.done", json!({"output_index": output.len(), "item": item}), false);
        output.push(item);
        for tool in &plan.tools {
            output.push(self.tool_call(tool, &next_id("fc"), &next_id("call"), output.len()));
        }
        Some(output)
    }

    fn tool_call(&mut self, tool: &ToolCall, item_id: &str, call_id: &str, output_index: usize) -> Value {
        let at = json!({"item_id": item_id, "output_index": output_index});
        let mut item = json!({"id": item_id, "type": "function_call", "status": "in_progress",
            "arguments": "", "call_id": call_id, "name": tool.name});
        self.push("response.output_item.added", json!({"output_index": output_index, "item": item}), false);
        for piece in tool.input_chunks().iter().filter(|p| !p.is_empty()) {
            self.push("response.function_call_arguments.delta", with(&at, "delta", json!(piece)), true);
        }
        let arguments = tool.arguments();
        self.push("response.function_call_arguments.done", with(&at, "arguments", json!(arguments)), false);
        item["status"] = json!("completed");
        item["arguments"] = json!(arguments);
        self.push("response.output_item.done", json!({"output_index": output_index, "item": item}), false);
        item
    }

    fn inject_failure(&mut self, plan: &Plan, skeleton: &Value) -> bool {
        match plan.stream_failure() {
            Some(Failure::Cut) => self.s.cut(),
            Some(_) => {
                let error = json!({"code": "server_error", "message": "Overloaded", "param": null});
                self.push("error", error, false);
                let mut failed = skeleton.clone();
                failed["status"] = json!("failed");
                failed["error"] = json!({"code": "server_error", "message": "Overloaded"});
                self.push("response.failed", json!({"response": failed}), false);
            }
            None => return false,
        }
        true
    }
}

/// `base` with one more field.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut v = base.clone();
    v[key] = value;
    v
}

/// All input texts, and the text of the last user message.
fn input_texts(input: &Value) -> (Vec<String>, String) {
    let Value::Array(items) = input else {
        let text = text_of(input);
        return (vec![text.clone()], text);
    };
    let mut texts = Vec::new();
    let mut last_user = String::new();
    for item in items {
        let text = match (item.get("content"), item.get("output")) {
            (Some(content), _) => text_of(content),
            (None, Some(output)) => text_of(output),
            (None, None) => String::new(),
        };
        if item.get("role").and_then(Value::as_str) == Some("user") {
            last_user = text.clone();
        }
        texts.push(text);
    }
    (texts, last_user)
}

/// The API's refusal of input whose function calls and outputs do not pair up by `call_id`.
fn unpaired_function_calls(items: &[Value]) -> Option<String> {
    let ids = |kind: &str| -> Vec<&str> {
        items
            .iter()
            .filter(|item| item.get("type").and_then(Value::as_str) == Some(kind))
            .filter_map(|item| item.get("call_id").and_then(Value::as_str))
            .collect()
    };
    let (calls, outputs) = (ids("function_call"), ids("function_call_output"));
    if let Some(call) = calls.iter().find(|id| !outputs.contains(id)) {
        return Some(format!("No tool output found for function call {call}."));
    }
    outputs
        .iter()
        .find(|id| !calls.contains(id))
        .map(|output| format!("No tool call found for function call output with call_id {output}."))
}

/// `input_tokens` counts the words and the cached tokens, as OpenAI's count includes them.
fn usage(plan: &Plan, words: u64) -> Value {
    let input_tokens = words + plan.cache_read;
    let output = plan.output_tokens() as u64;
    json!({
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": plan.cache_read},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": plan.thinking},
        "total_tokens": input_tokens + output,
    })
}
