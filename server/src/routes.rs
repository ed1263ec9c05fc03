//! Non-Leptos HTTP routes: the JSON API, the SSE feed and the health check.

mod claude;
mod claude_config;
mod conversations;
mod events;
mod files;
mod health;
mod history;
mod live_list;
mod search;
mod settings;
mod workspaces;

use axum::routing::{get, post, put};
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
        .route("/api/conversations/live", get(live_list::stream))
        .route("/api/conversations/{id}/messages", get(history::messages).post(conversations::send_message))
        .route("/api/conversations/{id}/export.md", get(history::export))
        .route("/api/search", get(search::search))
        .route("/highlight.css", get(history::highlight_css))
        .route("/api/workspaces", get(workspaces::list).post(workspaces::create))
        .route("/api/conversations/{id}/abort", post(conversations::abort))
        .route("/api/conversations/{id}/archive", post(conversations::archive))
        .route("/api/conversations/{id}/unarchive", post(conversations::unarchive))
        .route("/api/conversations/{id}/log", get(conversations::audit_log))
        .route("/api/conversations/{id}/approvals/{approval_id}", post(conversations::decide_approval))
        .route("/api/conversations/{id}/events", get(events::stream))
        .route("/api/workspaces/{workspace}/files", get(files::read).post(files::upload))
        .route("/api/settings/keys", get(settings::list))
        .route("/api/settings/defaults", get(settings::defaults).put(settings::set_defaults))
        .route("/api/claude/config", get(claude_config::list))
        .route("/api/claude/config/file", get(claude_config::read).put(claude_config::write).delete(claude_config::delete))
        .route("/api/claude/config/hooks", get(claude_config::hooks).put(claude_config::set_hooks))
        .route("/api/settings/keys/{name}", put(settings::set).delete(settings::delete))
        .route("/api/claude/sessions", get(claude::list_sessions))
        .route("/api/claude/sessions/import", post(claude::import_session))
        .route("/api/claude/auth", get(claude::auth_status))
        .route("/api/claude/credentials", put(claude::store_credentials).delete(claude::delete_credentials))
}
