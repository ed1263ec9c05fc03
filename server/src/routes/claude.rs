//! The Claude Code API: session list and import, and the CLI's login status and credentials.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use backend::claude::{self, AuthStatus, SessionInfo};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http_error::{ApiError, ApiJson};
use crate::startup::AppState;

type ApiResult<T> = Result<T, ApiError>;

fn home(state: &AppState) -> std::path::PathBuf {
    state.backend.config.claude_code.home.clone()
}

pub async fn list_sessions(State(state): State<AppState>) -> ApiResult<Json<Vec<SessionInfo>>> {
    Ok(Json(claude::list_sessions(&home(&state)).await?))
}

#[derive(Deserialize)]
pub struct ImportBody {
    project: String,
    session_id: String,
}

pub async fn import_session(State(state): State<AppState>, ApiJson(body): ApiJson<ImportBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let path = claude::session_file(&home(&state), &body.project, &body.session_id)?;
    let imported = claude::import_session(&state.backend, &path, &body.session_id).await?;
    // The view of a large import is large: the client fetches it when it opens the conversation.
    let body = json!({
        "conversation": { "id": imported.conversation_id },
        "turns": imported.turns,
        "lines": imported.lines,
        "skipped": imported.skipped,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn auth_status(State(state): State<AppState>) -> Json<AuthStatus> {
    Json(state.backend.claude_auth())
}

pub async fn store_credentials(State(state): State<AppState>, ApiJson(body): ApiJson<Value>) -> ApiResult<Json<AuthStatus>> {
    claude::store_credentials(&home(&state), &body)?;
    Ok(Json(state.backend.claude_auth()))
}

pub async fn delete_credentials(State(state): State<AppState>) -> ApiResult<StatusCode> {
    claude::delete_credentials(&home(&state))?;
    Ok(StatusCode::NO_CONTENT)
}
