//! The `run_turn` job: take the turn (fencing older attempts), start the provider, drive it, end the turn.
//! An `Err` leaves the job unacknowledged, for a reclaim after the lease (a database outage mid-turn).

use std::sync::Arc;

use domain::{ConversationCommand, ConversationError, ConversationSettings, ConversationView, PermissionMode, ProviderId, Role};
use providers::claude_code::{ClaudeCodeRequest, Permissions};
use providers::ChatRequest;
use uuid::Uuid;

use super::drive::{complete, drive, Ending};
use super::output::{classify, WriteStop};
use crate::agent::Workspace;
use crate::error::BackendError;
use crate::guard::Root;
use crate::queue::TurnJob;
use crate::settings;
use crate::state::Backend;
use crate::workspaces;

/// Runs one turn. `Ok` means the job is finished (whatever the turn's outcome) and may be acknowledged.
#[tracing::instrument(name = "job.run_turn", skip(backend), fields(conversation = %job.conversation_id, turn = job.turn))]
pub async fn run_turn(backend: &Arc<Backend>, job: &TurnJob, worker: &str, takeover: bool) -> Result<(), BackendError> {
    let id = job.conversation_id.as_str();
    let attempt_id = Uuid::new_v4().to_string();
    let begin = ConversationCommand::BeginAttempt { turn: job.turn, attempt_id: attempt_id.clone(), worker: worker.to_string(), takeover };
    match backend.execute(id, begin).await {
        Ok(()) => {}
        Err(
            BackendError::NotFound | BackendError::Domain(ConversationError::TurnNotRunning(_) | ConversationError::AttemptInProgress(_)),
        ) => return Ok(()),
        Err(BackendError::Domain(ConversationError::TooManyAttempts(turn))) => {
            let reason = "The worker running this turn stopped repeatedly; the turn was given up.".to_string();
            return ignore_superseded(backend.execute(id, ConversationCommand::FailTurn { turn, reason }).await);
        }
        Err(error) => return Err(error),
    }
    let view = backend.view(id, None).await?;
    let settings = settings::effective(&backend.registry, &backend.config.defaults, &view);
    let api = |provider: ProviderId| match provider {
        ProviderId::Anthropic => Some(&backend.anthropic as &dyn Streams),
        ProviderId::OpenAi => Some(&backend.openai as &dyn Streams),
        ProviderId::OpenAiCompatible => Some(&backend.openai_compatible as &dyn Streams),
        ProviderId::ClaudeCode => None,
    };
    let provider = ProviderId::parse(&view.provider);
    let ending = match (provider, provider.and_then(api)) {
        (_, Some(api)) => {
            let workspace = view.workspace.as_deref().and_then(|name| {
                let dir = workspaces::directory(&backend.config.workspace_root, Some(name));
                Root::open(&dir).ok().map(|root| Workspace::new(root, backend.claude_home().to_path_buf()))
            });
            super::agent_turn::run(backend, api, job.turn, &attempt_id, view, &settings, workspace).await
        }
        (Some(ProviderId::ClaudeCode), None) => {
            let state = backend.state(id).await?;
            let request = ClaudeCodeRequest {
                prompt: prompt_of(&view, job.turn),
                model: view.model.clone(),
                cwd: workspaces::directory(&backend.config.workspace_root, view.workspace.as_deref()),
                resume: state.cli_session_id.clone(),
                permissions: match view.permission_mode {
                    PermissionMode::Ask => Permissions::Ask,
                    PermissionMode::AcceptEdits => Permissions::AcceptEdits,
                    PermissionMode::Bypass => Permissions::Bypass,
                },
                allowed_tools: state.always_allowed.iter().cloned().collect(),
                thinking_budget: settings.thinking_budget,
            };
            match providers::claude_code::start(&backend.config.claude_code, &request) {
                Ok(run) => match drive(backend, &view, job.turn, &attempt_id, run.events, Some(run.control), 0).await {
                    Ending::Stopped(stop_reason) => complete(backend, id, job.turn, &attempt_id, stop_reason).await,
                    other => other,
                },
                Err(error) => Ending::Failed(error.to_string()),
            }
        }
        (_, None) => Ending::Failed(format!("provider `{}` cannot run turns", view.provider)),
    };
    match ending {
        Ending::Completed | Ending::Superseded => Ok(()),
        Ending::Stopped(stop_reason) => ignore_superseded(
            backend.execute(id, ConversationCommand::CompleteTurn { turn: job.turn, attempt_id: attempt_id.clone(), stop_reason }).await,
        ),
        Ending::Interrupted(error) => {
            tracing::warn!(%error, "the database became unreachable mid-turn; the job is left for a reclaim");
            Err(error)
        }
        Ending::Failed(reason) => ignore_superseded(backend.execute(id, ConversationCommand::FailTurn { turn: job.turn, reason }).await),
    }
}

/// A provider reached over HTTP: a history in, a stream of events out.
pub(super) trait Streams: Sync {
    fn stream(&self, request: ChatRequest) -> providers::ProviderStream;
}

impl Streams for providers::anthropic::AnthropicProvider {
    fn stream(&self, request: ChatRequest) -> providers::ProviderStream {
        providers::anthropic::AnthropicProvider::stream(self, request)
    }
}

impl Streams for providers::openai::OpenAiProvider {
    fn stream(&self, request: ChatRequest) -> providers::ProviderStream {
        providers::openai::OpenAiProvider::stream(self, request)
    }
}

fn ignore_superseded(result: Result<(), BackendError>) -> Result<(), BackendError> {
    match result.map_err(classify) {
        Ok(()) | Err(WriteStop::Superseded) => Ok(()),
        Err(WriteStop::Failed(error)) => Err(error),
    }
}

/// The user's prompt of `turn`.
fn prompt_of(view: &ConversationView, turn: u32) -> String {
    view.messages
        .iter()
        .find(|m| m.role == Role::User && m.turn == turn)
        .and_then(|m| m.blocks.first())
        .and_then(|b| b.text.clone())
        .unwrap_or_default()
}

/// The history up to and including `turn` (its prompt, and its reply so far) as content blocks,
/// with the conversation's settings.
pub fn build_request(view: &ConversationView, turn: u32, settings: &ConversationSettings) -> ChatRequest {
    ChatRequest {
        model: view.model.clone(),
        system: None,
        messages: crate::agent::history::messages(view, turn),
        tools: vec![],
        max_tokens: settings.max_tokens,
        thinking_budget: settings.thinking_budget,
        reasoning_effort: settings.reasoning_effort.clone(),
    }
}
