//! Chat defaults (`GET/PUT /api/settings/defaults`): what a new conversation gets for the fields
//! it omits, stored in the `preferences` table.

use domain::{PermissionMode, ProviderId, MAX_SETTING_TOKENS, MIN_THINKING_BUDGET};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::error::BackendError;
use crate::state::Backend;

const CHAT_DEFAULTS: &str = "chat_defaults";

/// The defaults of new conversations; `None` fields fall back to the server's own defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatDefaults {
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub thinking_budget: Option<u32>,
    #[serde(default)]
    pub permission_mode: Option<PermissionMode>,
}

impl Backend {
    /// The stored chat defaults (all `None` until set).
    #[tracing::instrument(name = "preferences.chat_defaults", skip(self))]
    pub async fn chat_defaults(&self) -> Result<ChatDefaults, BackendError> {
        let value: Option<Json<ChatDefaults>> =
            sqlx::query_scalar("SELECT value FROM preferences WHERE key = $1").bind(CHAT_DEFAULTS).fetch_optional(&self.pool).await?;
        Ok(value.map(|Json(defaults)| defaults).unwrap_or_default())
    }

    /// Checks and stores the chat defaults: a provider the catalogue knows, a model of 1 to 200
    /// characters, a thinking budget of at least 1024 tokens.
    #[tracing::instrument(name = "preferences.set_chat_defaults", skip(self))]
    pub async fn set_chat_defaults(&self, defaults: ChatDefaults) -> Result<ChatDefaults, BackendError> {
        if let Some(provider) = &defaults.provider {
            if ProviderId::parse(provider).is_none() {
                return Err(crate::registry::unknown_provider(provider));
            }
        }
        if defaults.model.as_ref().is_some_and(|m| m.trim().is_empty() || m.len() > 200) {
            return Err(BackendError::invalid("`model` must be 1 to 200 characters"));
        }
        if defaults.thinking_budget.is_some_and(|b| !(MIN_THINKING_BUDGET..=MAX_SETTING_TOKENS).contains(&b)) {
            return Err(BackendError::invalid(format!(
                "`thinking_budget` must be null or from {MIN_THINKING_BUDGET} to {MAX_SETTING_TOKENS}"
            )));
        }
        sqlx::query(
            "INSERT INTO preferences (key, value, updated_at) VALUES ($1, $2, now()) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        )
        .bind(CHAT_DEFAULTS)
        .bind(Json(&defaults))
        .execute(&self.pool)
        .await?;
        Ok(defaults)
    }
}
