//! The sidebar drawer: the new-conversation form, links, and the live conversation list
//! (newest activity first, archived filter, "Load more", kept current by the summaries feed).

use domain::ConversationSummary;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{ConversationItem, NewConversation};
use crate::actions;
use crate::api::{load_conversations, ListPage};
use crate::layout::Ui;
use crate::live;

#[component]
pub fn Sidebar() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let first = Resource::new(|| (), |_| load_conversations());
    view! {
        <nav class="sidebar" id="sidebar" data-testid="sidebar" data-open=move || ui.drawer.get().to_string()>
            <NewConversation/>
            // The server renders these pages (server_page.rs): full page loads.
            <p class="links">
                <a href="/claude" rel="external" data-testid="claude-link">"Claude Code"</a>
                <a href="/workspaces" rel="external" data-testid="workspaces-link">"Workspaces"</a>
                <a href="/settings" rel="external" data-testid="settings-link">"Settings"</a>
            </p>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || first.get().map(|loaded| match loaded {
                    Ok(initial) => view! { <ConversationList initial/> }.into_any(),
                    Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                })}
            </Suspense>
        </nav>
    }
}

/// Where a summary goes in a list sorted by newest activity: `None` when it belongs to a page
/// not loaded yet.
pub fn insert_position(items: &[ConversationSummary], summary: &ConversationSummary, more: bool) -> Option<usize> {
    match items.iter().position(|item| item.updated_at < summary.updated_at) {
        Some(position) => Some(position),
        None if more => None,
        None => Some(items.len()),
    }
}

/// Whether a conversation shows under the archived filter.
fn shown(filter: &str, archived: bool) -> bool {
    match filter {
        "archived" => archived,
        "all" => true,
        _ => !archived,
    }
}

#[component]
fn ConversationList(initial: ListPage) -> impl IntoView {
    let items = RwSignal::new(initial.items);
    let next = RwSignal::new(initial.next);
    let filter = RwSignal::new("active".to_string());
    let error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    let location = use_location();
    let selected =
        Memo::new(move |_| location.pathname.get().strip_prefix("/c/").map(|rest| rest.split('/').next().unwrap_or("").to_string()));

    let fetch = move |before: Option<String>| {
        // The API takes `archived=false|true|all` (docs/UI.md says active|archived|all).
        let archived = match filter.get_untracked().as_str() {
            "archived" => "true",
            "all" => "all",
            _ => "false",
        };
        loading.set(true);
        leptos::task::spawn_local(async move {
            let mut url = format!("/api/conversations?archived={archived}&limit=50");
            if let Some(before) = &before {
                url.push_str(&format!("&before={}", actions::encode(before)));
            }
            let answer = actions::get::<ListPage>(&url).await;
            loading.set(false);
            match answer {
                Ok(page) => {
                    error.set(None);
                    if before.is_some() {
                        items.update(|list| {
                            for item in page.items {
                                if !list.iter().any(|known| known.id == item.id) {
                                    list.push(item);
                                }
                            }
                        });
                    } else {
                        items.set(page.items);
                    }
                    next.set(page.next);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    Effect::new(move |_| {
        live::follow_summaries(move |summary, deleted| {
            let more = next.with_untracked(Option::is_some);
            let visible = !deleted && shown(&filter.get_untracked(), summary.archived);
            items.update(|list| {
                list.retain(|item| item.id != summary.id);
                if visible {
                    if let Some(position) = insert_position(list, &summary, more) {
                        list.insert(position, summary);
                    }
                }
            });
        });
    });
    let remove = Callback::new(move |id: String| items.update(|list| list.retain(|item| item.id != id)));
    let changed = Callback::new(move |summary: ConversationSummary| {
        let keep = shown(&filter.get_untracked(), summary.archived);
        items.update(|list| {
            if keep {
                if let Some(item) = list.iter_mut().find(|item| item.id == summary.id) {
                    *item = summary;
                }
            } else {
                list.retain(|item| item.id != summary.id);
            }
        });
    });
    view! {
        <label class="filter">
            <span>"Show"</span>
            <select data-testid="archived-filter" aria-label="Which conversations" prop:value=move || filter.get()
                on:change=move |ev| { filter.set(event_target_value(&ev)); fetch(None); }>
                <option value="active" selected>"Active"</option>
                <option value="archived">"Archived"</option>
                <option value="all">"All"</option>
            </select>
        </label>
        {move || error.get().map(|message| view! { <p class="error">{message}</p> })}
        <ul class="conversations">
            <For each=move || items.get() key=|item| (item.id.clone(), item.title.clone(), item.status.as_str(), item.archived, item.updated_at.clone())
                children=move |item| {
                    let current = Signal::derive({
                        let id = item.id.clone();
                        move || selected.get().as_deref() == Some(id.as_str())
                    });
                    view! { <ConversationItem item current remove changed/> }
                }/>
        </ul>
        {move || items.with(Vec::is_empty).then(|| view! { <p class="empty">"No conversations yet."</p> })}
        <Show when=move || next.with(Option::is_some)>
            <button type="button" class="secondary more" data-testid="load-more" disabled=move || loading.get()
                on:click=move |_| fetch(next.get_untracked())>"Load more"</button>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Status;

    fn summary(id: &str, at: &str) -> ConversationSummary {
        ConversationSummary {
            id: id.into(),
            title: String::new(),
            status: Status::Idle,
            provider: "anthropic".into(),
            model: String::new(),
            archived: false,
            updated_at: at.into(),
        }
    }

    #[test]
    fn newer_activity_goes_first_and_older_waits_for_its_page() {
        let list = vec![summary("a", "2026-01-03T00:00:00Z"), summary("b", "2026-01-01T00:00:00Z")];
        assert_eq!(insert_position(&list, &summary("c", "2026-01-04T00:00:00Z"), true), Some(0));
        assert_eq!(insert_position(&list, &summary("c", "2026-01-02T00:00:00Z"), true), Some(1));
        assert_eq!(insert_position(&list, &summary("c", "2025-01-02T00:00:00Z"), true), None);
        assert_eq!(insert_position(&list, &summary("c", "2025-01-02T00:00:00Z"), false), Some(2));
        assert!(shown("all", true) && shown("archived", true) && !shown("active", true));
    }
}
