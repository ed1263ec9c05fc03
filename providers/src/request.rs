//! The normalized request every provider adapter takes: the model, the system prompt, the tools
//! offered, and the history as content blocks (text, signed thinking, tool calls and their results).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who said a message in the history sent to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    User,
    Assistant,
}

/// One piece of a message. Tool calls are the assistant's; their results come back in the next
/// user message, each naming its call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text(String),
    /// Anthropic extended thinking with the signature the API gave it; only Anthropic is sent it back
    /// (the API requires it before tool calls when thinking is on).
    Thinking {
        text: String,
        signature: String,
    },
    /// A tool call: its id (Anthropic `tool_use.id`, OpenAI `call_id`), the tool, and its input object.
    ToolCall {
        id: String,
        name: String,
        input: Value,
    },
    /// The result of the call `call_id`.
    ToolResult {
        call_id: String,
        output: String,
        is_error: bool,
    },
}

/// One message of the history sent to a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: Vec<Content>,
}

impl ChatMessage {
    /// A message of plain text.
    pub fn text(role: ChatRole, text: impl Into<String>) -> ChatMessage {
        ChatMessage { role, content: vec![Content::Text(text.into())] }
    }

    /// Its text blocks, joined by blank lines.
    pub fn joined_text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|content| match content {
                Content::Text(text) if !text.is_empty() => Some(text.as_str()),
                _ => None,
            })
            .collect();
        texts.join("\n\n")
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// The JSON Schema of its input object.
    pub input_schema: Value,
}

/// Everything a provider needs for one streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRequest {
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<ChatMessage>,
    /// The tools offered; empty offers none.
    pub tools: Vec<ToolDefinition>,
    pub max_tokens: u32,
    /// Extended-thinking budget in tokens (Anthropic); `None` turns thinking off.
    pub thinking_budget: Option<u32>,
    /// Reasoning effort (OpenAI: `minimal`, `low`, `medium`, `high`); `None` sends none.
    pub reasoning_effort: Option<String>,
}
