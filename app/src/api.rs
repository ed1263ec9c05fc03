//! Server functions that load page data during SSR. Thin shims over `backend`.

use domain::{ConversationSummary, ConversationView};
use leptos::prelude::*;

/// The newest conversations for the sidebar.
#[server]
pub async fn list_conversations() -> Result<Vec<ConversationSummary>, ServerFnError> {
    use backend::views::{list, ListQuery};
    let backend = expect_context::<std::sync::Arc<backend::Backend>>();
    let page = list(&backend.pool, &ListQuery { limit: 100, ..ListQuery::default() })
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(page.items)
}

/// One conversation, or `None` when it does not exist.
#[server]
pub async fn get_conversation(id: String) -> Result<Option<ConversationView>, ServerFnError> {
    let backend = expect_context::<std::sync::Arc<backend::Backend>>();
    let Ok(id) = id.parse::<uuid_like::Id>() else { return Ok(None) };
    match backend.view(&id.0, None).await {
        Ok(view) => Ok(Some(view)),
        Err(backend::BackendError::NotFound) => Ok(None),
        Err(error) => Err(ServerFnError::new(error.to_string())),
    }
}

#[cfg(feature = "ssr")]
mod uuid_like {
    /// A conversation id: 36 characters of hex digits and dashes.
    pub struct Id(pub String);

    impl std::str::FromStr for Id {
        type Err = ();
        fn from_str(raw: &str) -> Result<Self, ()> {
            let ok = raw.len() == 36 && raw.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            if ok { Ok(Id(raw.to_ascii_lowercase())) } else { Err(()) }
        }
    }
}
