//! Conversation use cases called by the HTTP edge: create, prompt, abort, archive, rename, delete.

use domain::{ConversationCommand, ConversationView, PermissionMode, ProviderId};
use uuid::Uuid;

use crate::error::BackendError;
use crate::queue::TurnJob;
use crate::render;
use crate::settings::{self, RequestedSettings};
use crate::state::Backend;
use crate::views::{load_page, load_view, messages_before, MessagesPage, PageRequest};
use crate::workspaces;

/// What `POST /api/conversations` asks for. Omitted fields (an empty `provider`, `None`s) get the
/// chat defaults of the settings page (`Backend::chat_defaults`), then the server's.
#[derive(Debug, Clone, Default)]
pub struct NewConversation {
    /// Empty: the default provider.
    pub provider: String,
    pub model: Option<String>,
    pub title: Option<String>,
    /// A folder name under the workspace root, created if missing.
    pub workspace: Option<String>,
    pub permission_mode: Option<PermissionMode>,
    /// Response length, thinking budget, reasoning effort; the server's defaults fill the rest.
    pub settings: RequestedSettings,
}

impl Backend {
    /// Starts a conversation and returns its view.
    #[tracing::instrument(name = "conversations.create", skip(self))]
    pub async fn create_conversation(&self, mut new: NewConversation) -> Result<ConversationView, BackendError> {
        let defaults = self.chat_defaults().await?;
        let default_provider = new.provider.trim().is_empty();
        if default_provider {
            new.provider =
                defaults.provider.clone().ok_or_else(|| BackendError::invalid("`provider` is required: no default provider is set"))?;
        }
        let same_provider = default_provider || defaults.provider.as_deref() == Some(new.provider.as_str());
        if new.model.is_none() && same_provider {
            new.model = defaults.model.clone();
        }
        let provider = ProviderId::parse(&new.provider).ok_or_else(|| crate::registry::unknown_provider(&new.provider))?;
        if let Some(reason) = self.registry.unavailable_reason(provider) {
            return Err(BackendError::invalid(format!("provider `{provider}` is unavailable: {reason}")));
        }
        let model = match new.model {
            Some(model) if model.trim().is_empty() || model.len() > 200 => {
                return Err(BackendError::invalid("`model` must be 1 to 200 characters"))
            }
            Some(model) => model,
            None => self.registry.default_model(provider).ok_or_else(|| {
                BackendError::invalid(format!(
                    "provider `{provider}` has no default model: pass `model`{}",
                    if provider == ProviderId::OpenAiCompatible { " or set OPENAI_COMPATIBLE_MODEL" } else { "" }
                ))
            })?,
        };
        if new.settings.thinking_budget.is_none() && provider.capabilities().thinking && self.registry.model_reasons(provider, &model) {
            new.settings.thinking_budget = defaults.thinking_budget;
        }
        let settings = settings::resolve(&self.registry, &self.config.defaults, provider, &model, new.settings)?;
        let workspace = match new.workspace {
            Some(name) => Some(workspaces::ensure(&self.config.workspace_root, &name)?),
            None => None,
        };
        let id = Uuid::new_v4().to_string();
        let command = ConversationCommand::StartConversation {
            provider: provider.as_str().to_string(),
            model,
            title: new.title,
            workspace,
            permission_mode: new.permission_mode.or(defaults.permission_mode).unwrap_or_default(),
            settings: Some(settings),
        };
        self.execute(&id, command).await?;
        self.view(&id, None).await
    }

    /// Records the user's prompt, then queues the turn. Returns the turn number.
    #[tracing::instrument(name = "conversations.submit_prompt", skip(self, text))]
    pub async fn submit_prompt(&self, id: &str, text: String) -> Result<u32, BackendError> {
        let job_id = Uuid::new_v4().to_string();
        self.execute(id, ConversationCommand::SubmitPrompt { text, job_id: job_id.clone() }).await?;
        let turn = self.state(id).await?.turns;
        // The prompt is stored whatever happens next; a failed enqueue is visible as a failed turn.
        if let Err(error) = self.queue.enqueue(&TurnJob { conversation_id: id.to_string(), turn, job_id }).await {
            tracing::error!(%error, "could not queue the turn");
            let reason = "The turn could not be queued (Redis unavailable). Send the message again.".to_string();
            self.execute(id, ConversationCommand::FailTurn { turn, reason }).await?;
            return Err(error);
        }
        Ok(turn)
    }

    /// Answers a pending tool approval; the worker running the turn passes it to the CLI.
    pub async fn decide_approval(&self, id: &str, approval_id: &str, decision: domain::Decision) -> Result<(), BackendError> {
        let command = ConversationCommand::DecideApproval { approval_id: approval_id.to_string(), decision, reason: None };
        self.execute(id, command).await
    }

    pub async fn abort_turn(&self, id: &str) -> Result<(), BackendError> {
        self.execute(id, ConversationCommand::AbortTurn).await
    }

    /// Runs a command that changes the conversation's header and returns the new view.
    pub async fn update_conversation(&self, id: &str, command: ConversationCommand) -> Result<ConversationView, BackendError> {
        self.execute(id, command).await?;
        self.view(id, None).await
    }

    pub async fn delete_conversation(&self, id: &str) -> Result<(), BackendError> {
        self.execute(id, ConversationCommand::Delete).await
    }

    /// The view the UI shows: `page` picks the turns (`PageRequest::ALL`, the newest N with
    /// `turns`, or from turn T with `from_turn`; `has_older` tells whether earlier turns exist),
    /// `at` the event it is as of. Text blocks carry rendered, sanitized `html`.
    pub async fn view_page(&self, id: &str, at: Option<u64>, page: PageRequest) -> Result<ConversationView, BackendError> {
        let mut view = load_page(&self.pool, &self.log, id, at, page).await?;
        if view.settings.is_none() && view.context.window == 0 {
            view.set_context_window(self.context_window_of(&view));
        }
        rendered(view, render::render_view).await
    }

    /// Up to `limit` turns (1 to 200) before `before_turn`, oldest first, text blocks rendered to
    /// `html`; `has_older` tells whether still earlier turns exist.
    pub async fn messages_before(&self, id: &str, before_turn: u32, limit: u32) -> Result<MessagesPage, BackendError> {
        if !(1..=MAX_PAGE_TURNS).contains(&limit) {
            return Err(BackendError::invalid(format!("`limit` must be a number of turns from 1 to {MAX_PAGE_TURNS}")));
        }
        let page = messages_before(&self.pool, &self.log, id, before_turn, limit).await?;
        rendered(page, |page| render::render_messages(&mut page.messages)).await
    }

    /// The conversation's view. A conversation from before settings existed gets its context
    /// window from today's catalogue.
    pub async fn view(&self, id: &str, at: Option<u64>) -> Result<ConversationView, BackendError> {
        let mut view = load_view(&self.pool, &self.log, id, at).await?;
        if view.settings.is_none() && view.context.window == 0 {
            view.set_context_window(self.context_window_of(&view));
        }
        Ok(view)
    }

    /// The context window of a view's model, for conversations from before settings recorded it.
    fn context_window_of(&self, view: &ConversationView) -> u64 {
        ProviderId::parse(&view.provider).map_or(0, |provider| self.registry.context_window(provider, &view.model))
    }
}

/// The most turns one page of messages may hold.
pub const MAX_PAGE_TURNS: u32 = 200;

/// Renders Markdown off the async threads: a long page is a few milliseconds of CPU.
async fn rendered<T: Send + 'static>(mut value: T, render: impl FnOnce(&mut T) + Send + 'static) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(move || {
        render(&mut value);
        value
    })
    .await
    .map_err(|e| BackendError::Store(format!("rendering failed: {e}")))
}
