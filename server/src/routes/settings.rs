//! The settings API: API keys, stored encrypted (`backend::secrets`).
//!
//! - `GET /api/settings/keys`: `[{"name","label","set","source","last4"}]`;
//! - `PUT /api/settings/keys/{name}` with `{"value"}`: stores or replaces the key; answers its status;
//! - `DELETE /api/settings/keys/{name}`: deletes it (the environment's key, if any, applies again).
//!
//! - `GET /api/settings/defaults` / `PUT`: chat defaults `{provider, model, thinking_budget, permission_mode}`.
//!
//! A value is never returned, logged or recorded: the answers carry at most its last 4 characters.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use backend::preferences::ChatDefaults;
use backend::secrets::{KeyStatus, Secrets};
use serde::Deserialize;

use crate::http_error::{ApiError, ApiJson};
use crate::startup::AppState;

type ApiResult<T> = Result<T, ApiError>;

fn store(state: &AppState) -> ApiResult<Arc<Secrets>> {
    state.backend.secrets.clone().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storing API keys is not configured (POCKET_DEV_SECRET_KEY or PD_SECRET_KEY_FILE)")
    })
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<KeyStatus>>> {
    Ok(Json(store(&state)?.status()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    value: String,
}

pub async fn set(State(state): State<AppState>, Path(name): Path<String>, ApiJson(body): ApiJson<SetBody>) -> ApiResult<Json<KeyStatus>> {
    Ok(Json(store(&state)?.set(&name, &body.value).await?))
}

pub async fn delete(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<KeyStatus>> {
    Ok(Json(store(&state)?.delete(&name).await?))
}

pub async fn defaults(State(state): State<AppState>) -> ApiResult<Json<ChatDefaults>> {
    Ok(Json(state.backend.chat_defaults().await?))
}

pub async fn set_defaults(State(state): State<AppState>, ApiJson(body): ApiJson<ChatDefaults>) -> ApiResult<Json<ChatDefaults>> {
    Ok(Json(state.backend.set_chat_defaults(body).await?))
}
