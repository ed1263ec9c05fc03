//! mockllm: a deterministic mock of the Anthropic Messages API and the OpenAI Chat Completions
//! and Responses streaming APIs, for tests and local development without real providers.
//!
//! Replies are made of [`reply_tokens`] (and [`thinking_tokens`]), paced by [`MockConfig`].
//! The last user message may carry a directive overriding the defaults for that request:
//!
//! ```text
//! [[mock tokens=2000 rate=500 delay_ms=0 thinking=20 fail=cut after=50 tool=1 fail_times=1]]
//! [[mock tool=write file=hello.txt content="hello from mock"]]
//! ```
//!
//! `fail` is one of `http529` (alias `overloaded`), `http500`, `http401`, `cut` or `error_event`;
//! `cut` and `error_event` happen after `after` reply tokens (default: half of them).
//! `fail_times=N` fails only the first N requests carrying that exact directive text.
//!
//! `tool` makes the reply end with a tool call (stop reason `tool_use`), after its text:
//! `tool=1` / `tool=read` calls `Read {"file_path": file}` (default `README.md`),
//! `tool=write` calls `Write {"file_path": file, "content": content}` (defaults
//! `mock-output.txt`, `hello from mockllm\n`), `tool=bash` calls
//! `Bash {"command": cmd, "description": ...}` (default `echo hello-from-mock`). A relative
//! `file` is joined to the request's working directory (Claude Code's system prompt line
//! `Primary working directory: /abs/dir`) when there is one. Values may be `"quoted"`; in
//! `content` and `cmd`, `\n` is a newline. No tool is called if the request's `tools` list
//! does not offer it.
//!
//! The mock is stateless, so tool loops are decided from the request alone: the directive is
//! read from the turn's prompt (the last user message without a `tool_result`), and when the
//! last message carries tool results the reply is the final text, prefixed `Done: ` or, if
//! any result has `is_error: true` (a failed or denied tool), `Tool failed: `.
//! A request asking for structured output (`output_config.format` of type `json_schema`)
//! gets a JSON text following the schema.

mod anthropic;
mod config;
mod directive;
mod errors;
mod openai;
mod plan;
mod script;
mod tokens;

pub use config::MockConfig;
pub use directive::{Directive, Failure, ToolKind};
pub use tokens::{reply_text, reply_tokens, thinking_text, thinking_tokens};

use axum::extract::Query;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use plan::AppState;

/// The mock server's routes: `POST /v1/messages`, `POST /v1/messages/count_tokens`,
/// `POST /v1/chat/completions`, `POST /v1/responses`, `GET /mock/expected?tokens=N`,
/// `GET /health` and `GET`/`HEAD /` (Claude Code sends `HEAD /` to warm up its connection).
/// Every request is logged (tracing target `mockllm`: a line per request at info, Anthropic
/// request bodies at debug).
pub fn router(cfg: MockConfig) -> Router {
    Router::new()
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/messages/count_tokens", post(anthropic::count_tokens))
        .route("/v1/chat/completions", post(openai::chat::completions))
        .route("/v1/responses", post(openai::responses::responses))
        .route("/mock/expected", get(expected))
        .route("/health", get(|| async { "ok" }))
        .route("/", get(|| async { "mockllm" }))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(AppState::new(cfg))
}

/// Logs each request's method, path and query, status and time to the response head.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        target: "mockllm",
        %method,
        %uri,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// Serves [`router`] on `listener` until the task is dropped or the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, cfg: MockConfig) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
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
