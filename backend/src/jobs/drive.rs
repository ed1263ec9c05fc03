//! Drives one provider stream to the end of a turn: records output, runs the tool-approval
//! flow, notices aborts and takeovers through the live feed, and enforces the silence watchdog.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use domain::{ConversationCommand, ConversationView, Decision, OutputItem};
use futures::StreamExt;
use providers::claude_code::ClaudeControl;
use providers::{ProviderEvent, ProviderStream};
use tokio::time::Instant;
use uuid::Uuid;

use super::approvals::{deny_timed_out, ours};
use super::output::{classify, Mapper, OutputWriter, WriteStop};
use crate::state::Backend;

/// How a turn ended, from the worker's side.
pub enum Ending {
    /// The turn is recorded as completed.
    Completed,
    /// The provider's reply ended with this stop reason and all of it is recorded; the turn is
    /// still running, for [`complete`] to end.
    Stopped(String),
    Failed(String),
    /// The turn ended elsewhere: aborted, deleted, or taken over by a newer attempt.
    Superseded,
    /// The database became unreachable mid-turn. Whether the last write landed is unknown, so the
    /// job is left for a reclaim: the next attempt fences this one and streams the reply afresh.
    Interrupted(crate::error::BackendError),
}

/// A tool use waiting for the user's decision.
struct Waiting {
    request_id: String,
    input: serde_json::Value,
    deadline: Instant,
}

struct Driver<'a> {
    backend: &'a Arc<Backend>,
    view: &'a ConversationView,
    turn: u32,
    attempt_id: &'a str,
    control: Option<ClaudeControl>,
    waiting: HashMap<String, Waiting>,
}

/// Streams one provider reply into the turn, its blocks numbered from `first_block`.
pub async fn drive(
    backend: &Arc<Backend>,
    view: &ConversationView,
    turn: u32,
    attempt_id: &str,
    mut events: ProviderStream,
    control: Option<ClaudeControl>,
    first_block: u32,
) -> Ending {
    let mut driver = Driver { backend, view, turn, attempt_id, control, waiting: HashMap::new() };
    let writer = OutputWriter::start(backend.clone(), view.id.clone(), turn, attempt_id.to_string());
    let mut stopped = writer.stopped.clone();
    // Decisions and aborts made elsewhere; the turn's own streamed text does not wake it.
    let topic = backend.hub.topic(&view.id);
    let mut decisions = topic.state();
    let mut mapper = Mapper::numbering_from(first_block);
    let silence = backend.config.worker.silence_timeout;
    let far = Duration::from_secs(365 * 24 * 3600);
    let failure = loop {
        // Waiting for a person is not silence; the approval timeout covers it.
        let quiet_limit = if driver.waiting.is_empty() { silence } else { far };
        let next_deadline = driver.waiting.values().map(|w| w.deadline).min().unwrap_or_else(|| Instant::now() + far);
        tokio::select! {
            next = tokio::time::timeout(quiet_limit, events.next()) => match next {
                Ok(Some(Ok(ProviderEvent::PermissionRequested { request_id, tool, input }))) => {
                    if let Err(reason) = driver.permission_requested(request_id, tool, input).await {
                        break Some(reason);
                    }
                }
                Ok(Some(Ok(event))) => {
                    for item in mapper.map(event) {
                        writer.push(item);
                    }
                }
                Ok(Some(Err(error))) => break Some(error.to_string()),
                Ok(None) => break None,
                Err(_) => break Some(format!("The provider sent nothing for {} s; the turn was stopped.", silence.as_secs())),
            },
            _ = stopped.changed() => break None,
            _ = decisions.changed() => {
                if !driver.follow_state().await {
                    driver.abort().await;
                    return Ending::Superseded;
                }
            }
            _ = tokio::time::sleep_until(next_deadline) => driver.time_out_approvals().await,
        }
    };
    drop(events);
    if failure.is_some() {
        driver.abort().await;
    }
    if failure.is_none() && mapper.stop_reason.is_some() {
        let usage = mapper.usage;
        // Claude Code reports its own cost; API turns are tokens times the catalogue's prices.
        let cost_usd = mapper.cost_usd.unwrap_or_else(|| backend.catalog().cost_usd(&view.provider, &view.model, &usage));
        // The recorded input is the whole prompt (cached tokens included): what fills the context window.
        writer.push(OutputItem::UsageRecorded { input_tokens: usage.prompt_tokens(), output_tokens: usage.output_tokens, cost_usd });
    }
    if let Err(stop) = writer.finish().await {
        let ending = ending_of(stop, "Recording the reply");
        if !matches!(ending, Ending::Failed(_)) {
            driver.abort().await;
        }
        return ending;
    }
    if let Some(reason) = failure {
        return Ending::Failed(reason);
    }
    match mapper.stop_reason {
        Some(stop_reason) => Ending::Stopped(stop_reason),
        None => Ending::Failed("The provider stream ended without finishing the reply.".into()),
    }
}

/// Ends the running turn as completed with `stop_reason`.
pub async fn complete(backend: &Backend, id: &str, turn: u32, attempt_id: &str, stop_reason: String) -> Ending {
    let complete = ConversationCommand::CompleteTurn { turn, attempt_id: attempt_id.to_string(), stop_reason };
    match backend.execute(id, complete).await.map_err(classify) {
        Ok(()) => Ending::Completed,
        Err(stop) => ending_of(stop, "Recording the reply"),
    }
}

/// Records `items` as the attempt's output in one commit.
pub(super) async fn record(backend: &Backend, id: &str, turn: u32, attempt_id: &str, items: Vec<OutputItem>) -> Result<(), Ending> {
    let command = ConversationCommand::RecordOutput { turn, attempt_id: attempt_id.to_string(), items };
    backend.execute(id, command).await.map_err(|error| ending_of(classify(error), "Recording the turn's output"))
}

/// What a refused write means for the turn; `what` names the write in a failure's message.
pub(super) fn ending_of(stop: WriteStop, what: &str) -> Ending {
    match stop {
        WriteStop::Superseded => Ending::Superseded,
        WriteStop::Failed(error) if error.is_unavailable() => Ending::Interrupted(error),
        WriteStop::Failed(error) => Ending::Failed(format!("{what} failed: {error}")),
    }
}

impl Driver<'_> {
    /// Records the request; answers it at once when the tool is always allowed.
    async fn permission_requested(&mut self, request_id: String, tool: String, input: serde_json::Value) -> Result<(), String> {
        let approval_id = Uuid::new_v4().to_string();
        let item = OutputItem::ApprovalRequested { approval_id: approval_id.clone(), tool: tool.clone(), input: input.clone() };
        let record = ConversationCommand::RecordOutput { turn: self.turn, attempt_id: self.attempt_id.to_string(), items: vec![item] };
        self.backend.execute(&self.view.id, record).await.map_err(|e| format!("Recording an approval request failed: {e}"))?;
        let always = self.backend.state(&self.view.id).await.is_ok_and(|state| state.always_allowed.contains(&tool));
        if always {
            let decide = ConversationCommand::DecideApproval {
                approval_id,
                decision: Decision::Allow,
                reason: Some(format!("{tool} is always allowed in this conversation")),
            };
            if let Err(error) = self.backend.execute(&self.view.id, decide).await {
                // The CLI is allowed all the same: the tool is always allowed, only the record is missing.
                tracing::warn!(%error, tool = %tool, "recording an always-allowed approval failed");
            }
            if let Some(control) = &self.control {
                control.allow(&request_id, input);
            }
            return Ok(());
        }
        let timeout = self.backend.config.worker.approval_timeout;
        self.waiting.insert(approval_id, Waiting { request_id, input, deadline: Instant::now() + timeout });
        Ok(())
    }

    /// Passes decisions made elsewhere to the CLI. Returns false when the turn is no longer ours.
    async fn follow_state(&mut self) -> bool {
        let Ok(state) = self.backend.state(&self.view.id).await else { return true };
        if !ours(&state, self.attempt_id) {
            return false;
        }
        let decided: Vec<(String, Decision)> =
            self.waiting.keys().filter_map(|id| state.approvals.get(id).and_then(|a| a.decision).map(|d| (id.clone(), d))).collect();
        for (approval_id, decision) in decided {
            let Some(waiting) = self.waiting.remove(&approval_id) else { continue };
            let Some(control) = &self.control else { continue };
            match decision {
                Decision::Allow | Decision::Always => control.allow(&waiting.request_id, waiting.input),
                Decision::Deny => control.deny(&waiting.request_id, "The user denied this tool use."),
            }
        }
        true
    }

    /// Denies every approval whose time is up.
    async fn time_out_approvals(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> = self.waiting.iter().filter(|(_, w)| w.deadline <= now).map(|(id, _)| id.clone()).collect();
        for approval_id in expired {
            // Denied to the CLI all the same; a decision made meanwhile elsewhere wins in the log.
            deny_timed_out(self.backend, &self.view.id, &approval_id).await;
            if let (Some(waiting), Some(control)) = (self.waiting.remove(&approval_id), &self.control) {
                control.deny(&waiting.request_id, "No decision was made in time, so the tool use was denied.");
            }
        }
    }

    async fn abort(&self) {
        if let Some(control) = &self.control {
            control.abort().await;
        }
    }
}
