//! `GET /health`: Postgres and Redis checked separately, each within 2 s. 200 `{"status":"ok"}` with
//! both ok; 503 `{"status":"degraded"}` naming the one that fails. Never behind auth.
//!
//! The answer is open to anyone, so a failure is reported as `unreachable` or `no answer within 2 s`;
//! the underlying error goes to the log.

use std::future::Future;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::app_state::AppState;

const TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (postgres, redis) = tokio::join!(check("postgres", state.backend.ping_postgres()), check("redis", state.backend.ping_redis()));
    let ok = postgres["ok"] == true && redis["ok"] == true;
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "status": if ok { "ok" } else { "degraded" }, "postgres": postgres, "redis": redis })))
}

/// `{"ok": true}`, or `{"ok": false, "error": …}` with the cause logged.
async fn check(name: &'static str, probe: impl Future<Output = Result<(), backend::BackendError>>) -> Value {
    match tokio::time::timeout(TIMEOUT, probe).await {
        Ok(Ok(())) => json!({ "ok": true }),
        Ok(Err(error)) => {
            tracing::warn!(service = name, %error, "health check failed");
            json!({ "ok": false, "error": "unreachable" })
        }
        Err(_) => {
            tracing::warn!(service = name, "health check timed out");
            json!({ "ok": false, "error": format!("no answer within {} s", TIMEOUT.as_secs()) })
        }
    }
}
