//! Presentational pieces of the chat page.

mod composer;
mod messages;
mod sidebar;

pub use composer::Composer;
pub use messages::MessageList;
pub use sidebar::Sidebar;
