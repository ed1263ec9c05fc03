//! Conversation commands: imperative requests that the aggregate accepts or refuses.

use serde::{Deserialize, Serialize};

use super::events::{BlockKind, ConversationSettings, Decision, PermissionMode};

/// A request to change a conversation. Each one is checked against the rules in `Conversation::decide`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum ConversationCommand {
    StartConversation {
        provider: String,
        model: String,
        title: Option<String>,
        workspace: Option<String>,
        permission_mode: PermissionMode,
        /// Recorded as `ConversationConfigured` when given.
        settings: Option<ConversationSettings>,
    },
    SubmitPrompt {
        text: String,
        job_id: String,
    },
    /// A worker takes the running turn. `attempt_id` fences off any earlier attempt.
    /// `takeover` is set when the job was reclaimed from a silent worker; otherwise a turn
    /// that already has an attempt is left to it (the job was delivered twice).
    BeginAttempt {
        turn: u32,
        attempt_id: String,
        worker: String,
        takeover: bool,
    },
    /// Streamed output of the current attempt, coalesced by the worker.
    RecordOutput {
        turn: u32,
        attempt_id: String,
        items: Vec<OutputItem>,
    },
    CompleteTurn {
        turn: u32,
        attempt_id: String,
        stop_reason: String,
    },
    FailTurn {
        turn: u32,
        reason: String,
    },
    /// A user (or the approval timeout) answers a pending tool approval.
    DecideApproval {
        approval_id: String,
        decision: Decision,
        reason: Option<String>,
    },
    AbortTurn,
    Rename {
        title: String,
    },
    Archive,
    Unarchive,
    Delete,
}

/// One piece of streamed output inside `RecordOutput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OutputItem {
    BlockStarted { block: u32, kind: BlockKind, name: Option<String>, tool_use_id: Option<String> },
    TextAppended { block: u32, text: String },
    BlockFinished { block: u32, input: Option<serde_json::Value>, signature: Option<String>, is_error: Option<bool> },
    UsageRecorded { input_tokens: u64, output_tokens: u64, cost_usd: f64 },
    CliSessionStarted { session_id: String },
    CliMessageRecorded { raw: serde_json::Value },
    SystemPromptUsed { sha256: String, text: String },
    ApprovalRequested { approval_id: String, tool: String, input: serde_json::Value },
}
