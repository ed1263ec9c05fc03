//! One conversation in the sidebar: its link with a status icon, and rename, archive and delete
//! (with a confirmation dialog).

use domain::ConversationSummary;
use leptos::prelude::*;

use super::Icon;
use crate::actions;

#[component]
pub fn ConversationItem(
    item: ConversationSummary,
    current: Signal<bool>,
    remove: Callback<String>,
    changed: Callback<ConversationSummary>,
) -> impl IntoView {
    let ui = expect_context::<crate::layout::Ui>();
    let renaming = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let draft = RwSignal::new(item.title.clone());
    let error = RwSignal::new(None::<String>);
    // Esc closes the confirmation dialog.
    Effect::new(move |seen: Option<u32>| {
        let now = ui.dialogs_closed.get();
        if seen.is_some() {
            confirming.set(false);
            renaming.set(false);
        }
        now
    });
    let id = StoredValue::new(item.id.clone());
    let summary = StoredValue::new(item.clone());
    let save_title = move || {
        if !renaming.get_untracked() {
            return;
        }
        renaming.set(false);
        let title = draft.get_untracked().trim().to_string();
        if title.is_empty() || title == summary.with_value(|s| s.title.clone()) {
            return;
        }
        let id = id.get_value();
        let mut updated = summary.get_value();
        leptos::task::spawn_local(async move {
            let body = serde_json::json!({ "title": title }).to_string();
            match actions::send_json("PATCH", &format!("/api/conversations/{id}"), &body).await {
                Ok(_) => {
                    updated.title = title;
                    changed.run(updated);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let toggle_archive = move |_| {
        let id = id.get_value();
        let archived = summary.with_value(|s| s.archived);
        let mut updated = summary.get_value();
        leptos::task::spawn_local(async move {
            let verb = if archived { "unarchive" } else { "archive" };
            match actions::send_json("POST", &format!("/api/conversations/{id}/{verb}"), "").await {
                Ok(_) => {
                    updated.archived = !archived;
                    changed.run(updated);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let delete = move |_| {
        confirming.set(false);
        let id = id.get_value();
        let was_open = current.get_untracked();
        leptos::task::spawn_local(async move {
            match actions::send_json("DELETE", &format!("/api/conversations/{id}"), "").await {
                Ok(_) => {
                    if was_open {
                        actions::go_to("/");
                    }
                    remove.run(id.clone());
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let title = if item.title.is_empty() { "New conversation".to_string() } else { item.title.clone() };
    let status = item.status.as_str();
    let archived = item.archived;
    view! {
        <li class="conversation" class:current=move || current.get()>
            <Show when=move || renaming.get()
                fallback=move || view! {
                    <a data-testid="conversation-item" href=format!("/c/{}", id.get_value()) data-id=id.get_value()
                        data-status=status class:current=move || current.get() aria-current=move || current.get().then_some("page")>
                        <span class="status-icon" data-testid="status-icon" data-status=status role="img" aria-label=status.replace('_', " ")></span>
                        <span class="title">{title.clone()}</span>
                    </a>
                }>
                <input data-testid="rename-input" class="rename" aria-label="New title"
                    prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev| match ev.key().as_str() {
                        "Enter" => { ev.prevent_default(); save_title(); }
                        "Escape" => { ev.stop_propagation(); renaming.set(false); }
                        _ => {}
                    }
                    on:blur=move |_| save_title()/>
            </Show>
            <span class="item-actions">
                <button type="button" class="icon" data-testid="rename" aria-label="Rename" title="Rename"
                    on:click=move |_| { draft.set(summary.with_value(|s| s.title.clone())); renaming.set(true); request_animation_frame(|| crate::dom::focus("[data-testid=rename-input]")); }>"✎"</button>
                <button type="button" class="icon" data-testid="archive" aria-label=if archived { "Unarchive" } else { "Archive" }
                    title=if archived { "Unarchive" } else { "Archive" } on:click=toggle_archive><Icon name=if archived { "unarchive" } else { "archive" }/></button>
                <button type="button" class="icon" data-testid="delete" aria-label="Delete" title="Delete"
                    on:click=move |_| confirming.set(true)><Icon name="trash"/></button>
            </span>
            {move || error.get().map(|message| view! { <p class="error">{message}</p> })}
            <Show when=move || confirming.get()>
                <div class="overlay" on:click=move |_| confirming.set(false)>
                    <div class="dialog" role="alertdialog" aria-modal="true" aria-label="Delete conversation" on:click=|ev| ev.stop_propagation()>
                        <p>"Delete this conversation for good?"</p>
                        <div class="actions">
                            <button type="button" class="secondary" data-testid="cancel-delete" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            <button type="button" class="danger" data-testid="confirm-delete" on:click=delete>"Delete"</button>
                        </div>
                    </div>
                </div>
            </Show>
        </li>
    }
}
