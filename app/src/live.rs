//! The browser's live feed: an EventSource on the conversation's events, folded into the view signal.
//!
//! The browser's EventSource reconnects by itself and sends `Last-Event-ID`; the server resumes
//! after it, and `ConversationView::apply` ignores anything already applied.

use domain::ConversationView;
use leptos::prelude::*;


/// Keeps `view` current with the server's events, from its `seq` on.
#[cfg(feature = "hydrate")]
pub fn follow(view: RwSignal<ConversationView>) {
    use futures::StreamExt;
    use gloo_net::eventsource::futures::EventSource;

    let (id, seq) = view.with_untracked(|v| (v.id.clone(), v.seq));
    let Ok(mut source) = EventSource::new(&format!("/api/conversations/{id}/events?after={seq}")) else {
        return;
    };
    let subscriptions: Vec<_> = domain::ConversationEvent::TYPES.iter().filter_map(|kind| source.subscribe(*kind).ok()).collect();
    let mut frames = futures::stream::select_all(subscriptions);
    leptos::task::spawn_local(async move {
        let _source = source;
        while let Some(frame) = frames.next().await {
            let Ok((_, message)) = frame else { continue };
            let Some(data) = message.data().as_string() else { continue };
            if let Ok(logged) = serde_json::from_str::<domain::LoggedEvent>(&data) {
                view.update(|v| v.apply(&logged));
            }
        }
    });
}

#[cfg(not(feature = "hydrate"))]
pub fn follow(_view: RwSignal<ConversationView>) {}
