//! The conversation aggregate: one module per concern (commands, events, rules, errors).

mod aggregate;
mod commands;
mod decode;
mod error;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{default_title, Approval, Conversation, RunningTurn};
pub use commands::{ConversationCommand, OutputItem};
pub use error::ConversationError;
pub use events::{
    BlockKind, ConversationEvent, ConversationSettings, Decision, PermissionMode, MAX_SETTING_TOKENS, MIN_THINKING_BUDGET,
    REASONING_EFFORTS,
};

/// How many characters of the first prompt become the default title.
pub const TITLE_CHARS: usize = 60;
/// The largest prompt accepted, in bytes.
pub const MAX_PROMPT_BYTES: usize = 200 * 1024;
/// How many times a turn may be attempted (first run plus reclaims) before it fails.
pub const MAX_ATTEMPTS: u32 = 3;
