//! Turns provider events into recorded output, coalescing while a write is in flight.
//!
//! The writer commits as soon as it is idle, so the first token is never held back; whatever
//! arrives during a commit goes out together in the next one. The extra delay is therefore one
//! commit (about a millisecond), well under the 20 ms coalescing budget. Commits go through an
//! `Appender`, which keeps the aggregate between them instead of loading it for each.

use std::collections::HashMap;
use std::sync::Arc;

use domain::{BlockKind, ConversationCommand, ConversationError, OutputItem};
use providers::{ProviderEvent, Usage};
use tokio::sync::{mpsc, watch};

use crate::appender::Appender;
use crate::error::BackendError;
use crate::state::Backend;

/// Why output could not be written.
#[derive(Debug)]
pub enum WriteStop {
    /// The turn ended elsewhere (aborted, deleted, or taken over by a newer attempt).
    Superseded,
    Failed(BackendError),
}

/// The writing half of a running attempt.
pub struct OutputWriter {
    items: mpsc::UnboundedSender<OutputItem>,
    task: tokio::task::JoinHandle<Result<(), WriteStop>>,
    /// Flips to true when the writer stopped early.
    pub stopped: watch::Receiver<bool>,
}

impl OutputWriter {
    pub fn start(backend: Arc<Backend>, id: String, turn: u32, attempt_id: String) -> Self {
        let (items, mut receiver) = mpsc::unbounded_channel::<OutputItem>();
        let (stop_sender, stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut appender = Appender::new(id);
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                while let Ok(item) = receiver.try_recv() {
                    batch.push(item);
                }
                let command = ConversationCommand::RecordOutput { turn, attempt_id: attempt_id.clone(), items: merge_text(batch) };
                if let Err(error) = execute_patiently(&backend, &mut appender, command).await {
                    let _ = stop_sender.send(true);
                    return Err(classify(error));
                }
            }
            Ok(())
        });
        Self { items, task, stopped }
    }

    pub fn push(&self, item: OutputItem) {
        let _ = self.items.send(item);
    }

    /// Waits until everything pushed so far is committed.
    pub async fn finish(self) -> Result<(), WriteStop> {
        drop(self.items);
        self.task.await.unwrap_or_else(|join| Err(WriteStop::Failed(BackendError::Store(join.to_string()))))
    }
}

/// Runs a command, waiting out a busy database (a pool timeout writes nothing, so retrying cannot
/// duplicate output) instead of failing the turn under load.
async fn execute_patiently(backend: &Backend, appender: &mut Appender, command: ConversationCommand) -> Result<(), BackendError> {
    let mut wait = std::time::Duration::from_millis(100);
    for _ in 0..8 {
        match appender.execute(backend, command.clone()).await {
            Err(BackendError::Busy) => {
                tracing::warn!(conversation = appender.id(), "database busy; retrying the output write");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(2));
            }
            other => return other,
        }
    }
    appender.execute(backend, command).await
}

/// Whether an error means "someone else ended this turn" rather than "something broke".
pub fn classify(error: BackendError) -> WriteStop {
    match error {
        BackendError::NotFound
        | BackendError::Domain(ConversationError::StaleAttempt)
        | BackendError::Domain(ConversationError::TurnNotRunning(_)) => WriteStop::Superseded,
        other => WriteStop::Failed(other),
    }
}

/// Joins adjacent text appends to the same block into one event.
fn merge_text(batch: Vec<OutputItem>) -> Vec<OutputItem> {
    let mut merged: Vec<OutputItem> = Vec::with_capacity(batch.len());
    for item in batch {
        if let (Some(OutputItem::TextAppended { block: last_block, text: last_text }), OutputItem::TextAppended { block, text }) =
            (merged.last_mut(), &item)
        {
            if last_block == block {
                last_text.push_str(text);
                continue;
            }
        }
        merged.push(item);
    }
    merged
}

/// Per-reply mapping state from provider events to output items.
#[derive(Default)]
pub struct Mapper {
    /// Added to the provider's block indexes: the turn's blocks before this reply.
    first_block: u32,
    kinds: HashMap<u32, BlockKind>,
    tool_input: HashMap<u32, String>,
    signatures: HashMap<u32, String>,
    pub usage: Usage,
    /// The provider's own cost figure (Claude Code's `total_cost_usd`), when it gives one.
    pub cost_usd: Option<f64>,
    pub stop_reason: Option<String>,
}

impl Mapper {
    /// A mapper for a reply whose first block is the turn's block `first_block`.
    pub fn numbering_from(first_block: u32) -> Mapper {
        Mapper { first_block, ..Mapper::default() }
    }

    /// Maps one provider event to the output items to record.
    pub fn map(&mut self, event: ProviderEvent) -> Vec<OutputItem> {
        let shift = |index: u32| index + self.first_block;
        let event = match event {
            ProviderEvent::BlockStart { index, kind, name, id } => ProviderEvent::BlockStart { index: shift(index), kind, name, id },
            ProviderEvent::BlockDelta { index, text } => ProviderEvent::BlockDelta { index: shift(index), text },
            ProviderEvent::Signature { index, signature } => ProviderEvent::Signature { index: shift(index), signature },
            ProviderEvent::BlockStop { index } => ProviderEvent::BlockStop { index: shift(index) },
            ProviderEvent::ToolResult { index, tool_use_id, content, is_error } => {
                ProviderEvent::ToolResult { index: shift(index), tool_use_id, content, is_error }
            }
            other => other,
        };
        match event {
            ProviderEvent::SessionStarted { session_id } => vec![OutputItem::CliSessionStarted { session_id }],
            ProviderEvent::Raw(raw) => vec![OutputItem::CliMessageRecorded { raw }],
            ProviderEvent::ToolResult { index, tool_use_id, content, is_error } => vec![
                OutputItem::BlockStarted { block: index, kind: BlockKind::ToolResult, name: None, tool_use_id: Some(tool_use_id) },
                OutputItem::TextAppended { block: index, text: content },
                OutputItem::BlockFinished { block: index, input: None, signature: None, is_error: Some(is_error) },
            ],
            ProviderEvent::Finished { usage, cost_usd, .. } => {
                self.usage = usage;
                self.cost_usd = Some(cost_usd);
                self.stop_reason = Some("end_turn".into());
                vec![]
            }
            // Answered by the turn's driver, which owns the approval flow.
            ProviderEvent::PermissionRequested { .. } => vec![],
            other => self.map_stream(other).into_iter().collect(),
        }
    }

    fn map_stream(&mut self, event: ProviderEvent) -> Option<OutputItem> {
        match event {
            ProviderEvent::BlockStart { index, kind, name, id } => {
                let kind = match kind {
                    providers::BlockKind::Text => BlockKind::Text,
                    providers::BlockKind::Thinking => BlockKind::Thinking,
                    providers::BlockKind::ToolUse => BlockKind::ToolUse,
                    providers::BlockKind::ToolResult => BlockKind::ToolResult,
                };
                self.kinds.insert(index, kind);
                Some(OutputItem::BlockStarted { block: index, kind, name, tool_use_id: id })
            }
            ProviderEvent::BlockDelta { index, text } => {
                if self.kinds.get(&index) == Some(&BlockKind::ToolUse) {
                    self.tool_input.entry(index).or_default().push_str(&text);
                }
                Some(OutputItem::TextAppended { block: index, text })
            }
            ProviderEvent::Signature { index, signature } => {
                self.signatures.insert(index, signature);
                None
            }
            ProviderEvent::BlockStop { index } => {
                let input = (self.kinds.get(&index) == Some(&BlockKind::ToolUse)).then(|| {
                    let raw = self.tool_input.remove(&index).unwrap_or_default();
                    // Malformed input is kept as its text, so the audit shows it and the agent can say so.
                    serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw))
                });
                Some(OutputItem::BlockFinished { block: index, input, signature: self.signatures.remove(&index), is_error: None })
            }
            ProviderEvent::Usage(usage) => {
                self.usage = usage;
                None
            }
            ProviderEvent::Stop { stop_reason } => {
                self.stop_reason = Some(stop_reason);
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_text_for_the_same_block_is_merged_and_other_items_keep_their_order() {
        let text = |block, text: &str| OutputItem::TextAppended { block, text: text.into() };
        let finished = OutputItem::BlockFinished { block: 0, input: None, signature: None, is_error: None };
        let merged = merge_text(vec![text(0, "a"), text(0, "b"), finished.clone(), text(1, "c"), text(1, "d")]);
        assert_eq!(merged, vec![text(0, "ab"), finished, text(1, "cd")]);
    }

    #[test]
    fn tool_input_json_is_assembled_when_the_block_stops() {
        let mut mapper = Mapper::default();
        mapper.map(ProviderEvent::BlockStart {
            index: 1,
            kind: providers::BlockKind::ToolUse,
            name: Some("Read".into()),
            id: Some("t".into()),
        });
        mapper.map(ProviderEvent::BlockDelta { index: 1, text: "{\"file_".into() });
        mapper.map(ProviderEvent::BlockDelta { index: 1, text: "path\":\"a\"}".into() });
        let finished = mapper.map(ProviderEvent::BlockStop { index: 1 });
        let [OutputItem::BlockFinished { input: Some(input), .. }] = finished.as_slice() else { panic!("{finished:?}") };
        assert_eq!(input, &serde_json::json!({"file_path": "a"}));
    }
}
