//! Reading a conversation's past: older pages of messages, the Markdown export and the
//! stylesheet of highlighted code.
//!
//! - `GET /api/conversations/{id}/messages?before_turn=T&limit=N`: `{messages, has_older}`, N turns
//!   (default 20, at most 200) before turn T, text blocks rendered to `html`;
//! - `GET /api/conversations/{id}/export.md`: the conversation as a Markdown attachment;
//! - `GET /highlight.css`: the classes of highlighted code.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::MessagesPage;
use serde::Deserialize;

use super::conversations::{conversation_id, number_param};
use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiPath as Path, ApiQuery as Query};

type ApiResult<T> = Result<T, ApiError>;

/// Turns per page when the client does not say.
const DEFAULT_PAGE_TURNS: u32 = 20;

#[derive(Deserialize)]
pub struct BeforeParams {
    before_turn: Option<String>,
    limit: Option<String>,
}

pub async fn messages(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<BeforeParams>,
) -> ApiResult<Json<MessagesPage>> {
    let id = conversation_id(&id)?;
    let bad_turn = "`before_turn` must be a turn number from 1";
    let before_turn =
        number_param::<u32>(params.before_turn.as_deref(), bad_turn)?.ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, bad_turn))?;
    if before_turn == 0 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, bad_turn));
    }
    let bad_limit = format!("`limit` must be a number of turns from 1 to {}", backend::MAX_PAGE_TURNS);
    let limit = number_param::<u32>(params.limit.as_deref(), &bad_limit)?.unwrap_or(DEFAULT_PAGE_TURNS);
    if !(1..=backend::MAX_PAGE_TURNS).contains(&limit) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, bad_limit));
    }
    Ok(Json(state.backend.messages_before(&id, before_turn, limit).await?))
}

pub async fn export(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = conversation_id(&id)?;
    let (file_name, body) = state.backend.export_markdown(&id).await?;
    let disposition = format!("attachment; filename=\"{file_name}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/markdown; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

pub async fn highlight_css() -> impl IntoResponse {
    static CSS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let css = CSS.get_or_init(backend::render::highlight_css).clone();
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], css)
}
