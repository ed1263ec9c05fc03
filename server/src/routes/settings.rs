//! The settings API: API keys, stored encrypted (`backend::secrets`).
//!
//! - `GET /api/settings/keys`: `[{"name","label","set","source","last4"}]`;
//! - `PUT /api/settings/keys/{name}` with `{"value"}`: stores or replaces the key; answers its status;
//! - `DELETE /api/settings/keys/{name}`: deletes it (the environment's key, if any, applies again).
//!
//! - `GET /api/settings/defaults` / `PUT`: chat defaults `{provider, model, thinking_budget, permission_mode}`.
//! - `GET /api/settings/instructions` / `PUT`, and `GET /api/workspaces/{workspace}/instructions` / `PUT`:
//!   the user's instructions for the agents `{text}`, for every workspace and for one.
//!
//! A value is never returned, logged or recorded: the answers carry at most its last 4 characters.

use axum::extract::State;
use axum::Json;
use backend::instructions::Instructions;
use backend::preferences::ChatDefaults;
use backend::secrets::KeyStatus;
use serde::Deserialize;

use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiJson, ApiPath as Path};

type ApiResult<T> = Result<T, ApiError>;

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<KeyStatus>>> {
    Ok(Json(state.backend.api_keys()?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    value: String,
}

pub async fn set(State(state): State<AppState>, Path(name): Path<String>, ApiJson(body): ApiJson<SetBody>) -> ApiResult<Json<KeyStatus>> {
    Ok(Json(state.backend.set_api_key(&name, &body.value).await?))
}

pub async fn delete(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<KeyStatus>> {
    Ok(Json(state.backend.delete_api_key(&name).await?))
}

pub async fn defaults(State(state): State<AppState>) -> ApiResult<Json<ChatDefaults>> {
    Ok(Json(state.backend.chat_defaults().await?))
}

pub async fn set_defaults(State(state): State<AppState>, ApiJson(body): ApiJson<ChatDefaults>) -> ApiResult<Json<ChatDefaults>> {
    Ok(Json(state.backend.set_chat_defaults(body).await?))
}

pub async fn instructions(State(state): State<AppState>) -> ApiResult<Json<Instructions>> {
    Ok(Json(state.backend.instructions(None).await?))
}

pub async fn set_instructions(State(state): State<AppState>, ApiJson(body): ApiJson<Instructions>) -> ApiResult<Json<Instructions>> {
    Ok(Json(state.backend.set_instructions(None, body).await?))
}

pub async fn workspace_instructions(State(state): State<AppState>, Path(workspace): Path<String>) -> ApiResult<Json<Instructions>> {
    Ok(Json(state.backend.instructions(Some(&workspace)).await?))
}

pub async fn set_workspace_instructions(
    State(state): State<AppState>,
    Path(workspace): Path<String>,
    ApiJson(body): ApiJson<Instructions>,
) -> ApiResult<Json<Instructions>> {
    Ok(Json(state.backend.set_instructions(Some(&workspace), body).await?))
}
