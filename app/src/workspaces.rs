//! The workspaces page: the agent workspaces under the workspace root, and creating one.
//! Rendered by the server (`server_page.rs`); the form posts to `create_workspace`.

use leptos::prelude::*;

use crate::server_page::ServerPage;

/// Creates a workspace, then shows the page again with it.
#[server(endpoint = "create_workspace")]
pub async fn create_workspace(name: String) -> Result<(), ServerFnError> {
    let created = crate::api::backend()?.create_workspace(name.trim()).map_err(crate::server_error::page_error)?;
    leptos_axum::redirect(&format!("/workspaces?created={}", crate::actions::encode(&created)));
    Ok(())
}

#[component]
pub fn WorkspacesPage() -> impl IntoView {
    view! { <ServerPage class="chat settings"/> }
}

/// The page's HTML; `url` carries what the last form post answered.
#[cfg(feature = "ssr")]
pub async fn render(backend: &std::sync::Arc<backend::Backend>, url: &leptos_router::location::Url) -> String {
    use leptos::server_fn::ServerFn;

    let message = match (crate::server_page::failure(url, CreateWorkspace::PATH), url.search_params().get("created")) {
        (Some(error), _) => Some((false, error)),
        (None, Some(name)) => Some((true, format!("Workspace {name} created."))),
        (None, None) => None,
    };
    let root = backend.workspaces_root().display().to_string();
    let list = backend.workspaces().map_err(|e| crate::server_error::shown(&e));
    crate::server_page::render_html(view! {
        <h1>"Workspaces"</h1>
        <p class="details">"Folders the agents work in. Pick one when you start a conversation."</p>
        <form class="inline-form" method="post" action=CreateWorkspace::PATH>
            <input data-testid="workspace-new" name="name" required placeholder="new workspace name" aria-label="New workspace name"/>
            <button type="submit" class="primary" data-testid="workspace-create">"Create"</button>
        </form>
        {message.map(|(ok, text)| view! { <p class=if ok { "notice" } else { "error" } role="status">{text}</p> })}
        {match list {
            Ok(names) => view! {
                <p class="details">{format!("Root: {root}")}</p>
                {names.is_empty().then(|| view! { <p class="empty">"No workspaces yet."</p> })}
                <ul class="plain-list">
                    {names.into_iter().map(|n| { let label = n.clone(); view! { <li data-testid="workspace-item" data-name=n><code>{label}</code></li> } }).collect_view()}
                </ul>
            }.into_any(),
            Err(error) => view! { <p class="error">{error}</p> }.into_any(),
        }}
    })
}
