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
    /// Something other than a conversation is not there (404, with what).
    #[error("{0}")]
    Missing(String),
    /// A path the guard refused (400; 403 when it leads out; 404 when nothing is there).
    #[error(transparent)]
    Path(#[from] crate::guard::PathError),
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
    /// The thing is of a kind this cannot handle (415), such as a binary file to preview.
    #[error("{0}")]
    Unsupported(String),
    /// The disk refused the write (507).
    #[error("{0}")]
    NoSpace(String),
    /// A feature this server was not configured for (503, with what to set).
    #[error("{0}")]
    Unconfigured(String),
    #[error("the conversation changed concurrently; try again")]
    Conflict,
    /// No database connection came free in time; nothing was written.
    #[error("the database is busy; try again")]
    Busy,
    /// The database connection broke (Postgres restarting, the network dropped): a write in flight
    /// may or may not have been committed, so it is not retried in place.
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
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
            AggregateError::DatabaseConnectionError(error) | AggregateError::UnexpectedError(error)
                if is_connection_loss(error.as_ref()) =>
            {
                BackendError::Unavailable(error.to_string())
            }
            other => BackendError::Store(other.to_string()),
        }
    }
}

/// What kind of failure an error is, for every edge to answer the same way: the caller's fault
/// (with the error's own message) or ours (logged, and answered with a fixed sentence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    NotFound,
    Invalid,
    Forbidden,
    Conflict,
    TooLarge,
    Unsupported,
    /// The disk refused a write.
    NoSpace,
    /// Postgres or Redis could not be reached, or is busy: try again.
    Unavailable,
    /// A feature the server was not configured for.
    Unconfigured,
    /// A bug or a broken invariant: the details are logged, never shown.
    Internal,
}

impl ErrorClass {
    /// Whether the caller caused it (and so may read the error's own message).
    pub fn is_callers_fault(self) -> bool {
        !matches!(self, ErrorClass::NoSpace | ErrorClass::Unavailable | ErrorClass::Unconfigured | ErrorClass::Internal)
    }

    /// Whether it is ours to look into, so every edge logs it with its details (a missing
    /// configuration is the operator's, and says so in its answer).
    pub fn is_logged(self) -> bool {
        !self.is_callers_fault() && self != ErrorClass::Unconfigured
    }

    /// Whether the caller may read the error's own words: their mistake, or what to configure or free.
    fn speaks_for_itself(self) -> bool {
        self.is_callers_fault() || matches!(self, ErrorClass::Unconfigured | ErrorClass::NoSpace)
    }
}

impl BackendError {
    /// The error's class (see `ErrorClass`).
    pub fn class(&self) -> ErrorClass {
        use crate::guard::PathError;
        use ConversationError as R;
        match self {
            BackendError::NotFound | BackendError::Missing(_) | BackendError::Domain(R::NotFound | R::ApprovalNotFound) => {
                ErrorClass::NotFound
            }
            BackendError::Path(PathError::NotFound) => ErrorClass::NotFound,
            BackendError::Path(PathError::Escapes) | BackendError::Forbidden(_) => ErrorClass::Forbidden,
            BackendError::Path(_) | BackendError::Invalid(_) => ErrorClass::Invalid,
            BackendError::Domain(R::EmptyPrompt | R::PromptTooLarge | R::InvalidTitle | R::InvalidSettings(_)) => ErrorClass::Invalid,
            BackendError::Exists(_) | BackendError::Domain(_) | BackendError::Conflict => ErrorClass::Conflict,
            BackendError::TooLarge(_) => ErrorClass::TooLarge,
            BackendError::Unsupported(_) => ErrorClass::Unsupported,
            BackendError::NoSpace(_) => ErrorClass::NoSpace,
            BackendError::Unconfigured(_) => ErrorClass::Unconfigured,
            unavailable if unavailable.is_unavailable() => ErrorClass::Unavailable,
            _ => ErrorClass::Internal,
        }
    }

    /// What the caller may read: the error itself when it is theirs or says what to configure,
    /// otherwise a fixed sentence that gives away no database or IO detail.
    pub fn public_message(&self) -> String {
        match self.class() {
            class if class.speaks_for_itself() => self.to_string(),
            ErrorClass::Unavailable => match self {
                BackendError::Busy => "the server is busy; try again".into(),
                BackendError::Redis(_) => "the job queue is unavailable; try again".into(),
                _ => "the database is unavailable; try again".into(),
            },
            _ => "internal error".into(),
        }
    }
}

impl BackendError {
    /// A request the caller got wrong, with a message for them.
    pub fn invalid(message: impl Into<String>) -> Self {
        BackendError::Invalid(message.into())
    }
}

impl BackendError {
    /// True when the database (or Redis) could not be reached: the operation may succeed later,
    /// from this process or another, so a job should be left for a retry rather than failed.
    pub fn is_unavailable(&self) -> bool {
        match self {
            BackendError::Busy | BackendError::Unavailable(_) | BackendError::Redis(_) => true,
            BackendError::Database(error) => is_connection_loss(error) || matches!(error, sqlx::Error::PoolTimedOut),
            _ => false,
        }
    }
}

/// True when an error (or its cause) is a broken or refused database connection, or Postgres
/// shutting down (SQLSTATE class 08 and 57P).
fn is_connection_loss(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        match error.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed) => return true,
            Some(sqlx::Error::Database(db)) if db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")) => {
                return true
            }
            _ => {}
        }
        if error.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        current = error.source();
    }
    false
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
        let protocol = AggregateError::<ConversationError>::DatabaseConnectionError(Box::new(sqlx::Error::Protocol("odd".into())));
        assert!(matches!(BackendError::from(protocol), BackendError::Store(_)));
    }

    #[test]
    fn a_broken_connection_is_unavailable_and_a_rule_is_not() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let broken = AggregateError::<ConversationError>::DatabaseConnectionError(Box::new(sqlx::Error::Io(reset)));
        let error = BackendError::from(broken);
        assert!(matches!(error, BackendError::Unavailable(_)), "{error:?}");
        assert!(error.is_unavailable());
        assert!(BackendError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!BackendError::Domain(ConversationError::StaleAttempt).is_unavailable());
        assert!(!BackendError::Conflict.is_unavailable());
    }
}
