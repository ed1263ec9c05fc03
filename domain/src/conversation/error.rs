//! Business-rule violations of the conversation aggregate. Infrastructure errors live elsewhere.

/// Why the aggregate refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    #[error("conversation not found")]
    NotFound,
    #[error("conversation already exists")]
    AlreadyExists,
    #[error("conversation is archived; unarchive it to send messages")]
    Archived,
    #[error("a turn is already running in this conversation")]
    TurnInProgress,
    #[error("nothing is running in this conversation")]
    NothingRunning,
    #[error("turn {0} is not running")]
    TurnNotRunning(u32),
    #[error("turn {0} is already being run by a worker")]
    AttemptInProgress(u32),
    #[error("this attempt was superseded by a newer one")]
    StaleAttempt,
    #[error("turn {0} was attempted too many times")]
    TooManyAttempts(u32),
    #[error("message text is empty")]
    EmptyPrompt,
    #[error("message text is larger than 200 KB")]
    PromptTooLarge,
    #[error("title must be 1 to 200 characters")]
    InvalidTitle,
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
    #[error("approval not found")]
    ApprovalNotFound,
    #[error("this approval was already decided")]
    ApprovalAlreadyDecided,
}
