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
    /// The thing to create exists already (409).
    #[error("{0}")]
    Exists(String),
    /// The request names something the caller may not touch (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request body is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    #[error("the conversation changed concurrently; try again")]
    Conflict,
    /// No database connection came free in time; nothing was written.
    #[error("the database is busy; try again")]
    Busy,
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
            AggregateError::DatabaseConnectionError(error) if is_pool_timeout(error.as_ref()) => BackendError::Busy,
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

/// True when an error (or its cause) is a pool timeout: the command never reached the database.
fn is_pool_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if matches!(error.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::PoolTimedOut)) {
            return true;
        }
        current = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_timeout_is_busy_and_other_connection_errors_are_not() {
        let timeout = AggregateError::<ConversationError>::DatabaseConnectionError(Box::new(sqlx::Error::PoolTimedOut));
        assert!(matches!(BackendError::from(timeout), BackendError::Busy));
        let closed = AggregateError::<ConversationError>::DatabaseConnectionError(Box::new(sqlx::Error::PoolClosed));
        assert!(matches!(BackendError::from(closed), BackendError::Store(_)));
    }
}
