//! PocketDev's own agent for the API providers: the tools it offers the model, run in the
//! conversation's workspace through the [`guard`](crate::guard).

pub mod history;
pub mod system_prompt;
pub mod tools;

pub use tools::{run, specs, ToolOutput, ToolSpec, Workspace};
