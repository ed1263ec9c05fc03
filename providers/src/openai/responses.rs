//! Responses API streaming: the request body, and the decoding of its typed events, which end
//! with `response.completed` (or `response.incomplete`, `response.failed`, `error`).
//!
//! `response.output_text.delta` (and `response.refusal.delta`) become text blocks;
//! `response.reasoning_summary_text.delta` becomes thinking blocks, one per reasoning item,
//! its summary parts separated by a blank line; a `function_call` item becomes a tool-use
//! block (named, its `call_id` the id) whose text is its `function_call_arguments` deltas. A
//! block closes with its output item. A completed response with function calls stops for
//! `tool_use`, an incomplete one for `max_tokens`.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::blocks::Blocks;
use super::{error_kind, usage};
use crate::transport::sse::Decode;
use crate::{BlockKind, ChatRequest, ChatRole, Content, ProviderError, ProviderEvent};

/// The JSON body for a streamed `POST /v1/responses`. Nothing is stored at OpenAI
/// (`store: false`); the whole history goes with every request, a tool call as a `function_call`
/// item and its result as a `function_call_output` item. Thinking is Anthropic's and is not sent.
pub(super) fn body(req: &ChatRequest) -> Value {
    let mut input: Vec<Value> = Vec::new();
    for message in &req.messages {
        let role = match message.role {
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        };
        for content in &message.content {
            match content {
                Content::Text(text) if text.is_empty() => {}
                Content::Text(text) => input.push(json!({"role": role, "content": text})),
                Content::Thinking { .. } => {}
                Content::ToolCall { id, name, input: arguments } => {
                    input.push(json!({"type": "function_call", "call_id": id, "name": name, "arguments": arguments.to_string()}));
                }
                Content::ToolResult { call_id, output, is_error } => {
                    input
                        .push(json!({"type": "function_call_output", "call_id": call_id, "output": super::tool_output(output, *is_error)}));
                }
            }
        }
    }
    let mut body = json!({
        "model": req.model,
        "input": input,
        "stream": true,
        "store": false,
        "max_output_tokens": req.max_tokens,
    });
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        body["instructions"] = json!(system);
    }
    if let Some(effort) = req.reasoning_effort.as_deref().filter(|e| !e.is_empty()) {
        body["reasoning"] = json!({"effort": effort, "summary": "auto"});
    }
    if !req.tools.is_empty() {
        // `strict` defaults to true here, which needs every property required; the tools' schemas have optional ones.
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|tool| {
                json!({"type": "function", "name": tool.name, "description": tool.description, "parameters": tool.input_schema, "strict": false})
            })
            .collect();
        body["tools"] = json!(tools);
    }
    body
}

/// The per-stream decoding state.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    blocks: Blocks,
    /// The summary part last streamed into each reasoning item's block.
    summary_part: HashMap<u64, u64>,
    /// Whether a function call came: the reply then stops for `tool_use`.
    called: bool,
}

impl Decoder {
    fn delta(&mut self, data: &Value, kind: BlockKind) -> Vec<ProviderEvent> {
        let key = number(data, "output_index");
        let text = data.get("delta").and_then(Value::as_str).unwrap_or_default();
        let mut text = text.to_string();
        if kind == BlockKind::Thinking {
            let part = number(data, "summary_index");
            let previous = self.summary_part.insert(key, part);
            if previous.is_some_and(|p| p != part) && self.blocks.is_open(key) && !text.is_empty() {
                text.insert_str(0, "\n\n");
            }
        }
        self.blocks.delta(key, kind, &text, false)
    }

    /// Opens a tool-use block for a `function_call` output item.
    fn added(&mut self, data: &Value) -> Vec<ProviderEvent> {
        let item = data.get("item").unwrap_or(&Value::Null);
        if item.get("type").and_then(Value::as_str) != Some("function_call") {
            return vec![];
        }
        self.called = true;
        let text = |field: &str| item.get(field).and_then(Value::as_str).map(String::from);
        self.blocks.open_tool(number(data, "output_index"), text("name"), text("call_id"), false)
    }

    /// Closes every block and ends the reply with the response's usage and `stop_reason`.
    fn end(&mut self, data: &Value, stop_reason: String) -> Vec<ProviderEvent> {
        let mut events = self.blocks.close_all();
        if let Some(u) = data.pointer("/response/usage").filter(|u| u.is_object()) {
            let count = |pointer: &str| u.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
            events.push(ProviderEvent::Usage(usage(
                count("/input_tokens"),
                count("/input_tokens_details/cached_tokens"),
                count("/output_tokens"),
                count("/output_tokens_details/reasoning_tokens"),
            )));
        }
        events.push(ProviderEvent::Stop { stop_reason });
        events
    }
}

impl Decode for Decoder {
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<ProviderEvent>, ProviderError> {
        let value: Value =
            serde_json::from_str(data).map_err(|e| ProviderError::Protocol(format!("malformed Responses event `{event}`: {e}")))?;
        let name = match value.get("type").and_then(Value::as_str) {
            Some(kind) => kind.to_string(),
            None if !event.is_empty() && event != "message" => event.to_string(),
            None => return Err(ProviderError::Protocol("a Responses event without a type".into())),
        };
        Ok(match name.as_str() {
            "response.output_text.delta" | "response.refusal.delta" => self.delta(&value, BlockKind::Text),
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => self.delta(&value, BlockKind::Thinking),
            "response.output_item.added" => self.added(&value),
            "response.function_call_arguments.delta" => {
                let text = value.get("delta").and_then(Value::as_str).unwrap_or_default();
                self.blocks.delta(number(&value, "output_index"), BlockKind::ToolUse, text, false)
            }
            "response.output_item.done" => self.blocks.close(number(&value, "output_index")),
            "response.completed" => {
                let stop_reason = if self.called { "tool_use" } else { "end_turn" };
                self.end(&value, stop_reason.into())
            }
            "response.incomplete" => {
                let reason = value.pointer("/response/incomplete_details/reason").and_then(Value::as_str);
                let stop_reason = match reason {
                    Some("max_output_tokens") | None => "max_tokens".to_string(),
                    Some(other) => other.to_string(),
                };
                self.end(&value, stop_reason)
            }
            "error" => return Err(stream_error(&value)),
            "response.failed" => {
                return Err(stream_error(value.pointer("/response/error").unwrap_or(&Value::Null)));
            }
            other => {
                tracing::trace!(event = other, "ignoring a Responses event");
                vec![]
            }
        })
    }

    fn end_of_body(&mut self) -> Result<Vec<ProviderEvent>, ProviderError> {
        Err(ProviderError::Transport("stream ended before response.completed".into()))
    }
}

fn number(data: &Value, field: &str) -> u64 {
    data.get(field).and_then(Value::as_u64).unwrap_or(0)
}

/// An `error` event (`{code, message}`) or a failed response's `error`.
fn stream_error(error: &Value) -> ProviderError {
    let message = error.get("message").and_then(Value::as_str).unwrap_or("the response failed").to_string();
    ProviderError::Stream { kind: error_kind(error), message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChatMessage, Usage};

    /// A `response.completed` event carrying `usage`.
    fn completed(usage: Value) -> String {
        json!({"type": "response.completed", "sequence_number": 9, "response": {"status": "completed", "usage": usage}}).to_string()
    }

    #[test]
    fn the_body_carries_instructions_history_and_the_reasoning_effort() {
        let req = ChatRequest {
            model: "gpt-5".into(),
            system: Some("be brief".into()),
            messages: vec![ChatMessage::text(ChatRole::User, "hi"), ChatMessage::text(ChatRole::Assistant, "hello")],
            tools: vec![],
            max_tokens: 2048,
            thinking_budget: None,
            reasoning_effort: Some("low".into()),
        };
        assert_eq!(
            body(&req),
            json!({
                "model": "gpt-5",
                "input": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
                "instructions": "be brief",
                "stream": true,
                "store": false,
                "max_output_tokens": 2048,
                "reasoning": {"effort": "low", "summary": "auto"},
            })
        );
        let plain = body(&ChatRequest { reasoning_effort: None, system: None, ..req });
        assert!(plain.get("reasoning").is_none() && plain.get("instructions").is_none() && plain.get("tools").is_none());
    }

    #[test]
    fn tool_calls_and_results_go_as_function_call_items_and_the_tools_are_not_strict() {
        let req = ChatRequest {
            model: "gpt-5".into(),
            system: None,
            messages: vec![
                ChatMessage::text(ChatRole::User, "fix it"),
                ChatMessage {
                    role: ChatRole::Assistant,
                    content: vec![
                        Content::Thinking { text: "hm".into(), signature: "s".into() },
                        Content::Text("Reading.".into()),
                        Content::ToolCall { id: "call_1".into(), name: "read".into(), input: json!({"path": "a.py"}) },
                    ],
                },
                ChatMessage {
                    role: ChatRole::User,
                    content: vec![Content::ToolResult { call_id: "call_1".into(), output: "no such file".into(), is_error: true }],
                },
            ],
            tools: vec![crate::ToolDefinition {
                name: "read".into(),
                description: "Read.".into(),
                input_schema: json!({"type": "object"}),
            }],
            max_tokens: 100,
            thinking_budget: None,
            reasoning_effort: None,
        };
        let b = body(&req);
        assert_eq!(
            b["input"],
            json!([
                {"role": "user", "content": "fix it"},
                {"role": "assistant", "content": "Reading."},
                {"type": "function_call", "call_id": "call_1", "name": "read", "arguments": "{\"path\":\"a.py\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "Error: no such file"},
            ])
        );
        assert_eq!(
            b["tools"],
            json!([{"type": "function", "name": "read", "description": "Read.", "parameters": {"type": "object"}, "strict": false}])
        );
    }

    fn typed(kind: &str, rest: Value) -> String {
        let mut v = rest;
        v["type"] = json!(kind);
        v.to_string()
    }

    #[test]
    fn summaries_and_text_become_blocks_closed_with_their_items_then_usage_and_stop() {
        let mut d = Decoder::default();
        let lines = [
            typed("response.created", json!({"response": {"status": "in_progress"}})),
            typed("response.output_item.added", json!({"output_index": 0, "item": {"type": "reasoning"}})),
            typed("response.reasoning_summary_text.delta", json!({"output_index": 0, "summary_index": 0, "delta": "Plan"})),
            typed("response.reasoning_summary_text.delta", json!({"output_index": 0, "summary_index": 1, "delta": "Check"})),
            typed("response.output_item.done", json!({"output_index": 0})),
            typed("response.output_text.delta", json!({"output_index": 1, "content_index": 0, "delta": "Hi"})),
            typed("response.output_item.done", json!({"output_index": 1})),
            completed(
                json!({"input_tokens": 12, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 20}}),
            ),
        ];
        let events: Vec<ProviderEvent> = lines.iter().flat_map(|l| d.decode("", l).unwrap()).collect();
        let start = |index, kind| ProviderEvent::BlockStart { index, kind, name: None, id: None };
        let delta = |index, text: &str| ProviderEvent::BlockDelta { index, text: text.into() };
        assert_eq!(
            events,
            vec![
                start(0, BlockKind::Thinking),
                delta(0, "Plan"),
                delta(0, "\n\nCheck"),
                ProviderEvent::BlockStop { index: 0 },
                start(1, BlockKind::Text),
                delta(1, "Hi"),
                ProviderEvent::BlockStop { index: 1 },
                ProviderEvent::Usage(Usage {
                    input_tokens: 10,
                    output_tokens: 30,
                    cache_creation_input_tokens: 0,
                    cache_read_input_tokens: 2,
                    reasoning_tokens: 20,
                }),
                ProviderEvent::Stop { stop_reason: "end_turn".into() },
            ]
        );
    }

    #[test]
    fn an_incomplete_response_stops_for_max_tokens() {
        let mut d = Decoder::default();
        let line = typed("response.incomplete", json!({"response": {"incomplete_details": {"reason": "max_output_tokens"}}}));
        assert_eq!(d.decode("response.incomplete", &line).unwrap(), vec![ProviderEvent::Stop { stop_reason: "max_tokens".into() }]);
    }

    #[test]
    fn error_and_failed_events_are_stream_errors_and_garbage_is_a_protocol_error() {
        let mut d = Decoder::default();
        let error = typed("error", json!({"code": "server_error", "message": "Overloaded", "param": null}));
        assert_eq!(d.decode("error", &error), Err(ProviderError::Stream { kind: "server_error".into(), message: "Overloaded".into() }));
        let failed = typed("response.failed", json!({"response": {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}}));
        assert_eq!(
            d.decode("response.failed", &failed),
            Err(ProviderError::Stream { kind: "rate_limit_exceeded".into(), message: "slow down".into() })
        );
        assert!(matches!(d.decode("x", "{nope"), Err(ProviderError::Protocol(_))));
        assert!(matches!(d.end_of_body(), Err(ProviderError::Transport(m)) if m.contains("response.completed")));
    }
}
