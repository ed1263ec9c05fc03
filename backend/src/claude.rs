//! Claude Code's own files under the CLI's HOME: its sessions (list and import) and its credentials.

pub mod config;
mod credentials;
mod import;
mod sessions;

use crate::error::BackendError;

pub use credentials::{auth_status, delete_credentials, store_credentials, AuthStatus, CredentialsStatus};
/// `SessionLines` is the import's pure line reader (the fuzz targets drive it).
pub use import::{import_session, Imported, SessionLines, Step};
pub use sessions::{list_sessions, session_file, SessionInfo};

impl crate::Backend {
    /// The CLI's login status now: its credentials under the CLI's HOME, and whether the
    /// environment passes it an API key.
    pub fn claude_auth(&self) -> AuthStatus {
        let api_key = self.config.claude_code.env.iter().any(|(name, value)| name == "ANTHROPIC_API_KEY" && !value.is_empty());
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        auth_status(&self.config.claude_code.home, api_key, now_ms)
    }

    /// The CLI's sessions, newest first.
    pub async fn claude_sessions(&self) -> Result<Vec<SessionInfo>, BackendError> {
        list_sessions(self.claude_home()).await
    }

    /// Imports one of the CLI's sessions (named as the session list names it) as a new conversation.
    pub async fn import_claude_session(&self, project: &str, session_id: &str) -> Result<Imported, BackendError> {
        let path = session_file(self.claude_home(), project, session_id)?;
        import_session(self, &path, session_id).await
    }

    /// Stores the CLI's credentials file (0600) and answers the new login status.
    pub fn store_claude_credentials(&self, body: &serde_json::Value) -> Result<AuthStatus, BackendError> {
        store_credentials(self.claude_home(), body)?;
        Ok(self.claude_auth())
    }

    /// Logs the CLI out: deletes its credentials file.
    pub fn delete_claude_credentials(&self) -> Result<(), BackendError> {
        delete_credentials(self.claude_home())
    }
}
