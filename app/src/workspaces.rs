//! The workspaces page: the agent workspaces under the workspace root, and creating one.

use leptos::prelude::*;

use crate::actions;

#[component]
pub fn WorkspacesPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        refresh.track();
        actions::get_json("/api/workspaces")
    });
    let name = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let create = move || {
        let wanted = name.get_untracked().trim().to_string();
        if wanted.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            let body = serde_json::json!({ "name": wanted }).to_string();
            match actions::send_json("POST", "/api/workspaces", &body).await {
                Ok(_) => {
                    name.set(String::new());
                    message.set(Some((true, format!("Workspace {wanted} created."))));
                    refresh.update(|n| *n += 1);
                }
                Err(error) => message.set(Some((false, error))),
            }
        });
    };
    view! {
        <main class="chat settings">
            <h1>"Workspaces"</h1>
            <p class="details">"Folders the agents work in. Pick one when you start a conversation."</p>
            <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); create(); }>
                <input data-testid="workspace-new" placeholder="new workspace name" aria-label="New workspace name"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <button type="submit" class="primary" data-testid="workspace-create">"Create"</button>
            </form>
            {move || message.get().map(|(ok, text)| view! { <p class=if ok { "notice" } else { "error" } role="status">{text}</p> })}
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || list.get().map(|loaded| match loaded {
                    Ok(doc) => {
                        let names: Vec<String> = doc["workspaces"].as_array().into_iter().flatten()
                            .filter_map(|w| w["name"].as_str().map(str::to_string)).collect();
                        let root = doc["root"].as_str().unwrap_or("").to_string();
                        view! {
                            <p class="details">{format!("Root: {root}")}</p>
                            {names.is_empty().then(|| view! { <p class="empty">"No workspaces yet."</p> })}
                            <ul class="plain-list">
                                {names.into_iter().map(|n| { let label = n.clone(); view! { <li data-testid="workspace-item" data-name=n><code>{label}</code></li> } }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                })}
            </Suspense>
        </main>
    }
}
