//! Conversation events: past-tense facts. Their names and payloads are frozen once stored;
//! a payload change gets a new `event_version` and an upcaster in the backend.

use serde::{Deserialize, Serialize};

/// The kind of an assistant content block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Text,
    Thinking,
    ToolUse,
    ToolResult,
}

/// How tool use is approved in a conversation run by Claude Code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionMode {
    /// Every tool that is not always-allowed asks the user first.
    #[default]
    Ask,
    /// File edits are allowed; other tools ask.
    AcceptEdits,
    /// Nothing asks.
    Bypass,
}

impl PermissionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Ask => "ask",
            PermissionMode::AcceptEdits => "accept_edits",
            PermissionMode::Bypass => "bypass",
        }
    }
}

/// A user's answer to a tool-approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
    /// Allow, and allow this tool from now on in this conversation.
    Always,
}

/// How a conversation's turns run: chosen when it starts (defaults come from the server's settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSettings {
    /// The longest reply in tokens (Anthropic `max_tokens`, OpenAI `max_output_tokens`).
    pub max_tokens: u32,
    /// Extended thinking (Anthropic, Claude Code): the budget in tokens; `None` is off.
    pub thinking_budget: Option<u32>,
    /// Reasoning effort (OpenAI): `none`, `minimal`, `low`, `medium` or `high`; `None` sends none.
    pub reasoning_effort: Option<String>,
    /// The model's context window in tokens when the conversation started (model catalogue); 0 if unknown.
    pub context_window: u64,
}

/// The reasoning efforts a conversation may choose.
pub const REASONING_EFFORTS: [&str; 5] = ["none", "minimal", "low", "medium", "high"];
/// The smallest extended-thinking budget Anthropic accepts.
pub const MIN_THINKING_BUDGET: u32 = 1024;
/// The largest `max_tokens` or thinking budget accepted.
pub const MAX_SETTING_TOKENS: u32 = 1_000_000;

/// Everything that ever happened to a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConversationEvent {
    /// Version 2.0 added `workspace` and `permission_mode` (1.0 events are upcast in the backend).
    ConversationStarted {
        provider: String,
        model: String,
        title: String,
        workspace: Option<String>,
        permission_mode: PermissionMode,
    },
    /// The conversation's settings (right after `ConversationStarted`; conversations from before
    /// settings existed have none, and run with the server's defaults).
    ConversationConfigured(ConversationSettings),
    ConversationRetitled {
        title: String,
    },
    PromptSubmitted {
        turn: u32,
        text: String,
        job_id: String,
    },
    /// A worker began (or re-began, after a reclaim) a turn. Of the earlier attempts' output, the
    /// blocks numbered below `resume_blocks` stand (whole model replies and every tool result that
    /// was started: see `RunningTurn::resume_blocks`) and the rest is void. Version 1.0 had no
    /// `resume_blocks` (`None`): all earlier output was void.
    AttemptStarted {
        turn: u32,
        attempt: u32,
        attempt_id: String,
        worker: String,
        #[serde(default)]
        resume_blocks: Option<u32>,
    },
    BlockStarted {
        turn: u32,
        block: u32,
        kind: BlockKind,
        name: Option<String>,
        tool_use_id: Option<String>,
    },
    TextAppended {
        turn: u32,
        block: u32,
        text: String,
    },
    BlockFinished {
        turn: u32,
        block: u32,
        input: Option<serde_json::Value>,
        signature: Option<String>,
        is_error: Option<bool>,
    },
    UsageRecorded {
        turn: u32,
        input_tokens: u64,
        output_tokens: u64,
        cost_usd: f64,
    },
    TurnCompleted {
        turn: u32,
        stop_reason: String,
    },
    /// Claude Code reported its session id; the next turn resumes it.
    CliSessionStarted {
        turn: u32,
        session_id: String,
    },
    /// A CLI message PocketDev does not model, kept verbatim for audit.
    CliMessageRecorded {
        turn: u32,
        raw: serde_json::Value,
    },
    /// The system prompt an attempt of the turn was sent with (for Claude Code: what it appended to
    /// the CLI's own), and its SHA-256, for audit.
    SystemPromptUsed {
        turn: u32,
        sha256: String,
        text: String,
    },
    ApprovalRequested {
        turn: u32,
        approval_id: String,
        tool: String,
        input: serde_json::Value,
    },
    ApprovalDecided {
        approval_id: String,
        tool: String,
        decision: Decision,
        reason: Option<String>,
    },
    TurnFailed {
        turn: u32,
        reason: String,
    },
    TurnAborted {
        turn: u32,
    },
    ConversationArchived,
    ConversationUnarchived,
    ConversationDeleted,
}

impl ConversationEvent {
    /// Every stored event type (SSE `event:` names). Keep in step with `event_type`.
    pub const TYPES: [&'static str; 20] = [
        "ConversationStarted",
        "ConversationConfigured",
        "ConversationRetitled",
        "PromptSubmitted",
        "AttemptStarted",
        "BlockStarted",
        "TextAppended",
        "BlockFinished",
        "UsageRecorded",
        "TurnCompleted",
        "CliSessionStarted",
        "CliMessageRecorded",
        "SystemPromptUsed",
        "ApprovalRequested",
        "ApprovalDecided",
        "TurnFailed",
        "TurnAborted",
        "ConversationArchived",
        "ConversationUnarchived",
        "ConversationDeleted",
    ];

    /// The stored event type: the variant name. Frozen once persisted.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::ConversationStarted { .. } => "ConversationStarted",
            Self::ConversationConfigured(_) => "ConversationConfigured",
            Self::ConversationRetitled { .. } => "ConversationRetitled",
            Self::PromptSubmitted { .. } => "PromptSubmitted",
            Self::AttemptStarted { .. } => "AttemptStarted",
            Self::BlockStarted { .. } => "BlockStarted",
            Self::TextAppended { .. } => "TextAppended",
            Self::BlockFinished { .. } => "BlockFinished",
            Self::UsageRecorded { .. } => "UsageRecorded",
            Self::TurnCompleted { .. } => "TurnCompleted",
            Self::CliSessionStarted { .. } => "CliSessionStarted",
            Self::CliMessageRecorded { .. } => "CliMessageRecorded",
            Self::SystemPromptUsed { .. } => "SystemPromptUsed",
            Self::ApprovalRequested { .. } => "ApprovalRequested",
            Self::ApprovalDecided { .. } => "ApprovalDecided",
            Self::TurnFailed { .. } => "TurnFailed",
            Self::TurnAborted { .. } => "TurnAborted",
            Self::ConversationArchived => "ConversationArchived",
            Self::ConversationUnarchived => "ConversationUnarchived",
            Self::ConversationDeleted => "ConversationDeleted",
        }
    }

    /// The payload version of this event type. Bump it (and add an upcaster) when a payload changes.
    pub fn event_version(&self) -> &'static str {
        match self {
            Self::ConversationStarted { .. } | Self::AttemptStarted { .. } => "2.0",
            _ => "1.0",
        }
    }

    /// The turn whose messages this event changes, if it changes any; the others touch only the header.
    pub fn message_turn(&self) -> Option<u32> {
        match self {
            Self::PromptSubmitted { turn, .. }
            | Self::AttemptStarted { turn, .. }
            | Self::BlockStarted { turn, .. }
            | Self::TextAppended { turn, .. }
            | Self::BlockFinished { turn, .. }
            | Self::UsageRecorded { turn, .. }
            | Self::TurnCompleted { turn, .. }
            | Self::TurnFailed { turn, .. }
            | Self::TurnAborted { turn } => Some(*turn),
            _ => None,
        }
    }

    /// True for streamed text: the only event that does not change lists or conversation headers.
    pub fn is_delta(&self) -> bool {
        matches!(self, Self::TextAppended { .. })
    }
}
