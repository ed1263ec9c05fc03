//! mockllm: a deterministic mock of the Anthropic Messages API and the OpenAI Chat Completions
//! and Responses streaming APIs, for tests and local development without real providers.
//!
//! Replies are made of [`reply_tokens`] (and [`thinking_tokens`]), paced by [`MockConfig`].
//! The last user message may carry a directive overriding the defaults for that request:
//!
//! ```text
//! [[mock tokens=2000 rate=500 delay_ms=0 thinking=20 fail=cut after=50 tool=1 fail_times=1]]
//! ```
//!
//! `fail` is one of `http529` (alias `overloaded`), `http500`, `http401`, `cut` or `error_event`;
//! `cut` and `error_event` happen after `after` reply tokens (default: half of them).
//! `fail_times=N` fails only the first N requests carrying that exact directive text.

mod anthropic;
mod config;
mod directive;
mod errors;
mod openai;
mod plan;
mod script;
mod tokens;

pub use config::MockConfig;
pub use directive::{Directive, Failure};
pub use tokens::{reply_text, reply_tokens, thinking_text, thinking_tokens};

use axum::extract::Query;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use plan::AppState;

/// The mock server's routes: `POST /v1/messages`, `POST /v1/chat/completions`,
/// `POST /v1/responses`, `GET /mock/expected?tokens=N` and `GET /health`.
pub fn router(cfg: MockConfig) -> Router {
    Router::new()
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/chat/completions", post(openai::chat::completions))
        .route("/v1/responses", post(openai::responses::responses))
        .route("/mock/expected", get(expected))
        .route("/health", get(|| async { "ok" }))
        .with_state(AppState::new(cfg))
}

/// Serves [`router`] on `listener` until the task is dropped or the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, cfg: MockConfig) -> std::io::Result<()> {
    axum::serve(listener, router(cfg)).await
}

#[derive(Deserialize)]
struct ExpectedQuery {
    tokens: Option<usize>,
}

/// `GET /mock/expected?tokens=N`: the reply text of N tokens (default 40).
async fn expected(Query(q): Query<ExpectedQuery>) -> String {
    reply_text(q.tokens.unwrap_or(MockConfig::default().tokens))
}
