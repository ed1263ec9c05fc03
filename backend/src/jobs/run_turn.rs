//! The `run_turn` job: take the turn (fencing older attempts), stream the provider, record output, end the turn.

use std::sync::Arc;

use domain::{ConversationCommand, ConversationError, ConversationView, OutputItem};
use futures::StreamExt;
use providers::{ChatMessage, ChatRequest, ChatRole};
use uuid::Uuid;

use super::output::{classify, Mapper, OutputWriter, WriteStop};
use crate::catalog;
use crate::error::BackendError;
use crate::queue::TurnJob;
use crate::state::Backend;

const MAX_TOKENS: u32 = 8192;

/// How a provider stream ended.
enum Ending {
    Completed,
    Failed(String),
    Superseded,
}

/// Runs one turn. `Ok` means the job is finished (whatever the turn's outcome) and may be acknowledged.
#[tracing::instrument(name = "job.run_turn", skip(backend), fields(conversation = %job.conversation_id, turn = job.turn))]
pub async fn run_turn(backend: &Arc<Backend>, job: &TurnJob, worker: &str, takeover: bool) -> Result<(), BackendError> {
    let id = job.conversation_id.as_str();
    let attempt_id = Uuid::new_v4().to_string();
    let begin = ConversationCommand::BeginAttempt { turn: job.turn, attempt_id: attempt_id.clone(), worker: worker.to_string(), takeover };
    match backend.execute(id, begin).await {
        Ok(()) => {}
        Err(
            BackendError::NotFound
            | BackendError::Domain(ConversationError::TurnNotRunning(_) | ConversationError::AttemptInProgress(_)),
        ) => return Ok(()),
        Err(BackendError::Domain(ConversationError::TooManyAttempts(turn))) => {
            let reason = "The worker running this turn stopped repeatedly; the turn was given up.".to_string();
            return ignore_superseded(backend.execute(id, ConversationCommand::FailTurn { turn, reason }).await);
        }
        Err(error) => return Err(error),
    }
    let view = backend.view(id, None).await?;
    let ending = stream_reply(backend, &view, job.turn, &attempt_id).await;
    let command = match ending {
        Ending::Superseded => return Ok(()),
        Ending::Failed(reason) => ConversationCommand::FailTurn { turn: job.turn, reason },
        Ending::Completed => return Ok(()),
    };
    ignore_superseded(backend.execute(id, command).await)
}

async fn stream_reply(backend: &Arc<Backend>, view: &ConversationView, turn: u32, attempt_id: &str) -> Ending {
    if view.provider != catalog::ANTHROPIC {
        return Ending::Failed(format!("provider `{}` cannot run turns", view.provider));
    }
    let request = build_request(view, turn);
    let mut stream = backend.anthropic.stream(request);
    let writer = OutputWriter::start(backend.clone(), view.id.clone(), turn, attempt_id.to_string());
    let mut stopped = writer.stopped.clone();
    let mut signals = backend.hub.subscribe();
    let mut mapper = Mapper::default();
    let silence = backend.config.worker.silence_timeout;
    let failure = loop {
        tokio::select! {
            next = tokio::time::timeout(silence, stream.next()) => match next {
                Ok(Some(Ok(event))) => {
                    if let Some(item) = mapper.map(event) {
                        writer.push(item);
                    }
                }
                Ok(Some(Err(error))) => break Some(error.to_string()),
                Ok(None) => break None,
                Err(_) => break Some(format!("The provider sent nothing for {} s; the turn was stopped.", silence.as_secs())),
            },
            _ = stopped.changed() => break None,
            signal = signals.recv() => {
                // Something changed in some conversation; stop early if it was this turn being aborted.
                let relevant = signal.map_or(true, |id| &*id == view.id || &*id == "*");
                if relevant && !still_ours(backend, &view.id, attempt_id).await {
                    return Ending::Superseded;
                }
            }
        }
    };
    drop(stream);
    if failure.is_none() && mapper.stop_reason.is_some() {
        let usage = mapper.usage;
        writer.push(OutputItem::UsageRecorded {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cost_usd: catalog::cost_usd(&view.model, usage.input_tokens, usage.output_tokens),
        });
    }
    match writer.finish().await {
        Err(WriteStop::Superseded) => return Ending::Superseded,
        Err(WriteStop::Failed(error)) => return Ending::Failed(format!("Recording the reply failed: {error}")),
        Ok(()) => {}
    }
    if let Some(reason) = failure {
        return Ending::Failed(reason);
    }
    let Some(stop_reason) = mapper.stop_reason else {
        return Ending::Failed("The provider stream ended without finishing the reply.".into());
    };
    let complete = ConversationCommand::CompleteTurn { turn, attempt_id: attempt_id.to_string(), stop_reason };
    match backend.execute(&view.id, complete).await.map_err(classify) {
        Ok(()) => Ending::Completed,
        Err(WriteStop::Superseded) => Ending::Superseded,
        Err(WriteStop::Failed(error)) => Ending::Failed(format!("Recording the reply failed: {error}")),
    }
}

async fn still_ours(backend: &Backend, id: &str, attempt_id: &str) -> bool {
    match backend.state(id).await {
        Ok(state) => !state.deleted && state.running.is_some_and(|r| r.attempt_id.as_deref() == Some(attempt_id)),
        Err(_) => true,
    }
}

fn ignore_superseded(result: Result<(), BackendError>) -> Result<(), BackendError> {
    match result.map_err(classify) {
        Ok(()) | Err(WriteStop::Superseded) => Ok(()),
        Err(WriteStop::Failed(error)) => Err(error),
    }
}

/// The history up to and including `turn`'s prompt, as alternating user/assistant text.
pub fn build_request(view: &ConversationView, turn: u32) -> ChatRequest {
    let mut messages: Vec<ChatMessage> = Vec::new();
    for message in view.messages.iter().filter(|m| m.turn <= turn) {
        let role = if message.role == "user" { ChatRole::User } else { ChatRole::Assistant };
        if role == ChatRole::Assistant && message.turn == turn {
            continue;
        }
        let text: String = message
            .blocks
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect::<Vec<_>>()
            .join("\n\n");
        if text.trim().is_empty() {
            continue;
        }
        match messages.last_mut() {
            Some(last) if last.role == role => {
                last.text.push_str("\n\n");
                last.text.push_str(&text);
            }
            _ => messages.push(ChatMessage { role, text }),
        }
    }
    if messages.first().is_some_and(|m| m.role == ChatRole::Assistant) {
        messages.remove(0);
    }
    ChatRequest { model: view.model.clone(), system: None, messages, max_tokens: MAX_TOKENS, thinking_budget: None }
}
