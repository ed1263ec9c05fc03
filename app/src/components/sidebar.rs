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
    let provider = RwSignal::new("anthropic".to_string());
    let workspace = RwSignal::new(String::new());
    let mode = RwSignal::new("ask".to_string());
    let create = move |_| {
        let (provider, workspace, mode) = (provider.get_untracked(), workspace.get_untracked(), mode.get_untracked());
        leptos::task::spawn_local(async move {
            match actions::create_conversation(&provider, &workspace, &mode).await {
                Ok(id) => actions::go_to(&format!("/c/{id}")),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <nav class="sidebar">
            <div class="new">
                <select data-testid="provider" aria-label="Provider" on:change=move |ev| provider.set(event_target_value(&ev))>
                    <option value="anthropic" selected>"Anthropic API"</option>
                    <option value="claude_code">"Claude Code"</option>
                </select>
                <input data-testid="workspace" placeholder="workspace (Claude Code)" aria-label="Workspace"
                    on:input=move |ev| workspace.set(event_target_value(&ev))/>
                <select data-testid="permission-mode" aria-label="Tool permissions" on:change=move |ev| mode.set(event_target_value(&ev))>
                    <option value="ask" selected>"Ask before tools"</option>
                    <option value="accept_edits">"Accept edits"</option>
                    <option value="bypass">"Never ask"</option>
                </select>
                <button class="primary" data-testid="new-conversation" on:click=create>"+ New conversation"</button>
            </div>
            <p class="links">
                <a href="/claude" data-testid="claude-link">"Claude Code sessions and login"</a>
                " · "
                <a href="/settings" data-testid="settings-link">"API keys"</a>
            </p>
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
