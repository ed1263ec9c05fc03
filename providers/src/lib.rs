//! LLM provider adapters: each turns one provider's streaming wire format into `ProviderEvent`s
//! (`anthropic`: Messages API; `openai`: Responses and Chat Completions; `claude_code`: the CLI).
//!
//! Invariant: this crate knows nothing about events, the database or the HTTP server.
//! It takes a `ChatRequest` and yields a stream of `Result<ProviderEvent, ProviderError>`.

mod agent_env;
pub mod anthropic;
pub mod claude_code;
mod error;
mod event;
#[doc(hidden)]
pub mod fuzzing;
pub mod openai;
mod request;
mod transport;

pub use agent_env::minimal_environment;
pub use error::ProviderError;
pub use event::{BlockKind, ProviderEvent, Usage};
pub use request::{ChatMessage, ChatRequest, ChatRole, Content, ToolDefinition};
pub use transport::RuntimeKey;

use futures::stream::BoxStream;

/// A stream of normalized provider events for one request.
pub type ProviderStream = BoxStream<'static, Result<ProviderEvent, ProviderError>>;
