//! The settings page: API keys, set, replaced or deleted; the chat defaults (`defaults.rs`); and the
//! instructions for the agents (`instructions.rs`).
//!
//! A key's value is never shown again, nor sent back to the browser: only whether it is set, where
//! from (this page or the environment), and its last 4 characters. Keys saved here are stored
//! encrypted (`backend::secrets`) and replace the environment's for the providers.
//! The server renders the page (`server_page.rs`); its forms are plain HTML forms posting to the
//! server functions below.

use leptos::prelude::*;

use crate::server_page::ServerPage;

/// Stores or replaces a key.
#[server(endpoint = "save_api_key")]
pub async fn save_api_key(name: String, value: String) -> Result<(), ServerFnError> {
    crate::api::backend()?.set_api_key(&name, &value).await.map(|_| ()).map_err(crate::server_error::page_error)
}

/// Deletes a stored key.
#[server(endpoint = "delete_api_key")]
pub async fn delete_api_key(name: String) -> Result<(), ServerFnError> {
    crate::api::backend()?.delete_api_key(&name).await.map(|_| ()).map_err(crate::server_error::page_error)
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <ServerPage class="chat settings"/> }
}

/// The page's HTML; `url` carries what the last form post answered.
#[cfg(feature = "ssr")]
pub async fn render(backend: &std::sync::Arc<backend::Backend>, url: &leptos_router::location::Url) -> String {
    use leptos::server_fn::ServerFn;

    let keys = backend.api_keys().map_err(|e| crate::server_error::shown(&e));
    let problem = crate::server_page::failure(url, SaveApiKey::PATH).or_else(|| crate::server_page::failure(url, DeleteApiKey::PATH));
    let defaults = crate::defaults::render(backend, url).await;
    let instructions = crate::instructions::render(backend, url).await;
    crate::server_page::render_html(view! {
        <p><a href="/">"← Conversations"</a></p>
        <h1>"Settings"</h1>
        <section>
            <h2>"API keys"</h2>
            <p class="details">
                "Keys saved here are stored encrypted and replace the ones from the environment. "
                "They are never shown again: only whether each is set, and its last 4 characters."
            </p>
            {problem.map(|message| view! { <p class="error" role="alert" data-testid="settings-error">{message}</p> })}
            {match keys {
                Ok(keys) => keys.into_iter().map(key_row).collect_view().into_any(),
                Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
            }}
        </section>
        {defaults}
        {instructions}
    })
}

#[cfg(feature = "ssr")]
fn key_row(key: backend::secrets::KeyStatus) -> impl IntoView {
    use leptos::server_fn::ServerFn;

    let status = match (key.set, key.last4.as_deref(), key.source) {
        (false, _, _) => "not set".to_string(),
        (true, Some(last4), Some(source)) => format!("set, ends in …{last4} (from {})", from(source)),
        (true, None, Some(source)) => format!("set (from {})", from(source)),
        (true, _, None) => "set".to_string(),
    };
    let stored_here = key.source == Some("settings");
    let input_id = format!("key-{}", key.name);
    view! {
        <div class="session" data-testid="api-key" data-name=key.name data-set=key.set.to_string()>
            <p>
                <strong>{key.label}</strong>" "<code>{key.name}</code>
            </p>
            <p class="details" data-testid="api-key-status">{status}</p>
            <form method="post" action=SaveApiKey::PATH>
                <input type="hidden" name="name" value=key.name/>
                <div class="new">
                    <label for=input_id.clone() class="details">{if key.set { "New key" } else { "Key" }}</label>
                    <input
                        id=input_id
                        type="password"
                        name="value"
                        required
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="api-key-input"
                    />
                    <button type="submit" class="primary" data-testid="api-key-save">
                        {if key.set { "Replace" } else { "Save" }}
                    </button>
                </div>
            </form>
            {stored_here.then(|| view! {
                <form method="post" action=DeleteApiKey::PATH>
                    <input type="hidden" name="name" value=key.name/>
                    <button type="submit" class="secondary" data-testid="api-key-delete">"Delete"</button>
                </form>
            })}
        </div>
    }
}

#[cfg(feature = "ssr")]
fn from(source: &str) -> &'static str {
    match source {
        "settings" => "this page",
        _ => "the environment",
    }
}
