//! The `pocket-dev` process: configuration, startup, HTTP routes and telemetry.
//!
//! Invariant: process wiring only. No business rules, no SQL; those live in `domain` and `backend`.

// The app's view types are deep; release builds (no `erase_components`) need more room.
#![recursion_limit = "256"]

pub mod app_state;
pub mod commands;
pub mod config;
pub mod http_error;
pub mod routes;
pub mod security;
pub mod startup;
pub mod telemetry;
