//! The browser's live feeds: the open conversation's events, folded into its view signal (with
//! the finished turn re-fetched so its rendered HTML appears), and the conversation list's
//! summaries (`GET /api/conversations/live`).
//!
//! The browser's EventSource reconnects by itself and sends `Last-Event-ID`; the server resumes
//! after it, and `ConversationView::apply` ignores anything already applied. Each feed closes
//! when the component that opened it goes away.

use domain::{ConversationSummary, ConversationView};
use leptos::prelude::*;

/// Keeps `view` current with the server's events, from its `seq` on.
#[cfg(feature = "hydrate")]
pub fn follow(view: RwSignal<ConversationView>) {
    use domain::ConversationEvent as E;
    use futures::StreamExt;

    let (id, seq) = view.with_untracked(|v| (v.id.clone(), v.seq));
    let Some(mut frames) = open(&format!("/api/conversations/{id}/events?after={seq}"), &domain::ConversationEvent::TYPES) else {
        return;
    };
    leptos::task::spawn_local(async move {
        while let Some(data) = frames.next().await {
            // Read through `Value`, not serde's derive: see `ConversationEvent::from_json`.
            let Some(logged) = serde_json::from_str(&data).ok().as_ref().and_then(domain::LoggedEvent::from_json) else { continue };
            view.update(|v| v.apply(&logged));
            let title = view.with_untracked(|v| if v.title.is_empty() { "Conversation".to_string() } else { v.title.clone() });
            match &logged.event {
                E::TurnCompleted { turn, .. } | E::TurnFailed { turn, .. } | E::TurnAborted { turn } => {
                    let done = if matches!(logged.event, E::TurnFailed { .. }) { "failed" } else { "finished" };
                    crate::dom::notify(&format!("{title}: the turn {done}"));
                    refetch_turn(view, id.clone(), *turn).await;
                }
                E::ApprovalRequested { tool, .. } => crate::dom::notify(&format!("{title}: {tool} needs your approval")),
                _ => {}
            }
        }
    });
}

/// The data of every frame of the `kinds` events on `url`, while the component that opened it
/// lives: dropping the EventSource (when its owner is cleaned up) closes it.
#[cfg(feature = "hydrate")]
fn open(url: &str, kinds: &[&str]) -> Option<futures::stream::LocalBoxStream<'static, String>> {
    use futures::{future, StreamExt};
    use gloo_net::eventsource::futures::EventSource;

    let mut source = EventSource::new(url).ok()?;
    let subscriptions: Vec<_> = kinds.iter().filter_map(|kind| source.subscribe(*kind).ok()).collect();
    let alive = StoredValue::new_local(source);
    let frames = futures::stream::select_all(subscriptions)
        .take_while(move |_| future::ready(!alive.is_disposed()))
        .filter_map(|frame| future::ready(frame.ok().and_then(|(_, message)| message.data().as_string())));
    Some(frames.boxed_local())
}

/// Replaces turn `turn`'s messages with the server's (which carry the rendered HTML).
#[cfg(feature = "hydrate")]
async fn refetch_turn(view: RwSignal<ConversationView>, id: String, turn: u32) {
    let url = format!("/api/conversations/{id}/messages?before_turn={}&limit=1", turn + 1);
    let Ok(page) = crate::actions::get::<crate::api::MessagePage>(&url).await else { return };
    let fresh: Vec<_> = page.messages.into_iter().filter(|m| m.turn == turn).collect();
    if fresh.is_empty() {
        return;
    }
    view.update(|v| {
        let Some(at) = v.messages.iter().position(|m| m.turn == turn) else { return };
        v.messages.retain(|m| m.turn != turn);
        for (offset, message) in fresh.into_iter().enumerate() {
            v.messages.insert(at + offset, message);
        }
    });
}

#[cfg(not(feature = "hydrate"))]
pub fn follow(_view: RwSignal<ConversationView>) {}

/// The `deleted` flag a summary frame carries besides the summary itself.
#[cfg(feature = "hydrate")]
#[derive(serde::Deserialize)]
struct Deleted {
    #[serde(default)]
    deleted: bool,
}

/// Calls `apply(summary, deleted)` for every conversation-list change, from now on.
#[cfg(feature = "hydrate")]
pub fn follow_summaries(apply: impl Fn(ConversationSummary, bool) + 'static) {
    use futures::StreamExt;

    let Some(mut frames) = open("/api/conversations/live", &["summary"]) else { return };
    leptos::task::spawn_local(async move {
        while let Some(data) = frames.next().await {
            let deleted = serde_json::from_str::<Deleted>(&data).is_ok_and(|frame| frame.deleted);
            if let Ok(summary) = serde_json::from_str::<ConversationSummary>(&data) {
                apply(summary, deleted);
            }
        }
    });
}

#[cfg(not(feature = "hydrate"))]
pub fn follow_summaries(_apply: impl Fn(ConversationSummary, bool) + 'static) {}
