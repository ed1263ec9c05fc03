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

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;

use crate::app_state::AppState;

/// The OpenAPI 3.1 description of every route below, served at `GET /api/openapi.json`.
/// `server/tests/api/openapi.rs` checks that it lists exactly [`API_ROUTES`] and that every
/// operation answers what it documents; `scripts/schemathesis.sh` fuzzes the server against it.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], OPENAPI_JSON)
}

/// Declares the API once: the router and the `(method, path)` table come from the same list, so
/// the table (which the OpenAPI check compares with the spec) cannot drift from what is served.
macro_rules! api_routes {
    ($( $path:literal => { $( $method:ident $handler:expr ),+ $(,)? } )+) => {
        /// Every `(METHOD, path)` the API router serves, in axum's path syntax.
        pub const API_ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path), )+ )+ ];

        pub fn api() -> Router<AppState> {
            Router::new() $( .route($path, MethodRouter::new() $( .on(MethodFilter::$method, $handler) )+ ) )+
        }
    };
}

api_routes! {
    "/health" => { GET health::health }
    "/api/openapi.json" => { GET openapi }
    "/api/providers" => { GET conversations::list_providers }
    "/api/pricing" => { GET conversations::pricing }
    "/api/conversations" => { GET conversations::list, POST conversations::create }
    "/api/conversations/{id}" => { GET conversations::show, PATCH conversations::rename, DELETE conversations::delete }
    "/api/conversations/live" => { GET live_list::stream }
    "/api/conversations/{id}/messages" => { GET history::messages, POST conversations::send_message }
    "/api/conversations/{id}/export.md" => { GET history::export }
    "/api/search" => { GET search::search }
    "/highlight.css" => { GET history::highlight_css }
    "/api/workspaces" => { GET workspaces::list, POST workspaces::create }
    "/api/conversations/{id}/abort" => { POST conversations::abort }
    "/api/conversations/{id}/archive" => { POST conversations::archive }
    "/api/conversations/{id}/unarchive" => { POST conversations::unarchive }
    "/api/conversations/{id}/log" => { GET conversations::audit_log }
    "/api/conversations/{id}/approvals/{approval_id}" => { POST conversations::decide_approval }
    "/api/conversations/{id}/events" => { GET events::stream }
    "/api/workspaces/{workspace}/files" => { GET files::read, POST files::upload }
    "/api/settings/keys" => { GET settings::list }
    "/api/settings/defaults" => { GET settings::defaults, PUT settings::set_defaults }
    "/api/settings/instructions" => { GET settings::instructions, PUT settings::set_instructions }
    "/api/workspaces/{workspace}/instructions" => { GET settings::workspace_instructions, PUT settings::set_workspace_instructions }
    "/api/claude/config" => { GET claude_config::list }
    "/api/claude/config/file" => { GET claude_config::read, PUT claude_config::write, DELETE claude_config::delete }
    "/api/claude/config/hooks" => { GET claude_config::hooks, PUT claude_config::set_hooks }
    "/api/settings/keys/{name}" => { PUT settings::set, DELETE settings::delete }
    "/api/claude/sessions" => { GET claude::list_sessions }
    "/api/claude/sessions/import" => { POST claude::import_session }
    "/api/claude/auth" => { GET claude::auth_status }
    "/api/claude/credentials" => { PUT claude::store_credentials, DELETE claude::delete_credentials }
}
