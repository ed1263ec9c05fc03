//! Chat Completions streaming: the request body, and the decoding of `data:` chunks (no event
//! names) ending in `data: [DONE]`.
//!
//! `delta.content` becomes text blocks; `delta.reasoning_content` (llama.cpp, vLLM, DeepSeek) or
//! `delta.reasoning` (Ollama, OpenRouter) becomes thinking blocks; each of `delta.tool_calls`
//! (by its `index`; they stream one after another) becomes a tool-use block, opened by the
//! chunk with its name and id, its `arguments` the block's text. With
//! `stream_options.include_usage`, the last chunk before `[DONE]` carries the usage.
//! `finish_reason` `length` stops for `max_tokens`, `tool_calls` for `tool_use`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::blocks::Blocks;
use super::{error_kind, usage};
use crate::transport::sse::Decode;
use crate::{BlockKind, ChatRequest, ChatRole, Content, ProviderError, ProviderEvent, Usage};

/// Block keys: one block at a time, thinking, text or tool call number `TOOL + index`.
const THINKING: u64 = 0;
const TEXT: u64 = 1;
const TOOL: u64 = 2;

/// The JSON body for a streamed `POST /v1/chat/completions`: an assistant's tool calls go in its
/// message's `tool_calls`, each result as a `tool` message after it. Thinking is not sent.
pub(super) fn body(req: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &req.messages {
        let text = m.joined_text();
        match m.role {
            ChatRole::User => {
                for content in &m.content {
                    if let Content::ToolResult { call_id, output, is_error } = content {
                        messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": super::tool_output(output, *is_error)}));
                    }
                }
                if !text.is_empty() {
                    messages.push(json!({"role": "user", "content": text}));
                }
            }
            ChatRole::Assistant => {
                let calls: Vec<Value> = m
                    .content
                    .iter()
                    .filter_map(|content| match content {
                        Content::ToolCall { id, name, input } => {
                            Some(json!({"id": id, "type": "function", "function": {"name": name, "arguments": input.to_string()}}))
                        }
                        _ => None,
                    })
                    .collect();
                if calls.is_empty() {
                    messages.push(json!({"role": "assistant", "content": text}));
                } else {
                    let content = if text.is_empty() { Value::Null } else { json!(text) };
                    messages.push(json!({"role": "assistant", "content": content, "tool_calls": calls}));
                }
            }
        }
    }
    let mut body = json!({
        "model": req.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": req.max_tokens,
    });
    if let Some(effort) = req.reasoning_effort.as_deref().filter(|e| !e.is_empty()) {
        body["reasoning_effort"] = json!(effort);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|tool| json!({"type": "function", "function": {"name": tool.name, "description": tool.description, "parameters": tool.input_schema}}))
            .collect();
        body["tools"] = json!(tools);
    }
    body
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: u64,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: FunctionDelta,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

/// The per-stream decoding state.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    blocks: Blocks,
    usage: Option<Usage>,
    finish_reason: Option<String>,
}

impl Decoder {
    /// Closes the open block and ends the reply: usage (if reported), then the stop.
    fn end(&mut self) -> Vec<ProviderEvent> {
        let mut events = self.blocks.close_all();
        events.extend(self.usage.take().map(ProviderEvent::Usage));
        let stop_reason = match self.finish_reason.take().as_deref() {
            None | Some("stop") => "end_turn".to_string(),
            Some("length") => "max_tokens".to_string(),
            Some("tool_calls" | "function_call") => "tool_use".to_string(),
            Some(other) => other.to_string(),
        };
        events.push(ProviderEvent::Stop { stop_reason });
        events
    }
}

impl Decode for Decoder {
    fn decode(&mut self, _event: &str, data: &str) -> Result<Vec<ProviderEvent>, ProviderError> {
        let data = data.trim();
        if data == "[DONE]" {
            return Ok(self.end());
        }
        let chunk: Chunk =
            serde_json::from_str(data).map_err(|e| ProviderError::Protocol(format!("malformed chat completion chunk: {e}")))?;
        if let Some(error) = chunk.error {
            let message = error.get("message").and_then(Value::as_str).unwrap_or("stream error").to_string();
            return Err(ProviderError::Stream { kind: error_kind(&error), message });
        }
        let mut events = Vec::new();
        for choice in chunk.choices {
            let thinking = choice.delta.reasoning_content.or(choice.delta.reasoning).unwrap_or_default();
            events.extend(self.blocks.delta(THINKING, BlockKind::Thinking, &thinking, true));
            let text = choice.delta.content.unwrap_or_default();
            events.extend(self.blocks.delta(TEXT, BlockKind::Text, &text, true));
            for call in choice.delta.tool_calls {
                let key = TOOL + call.index;
                if call.id.is_some() || call.function.name.is_some() {
                    events.extend(self.blocks.open_tool(key, call.function.name, call.id, true));
                }
                events.extend(self.blocks.delta(key, BlockKind::ToolUse, &call.function.arguments.unwrap_or_default(), true));
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        if let Some(u) = chunk.usage {
            let cached = u.prompt_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0);
            let reasoning = u.completion_tokens_details.and_then(|d| d.reasoning_tokens).unwrap_or(0);
            self.usage = Some(usage(u.prompt_tokens, cached, u.completion_tokens, reasoning));
        }
        Ok(events)
    }

    /// Servers that forget `[DONE]` still end well once a `finish_reason` came; otherwise the
    /// connection was cut.
    fn end_of_body(&mut self) -> Result<Vec<ProviderEvent>, ProviderError> {
        if self.finish_reason.is_some() {
            return Ok(self.end());
        }
        Err(ProviderError::Transport("stream ended before [DONE]".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChatMessage;

    fn request(effort: Option<&str>) -> ChatRequest {
        ChatRequest {
            model: "llama".into(),
            system: Some("be brief".into()),
            messages: vec![
                ChatMessage::text(ChatRole::User, "hi"),
                ChatMessage::text(ChatRole::Assistant, "hello"),
                ChatMessage::text(ChatRole::User, "again"),
            ],
            tools: vec![],
            max_tokens: 512,
            thinking_budget: Some(1024),
            reasoning_effort: effort.map(Into::into),
        }
    }

    #[test]
    fn the_body_streams_with_usage_and_a_system_message_first() {
        assert_eq!(
            body(&request(None)),
            json!({
                "model": "llama",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                    {"role": "user", "content": "again"},
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
                "max_tokens": 512,
            })
        );
        assert_eq!(body(&request(Some("high")))["reasoning_effort"], "high");
    }

    #[test]
    fn tool_calls_ride_on_the_assistant_message_and_each_result_is_a_tool_message() {
        let mut req = request(None);
        req.messages = vec![
            ChatMessage::text(ChatRole::User, "fix it"),
            ChatMessage {
                role: ChatRole::Assistant,
                content: vec![
                    Content::ToolCall { id: "call_1".into(), name: "read".into(), input: json!({"path": "a.py"}) },
                    Content::ToolCall { id: "call_2".into(), name: "list".into(), input: json!({}) },
                ],
            },
            ChatMessage {
                role: ChatRole::User,
                content: vec![
                    Content::ToolResult { call_id: "call_1".into(), output: "x = 1".into(), is_error: false },
                    Content::ToolResult { call_id: "call_2".into(), output: "refused".into(), is_error: true },
                ],
            },
        ];
        req.tools =
            vec![crate::ToolDefinition { name: "read".into(), description: "Read.".into(), input_schema: json!({"type": "object"}) }];
        let b = body(&req);
        assert_eq!(
            b["messages"],
            json!([
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "fix it"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"a.py\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "list", "arguments": "{}"}},
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "x = 1"},
                {"role": "tool", "tool_call_id": "call_2", "content": "Error: refused"},
            ])
        );
        assert_eq!(
            b["tools"],
            json!([{"type": "function", "function": {"name": "read", "description": "Read.", "parameters": {"type": "object"}}}])
        );
    }

    fn decode_all(d: &mut Decoder, lines: &[&str]) -> Vec<ProviderEvent> {
        lines.iter().flat_map(|line| d.decode("", line).unwrap()).collect()
    }

    #[test]
    fn reasoning_then_content_become_a_thinking_and_a_text_block_then_usage_and_stop() {
        let mut d = Decoder::default();
        let events = decode_all(
            &mut d,
            &[
                r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
                r#"{"choices":[{"index":0,"delta":{"reasoning_content":"let me "},"finish_reason":null}]}"#,
                r#"{"choices":[{"index":0,"delta":{"reasoning":"see"},"finish_reason":null}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":9,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":3}}}"#,
                "[DONE]",
            ],
        );
        let start = |index, kind| ProviderEvent::BlockStart { index, kind, name: None, id: None };
        let delta = |index, text: &str| ProviderEvent::BlockDelta { index, text: text.into() };
        assert_eq!(
            events,
            vec![
                start(0, BlockKind::Thinking),
                delta(0, "let me "),
                delta(0, "see"),
                ProviderEvent::BlockStop { index: 0 },
                start(1, BlockKind::Text),
                delta(1, "Hi"),
                ProviderEvent::BlockStop { index: 1 },
                ProviderEvent::Usage(Usage {
                    input_tokens: 16,
                    output_tokens: 9,
                    cache_creation_input_tokens: 0,
                    cache_read_input_tokens: 4,
                    reasoning_tokens: 3,
                }),
                ProviderEvent::Stop { stop_reason: "max_tokens".into() },
            ]
        );
    }

    #[test]
    fn an_error_chunk_is_a_stream_error_and_garbage_a_protocol_error() {
        let mut d = Decoder::default();
        let error = d.decode("", r#"{"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}}"#);
        assert_eq!(error, Err(ProviderError::Stream { kind: "server_error".into(), message: "Overloaded".into() }));
        let error = d.decode("", r#"{"error":{"message":"too long","code":400}}"#);
        assert_eq!(error, Err(ProviderError::Stream { kind: "400".into(), message: "too long".into() }));
        assert!(matches!(d.decode("", "not json"), Err(ProviderError::Protocol(_))));
    }

    #[test]
    fn a_body_ending_without_done_is_a_cut_unless_the_reply_had_finished() {
        let mut d = Decoder::default();
        decode_all(&mut d, &[r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#]);
        assert!(matches!(d.end_of_body(), Err(ProviderError::Transport(m)) if m.contains("[DONE]")));
        let mut d = Decoder::default();
        decode_all(&mut d, &[r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}"#]);
        let end = d.end_of_body().unwrap();
        assert_eq!(end.last(), Some(&ProviderEvent::Stop { stop_reason: "end_turn".into() }));
    }
}
