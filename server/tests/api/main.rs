//! The server's one integration-test binary: real Postgres, real Redis, real processes, the mock LLM.

mod helpers;

// For `nginx.rs`, which the anchors bench includes too and which finds it at its parent.
use helpers::free_port;

mod agent;
mod bad_input;
mod chat_ux;
mod claude_code;
mod claude_sessions;
mod conversations;
mod faults;
mod nginx;
mod openapi;
mod private_services;
mod processes;
mod providers;
mod proxy;
mod replay;
mod resume;
mod security;
mod store;
mod traversal;
