//! The streamed Anthropic reply: message_start, ping, thinking/text/tool_use blocks, message_delta, message_stop.
//!
//! As the real API does, `message_start` carries the prompt's usage (uncached, cache writes,
//! cache reads) with a first output token, and `message_delta` the cumulative usage: the same
//! input figures and the final output count.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{stop_reason, usage, SIGNATURE};
use crate::directive::Failure;
use crate::plan::Plan;
use crate::script::{next_id, typed_sse, Script};
use crate::tokens::thinking_tokens;

/// The `text/event-stream` response for a streamed reply.
pub(super) fn response(plan: &Plan, model: &str, input_tokens: u64) -> Response {
    let script = script(plan, model, input_tokens);
    ([(header::CONTENT_TYPE, "text/event-stream; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], script.into_body()).into_response()
}

fn script(plan: &Plan, model: &str, input_tokens: u64) -> Script {
    let mut s = Script::new(plan);
    let message = json!({
        "id": next_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": null,
        "stop_sequence": null,
        "usage": usage(plan, input_tokens, 1),
    });
    s.chunk(event("message_start", json!({"message": message})));
    s.chunk(event("ping", json!({})));
    let mut index = 0;
    if plan.thinking > 0 {
        block_start(&mut s, index, json!({"type": "thinking", "thinking": "", "signature": ""}));
        for token in thinking_tokens(plan.thinking) {
            s.token(delta(index, json!({"type": "thinking_delta", "thinking": token})));
        }
        s.chunk(delta(index, json!({"type": "signature_delta", "signature": SIGNATURE})));
        block_stop(&mut s, index);
        index += 1;
    }
    block_start(&mut s, index, json!({"type": "text", "text": ""}));
    for (i, token) in plan.reply.iter().enumerate() {
        if i == plan.after && inject_failure(&mut s, plan) {
            return s;
        }
        s.token(delta(index, json!({"type": "text_delta", "text": token})));
    }
    if plan.after >= plan.tokens && inject_failure(&mut s, plan) {
        return s;
    }
    block_stop(&mut s, index);
    for call in &plan.tools {
        index += 1;
        let tool = json!({"type": "tool_use", "id": next_id("toolu"), "name": call.name, "input": {}});
        block_start(&mut s, index, tool);
        for chunk in call.input_chunks() {
            s.token(delta(index, json!({"type": "input_json_delta", "partial_json": chunk})));
        }
        block_stop(&mut s, index);
    }
    s.chunk(event(
        "message_delta",
        json!({
            "delta": {"stop_reason": stop_reason(plan), "stop_sequence": null},
            "usage": usage(plan, input_tokens, plan.output_tokens()),
        }),
    ));
    s.chunk(event("message_stop", json!({})));
    s
}

/// Adds the plan's in-stream failure, if any; true if the stream must end here.
fn inject_failure(s: &mut Script, plan: &Plan) -> bool {
    match plan.stream_failure() {
        Some(Failure::Cut) => s.cut(),
        Some(_) => s.chunk(event("error", json!({"error": {"type": "overloaded_error", "message": "Overloaded"}}))),
        None => return false,
    }
    true
}

/// An SSE event whose data is `{"type": name, ...fields}`.
fn event(name: &str, fields: Value) -> bytes::Bytes {
    typed_sse(name, &fields)
}

fn block_start(s: &mut Script, index: usize, block: Value) {
    s.chunk(event("content_block_start", json!({"index": index, "content_block": block})));
}

fn delta(index: usize, delta: Value) -> bytes::Bytes {
    event("content_block_delta", json!({"index": index, "delta": delta}))
}

fn block_stop(s: &mut Script, index: usize) {
    s.chunk(event("content_block_stop", json!({"index": index})));
}
