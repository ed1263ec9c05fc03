//! The Claude Code API: session list and import, and the CLI's login status and credentials.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use backend::claude::{AuthStatus, SessionInfo};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiJson};

type ApiResult<T> = Result<T, ApiError>;

pub async fn list_sessions(State(state): State<AppState>) -> ApiResult<Json<Vec<SessionInfo>>> {
    Ok(Json(state.backend.claude_sessions().await?))
}

#[derive(Deserialize)]
pub struct ImportBody {
    project: String,
    session_id: String,
}

pub async fn import_session(State(state): State<AppState>, ApiJson(body): ApiJson<ImportBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let imported = state.backend.import_claude_session(&body.project, &body.session_id).await?;
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
    Ok(Json(state.backend.store_claude_credentials(&body)?))
}

pub async fn delete_credentials(State(state): State<AppState>) -> ApiResult<StatusCode> {
    state.backend.delete_claude_credentials()?;
    Ok(StatusCode::NO_CONTENT)
}
