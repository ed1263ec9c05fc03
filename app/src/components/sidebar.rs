//! The sidebar: the new-conversation button and the conversation list.

use domain::ConversationSummary;
use leptos::prelude::*;

use crate::actions;

#[component]
pub fn Sidebar(
    conversations: Resource<Result<Vec<ConversationSummary>, ServerFnError>>,
    selected: Signal<Option<String>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let create = move |_| {
        leptos::task::spawn_local(async move {
            match actions::create_conversation().await {
                Ok(id) => actions::go_to(&format!("/c/{id}")),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <nav class="sidebar">
            <button class="primary" data-testid="new-conversation" on:click=create>"+ New conversation"</button>
            {move || error.get().map(|message| view! { <p class="error">{message}</p> })}
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                <ul class="conversations">
                    {move || conversations.get().map(|loaded| match loaded {
                        Ok(items) => items
                            .into_iter()
                            .map(|item| {
                                let href = format!("/c/{}", item.id);
                                let current = selected.get().as_deref() == Some(item.id.as_str());
                                let title = if item.title.is_empty() { "New conversation".to_string() } else { item.title };
                                view! {
                                    <li>
                                        <a data-testid="conversation-item" href=href class:current=current data-status=item.status.as_str()>
                                            {title}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()
                            .into_any(),
                        Err(error) => view! { <li class="error">{error.to_string()}</li> }.into_any(),
                    })}
                </ul>
            </Suspense>
        </nav>
    }
}
