//! The chat page: sidebar, the selected conversation with its live messages, and the composer.

use domain::ConversationView;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::{get_conversation, list_conversations};
use crate::components::{format_tokens, format_usd, Approvals, Composer, MessageList, Sidebar};
use crate::live;

#[component]
pub fn ChatPage() -> impl IntoView {
    let params = use_params_map();
    let selected = move || params.read().get("id");
    let conversations = Resource::new(|| (), |_| list_conversations());
    let conversation = Resource::new(selected, |id| async move {
        match id {
            Some(id) => get_conversation(id).await,
            None => Ok(None),
        }
    });
    view! {
        <div class="layout">
            <Sidebar conversations selected=Signal::derive(selected)/>
            <main class="chat">
                <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                    {move || conversation.get().map(|loaded| match loaded {
                        Ok(Some(initial)) => view! { <Conversation initial/> }.into_any(),
                        Ok(None) if selected().is_some() => view! { <p class="empty">"This conversation does not exist."</p> }.into_any(),
                        Ok(None) => view! { <p class="empty">"Start a new conversation, or pick one on the left."</p> }.into_any(),
                        Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                    })}
                </Suspense>
            </main>
        </div>
    }
}

#[component]
fn Conversation(initial: ConversationView) -> impl IntoView {
    let view = RwSignal::new(initial);
    Effect::new(move |started: Option<bool>| {
        if started.is_none() {
            live::follow(view);
        }
        true
    });
    let status = move || view.with(|v| v.status.as_str());
    let title = move || view.with(|v| if v.title.is_empty() { "New conversation".to_string() } else { v.title.clone() });
    let details = move || {
        view.with(|v| match &v.workspace {
            Some(workspace) => format!("{} · {} · {}", v.provider, workspace, v.permission_mode.as_str()),
            None => format!("{} · {}", v.provider, v.model),
        })
    };
    view! {
        <header class="chat-header">
            <div>
                <h1>{title}</h1>
                <p class="details" data-testid="conversation-details">{details}</p>
            </div>
            <div class="header-figures">
                <ContextMeterView view/>
                <span class="cost" data-testid="conversation-cost" title="What this conversation has cost so far">
                    {move || view.with(|v| format_usd(v.usage.cost_usd))}
                </span>
                <span class="status" data-testid="conversation-status" data-status=status>{status}</span>
            </div>
        </header>
        <MessageList view/>
        <Approvals view/>
        <Composer view/>
    }
}

/// How full the context window is after the last turn: a bar, the figures, and `data-level`
/// (`ok`, `warn` from 75 %, `danger` from 90 %).
#[component]
fn ContextMeterView(view: RwSignal<ConversationView>) -> impl IntoView {
    let meter = move || view.with(|v| v.context.clone());
    let level = move || meter().level.as_str();
    let label = move || {
        let m = meter();
        if m.window == 0 {
            format!("{} tokens", format_tokens(m.used_tokens))
        } else {
            format!("{} / {} ({:.1} %)", format_tokens(m.used_tokens), format_tokens(m.window), m.percent)
        }
    };
    let width = move || format!("width: {:.1}%", meter().percent.clamp(0.0, 100.0));
    view! {
        <span
            class="context-meter"
            data-testid="context-meter"
            data-level=level
            data-percent=move || format!("{:.1}", meter().percent)
            title="Context window used by the last turn (its prompt and reply)"
        >
            <span class="bar"><span class="fill" style=width></span></span>
            <span class="label">{label}</span>
        </span>
    }
}
