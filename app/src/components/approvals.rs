//! Pending tool approvals: the tool and its input, with Approve, Deny and Always allow.

use domain::{ConversationView, PendingApproval};
use leptos::prelude::*;

use crate::actions;

#[component]
pub fn Approvals(view: RwSignal<ConversationView>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    view! {
        <section class="approvals">
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || {
                view.with(|v| v.pending_approvals.clone())
                    .into_iter()
                    .map(|approval| view! { <ApprovalCard approval view error/> })
                    .collect_view()
            }}
        </section>
    }
}

#[component]
fn ApprovalCard(approval: PendingApproval, view: RwSignal<ConversationView>, error: RwSignal<Option<String>>) -> impl IntoView {
    let input = serde_json::to_string_pretty(&approval.input).unwrap_or_default();
    let decide = move |decision: &'static str| {
        let id = view.with_untracked(|v| v.id.clone());
        let approval_id = approval.id.clone();
        move |_| {
            let (id, approval_id) = (id.clone(), approval_id.clone());
            leptos::task::spawn_local(async move {
                match actions::decide(&id, &approval_id, decision).await {
                    Ok(()) => error.set(None),
                    Err(message) => error.set(Some(message)),
                }
            });
        }
    };
    view! {
        <div class="approval" data-testid="approval" role="alertdialog" aria-label="Tool approval">
            <p><strong>{approval.tool.clone()}</strong>" wants to run with:"</p>
            <pre>{input}</pre>
            <div class="actions">
                <button class="primary" data-testid="approve" on:click=decide("allow")>"Approve"</button>
                <button class="secondary" data-testid="deny" on:click=decide("deny")>"Deny"</button>
                <button class="secondary" data-testid="always-allow" on:click=decide("always")>{format!("Always allow {}", approval.tool)}</button>
            </div>
        </div>
    }
}
