//! The conversation view and list row: a pure fold of events, shared by the projector, replay,
//! the `?at=SEQ` audit view and the browser's live updates.

use serde::{Deserialize, Serialize};

use crate::conversation::{BlockKind, ConversationEvent, ConversationSettings, PermissionMode};

/// Whether a turn is running, and how the last one ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Idle,
    Running,
    AwaitingApproval,
    Failed,
}

impl Status {
    pub fn parse(raw: &str) -> Status {
        match raw {
            "running" => Status::Running,
            "awaiting_approval" => Status::AwaitingApproval,
            "failed" => Status::Failed,
            _ => Status::Idle,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Running => "running",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Failed => "failed",
        }
    }
}

/// Token and cost totals of a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageTotals {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
}

/// How full the context window is: `ok` below 75 %, `warn` from 75 %, `danger` from 90 %.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextLevel {
    #[default]
    Ok,
    Warn,
    Danger,
}

impl ContextLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ContextLevel::Ok => "ok",
            ContextLevel::Warn => "warn",
            ContextLevel::Danger => "danger",
        }
    }
}

/// The context-window meter: the last turn's input plus output against the model's window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextMeter {
    /// Tokens the last completed turn used: its whole prompt (history included) plus its reply.
    pub used_tokens: u64,
    /// The model's context window; 0 when unknown.
    pub window: u64,
    /// `used_tokens` as a percentage of `window`, to one decimal; 0 when the window is unknown.
    pub percent: f64,
    pub level: ContextLevel,
}

impl ContextMeter {
    /// Percentages from which the meter warns, and shows danger.
    pub const WARN_PERCENT: u64 = 75;
    pub const DANGER_PERCENT: u64 = 90;

    pub fn new(used_tokens: u64, window: u64) -> Self {
        if window == 0 {
            return Self { used_tokens, ..Self::default() };
        }
        let level = if used_tokens * 100 >= Self::DANGER_PERCENT * window {
            ContextLevel::Danger
        } else if used_tokens * 100 >= Self::WARN_PERCENT * window {
            ContextLevel::Warn
        } else {
            ContextLevel::Ok
        };
        let percent = (used_tokens as f64 * 1000.0 / window as f64).round() / 10.0;
        Self { used_tokens, window, percent, level }
    }
}

/// A tool use waiting for the user's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub id: String,
    pub tool: String,
    pub input: serde_json::Value,
    pub requested_at: String,
}

/// Who a message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    /// `user` or `assistant`, as the view's JSON and the page's `data-role` say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// What a block of a message shows: the event block kinds, and the error a failed turn ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockType {
    Text,
    Thinking,
    ToolUse,
    ToolResult,
    Error,
}

impl From<BlockKind> for BlockType {
    fn from(kind: BlockKind) -> Self {
        match kind {
            BlockKind::Text => BlockType::Text,
            BlockKind::Thinking => BlockType::Thinking,
            BlockKind::ToolUse => BlockType::ToolUse,
            BlockKind::ToolResult => BlockType::ToolResult,
        }
    }
}

/// One content block of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    #[serde(rename = "type")]
    pub kind: BlockType,
    /// The block's index inside its turn, as assigned by the worker.
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// A thinking block's signature (Anthropic), which the API must be sent back with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Sanitized HTML of a finished text block (markdown, highlighted code), filled in by the read
    /// side; the fold never sets it, and streamed text clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// A user prompt or an assistant reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub turn: u32,
    pub blocks: Vec<Block>,
    /// The provider's stop reason, or [`ABORTED`] for a reply the user stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// An assistant reply's tokens and cost, once its turn recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageTotals>,
}

/// The full view of one conversation, as served by `GET /api/conversations/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationView {
    pub id: String,
    pub title: String,
    pub provider: String,
    pub model: String,
    pub status: Status,
    pub archived: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    pub created_at: String,
    pub updated_at: String,
    pub usage: UsageTotals,
    /// The context-window meter.
    #[serde(default)]
    pub context: ContextMeter,
    /// How turns run; `None` for conversations from before settings existed (server defaults apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<ConversationSettings>,
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub permission_mode: PermissionMode,
    #[serde(default)]
    pub pending_approvals: Vec<PendingApproval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_session_id: Option<String>,
    pub messages: Vec<Message>,
    /// True when `messages` is the newest page only: older turns exist and load on demand.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_older: bool,
    /// The sequence number of the last event folded in; live updates resume after it.
    pub seq: u64,
}

/// One row of the conversation list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub provider: String,
    pub model: String,
    pub archived: bool,
    pub updated_at: String,
}

/// An event with its position and time, as carried by SSE frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedEvent {
    pub seq: u64,
    pub at: String,
    pub event: ConversationEvent,
}

impl LoggedEvent {
    /// A frame's JSON read without serde's derive (see `ConversationEvent::from_json`).
    pub fn from_json(json: &serde_json::Value) -> Option<LoggedEvent> {
        Some(LoggedEvent {
            seq: json.get("seq")?.as_u64()?,
            at: json.get("at")?.as_str()?.to_string(),
            event: ConversationEvent::from_json(json.get("event")?)?,
        })
    }
}

/// The stop reason of a reply the user stopped.
pub const ABORTED: &str = "aborted";

mod fold;
