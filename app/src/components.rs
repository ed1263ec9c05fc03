//! Presentational pieces of the chat page.

mod approvals;
mod composer;
mod messages;
mod sidebar;

pub use approvals::Approvals;
pub use composer::Composer;
pub use messages::MessageList;
pub use sidebar::Sidebar;
