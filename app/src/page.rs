//! The chat page: the selected conversation (live, or read-only as of an event with `?at=`), its
//! header, messages, approvals and composer. The sidebar lives in the layout.

use domain::ConversationView;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::load_conversation;
use crate::components::{format_tokens, format_usd, Approvals, Composer, MessageList};
use crate::live;

#[component]
pub fn ChatPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let selected = move || params.read().get("id");
    let at = move || query.read().get("at").and_then(|s| s.parse::<u64>().ok());
    let turn = move || query.read().get("turn").and_then(|s| s.parse::<u32>().ok());
    let conversation = Resource::new(
        move || (selected(), at(), turn()),
        |(id, at, turn)| async move {
            match id {
                Some(id) => load_conversation(id, at, turn).await,
                None => Ok(None),
            }
        },
    );
    view! {
        <main class="chat">
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || conversation.get().map(|loaded| match loaded {
                    Ok(Some(initial)) => view! { <Conversation initial at=at() turn=turn()/> }.into_any(),
                    Ok(None) if selected().is_some() => view! { <p class="empty">"This conversation does not exist."</p> }.into_any(),
                    Ok(None) => view! { <p class="empty">"Start a new conversation, or pick one from the list."</p> }.into_any(),
                    Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Conversation(initial: ConversationView, at: Option<u64>, turn: Option<u32>) -> impl IntoView {
    let live = at.is_none();
    let view = RwSignal::new(initial);
    if live {
        Effect::new(move |started: Option<bool>| {
            if started.is_none() {
                live::follow(view);
            }
            true
        });
    }
    let id = view.with_untracked(|v| v.id.clone());
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
            <div class="chat-title">
                <h1>{title}</h1>
                <p class="details" data-testid="conversation-details">{details}</p>
            </div>
            <div class="header-figures">
                <ContextMeterView view/>
                <span class="cost" data-testid="conversation-cost" title="What this conversation has cost so far">
                    {move || view.with(|v| format_usd(v.usage.cost_usd))}
                </span>
                <span class="status" data-testid="conversation-status" data-status=status>{status}</span>
                <a class="header-link" data-testid="timeline-link" href=format!("/c/{id}/timeline") rel="external" title="Audit timeline">"Timeline"</a>
                <a class="header-link" data-testid="export" href=format!("/api/conversations/{id}/export.md") download="" rel="external"
                    title="Export as Markdown">"Export"</a>
            </div>
        </header>
        {at.map(|seq| view! {
            <p class="at-banner" data-testid="at-banner" role="status">
                {format!("Read-only: this conversation as of event {seq}. ")}
                <a href=format!("/c/{id}") rel="external">"Back to the live conversation"</a>
            </p>
        })}
        <MessageList view highlight=Signal::stored(turn) live/>
        {live.then(|| view! {
            <Approvals view/>
            <Composer view/>
        })}
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
