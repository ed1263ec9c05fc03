//! The normalized streaming events (and usage) every provider adapter yields.

use serde::{Deserialize, Serialize};

/// The kind of a content block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Text,
    Thinking,
    ToolUse,
    ToolResult,
}

/// Token usage as reported by the provider; later reports overwrite earlier non-zero fields.
///
/// The input is split the Anthropic way: `input_tokens` are the uncached ones, so the whole
/// prompt is `input_tokens + cache_creation_input_tokens + cache_read_input_tokens` (the OpenAI
/// adapters subtract cached tokens from the prompt tokens to match).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// Reasoning tokens, already counted in `output_tokens` (OpenAI reports them separately).
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Every prompt token: uncached, written to the cache and read from it.
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
    }
}

/// One normalized streaming event. `index` is the content-block index within the turn.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    /// A content block opened. `name` and `id` are set for tool blocks.
    BlockStart { index: u32, kind: BlockKind, name: Option<String>, id: Option<String> },
    /// Text for a text or thinking block, or a partial JSON string for a tool_use block.
    BlockDelta { index: u32, text: String },
    /// The signature of a thinking block.
    Signature { index: u32, signature: String },
    /// A content block closed.
    BlockStop { index: u32 },
    /// Usage so far (from message_start and message_delta).
    Usage(Usage),
    /// The reply ended normally, with the provider's stop reason (e.g. "end_turn").
    Stop { stop_reason: String },
    /// Claude Code: the CLI session this turn runs in (resume it next turn).
    SessionStarted { session_id: String },
    /// Claude Code: the result of a tool the CLI ran.
    ToolResult { index: u32, tool_use_id: String, content: String, is_error: bool },
    /// Claude Code: the CLI asks whether it may use a tool; answer through the run's control.
    PermissionRequested { request_id: String, tool: String, input: serde_json::Value },
    /// Claude Code: the turn's final figures from the CLI's `result` message.
    Finished { usage: Usage, cost_usd: f64, duration_ms: u64 },
    /// A message this adapter does not model, kept verbatim for audit.
    Raw(serde_json::Value),
}
