//! The audit timeline of one conversation (`/c/:id/timeline`): every event with its time and a
//! one-line summary, each linking to the conversation as of that event (`/c/:id?at=SEQ`).
//! Rendered by the server only (`server_page.rs`).

use leptos::prelude::*;

use crate::server_page::ServerPage;

#[component]
pub fn TimelinePage() -> impl IntoView {
    view! { <ServerPage class="chat timeline"/> }
}

/// The page's HTML: the log of conversation `id`, oldest first.
#[cfg(feature = "ssr")]
pub async fn render(backend: &std::sync::Arc<backend::Backend>, id: &str) -> String {
    let id = id.to_string();
    let log = match id.parse::<backend::ConversationId>() {
        Ok(valid) => backend.audit(valid.as_str()).await.map_err(|e| crate::server_error::shown(&e)),
        Err(_) => Ok(vec![]),
    };
    let back = format!("/c/{id}");
    crate::server_page::render_html(view! {
        <p><a href=back>"← Back to the conversation"</a></p>
        <h1>"Timeline"</h1>
        {match log {
            Ok(entries) if entries.is_empty() => view! { <p class="empty">"No events."</p> }.into_any(),
            Ok(entries) => view! {
                <ol class="events">
                    {entries.into_iter().map(|entry| {
                        let (seq, kind, at) = (entry.seq, entry.event_type, entry.at);
                        let time = at.replacen('T', " ", 1).chars().take(19).collect::<String>();
                        let label = kind.clone();
                        view! {
                            <li class="event" data-testid="timeline-event" data-seq=seq data-type=kind>
                                <span class="seq">{format!("#{seq}")}</span>
                                <time datetime=at>{time}</time>
                                <strong class="type">{label}</strong>
                                <span class="summary">{entry.summary}</span>
                                <a data-testid="timeline-open" href=format!("/c/{id}?at={seq}")>"Open as of here"</a>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }.into_any(),
            Err(error) => view! { <p class="error">{error}</p> }.into_any(),
        }}
    })
}
