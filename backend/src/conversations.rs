//! Conversation use cases called by the HTTP edge: create, prompt, abort, archive, rename, delete.

use domain::{ConversationCommand, ConversationView};
use uuid::Uuid;

use crate::catalog;
use crate::error::BackendError;
use crate::queue::TurnJob;
use crate::state::Backend;
use crate::views::load_view;

impl Backend {
    /// Starts a conversation and returns its view.
    #[tracing::instrument(name = "conversations.create", skip(self))]
    pub async fn create_conversation(&self, provider: &str, model: Option<&str>, title: Option<String>) -> Result<ConversationView, BackendError> {
        let known = catalog::providers(self.config.anthropic.api_key.is_some());
        let Some(info) = known.iter().find(|p| p.id == provider) else {
            let names: Vec<&str> = known.iter().map(|p| p.id).collect();
            return Err(BackendError::invalid(format!("unknown provider `{provider}`; known: {}", names.join(", "))));
        };
        if let Some(reason) = info.unavailable_reason {
            return Err(BackendError::invalid(format!("provider `{provider}` is unavailable: {reason}")));
        }
        let model = match model {
            Some(model) if model.trim().is_empty() || model.len() > 200 => return Err(BackendError::invalid("`model` must be 1 to 200 characters")),
            Some(model) => model.to_string(),
            None => catalog::default_model(provider).unwrap_or_default().to_string(),
        };
        let id = Uuid::new_v4().to_string();
        self.execute(&id, ConversationCommand::StartConversation { provider: provider.to_string(), model, title }).await?;
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

    pub async fn view(&self, id: &str, at: Option<u64>) -> Result<ConversationView, BackendError> {
        load_view(&self.pool, &self.log, id, at).await
    }
}
