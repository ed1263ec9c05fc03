//! The search box: full-text search over messages (`GET /api/search`), debounced, with results
//! linking to the matching turn.

use leptos::prelude::*;
use serde::Deserialize;
use std::time::Duration;

use crate::actions;

#[derive(Debug, Clone, Deserialize)]
struct Hit {
    conversation_id: String,
    #[serde(default)]
    title: String,
    turn: u32,
    #[serde(default)]
    role: String,
    #[serde(default)]
    snippet: String,
}

#[derive(Deserialize)]
struct Hits {
    hits: Vec<Hit>,
}

/// The snippet with its matched words (between « and ») in `<mark>`, as text nodes.
fn marked(snippet: &str) -> Vec<AnyView> {
    let mut parts = Vec::new();
    for (i, piece) in snippet.split(['«', '»']).enumerate() {
        if piece.is_empty() {
            continue;
        }
        let piece = piece.to_string();
        parts.push(if i % 2 == 1 { view! { <mark>{piece}</mark> }.into_any() } else { piece.into_any() });
    }
    parts
}

#[component]
pub fn SearchBox() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let hits = RwSignal::new(Vec::<Hit>::new());
    let error = RwSignal::new(None::<String>);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let generation = StoredValue::new(0u32);
    let run = move |text: String| {
        generation.update_value(|n| *n += 1);
        let mine = generation.get_value();
        if text.trim().is_empty() {
            hits.set(vec![]);
            error.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            let url = format!("/api/search?q={}&limit=20", actions::encode(text.trim()));
            let answer = actions::get::<Hits>(&url).await;
            if generation.get_value() != mine {
                return;
            }
            match answer {
                Ok(found) => {
                    error.set(None);
                    hits.set(found.hits);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        query.set(text.clone());
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(move || run(text), Duration::from_millis(200)).ok();
        timer.set_value(handle);
    };
    let clear = move || {
        query.set(String::new());
        hits.set(vec![]);
        error.set(None);
    };
    view! {
        <div class="search" role="search">
            <input type="search" data-testid="search-input" placeholder="Search (Ctrl+K)" aria-label="Search messages"
                prop:value=move || query.get() on:input=on_input
                on:keydown=move |ev| if ev.key() == "Escape" { clear(); }/>
            {move || (!query.get().trim().is_empty()).then(|| view! {
                <ul class="search-results">
                    {move || error.get().map(|e| view! { <li class="error">{e}</li> })}
                    {move || {
                        let found = hits.get();
                        if found.is_empty() && error.get().is_none() {
                            return view! { <li class="empty">"No matches."</li> }.into_any();
                        }
                        found.into_iter().map(|hit| {
                            let href = format!("/c/{}?turn={}#turn-{}", hit.conversation_id, hit.turn, hit.turn);
                            let title = if hit.title.is_empty() { "New conversation".to_string() } else { hit.title };
                            view! {
                                <li>
                                    <a data-testid="search-result" href=href on:click=move |_| clear()>
                                        <strong>{title}</strong>
                                        <span class="meta">{format!(" · turn {} · {}", hit.turn, hit.role)}</span>
                                        <span class="snippet">{marked(&hit.snippet)}</span>
                                    </a>
                                </li>
                            }
                        }).collect_view().into_any()
                    }}
                </ul>
            })}
        </div>
    }
}
