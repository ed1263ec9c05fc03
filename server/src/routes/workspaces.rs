//! `GET /api/workspaces` (`{root, workspaces:[{name}]}`) and `POST /api/workspaces` `{name}` (201, 409 when it exists).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiJson};

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let root = state.backend.workspaces_root().to_path_buf();
    let names = state.backend.workspaces()?;
    let workspaces: Vec<Value> = names.into_iter().map(|name| json!({ "name": name })).collect();
    Ok(Json(json!({ "root": root.display().to_string(), "workspaces": workspaces })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
}

pub async fn create(State(state): State<AppState>, ApiJson(body): ApiJson<CreateBody>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = state.backend.create_workspace(&body.name)?;
    tracing::info!(workspace = %name, "workspace created");
    Ok((StatusCode::CREATED, Json(json!({ "name": name }))))
}
