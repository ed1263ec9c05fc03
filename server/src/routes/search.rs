//! `GET /api/search?q=&limit=`: full-text search over messages (`backend::search`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use backend::search::SearchResults;
use serde::Deserialize;

use super::conversations::number_param;
use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiQuery as Query};

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
}

pub async fn search(State(state): State<AppState>, Query(params): Query<SearchParams>) -> Result<Json<SearchResults>, ApiError> {
    let q = params.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "`q` must not be empty"));
    }
    let bad_limit = format!("`limit` must be a number from 1 to {}", backend::search::MAX_HITS);
    let limit = number_param::<u32>(params.limit.as_deref(), &bad_limit)?.unwrap_or(20);
    if !(1..=backend::search::MAX_HITS).contains(&limit) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, bad_limit));
    }
    Ok(Json(state.backend.search(&q, limit).await?))
}
