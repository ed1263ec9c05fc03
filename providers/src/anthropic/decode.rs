//! Maps one Anthropic SSE event (name + JSON data) to at most one `ProviderEvent`.
//!
//! Keeps the state the mapping needs: merged usage, the stop reason from `message_delta`,
//! and which block indices were opened (deltas for blocks we don't model are skipped).

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::transport::sse::Decode;
use crate::{BlockKind, ProviderError, ProviderEvent, Usage};

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct MessageStart {
    message: StartMessage,
}

#[derive(Debug, Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Debug, Deserialize)]
struct BlockStart {
    index: u32,
    content_block: WireBlock,
}

#[derive(Debug, Deserialize)]
struct WireBlock {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BlockDelta {
    index: u32,
    delta: WireDelta,
}

#[derive(Debug, Deserialize)]
struct WireDelta {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    thinking: Option<String>,
    partial_json: Option<String>,
    signature: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BlockStop {
    index: u32,
}

#[derive(Debug, Deserialize)]
struct MessageDelta {
    #[serde(default)]
    delta: StopDelta,
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Debug, Default, Deserialize)]
struct StopDelta {
    stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorEvent {
    error: WireError,
}

#[derive(Debug, Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

/// The per-stream decoding state.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    usage: Usage,
    stop_reason: Option<String>,
    open: HashSet<u32>,
}

impl Decoder {
    /// Decodes one SSE event. `Ok(None)` means "nothing to report" (ping, unknown events).
    pub fn decode_event(&mut self, event: &str, data: &str) -> Result<Option<ProviderEvent>, ProviderError> {
        let name = if event.is_empty() || event == "message" { type_of(data).unwrap_or_default() } else { event.to_string() };
        match name.as_str() {
            "message_start" => {
                let start: MessageStart = parse(&name, data)?;
                self.merge(&start.message.usage);
                Ok(Some(ProviderEvent::Usage(self.usage)))
            }
            "content_block_start" => {
                let start: BlockStart = parse(&name, data)?;
                let block = start.content_block;
                let kind = match block.kind.as_str() {
                    "text" => BlockKind::Text,
                    "thinking" => BlockKind::Thinking,
                    "tool_use" => BlockKind::ToolUse,
                    other => {
                        tracing::debug!(kind = other, "skipping an unsupported content block");
                        return Ok(None);
                    }
                };
                self.open.insert(start.index);
                Ok(Some(ProviderEvent::BlockStart { index: start.index, kind, name: block.name, id: block.id }))
            }
            "content_block_delta" => {
                let delta: BlockDelta = parse(&name, data)?;
                Ok(self.delta(delta))
            }
            "content_block_stop" => {
                let stop: BlockStop = parse(&name, data)?;
                Ok(self.open.remove(&stop.index).then_some(ProviderEvent::BlockStop { index: stop.index }))
            }
            "message_delta" => {
                let delta: MessageDelta = parse(&name, data)?;
                self.merge(&delta.usage);
                if delta.delta.stop_reason.is_some() {
                    self.stop_reason = delta.delta.stop_reason;
                }
                Ok(Some(ProviderEvent::Usage(self.usage)))
            }
            "message_stop" => Ok(Some(ProviderEvent::Stop { stop_reason: self.stop_reason.take().unwrap_or_else(|| "end_turn".into()) })),
            "ping" => Ok(None),
            "error" => {
                let err: ErrorEvent = parse(&name, data)?;
                Err(ProviderError::Stream { kind: err.error.kind, message: err.error.message })
            }
            other => {
                tracing::debug!(event = other, "ignoring an unknown Anthropic stream event");
                Ok(None)
            }
        }
    }

    fn delta(&self, delta: BlockDelta) -> Option<ProviderEvent> {
        let index = delta.index;
        if !self.open.contains(&index) {
            return None;
        }
        let d = delta.delta;
        let text = match d.kind.as_str() {
            "text_delta" => d.text,
            "thinking_delta" => d.thinking,
            "input_json_delta" => d.partial_json,
            "signature_delta" => return d.signature.map(|signature| ProviderEvent::Signature { index, signature }),
            other => {
                tracing::debug!(kind = other, "ignoring an unknown content block delta");
                None
            }
        };
        text.map(|text| ProviderEvent::BlockDelta { index, text })
    }

    /// Later non-zero counts replace earlier ones; absent or zero counts keep what we had.
    fn merge(&mut self, w: &WireUsage) {
        let u = &mut self.usage;
        for (slot, value) in [
            (&mut u.input_tokens, w.input_tokens),
            (&mut u.output_tokens, w.output_tokens),
            (&mut u.cache_creation_input_tokens, w.cache_creation_input_tokens),
            (&mut u.cache_read_input_tokens, w.cache_read_input_tokens),
        ] {
            if let Some(v) = value.filter(|v| *v > 0) {
                *slot = v;
            }
        }
    }
}

impl Decode for Decoder {
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<ProviderEvent>, ProviderError> {
        self.decode_event(event, data).map(|event| event.into_iter().collect())
    }

    fn end_of_body(&mut self) -> Result<Vec<ProviderEvent>, ProviderError> {
        Err(ProviderError::Transport("stream ended before message_stop".into()))
    }
}

fn type_of(data: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<Typed>(data).ok().map(|t| t.kind)
}

fn parse<T: DeserializeOwned>(event: &str, data: &str) -> Result<T, ProviderError> {
    serde_json::from_str(data).map_err(|e| ProviderError::Protocol(format!("malformed {event} event: {e}")))
}

#[cfg(test)]
mod tests;
