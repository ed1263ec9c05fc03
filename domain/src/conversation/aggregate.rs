//! The conversation aggregate: the small state the rules need, `decide` (rules) and `apply` (state change only).
//!
//! The state holds no message text, so it stays a few hundred bytes however long the
//! conversation grows; the backend snapshots it on every commit.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::events::{MAX_SETTING_TOKENS, MIN_THINKING_BUDGET, REASONING_EFFORTS};
use super::{
    BlockKind, ConversationCommand, ConversationError, ConversationEvent, ConversationSettings, Decision, OutputItem, PermissionMode,
    MAX_ATTEMPTS, MAX_PROMPT_BYTES, TITLE_CHARS,
};

/// A tool approval of the running turn.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub tool: String,
    pub decision: Option<Decision>,
}

/// The turn that is running right now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningTurn {
    pub turn: u32,
    pub job_id: String,
    pub attempt: u32,
    pub attempt_id: Option<String>,
    /// The turn's next free block number.
    #[serde(default)]
    pub next_block: u32,
    /// How many of the turn's blocks a next attempt keeps: every block up to the last whole model
    /// reply (its usage recorded) or the last tool result started, whichever is later. A result
    /// started but never finished stands too: it tells the next attempt that tool ran, or began to.
    #[serde(default)]
    pub resume_blocks: u32,
    /// The Claude Code CLI reported its session in this turn, so a next attempt resumes it.
    #[serde(default)]
    pub cli_session_started: bool,
}

/// The decision state of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub started: bool,
    pub deleted: bool,
    pub archived: bool,
    pub titled: bool,
    pub turns: u32,
    pub running: Option<RunningTurn>,
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub permission_mode: PermissionMode,
    /// The Claude Code session to resume on the next turn.
    #[serde(default)]
    pub cli_session_id: Option<String>,
    /// Tools the user chose to always allow in this conversation.
    #[serde(default)]
    pub always_allowed: BTreeSet<String>,
    /// Approvals of the running turn, by id.
    #[serde(default)]
    pub approvals: BTreeMap<String, Approval>,
}

impl Conversation {
    /// Checks a command against the rules and returns the events it causes.
    pub fn decide(&self, command: ConversationCommand) -> Result<Vec<ConversationEvent>, ConversationError> {
        use ConversationCommand as C;
        use ConversationEvent as E;
        if let C::StartConversation { provider, model, title, workspace, permission_mode, settings } = command {
            if self.started {
                return Err(ConversationError::AlreadyExists);
            }
            let title = match title {
                Some(title) => validate_title(&title)?,
                None => String::new(),
            };
            if let Some(settings) = &settings {
                validate_settings(settings)?;
            }
            let mut events = vec![E::ConversationStarted { provider, model, title, workspace, permission_mode }];
            events.extend(settings.map(E::ConversationConfigured));
            return Ok(events);
        }
        if !self.started || self.deleted {
            return Err(ConversationError::NotFound);
        }
        match command {
            C::StartConversation { .. } => unreachable!("handled above"),
            C::SubmitPrompt { text, job_id } => {
                validate_prompt(&text)?;
                if self.archived {
                    return Err(ConversationError::Archived);
                }
                if self.running.is_some() {
                    return Err(ConversationError::TurnInProgress);
                }
                let mut events = Vec::with_capacity(2);
                if !self.titled {
                    events.push(E::ConversationRetitled { title: default_title(&text) });
                }
                events.push(E::PromptSubmitted { turn: self.turns + 1, text, job_id });
                Ok(events)
            }
            C::BeginAttempt { turn, attempt_id, worker, takeover } => {
                let running = self.running_turn(turn)?;
                if running.attempt > 0 && !takeover {
                    return Err(ConversationError::AttemptInProgress(turn));
                }
                if running.attempt >= MAX_ATTEMPTS {
                    return Err(ConversationError::TooManyAttempts(turn));
                }
                let resume_blocks = Some(running.resume_blocks);
                Ok(vec![E::AttemptStarted { turn, attempt: running.attempt + 1, attempt_id, worker, resume_blocks }])
            }
            C::RecordOutput { turn, attempt_id, items } => {
                self.current_attempt(turn, &attempt_id)?;
                Ok(items.into_iter().map(|item| output_event(turn, item)).collect())
            }
            C::CompleteTurn { turn, attempt_id, stop_reason } => {
                self.current_attempt(turn, &attempt_id)?;
                Ok(vec![E::TurnCompleted { turn, stop_reason }])
            }
            C::FailTurn { turn, reason } => {
                self.running_turn(turn)?;
                Ok(vec![E::TurnFailed { turn, reason }])
            }
            C::DecideApproval { approval_id, decision, reason } => {
                let approval = self.approvals.get(&approval_id).ok_or(ConversationError::ApprovalNotFound)?;
                if approval.decision.is_some() {
                    return Err(ConversationError::ApprovalAlreadyDecided);
                }
                Ok(vec![E::ApprovalDecided { approval_id, tool: approval.tool.clone(), decision, reason }])
            }
            C::AbortTurn => match &self.running {
                Some(running) => Ok(vec![E::TurnAborted { turn: running.turn }]),
                None => Err(ConversationError::NothingRunning),
            },
            C::Rename { title } => Ok(vec![E::ConversationRetitled { title: validate_title(&title)? }]),
            C::Archive => Ok(if self.archived { vec![] } else { vec![E::ConversationArchived] }),
            C::Unarchive => Ok(if self.archived { vec![E::ConversationUnarchived] } else { vec![] }),
            C::Delete => Ok(vec![E::ConversationDeleted]),
        }
    }

    /// Applies one event to the state. No rules here: events are facts.
    pub fn apply(&mut self, event: &ConversationEvent) {
        use ConversationEvent as E;
        match event {
            E::ConversationStarted { title, workspace, permission_mode, .. } => {
                self.started = true;
                self.titled = !title.is_empty();
                self.workspace = workspace.clone();
                self.permission_mode = *permission_mode;
            }
            E::CliSessionStarted { session_id, .. } => {
                self.cli_session_id = Some(session_id.clone());
                if let Some(running) = self.running.as_mut() {
                    running.cli_session_started = true;
                }
            }
            E::ApprovalRequested { approval_id, tool, .. } => {
                self.approvals.insert(approval_id.clone(), Approval { tool: tool.clone(), decision: None });
            }
            E::ApprovalDecided { approval_id, tool, decision, .. } => {
                if let Some(approval) = self.approvals.get_mut(approval_id) {
                    approval.decision = Some(*decision);
                }
                if *decision == Decision::Always {
                    self.always_allowed.insert(tool.clone());
                }
            }
            E::ConversationRetitled { .. } => self.titled = true,
            E::PromptSubmitted { turn, job_id, .. } => {
                self.turns = *turn;
                self.running = Some(RunningTurn { turn: *turn, job_id: job_id.clone(), ..RunningTurn::default() });
            }
            E::AttemptStarted { attempt, attempt_id, resume_blocks, .. } => {
                if let Some(running) = self.running.as_mut() {
                    running.attempt = *attempt;
                    running.attempt_id = Some(attempt_id.clone());
                    if let Some(kept) = resume_blocks {
                        running.next_block = *kept;
                        running.resume_blocks = *kept;
                    }
                }
                if resume_blocks.is_some() {
                    // The earlier attempt's open questions are void; the new attempt asks its own.
                    self.approvals.retain(|_, approval| approval.decision.is_some());
                }
            }
            E::BlockStarted { block, kind, .. } => {
                if let Some(running) = self.running.as_mut() {
                    running.next_block = running.next_block.max(block + 1);
                    if *kind == BlockKind::ToolResult {
                        running.resume_blocks = running.next_block;
                    }
                }
            }
            E::UsageRecorded { .. } => {
                if let Some(running) = self.running.as_mut() {
                    running.resume_blocks = running.next_block;
                }
            }
            E::TurnCompleted { .. } | E::TurnFailed { .. } | E::TurnAborted { .. } => {
                self.running = None;
                self.approvals.clear();
            }
            E::ConversationArchived => self.archived = true,
            E::ConversationUnarchived => self.archived = false,
            E::ConversationDeleted => {
                self.deleted = true;
                self.running = None;
            }
            E::ConversationConfigured(_)
            | E::TextAppended { .. }
            | E::BlockFinished { .. }
            | E::CliMessageRecorded { .. }
            | E::SystemPromptUsed { .. } => {}
        }
    }

    fn running_turn(&self, turn: u32) -> Result<&RunningTurn, ConversationError> {
        match &self.running {
            Some(running) if running.turn == turn => Ok(running),
            _ => Err(ConversationError::TurnNotRunning(turn)),
        }
    }

    fn current_attempt(&self, turn: u32, attempt_id: &str) -> Result<(), ConversationError> {
        let running = self.running_turn(turn)?;
        if running.attempt_id.as_deref() != Some(attempt_id) {
            return Err(ConversationError::StaleAttempt);
        }
        Ok(())
    }
}

fn output_event(turn: u32, item: OutputItem) -> ConversationEvent {
    use ConversationEvent as E;
    match item {
        OutputItem::BlockStarted { block, kind, name, tool_use_id } => E::BlockStarted { turn, block, kind, name, tool_use_id },
        OutputItem::TextAppended { block, text } => E::TextAppended { turn, block, text },
        OutputItem::BlockFinished { block, input, signature, is_error } => E::BlockFinished { turn, block, input, signature, is_error },
        OutputItem::UsageRecorded { input_tokens, output_tokens, cost_usd } => {
            E::UsageRecorded { turn, input_tokens, output_tokens, cost_usd }
        }
        OutputItem::CliSessionStarted { session_id } => E::CliSessionStarted { turn, session_id },
        OutputItem::CliMessageRecorded { raw } => E::CliMessageRecorded { turn, raw },
        OutputItem::SystemPromptUsed { sha256, text } => E::SystemPromptUsed { turn, sha256, text },
        OutputItem::ApprovalRequested { approval_id, tool, input } => E::ApprovalRequested { turn, approval_id, tool, input },
    }
}

fn validate_prompt(text: &str) -> Result<(), ConversationError> {
    if text.trim().is_empty() {
        return Err(ConversationError::EmptyPrompt);
    }
    if text.len() > MAX_PROMPT_BYTES {
        return Err(ConversationError::PromptTooLarge);
    }
    Ok(())
}

fn validate_settings(settings: &ConversationSettings) -> Result<(), ConversationError> {
    let invalid = |why: String| Err(ConversationError::InvalidSettings(why));
    if !(1..=MAX_SETTING_TOKENS).contains(&settings.max_tokens) {
        return invalid(format!("`max_tokens` must be 1 to {MAX_SETTING_TOKENS}"));
    }
    if let Some(budget) = settings.thinking_budget {
        if !(MIN_THINKING_BUDGET..=MAX_SETTING_TOKENS).contains(&budget) {
            return invalid(format!(
                "`thinking_budget` must be {MIN_THINKING_BUDGET} to {MAX_SETTING_TOKENS} tokens (or absent for no thinking)"
            ));
        }
    }
    if let Some(effort) = &settings.reasoning_effort {
        if !REASONING_EFFORTS.contains(&effort.as_str()) {
            return invalid(format!("`reasoning_effort` must be one of {}", REASONING_EFFORTS.join(", ")));
        }
    }
    Ok(())
}

fn validate_title(title: &str) -> Result<String, ConversationError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(ConversationError::InvalidTitle);
    }
    Ok(title.to_string())
}

/// The first `TITLE_CHARS` characters of the prompt, on one line.
pub fn default_title(prompt: &str) -> String {
    let one_line: String = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(TITLE_CHARS).collect()
}
