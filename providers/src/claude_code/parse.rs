//! Parses the CLI's stream-json stdout, one line at a time, into `ProviderEvent`s.
//!
//! Partial-message `stream_event`s carry the Anthropic stream events and go through the same
//! decoder as the API provider. Block indices restart with every API call the CLI makes, so the
//! parser shifts them to stay unique within the turn. Anything unmodelled is kept raw.

use serde_json::Value;

use crate::anthropic::decode::Decoder;
use crate::{ProviderError, ProviderEvent, Usage};

/// What one stdout line means.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Events(Vec<ProviderEvent>),
    /// The CLI's final `result` for the turn; `Err` when it reports an error.
    Result(Result<ProviderEvent, String>),
    /// Not JSON at all.
    Malformed(String),
}

/// Per-process parsing state.
#[derive(Default)]
pub struct LineParser {
    decoder: Decoder,
    /// Added to the block indices of the current API message.
    base: u32,
    /// The next unused block index in the turn.
    next: u32,
    /// Block indices already started in the turn.
    started: std::collections::HashSet<u32>,
}

/// Parses one line with a fresh parser (for tests and one-off checks).
pub fn parse_line(line: &str) -> Line {
    LineParser::default().parse(line)
}

impl LineParser {
    pub fn parse(&mut self, line: &str) -> Line {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            return Line::Malformed(line.chars().take(500).collect());
        };
        let kind = message.get("type").and_then(Value::as_str).unwrap_or_default();
        let subtype = message.get("subtype").and_then(Value::as_str).unwrap_or_default();
        match (kind, subtype) {
            ("system", "init") => match message.get("session_id").and_then(Value::as_str) {
                Some(id) => Line::Events(vec![ProviderEvent::SessionStarted { session_id: id.to_string() }]),
                None => Line::Events(vec![ProviderEvent::Raw(message)]),
            },
            ("stream_event", _) => self.stream_event(message),
            // The complete assistant message repeats what the stream events already delivered.
            ("assistant", _) => Line::Events(vec![]),
            ("user", _) => Line::Events(self.tool_results(&message)),
            ("control_request", _) => permission_request(message),
            ("control_response", _) => Line::Events(vec![]),
            ("result", _) => Line::Result(result(&message)),
            _ => Line::Events(vec![ProviderEvent::Raw(message)]),
        }
    }

    fn stream_event(&mut self, message: Value) -> Line {
        let Some(event) = message.get("event") else { return Line::Events(vec![ProviderEvent::Raw(message)]) };
        // Sub-agent output (parent_tool_use_id set) is not part of the main reply.
        if message.get("parent_tool_use_id").is_some_and(|p| !p.is_null()) {
            return Line::Events(vec![]);
        }
        if event.get("type").and_then(Value::as_str) == Some("message_start") {
            self.base = self.next;
        }
        match self.decoder.decode_event("", &event.to_string()) {
            Ok(Some(event)) => Line::Events(self.shift(event).into_iter().collect()),
            Ok(None) => Line::Events(vec![]),
            Err(ProviderError::Stream { kind, message }) => Line::Result(Err(format!("{kind}: {message}"))),
            Err(_) => Line::Events(vec![ProviderEvent::Raw(message)]),
        }
    }

    /// Moves block indices into the turn's index space; drops per-call usage and stops (the result has the totals).
    fn shift(&mut self, event: ProviderEvent) -> Option<ProviderEvent> {
        // A block index that starts twice (malformed output; found by fuzzing) opens a new block
        // rather than writing into the earlier one.
        if let ProviderEvent::BlockStart { index, .. } = &event {
            if self.started.contains(&self.base.saturating_add(*index)) {
                self.base = self.next;
            }
        }
        let base = self.base;
        let started = &mut self.started;
        let next = &mut self.next;
        let mut claim = |index: u32| {
            let index = base.saturating_add(index);
            started.insert(index);
            *next = (*next).max(index.saturating_add(1));
            index
        };
        Some(match event {
            ProviderEvent::BlockStart { index, kind, name, id } => ProviderEvent::BlockStart { index: claim(index), kind, name, id },
            ProviderEvent::BlockDelta { index, text } => ProviderEvent::BlockDelta { index: base.saturating_add(index), text },
            ProviderEvent::Signature { index, signature } => ProviderEvent::Signature { index: base.saturating_add(index), signature },
            ProviderEvent::BlockStop { index } => ProviderEvent::BlockStop { index: base.saturating_add(index) },
            ProviderEvent::Usage(_) | ProviderEvent::Stop { .. } => return None,
            other => other,
        })
    }

    fn tool_results(&mut self, message: &Value) -> Vec<ProviderEvent> {
        let Some(content) = message.pointer("/message/content").and_then(Value::as_array) else { return vec![] };
        content
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_result"))
            .map(|block| {
                let index = self.next;
                self.started.insert(index);
                self.next = self.next.saturating_add(1);
                ProviderEvent::ToolResult {
                    index,
                    tool_use_id: block.get("tool_use_id").and_then(Value::as_str).unwrap_or_default().to_string(),
                    content: text_of(block.get("content")),
                    is_error: block.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                }
            })
            .collect()
    }
}

fn permission_request(message: Value) -> Line {
    let request = message.get("request");
    let subtype = request.and_then(|r| r.get("subtype")).and_then(Value::as_str);
    let request_id = message.get("request_id").and_then(Value::as_str);
    match (subtype, request_id, request) {
        (Some("can_use_tool"), Some(id), Some(request)) => Line::Events(vec![ProviderEvent::PermissionRequested {
            request_id: id.to_string(),
            tool: request.get("tool_name").and_then(Value::as_str).unwrap_or("unknown").to_string(),
            input: request.get("input").cloned().unwrap_or(Value::Null),
        }]),
        _ => Line::Events(vec![ProviderEvent::Raw(message)]),
    }
}

fn result(message: &Value) -> Result<ProviderEvent, String> {
    let is_error = message.get("is_error").and_then(Value::as_bool).unwrap_or(false);
    let subtype = message.get("subtype").and_then(Value::as_str).unwrap_or("success");
    if is_error || subtype != "success" {
        let text = message.get("result").and_then(Value::as_str).unwrap_or(subtype);
        return Err(format!("Claude Code reported an error ({subtype}): {text}"));
    }
    let number = |pointer: &str| message.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    Ok(ProviderEvent::Finished {
        usage: Usage {
            input_tokens: number("/usage/input_tokens"),
            output_tokens: number("/usage/output_tokens"),
            cache_creation_input_tokens: number("/usage/cache_creation_input_tokens"),
            cache_read_input_tokens: number("/usage/cache_read_input_tokens"),
            reasoning_tokens: 0,
        },
        cost_usd: message.get("total_cost_usd").and_then(Value::as_f64).unwrap_or(0.0),
        duration_ms: number("/duration_ms"),
    })
}

/// Tool-result content is a string or a list of text blocks.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => blocks.iter().filter_map(|b| b.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n"),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
