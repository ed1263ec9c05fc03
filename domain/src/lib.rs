//! The PocketDev domain: the conversation aggregate's rules and the pure view fold.
//!
//! Invariant: this crate does no IO and knows no framework. It has no async, no clock,
//! no database and no HTTP. Timestamps and ids come in as arguments. It compiles for the
//! browser too, so the page applies live events with the very fold the server projects with.

pub mod conversation;
pub mod provider;
pub mod tool;
pub mod view;

pub use conversation::{
    default_title, Approval, BlockKind, Conversation, ConversationCommand, ConversationError, ConversationEvent, ConversationSettings,
    Decision, OutputItem, PermissionMode, MAX_ATTEMPTS, MAX_PROMPT_BYTES, MAX_SETTING_TOKENS, MIN_THINKING_BUDGET, REASONING_EFFORTS,
    TITLE_CHARS,
};
pub use provider::{Capabilities, ProviderId};
pub use tool::{AgentTool, ToolEffect};
pub use view::{
    Block, BlockType, ContextLevel, ContextMeter, ConversationSummary, ConversationView, LoggedEvent, Message, PendingApproval, Role,
    Status, UsageTotals, ABORTED,
};
