//! The composer: Enter sends, Shift+Enter inserts a newline; plus the stop button.

use domain::{ConversationView, Status};
use leptos::prelude::*;

use crate::actions;

#[component]
pub fn Composer(view: RwSignal<ConversationView>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let running = move || view.with(|v| v.status == Status::Running);
    let send = move || {
        let prompt = text.get_untracked();
        if prompt.trim().is_empty() {
            return;
        }
        let id = view.with_untracked(|v| v.id.clone());
        leptos::task::spawn_local(async move {
            match actions::send_message(&id, &prompt).await {
                Ok(()) => {
                    text.set(String::new());
                    error.set(None);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let stop = move |_| {
        let id = view.with_untracked(|v| v.id.clone());
        leptos::task::spawn_local(async move {
            if let Err(message) = actions::stop(&id).await {
                error.set(Some(message));
            }
        });
    };
    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <textarea
                data-testid="composer"
                placeholder="Message… (Enter sends, Shift+Enter for a new line)"
                rows="3"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    }
                }
            ></textarea>
            <div class="actions">
                <button type="button" data-testid="stop" class="secondary" on:click=stop disabled=move || !running()>"Stop"</button>
                <button type="submit" data-testid="send" class="primary">"Send"</button>
            </div>
        </form>
    }
}
