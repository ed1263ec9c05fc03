//! The CLI's login: `$HOME/.claude/.credentials.json`. Its status is shown; its secrets never leave this module.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::error::BackendError;

/// How the CLI authenticates, without any secret.
#[derive(Debug, Clone, Serialize)]
pub struct AuthStatus {
    /// An API key is passed to the CLI from the environment.
    pub api_key: bool,
    pub credentials: CredentialsStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialsStatus {
    pub present: bool,
    pub subscription_type: Option<String>,
    /// Milliseconds since the epoch, as the CLI stores it.
    pub expires_at: Option<i64>,
    pub expired: Option<bool>,
}

fn path(home: &Path) -> PathBuf {
    home.join(".claude").join(".credentials.json")
}

pub fn auth_status(home: &Path, api_key: bool, now_ms: i64) -> AuthStatus {
    let stored = std::fs::read_to_string(path(home)).ok().and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let oauth = stored.as_ref().and_then(|v| v.get("claudeAiOauth"));
    let expires_at = oauth.and_then(|o| o.get("expiresAt")).and_then(Value::as_i64);
    AuthStatus {
        api_key,
        credentials: CredentialsStatus {
            present: oauth.is_some(),
            subscription_type: oauth.and_then(|o| o.get("subscriptionType")).and_then(Value::as_str).map(str::to_string),
            expires_at,
            expired: expires_at.map(|at| at <= now_ms),
        },
    }
}

/// Checks an uploaded `.credentials.json` and stores it with mode 0600.
pub fn store_credentials(home: &Path, body: &Value) -> Result<(), BackendError> {
    let oauth = body.get("claudeAiOauth").ok_or_else(|| BackendError::invalid("missing `claudeAiOauth`"))?;
    for field in ["accessToken", "refreshToken"] {
        if oauth.get(field).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
            return Err(BackendError::invalid(format!("`claudeAiOauth.{field}` must be a non-empty string")));
        }
    }
    if oauth.get("expiresAt").and_then(Value::as_i64).is_none() {
        return Err(BackendError::invalid("`claudeAiOauth.expiresAt` must be a number (milliseconds since the epoch)"));
    }
    let target = path(home);
    let directory = target.parent().expect("credentials live in a folder");
    std::fs::create_dir_all(directory).map_err(io)?;
    std::fs::set_permissions(directory, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    let staging = directory.join(".credentials.json.new");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&staging).map_err(io)?;
    file.write_all(body.to_string().as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&staging, &target).map_err(io)?;
    Ok(())
}

/// Logs the CLI out. Missing credentials are not an error.
pub fn delete_credentials(home: &Path) -> Result<(), BackendError> {
    match std::fs::remove_file(path(home)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(io(error)),
        _ => Ok(()),
    }
}

fn io(error: std::io::Error) -> BackendError {
    BackendError::Store(format!("credentials file: {error}"))
}
