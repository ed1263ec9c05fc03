//! Backend errors. Policy: `Domain` is the user's fault (a rule said no) and maps to 4xx at the
//! edge; `NotFound` is 404; everything else is ours (5xx) and is logged with its source chain.

use cqrs_es::AggregateError;
use domain::ConversationError;

/// An error from a backend use case.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Domain(#[from] ConversationError),
    #[error("conversation not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("the conversation changed concurrently; try again")]
    Conflict,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("event store error: {0}")]
    Store(String),
    #[error("stored event is unreadable: {0}")]
    Corrupt(String),
}

impl From<AggregateError<ConversationError>> for BackendError {
    fn from(error: AggregateError<ConversationError>) -> Self {
        match error {
            AggregateError::UserError(ConversationError::NotFound) => BackendError::NotFound,
            AggregateError::UserError(rule) => BackendError::Domain(rule),
            AggregateError::AggregateConflict => BackendError::Conflict,
            other => BackendError::Store(other.to_string()),
        }
    }
}

impl BackendError {
    /// A request the caller got wrong, with a message for them.
    pub fn invalid(message: impl Into<String>) -> Self {
        BackendError::Invalid(message.into())
    }
}
