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
//! `fail` is one of `http529` (alias `overloaded`), `http429` (alias `rate_limit`), `http500`,
//! `http401`, `cut` or `error_event`; `cut` and `error_event` happen after `after` reply tokens
//! (default: half of them). `http429` and `http529` carry `retry-after: N` (`retry_after=N`,
//! default 1); 429 also carries the API's rate-limit headers (`anthropic-ratelimit-*`,
//! `x-ratelimit-*`). The OpenAI formats answer `http529` with a 503, as OpenAI never sends 529.
//! `fail_times=N` fails only the first N requests carrying that exact directive text.
//!
//! `stop=max_tokens` ends the reply with the output-limit stop (`max_tokens`, `length`,
//! `response.incomplete`) and no tool call; a reply longer than the request's own limit
//! (`max_tokens`, `max_completion_tokens`, `max_output_tokens`; thinking counts) is cut there
//! with that stop too. `cache_read=N cache_write=N` report N prompt tokens read from and
//! written to the cache (OpenAI reports reads only, inside its prompt count).
//!
//! Retries get another reply. The k-th reply to the same request (same path, same JSON body
//! bytes: a turn retried) is variant k of the reply text: variant 1 is [`reply_text`] and
//! variant k is [`reply_text_variant`]`(n, k)`, which differs from every other variant in every
//! word, so a reply spliced from two attempts equals no variant. An HTTP failure sends no reply
//! and counts for none. The mock remembers the last 4,096 distinct requests.
//!
//! `tool` makes the reply end with a tool call (stop reason `tool_use`), after its text
//! (`tools=read,write,bash`: several calls in that order, each with the same arguments):
//! `tool=1` / `tool=read` calls `Read {"file_path": file}` (default `README.md`),
//! `tool=write` calls `Write {"file_path": file, "content": content}` (defaults
//! `mock-output.txt`, `hello from mockllm\n`), `tool=bash` calls
//! `Bash {"command": cmd, "description": ...}` (default `echo hello-from-mock`). A relative
//! `file` is joined to the request's working directory (Claude Code's system prompt line
//! `Primary working directory: /abs/dir`) when there is one. Values may be `"quoted"`; in
//! `content` and `cmd`, `\n` is a newline. No tool is called if the request's `tools` list
//! does not offer it.
//!
//! Keys: a server given `MockConfig::api_keys` accepts only those (any other key gets the API's
//! 401, `authentication_error` or `invalid_api_key`); `GET /mock/last-key?api=anthropic|openai`
//! answers the SHA-256 of the last key each API was sent, so a test can tell which key a provider
//! used while the mock never shows or logs a key.
//!
//! Tool loops are decided from the request alone: the directive is
//! read from the turn's prompt (the last user message without a `tool_result`), and when the
//! last message carries tool results the reply is the final text, prefixed `Done: ` or, if
//! any result has `is_error: true` (a failed or denied tool), `Tool failed: `.
//!
//! An agent script plays a multi-step tool loop with PocketDev's agent tools: each `step=` is one
//! round (`[[mock step="read:calc.py" step="edit:calc.py:a - b:a + b || bash:python3 t.py"]]`).
//! Round k (the number of replies since the prompt that ended with tool calls) ends with step k's
//! calls, separated by `||`: `read:PATH`, `write:PATH:CONTENT`, `edit:PATH:OLD:NEW`,
//! `bash:COMMAND`, `list[:PATH]`, `glob:PATTERN`, `grep:PATTERN`, or `raw:NAME:ARGUMENTS` (any
//! name, the arguments sent verbatim, malformed or not). After the last step the reply is the final
//! text, its verdict from the last results (OpenAI formats: an output starting with `Error` failed).
//! A scripted call of a tool the request does not offer is a 400. Every format refuses, with the
//! real API's message, a history whose tool calls and results do not pair up by id.
//!
//! A request asking for structured output (`output_config.format` of type `json_schema`)
//! gets a JSON text following the schema.

mod agent;
mod anthropic;
mod attempts;
mod config;
mod directive;
mod errors;
mod keys;
mod openai;
mod plan;
mod script;
mod tokens;

pub use config::MockConfig;
pub use directive::{Directive, Failure, StopKind, ToolKind};
pub use keys::fingerprint;
pub use tokens::{reply_text, reply_text_variant, reply_tokens, reply_tokens_variant, thinking_text, thinking_tokens};

use axum::extract::Query;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use plan::AppState;

/// The mock server's routes: `POST /v1/messages`, `POST /v1/messages/count_tokens`,
/// `POST /v1/chat/completions`, `POST /v1/responses`, `GET /mock/expected?tokens=N&attempt=K`,
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
        .route("/mock/last-key", get(last_key))
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

#[derive(Deserialize)]
struct LastKeyQuery {
    api: String,
}

/// `GET /mock/last-key?api=anthropic|openai`: `{"sha256": …}` of the last key that API was sent
/// (`null` before any), so a test can tell which key a provider used; the key itself is never shown.
async fn last_key(axum::extract::State(state): axum::extract::State<AppState>, Query(q): Query<LastKeyQuery>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match keys::Api::parse(&q.api) {
        Some(api) => axum::Json(serde_json::json!({ "sha256": state.keys.last(api) })).into_response(),
        None => (axum::http::StatusCode::BAD_REQUEST, "api must be anthropic or openai").into_response(),
    }
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
    attempt: Option<usize>,
}

/// `GET /mock/expected?tokens=N&attempt=K`: the reply text of N tokens (default 40) of the
/// K-th reply to one request (default 1).
async fn expected(Query(q): Query<ExpectedQuery>) -> String {
    reply_text_variant(q.tokens.unwrap_or(MockConfig::default().tokens), q.attempt.unwrap_or(1))
}
