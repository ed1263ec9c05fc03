//! PocketDev's application layer and adapters: the event store, projections, the live feed,
//! the job queue and the worker.
//!
//! Invariant: this is the only crate that talks to Postgres or Redis. It knows no HTTP and no Leptos.

pub mod agent;
pub mod aggregate;
pub mod appender;
pub mod atomic;
pub mod catalog;
pub mod claude;
mod conversation_id;
mod conversations;
pub mod error;
pub mod event_log;
pub mod export;
pub mod group_commit;
pub mod guard;
pub mod instructions;
pub mod jobs;
pub mod live;
pub mod live_list;
pub mod preferences;
pub mod projection;
pub mod queue;
pub mod reconcile;
pub mod registry;
pub mod render;
pub mod search;
pub mod secrets;
pub mod settings;
pub mod state;
pub mod store;
pub mod upcasters;
pub mod views;
pub mod worker;
pub mod workspace_files;
pub mod workspaces;

pub use conversation_id::{ConversationId, NotAnId};
pub use conversations::{NewConversation, MAX_PAGE_TURNS};
pub use error::BackendError;
pub use state::{connect_pool, migrate, migrate_database, replay_database, Backend, BackendConfig, WorkerConfig, DEFAULT_POOL_SIZE};
pub use views::{MessagesPage, PageRequest};
