//! Non-Leptos HTTP routes: the JSON API, the SSE feed and the health check.

mod claude;
mod conversations;
mod events;
mod files;
mod health;
mod settings;

use axum::routing::{get, post};
use axum::Router;

use crate::startup::AppState;

pub fn api() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/api/providers", get(conversations::list_providers))
        .route("/api/pricing", get(conversations::pricing))
        .route("/api/conversations", get(conversations::list).post(conversations::create))
        .route(
            "/api/conversations/{id}",
            get(conversations::show).patch(conversations::rename).delete(conversations::delete),
        )
        .route("/api/conversations/{id}/messages", post(conversations::send_message))
        .route("/api/conversations/{id}/abort", post(conversations::abort))
        .route("/api/conversations/{id}/archive", post(conversations::archive))
        .route("/api/conversations/{id}/unarchive", post(conversations::unarchive))
        .route("/api/conversations/{id}/log", get(conversations::audit_log))
        .route("/api/conversations/{id}/approvals/{approval_id}", post(conversations::decide_approval))
        .route("/api/conversations/{id}/events", get(events::stream))
        .route("/api/workspaces/{workspace}/files", get(files::read).post(files::upload))
        .route("/api/settings/keys", get(settings::list))
        .route("/api/settings/keys/{name}", axum::routing::put(settings::set).delete(settings::delete))
        .route("/api/claude/sessions", get(claude::list_sessions))
        .route("/api/claude/sessions/import", post(claude::import_session))
        .route("/api/claude/auth", get(claude::auth_status))
        .route("/api/claude/credentials", axum::routing::put(claude::store_credentials).delete(claude::delete_credentials))
}
