//! The fold: how each event changes a `ConversationView`. Pure; the server, replay and the browser share it.

use super::*;

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
            E::CliMessageRecorded { .. } | E::SystemPromptUsed { .. } => {}
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
                    role: Role::User,
                    turn: *turn,
                    blocks: vec![text_block(BlockType::Text, 0, text)],
                    stop_reason: None,
                    usage: None,
                });
            }
            E::AttemptStarted { turn, attempt, resume_blocks, .. } => {
                if *attempt > 1 {
                    let replied = |message: &Message| message.role == Role::Assistant && message.turn == *turn;
                    match resume_blocks {
                        // Version 1.0: an earlier attempt's reply was void.
                        None => self.messages.retain(|message| !replied(message)),
                        Some(kept) => {
                            for message in self.messages.iter_mut().filter(|message| replied(message)) {
                                message.blocks.retain(|block| block.index < *kept);
                            }
                            self.messages.retain(|message| !replied(message) || !message.blocks.is_empty());
                            // Its open questions too: the new attempt asks its own.
                            self.pending_approvals.clear();
                            if self.status == Status::AwaitingApproval {
                                self.status = Status::Running;
                            }
                        }
                    }
                }
            }
            E::BlockStarted { turn, block, kind, name, tool_use_id } => {
                let text = match kind {
                    BlockKind::Text | BlockKind::Thinking | BlockKind::ToolUse => Some(String::new()),
                    BlockKind::ToolResult => None,
                };
                self.reply(*turn).blocks.push(Block {
                    kind: BlockType::from(*kind),
                    index: *block,
                    text,
                    name: name.clone(),
                    id: tool_use_id.clone(),
                    input: None,
                    is_error: None,
                    signature: None,
                    html: None,
                });
            }
            E::TextAppended { turn, block, text } => {
                if let Some(target) = self.block_mut(*turn, *block) {
                    target.text.get_or_insert_with(String::new).push_str(text);
                    target.html = None;
                }
            }
            E::BlockFinished { turn, block, input, is_error, signature } => {
                if let Some(target) = self.block_mut(*turn, *block) {
                    if signature.is_some() {
                        target.signature = signature.clone();
                    }
                    if target.kind == BlockType::ToolUse {
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
                reply.blocks.push(text_block(BlockType::Error, index, reason));
                reply.stop_reason = Some("error".into());
            }
            E::TurnAborted { turn } => {
                self.status = Status::Idle;
                self.pending_approvals.clear();
                self.reply(*turn).stop_reason = Some(ABORTED.into());
            }
            E::ConversationArchived => self.archived = true,
            E::ConversationUnarchived => self.archived = false,
            E::ConversationDeleted => self.deleted = true,
        }
    }

    /// The assistant message of `turn`, created when missing.
    fn reply(&mut self, turn: u32) -> &mut Message {
        let position = self.messages.iter().position(|m| m.role == Role::Assistant && m.turn == turn);
        let position = match position {
            Some(position) => position,
            None => {
                self.messages.push(Message { role: Role::Assistant, turn, blocks: vec![], stop_reason: None, usage: None });
                self.messages.len() - 1
            }
        };
        &mut self.messages[position]
    }

    fn block_mut(&mut self, turn: u32, block: u32) -> Option<&mut Block> {
        self.messages
            .iter_mut()
            .rev()
            .find(|m| m.role == Role::Assistant && m.turn == turn)?
            .blocks
            .iter_mut()
            .rev()
            .find(|b| b.index == block)
    }

    /// The concatenated text blocks of the assistant reply to `turn`.
    pub fn reply_text(&self, turn: u32) -> String {
        self.messages
            .iter()
            .filter(|m| m.role == Role::Assistant && m.turn == turn)
            .flat_map(|m| m.blocks.iter())
            .filter(|b| b.kind == BlockType::Text)
            .filter_map(|b| b.text.as_deref())
            .collect()
    }
}

fn text_block(kind: BlockType, index: u32, text: &str) -> Block {
    Block { kind, index, text: Some(text.to_string()), name: None, id: None, input: None, is_error: None, signature: None, html: None }
}
