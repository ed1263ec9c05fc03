//! Server functions that load page data during SSR. Thin shims over `backend`.

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

/// The newest conversations for the sidebar (`archived`: active, archived or all).
#[server]
pub async fn list_conversations(archived: String) -> Result<ListPage, ServerFnError> {
    use backend::views::{list, ArchivedFilter, ListQuery};
    let backend = expect_context::<std::sync::Arc<backend::Backend>>();
    let archived = match archived.as_str() {
        "archived" => ArchivedFilter::Archived,
        "all" => ArchivedFilter::All,
        _ => ArchivedFilter::Active,
    };
    let page = list(&backend.pool, &ListQuery { limit: 50, archived, ..ListQuery::default() })
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(ListPage { items: page.items, next: page.next })
}

/// One conversation, or `None` when it does not exist: as of event `at` when given, and only its
/// newest turns (down to `turn`, when asked to open there).
#[server]
pub async fn get_conversation(id: String, at: Option<u64>, turn: Option<u32>) -> Result<Option<ConversationView>, ServerFnError> {
    let backend = expect_context::<std::sync::Arc<backend::Backend>>();
    let Ok(id) = id.parse::<uuid_like::Id>() else { return Ok(None) };
    match backend.view(&id.0, at).await {
        Ok(mut view) => {
            // TODO(api branch): replace this trim with `backend.view_page(id, at, page)`, which loads
            // only the newest turns and fills in the rendered `html` of text blocks.
            newest_turns(&mut view, PAGE_TURNS, turn);
            Ok(Some(view))
        }
        Err(backend::BackendError::NotFound) => Ok(None),
        Err(error) => Err(ServerFnError::new(error.to_string())),
    }
}

/// Keeps the newest `turns` turns of `view` (and everything from turn `keep_from` on); sets `has_older`.
pub fn newest_turns(view: &mut ConversationView, turns: u32, keep_from: Option<u32>) {
    let mut numbers: Vec<u32> = view.messages.iter().map(|m| m.turn).collect();
    numbers.dedup();
    if numbers.len() <= turns as usize {
        return;
    }
    let mut first = numbers[numbers.len() - turns as usize];
    if let Some(keep) = keep_from {
        first = first.min(keep);
    }
    let before = view.messages.len();
    view.messages.retain(|m| m.turn >= first);
    view.has_older = view.has_older || view.messages.len() < before;
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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Message;

    #[test]
    fn only_the_newest_turns_are_kept() {
        let message = |turn| Message { role: "user".into(), turn, blocks: vec![], stop_reason: None, usage: None };
        let mut view = ConversationView { messages: (1..=5).map(message).collect(), ..Default::default() };
        newest_turns(&mut view, 2, None);
        assert_eq!(view.messages.iter().map(|m| m.turn).collect::<Vec<_>>(), [4, 5]);
        assert!(view.has_older);
        let mut view = ConversationView { messages: (1..=5).map(message).collect(), ..Default::default() };
        newest_turns(&mut view, 2, Some(2));
        assert_eq!(view.messages.len(), 4);
        let mut view = ConversationView { messages: (1..=2).map(message).collect(), ..Default::default() };
        newest_turns(&mut view, 2, None);
        assert!(!view.has_older);
    }
}

/// A conversation's audit log, oldest first: `[{seq, type|event_type, at, data, summary?}]`.
#[server]
pub async fn conversation_log(id: String) -> Result<Vec<serde_json::Value>, ServerFnError> {
    let backend = expect_context::<std::sync::Arc<backend::Backend>>();
    let Ok(id) = id.parse::<uuid_like::Id>() else { return Ok(vec![]) };
    let entries = backend.log.audit(&id.0).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(entries.into_iter().filter_map(|entry| serde_json::to_value(entry).ok()).collect())
}
