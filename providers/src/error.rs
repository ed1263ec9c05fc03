//! Provider errors: what went wrong talking to an LLM, typed so callers can decide to retry or fail.

use std::time::Duration;

/// An error from a provider request or its stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with a non-success HTTP status (after any retries).
    #[error("provider returned HTTP {status}: {message}")]
    Http { status: u16, message: String, retry_after: Option<Duration> },
    /// The provider sent an `error` event in the middle of the stream.
    #[error("provider error ({kind}): {message}")]
    Stream { kind: String, message: String },
    /// The connection failed or was cut before the reply ended.
    #[error("connection to provider failed: {0}")]
    Transport(String),
    /// The provider sent something that does not follow its protocol.
    #[error("provider protocol error: {0}")]
    Protocol(String),
    /// A provider process (the Claude Code CLI) failed: a non-zero exit, or no result.
    #[error("{message}")]
    Process { code: Option<i32>, message: String },
    /// The provider is not configured (e.g. no API key).
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}
