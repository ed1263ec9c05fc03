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

/// One content block of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    #[serde(rename = "type")]
    pub kind: String,
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
}

/// A user prompt or an assistant reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub turn: u32,
    pub blocks: Vec<Block>,
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

impl ConversationView {
    /// An empty view for the conversation `id`, before any event.
    pub fn new(id: &str) -> Self {
        Self { id: id.to_string(), ..Self::default() }
    }

    /// Sets the context window (the server does so from its model catalogue for conversations
    /// whose settings do not record one) and recomputes the meter.
    pub fn set_context_window(&mut self, window: u64) {
        self.context = ContextMeter::new(self.context.used_tokens, window);
    }

    /// Folds events into a fresh view.
    pub fn fold<'a>(id: &str, events: impl IntoIterator<Item = &'a LoggedEvent>) -> Self {
        let mut view = Self::new(id);
        for logged in events {
            view.apply(logged);
        }
        view
    }

    pub fn summary(&self) -> ConversationSummary {
        ConversationSummary {
            id: self.id.clone(),
            title: self.title.clone(),
            status: self.status,
            provider: self.provider.clone(),
            model: self.model.clone(),
            archived: self.archived,
            updated_at: self.updated_at.clone(),
        }
    }

    /// Applies one event. Events at or below `seq` are ignored, so applying twice is harmless.
    pub fn apply(&mut self, logged: &LoggedEvent) {
        if logged.seq <= self.seq {
            return;
        }
        self.seq = logged.seq;
        let event = &logged.event;
        if !event.is_delta() {
            self.updated_at = logged.at.clone();
        }
        use ConversationEvent as E;
        match event {
            E::ConversationStarted { provider, model, title, workspace, permission_mode } => {
                self.provider = provider.clone();
                self.model = model.clone();
                self.title = title.clone();
                self.workspace = workspace.clone();
                self.permission_mode = *permission_mode;
                self.created_at = logged.at.clone();
            }
            E::ConversationConfigured(settings) => {
                self.settings = Some(settings.clone());
                self.set_context_window(settings.context_window);
            }
            E::CliSessionStarted { session_id, .. } => self.cli_session_id = Some(session_id.clone()),
            E::CliMessageRecorded { .. } => {}
            E::ApprovalRequested { approval_id, tool, input, .. } => {
                self.pending_approvals.push(PendingApproval {
                    id: approval_id.clone(),
                    tool: tool.clone(),
                    input: input.clone(),
                    requested_at: logged.at.clone(),
                });
                self.status = Status::AwaitingApproval;
            }
            E::ApprovalDecided { approval_id, .. } => {
                self.pending_approvals.retain(|pending| &pending.id != approval_id);
                if self.pending_approvals.is_empty() && self.status == Status::AwaitingApproval {
                    self.status = Status::Running;
                }
            }
            E::ConversationRetitled { title } => self.title = title.clone(),
            E::PromptSubmitted { turn, text, .. } => {
                self.status = Status::Running;
                self.messages.push(Message {
                    role: "user".into(),
                    turn: *turn,
                    blocks: vec![text_block("text", 0, text)],
                    stop_reason: None,
                    usage: None,
                });
            }
            E::AttemptStarted { turn, attempt, .. } => {
                if *attempt > 1 {
                    self.messages.retain(|message| !(message.role == "assistant" && message.turn == *turn));
                }
            }
            E::BlockStarted { turn, block, kind, name, tool_use_id } => {
                let text = match kind {
                    BlockKind::Text | BlockKind::Thinking | BlockKind::ToolUse => Some(String::new()),
                    BlockKind::ToolResult => None,
                };
                self.reply(*turn).blocks.push(Block {
                    kind: kind_name(*kind).into(),
                    index: *block,
                    text,
                    name: name.clone(),
                    id: tool_use_id.clone(),
                    input: None,
                    is_error: None,
                });
            }
            E::TextAppended { turn, block, text } => {
                if let Some(target) = self.block_mut(*turn, *block) {
                    target.text.get_or_insert_with(String::new).push_str(text);
                }
            }
            E::BlockFinished { turn, block, input, is_error, .. } => {
                if let Some(target) = self.block_mut(*turn, *block) {
                    if target.kind == "tool_use" {
                        target.text = None;
                    }
                    if input.is_some() {
                        target.input = input.clone();
                    }
                    target.is_error = *is_error;
                }
            }
            E::UsageRecorded { turn, input_tokens, output_tokens, cost_usd } => {
                self.usage.input_tokens += input_tokens;
                self.usage.output_tokens += output_tokens;
                self.usage.cost_usd += cost_usd;
                let turn_usage = self.reply(*turn).usage.get_or_insert_with(UsageTotals::default);
                turn_usage.input_tokens += input_tokens;
                turn_usage.output_tokens += output_tokens;
                turn_usage.cost_usd += cost_usd;
                self.context = ContextMeter::new(input_tokens + output_tokens, self.context.window);
            }
            E::TurnCompleted { turn, stop_reason } => {
                self.status = Status::Idle;
                self.pending_approvals.clear();
                self.reply(*turn).stop_reason = Some(stop_reason.clone());
            }
            E::TurnFailed { turn, reason } => {
                self.status = Status::Failed;
                self.pending_approvals.clear();
                let reply = self.reply(*turn);
                let index = reply.blocks.len() as u32;
                reply.blocks.push(text_block("error", index, reason));
                reply.stop_reason = Some("error".into());
            }
            E::TurnAborted { turn } => {
                self.status = Status::Idle;
                self.pending_approvals.clear();
                self.reply(*turn).stop_reason = Some("aborted".into());
            }
            E::ConversationArchived => self.archived = true,
            E::ConversationUnarchived => self.archived = false,
            E::ConversationDeleted => self.deleted = true,
        }
    }

    /// The assistant message of `turn`, created when missing.
    fn reply(&mut self, turn: u32) -> &mut Message {
        let position = self.messages.iter().position(|m| m.role == "assistant" && m.turn == turn);
        let position = match position {
            Some(position) => position,
            None => {
                self.messages.push(Message { role: "assistant".into(), turn, blocks: vec![], stop_reason: None, usage: None });
                self.messages.len() - 1
            }
        };
        &mut self.messages[position]
    }

    fn block_mut(&mut self, turn: u32, block: u32) -> Option<&mut Block> {
        self.messages
            .iter_mut()
            .rev()
            .find(|m| m.role == "assistant" && m.turn == turn)?
            .blocks
            .iter_mut()
            .rev()
            .find(|b| b.index == block)
    }

    /// The concatenated text blocks of the assistant reply to `turn`.
    pub fn reply_text(&self, turn: u32) -> String {
        self.messages
            .iter()
            .filter(|m| m.role == "assistant" && m.turn == turn)
            .flat_map(|m| m.blocks.iter())
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect()
    }
}

fn text_block(kind: &str, index: u32, text: &str) -> Block {
    Block { kind: kind.into(), index, text: Some(text.to_string()), name: None, id: None, input: None, is_error: None }
}

fn kind_name(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::Text => "text",
        BlockKind::Thinking => "thinking",
        BlockKind::ToolUse => "tool_use",
        BlockKind::ToolResult => "tool_result",
    }
}
