//! The `run_turn` job: take the turn (fencing older attempts), start the provider, drive it, end the turn.
//! An `Err` leaves the job unacknowledged, for a reclaim after the lease (a database outage mid-turn).

use std::sync::Arc;

use domain::{
    ConversationCommand, ConversationError, ConversationSettings, ConversationView, OutputItem, PermissionMode, ProviderId, Role,
};
use providers::claude_code::{ClaudeCodeRequest, Permissions};
use providers::ChatRequest;
use uuid::Uuid;

use super::drive::{complete, drive, record, Ending};
use super::output::{classify, WriteStop};
use crate::agent::system_prompt::{self, Sources};
use crate::agent::{history, Workspace};
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
    let root =
        view.workspace.as_deref().and_then(|name| Root::open(&workspaces::directory(&backend.config.workspace_root, Some(name))).ok());
    let instructions = [backend.stored_instructions(None).await?, backend.stored_instructions(view.workspace.as_deref()).await?];
    let sources = Sources {
        workspace: view.workspace.as_deref().zip(root.as_ref()),
        permission_mode: view.permission_mode,
        user: [Some(instructions[0].text.as_str()), view.workspace.as_ref().map(|_| instructions[1].text.as_str())],
    };
    let ending = match (provider, provider.and_then(api)) {
        (_, Some(api)) => {
            let system = system_prompt::for_api(&sources);
            let workspace = root.clone().map(|root| Workspace::new(root, backend.claude_home().to_path_buf()));
            let setup = super::agent_turn::Setup { settings: &settings, workspace, system };
            super::agent_turn::run(backend, api, job.turn, &attempt_id, view, setup).await
        }
        (Some(ProviderId::ClaudeCode), None) => {
            let state = backend.state(id).await?;
            // A CLI session that began in this turn holds what the earlier attempt did: resume it
            // and say so, instead of sending the prompt again (and repeating its writes).
            let running = state.running.clone().unwrap_or_default();
            let prompt = if running.cli_session_started { INTERRUPTED.to_string() } else { prompt_of(&view, job.turn) };
            let system = system_prompt::for_claude_code(&sources);
            let used = OutputItem::SystemPromptUsed { sha256: system.sha256, text: system.text.clone() };
            if let Err(ending) = record(backend, id, job.turn, &attempt_id, vec![used]).await {
                return settle(backend, id, job.turn, &attempt_id, ending).await;
            }
            let request = ClaudeCodeRequest {
                prompt,
                append_system_prompt: Some(system.text),
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
                Ok(run) => drive(backend, &view, job.turn, &attempt_id, run.events, Some(run.control), running.resume_blocks).await,
                Err(error) => Ending::Failed(error.to_string()),
            }
        }
        (_, None) => Ending::Failed(format!("provider `{}` cannot run turns", view.provider)),
    };
    settle(backend, id, job.turn, &attempt_id, ending).await
}

/// Ends the turn as `ending` says; `Err` leaves the job for a reclaim.
async fn settle(backend: &Arc<Backend>, id: &str, turn: u32, attempt_id: &str, ending: Ending) -> Result<(), BackendError> {
    let ending = match ending {
        Ending::Stopped(stop_reason) => complete(backend, id, turn, attempt_id, stop_reason).await,
        other => other,
    };
    match ending {
        // `complete` never answers `Stopped`.
        Ending::Completed | Ending::Superseded | Ending::Stopped(_) => Ok(()),
        Ending::Interrupted(error) => {
            tracing::warn!(%error, "the database became unreachable mid-turn; the job is left for a reclaim");
            Err(error)
        }
        Ending::Failed(reason) => ignore_superseded(backend.execute(id, ConversationCommand::FailTurn { turn, reason }).await),
    }
}

/// What a resumed Claude Code session is told in place of the prompt it already has.
pub(super) const INTERRUPTED: &str = "The previous attempt at this request was interrupted before it finished: the process running it \
stopped. Tool calls it made may or may not have taken effect. Check the current state before repeating any of them, then \
continue the request where it left off.";

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

/// The user's prompt of `turn`, after the interruption reminder when the turn before was stopped.
fn prompt_of(view: &ConversationView, turn: u32) -> String {
    let prompt = view
        .messages
        .iter()
        .find(|m| m.role == Role::User && m.turn == turn)
        .and_then(|m| m.blocks.first())
        .and_then(|b| b.text.clone())
        .unwrap_or_default();
    match history::reminder(view, turn) {
        Some(reminder) => format!("{reminder}\n\n{prompt}"),
        None => prompt,
    }
}

/// The history up to and including `turn` (its prompt, and its reply so far) as content blocks,
/// with the conversation's settings.
pub fn build_request(view: &ConversationView, turn: u32, settings: &ConversationSettings) -> ChatRequest {
    ChatRequest {
        model: view.model.clone(),
        system: None,
        messages: history::messages(view, turn),
        tools: vec![],
        max_tokens: settings.max_tokens,
        thinking_budget: settings.thinking_budget,
        reasoning_effort: settings.reasoning_effort.clone(),
    }
}
