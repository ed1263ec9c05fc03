//! The Claude Code configuration editor API (`backend::claude::config`):
//!
//! - `GET /api/claude/config?scope=` → `{scope, dir, files:[{kind, name, path, exists}]}`;
//! - `GET|PUT|DELETE /api/claude/config/file?scope=&path=` (`PUT` body `{content}`);
//! - `GET|PUT /api/claude/config/hooks?scope=` (`PUT` body `{hooks}`).
//!
//! `scope` is `global` or `workspace:NAME`; only whitelisted paths are accepted.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use backend::claude::config::{self, ConfigContent, ConfigListing, ConfigRoots, Scope};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiJson, ApiQuery as Query};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Deserialize)]
pub struct ConfigParams {
    scope: Option<String>,
    path: Option<String>,
}

fn roots(state: &AppState) -> ConfigRoots {
    state.backend.claude_config_roots()
}

fn scope(params: &ConfigParams) -> ApiResult<Scope> {
    Ok(Scope::parse(params.scope.as_deref().unwrap_or("global"))?)
}

fn path(params: &ConfigParams) -> ApiResult<&str> {
    params.path.as_deref().filter(|p| !p.is_empty()).ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "`path` is required"))
}

pub async fn list(State(state): State<AppState>, Query(params): Query<ConfigParams>) -> ApiResult<Json<ConfigListing>> {
    Ok(Json(config::list(&roots(&state), &scope(&params)?)?))
}

pub async fn read(State(state): State<AppState>, Query(params): Query<ConfigParams>) -> ApiResult<Json<ConfigContent>> {
    Ok(Json(config::read(&roots(&state), &scope(&params)?, path(&params)?)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentBody {
    content: String,
}

pub async fn write(
    State(state): State<AppState>,
    Query(params): Query<ConfigParams>,
    ApiJson(body): ApiJson<ContentBody>,
) -> ApiResult<Json<ConfigContent>> {
    Ok(Json(config::write(&roots(&state), &scope(&params)?, path(&params)?, &body.content)?))
}

pub async fn delete(State(state): State<AppState>, Query(params): Query<ConfigParams>) -> ApiResult<StatusCode> {
    config::delete(&roots(&state), &scope(&params)?, path(&params)?)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn hooks(State(state): State<AppState>, Query(params): Query<ConfigParams>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "hooks": config::hooks(&roots(&state), &scope(&params)?)? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksBody {
    hooks: Value,
}

pub async fn set_hooks(
    State(state): State<AppState>,
    Query(params): Query<ConfigParams>,
    ApiJson(body): ApiJson<HooksBody>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "hooks": config::set_hooks(&roots(&state), &scope(&params)?, body.hooks)? })))
}
