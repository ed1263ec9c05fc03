//! Server functions that load page data during SSR (thin shims over `backend`), and the `load_*`
//! functions pages call: the server function during SSR, the same data from the JSON API in the
//! browser (so no server-function client code ships in the WASM).

use domain::{ConversationSummary, ConversationView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How many turns the chat page loads at first, and per "load older".
pub const PAGE_TURNS: u32 = 20;

/// One page of the conversation list, as `GET /api/conversations` answers it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    pub items: Vec<ConversationSummary>,
    #[serde(default)]
    pub next: Option<String>,
}

/// A page of messages, as `GET /api/conversations/{id}/messages` answers it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<domain::Message>,
    #[serde(default)]
    pub has_older: bool,
}

/// The newest conversations for the sidebar (`archived`: active, archived or all).
#[server]
pub async fn list_conversations(archived: String) -> Result<ListPage, ServerFnError> {
    use backend::views::{ArchivedFilter, ListQuery};
    let backend = backend()?;
    let archived = match archived.as_str() {
        "archived" => ArchivedFilter::Archived,
        "all" => ArchivedFilter::All,
        _ => ArchivedFilter::Active,
    };
    let page = backend
        .list_conversations(&ListQuery { limit: 50, archived, ..ListQuery::default() })
        .await
        .map_err(crate::server_error::page_error)?;
    Ok(ListPage { items: page.items, next: page.next })
}

/// One conversation, or `None` when it does not exist: as of event `at` when given, and only its
/// newest turns (down to `turn`, when asked to open there).
#[server]
pub async fn get_conversation(id: String, at: Option<u64>, turn: Option<u32>) -> Result<Option<ConversationView>, ServerFnError> {
    let backend = backend()?;
    let Ok(id) = id.parse::<backend::ConversationId>() else { return Ok(None) };
    let page = backend::PageRequest { turns: Some(PAGE_TURNS), from_turn: turn };
    match backend.view_page(id.as_str(), at, page).await {
        Ok(view) => Ok(Some(view)),
        Err(backend::BackendError::NotFound) => Ok(None),
        Err(error) => Err(crate::server_error::page_error(error)),
    }
}

/// The sidebar's first page: the server function during SSR, the JSON API in the browser.
pub async fn load_conversations() -> Result<ListPage, String> {
    #[cfg(feature = "ssr")]
    return list_conversations("active".to_string()).await.map_err(|e| e.to_string());
    #[cfg(not(feature = "ssr"))]
    crate::actions::get("/api/conversations?archived=false&limit=50").await
}

/// The chat page's conversation (see `get_conversation`): the server function during SSR, the
/// JSON API in the browser.
pub async fn load_conversation(id: String, at: Option<u64>, turn: Option<u32>) -> Result<Option<ConversationView>, String> {
    #[cfg(feature = "ssr")]
    return get_conversation(id, at, turn).await.map_err(|e| e.to_string());
    #[cfg(not(feature = "ssr"))]
    {
        let mut url = format!("/api/conversations/{}?turns={PAGE_TURNS}", crate::actions::encode(&id));
        if let Some(at) = at {
            url.push_str(&format!("&at={at}"));
        }
        if let Some(turn) = turn {
            url.push_str(&format!("&from_turn={turn}"));
        }
        crate::actions::get_found(&url).await
    }
}

/// The backend, as the server provides it to every rendered page; an error (never a panic) where
/// a page is rendered without it.
#[cfg(feature = "ssr")]
pub fn backend() -> Result<std::sync::Arc<backend::Backend>, ServerFnError> {
    use_context::<std::sync::Arc<backend::Backend>>().ok_or_else(|| ServerFnError::new("the server is not ready to render this page"))
}
