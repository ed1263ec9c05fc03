//! Claude Code's own files under the CLI's HOME: its sessions (list and import) and its credentials.

pub mod config;
mod credentials;
mod import;
mod sessions;

pub use credentials::{auth_status, delete_credentials, store_credentials, AuthStatus, CredentialsStatus};
pub use import::{import_session, Imported};
pub use sessions::{list_sessions, session_file, SessionInfo};
