//! `GET /health`: 200 when Postgres and Redis answer, 503 naming what fails. Never behind auth.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::startup::AppState;

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let mut failing = Vec::new();
    let postgres = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.backend.pool);
    if !matches!(tokio::time::timeout(Duration::from_secs(2), postgres).await, Ok(Ok(1))) {
        failing.push("postgres");
    }
    if !matches!(tokio::time::timeout(Duration::from_secs(2), state.backend.queue.pending()).await, Ok(Ok(_))) {
        failing.push("redis");
    }
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "degraded", "failing": failing })))
    }
}
