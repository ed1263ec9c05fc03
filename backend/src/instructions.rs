//! The user's instructions for the agents, edited on the settings page: one text for every
//! workspace and one per workspace, stored in the `preferences` table. Every turn's system prompt
//! ends with them (`agent::system_prompt`).

use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::error::BackendError;
use crate::state::Backend;

/// The longest instructions text accepted.
pub const INSTRUCTIONS_MAX_BYTES: usize = 32 * 1024;

/// Instructions for the agents; an empty text means none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instructions {
    pub text: String,
}

/// The `preferences` key of the instructions for every workspace (`None`) or for one.
fn key(workspace: Option<&str>) -> String {
    match workspace {
        None => "instructions".into(),
        Some(name) => format!("instructions:workspace:{name}"),
    }
}

impl Backend {
    /// The instructions for every workspace, or for `workspace` (which must exist).
    #[tracing::instrument(name = "instructions.get", skip(self))]
    pub async fn instructions(&self, workspace: Option<&str>) -> Result<Instructions, BackendError> {
        if let Some(name) = workspace {
            self.workspace_dir(name)?;
        }
        self.stored_instructions(workspace).await
    }

    /// Stores the instructions (an empty text removes them) and answers what is stored.
    #[tracing::instrument(name = "instructions.set", skip(self, instructions))]
    pub async fn set_instructions(&self, workspace: Option<&str>, instructions: Instructions) -> Result<Instructions, BackendError> {
        if let Some(name) = workspace {
            self.workspace_dir(name)?;
        }
        if instructions.text.len() > INSTRUCTIONS_MAX_BYTES {
            return Err(BackendError::invalid(format!(
                "the instructions are {} bytes; at most {INSTRUCTIONS_MAX_BYTES} are accepted",
                instructions.text.len()
            )));
        }
        if instructions.text.trim().is_empty() {
            sqlx::query("DELETE FROM preferences WHERE key = $1").bind(key(workspace)).execute(&self.pool).await?;
            return Ok(Instructions::default());
        }
        sqlx::query(
            "INSERT INTO preferences (key, value, updated_at) VALUES ($1, $2, now()) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        )
        .bind(key(workspace))
        .bind(Json(&instructions))
        .execute(&self.pool)
        .await?;
        Ok(instructions)
    }

    /// The stored instructions, without checking that the workspace still exists (a turn's prompt).
    pub(crate) async fn stored_instructions(&self, workspace: Option<&str>) -> Result<Instructions, BackendError> {
        let value: Option<Json<Instructions>> =
            sqlx::query_scalar("SELECT value FROM preferences WHERE key = $1").bind(key(workspace)).fetch_optional(&self.pool).await?;
        Ok(value.map(|Json(instructions)| instructions).unwrap_or_default())
    }
}
