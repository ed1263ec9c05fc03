//! The settings page's "Instructions for the agents": a text every turn's system prompt ends with,
//! for every workspace or for one (the same as `GET`/`PUT /api/settings/instructions` and
//! `/api/workspaces/{workspace}/instructions`). Rendered by the server with the settings page: a
//! GET form picks whose instructions show (`?instructions=<workspace>`), a plain form post to
//! `save_instructions` saves them.

use leptos::prelude::*;

/// Saves the instructions for every workspace (`workspace` empty) or for one, then shows them again.
#[server(endpoint = "save_instructions")]
pub async fn save_instructions(workspace: String, text: String) -> Result<(), ServerFnError> {
    let scope = Some(workspace.as_str()).filter(|name| !name.is_empty());
    let instructions = backend::instructions::Instructions { text };
    crate::api::backend()?.set_instructions(scope, instructions).await.map_err(crate::server_error::page_error)?;
    // Workspace names are letters, digits and `._-`: nothing to escape in a query.
    leptos_axum::redirect(&format!("/settings?instructions={workspace}&saved=instructions#instructions"));
    Ok(())
}

/// The section's HTML: the chosen scope's stored text in the form, and what the last save answered.
#[cfg(feature = "ssr")]
pub async fn render(backend: &backend::Backend, url: &leptos_router::location::Url) -> AnyView {
    use leptos::server_fn::ServerFn;

    let params = url.search_params();
    let scope = params.get_str("instructions").filter(|name| !name.is_empty()).map(str::to_string);
    let failed = crate::server_page::failure(url, SaveInstructions::PATH);
    let saved = failed.is_none() && params.get_str("saved") == Some("instructions");
    let workspaces = backend.workspaces().unwrap_or_default();
    let (text, load_error) = match backend.instructions(scope.as_deref()).await {
        Ok(stored) => (stored.text, None),
        Err(error) => (String::new(), Some(crate::server_error::shown(&error))),
    };
    let current = scope.clone().unwrap_or_default();
    let options = std::iter::once((String::new(), "Every workspace".to_string()))
        .chain(workspaces.into_iter().map(|name| (name.clone(), format!("Workspace {name}"))))
        .map(|(value, label)| view! { <option selected=value == current value=value>{label}</option> })
        .collect_view();
    view! {
        <section class="instructions" id="instructions">
            <h2>"Instructions for the agents"</h2>
            <p class="details">
                "Added to the end of every turn's system prompt, after PocketDev's own and the workspace's AGENTS.md or "
                "CLAUDE.md; those for every workspace come before a workspace's own. Claude Code gets them too."
            </p>
            <form class="grid-form" method="get" action="/settings#instructions">
                <label>"For"
                    <select data-testid="instructions-scope" name="instructions">{options}</select>
                </label>
                <button type="submit" class="secondary" data-testid="instructions-show">"Show"</button>
            </form>
            <form class="grid-form" method="post" action=SaveInstructions::PATH>
                <input type="hidden" name="workspace" value=current/>
                <label>"Instructions"
                    <textarea data-testid="instructions-text" name="text" rows="8" maxlength="32768"
                        placeholder="For example: answer in French; run the tests with make test.">{text}</textarea>
                </label>
                <button type="submit" class="primary" data-testid="instructions-save">"Save instructions"</button>
            </form>
            {saved.then(|| view! { <p class="notice" data-testid="instructions-saved" role="status">"Instructions saved."</p> })}
            {failed.or(load_error).map(|text| view! { <p class="error" role="alert" data-testid="instructions-error">{text}</p> })}
        </section>
    }
    .into_any()
}
