//! The settings page: API keys, set, replaced or deleted; and the chat defaults (`defaults.rs`).
//!
//! A key's value is never shown again, nor sent back to the browser: only whether it is set, where
//! from (this page or the environment), and its last 4 characters. Keys saved here are stored
//! encrypted (`backend::secrets`) and replace the environment's for the providers.
//! The forms are server-function `ActionForm`s, so they work before (and without) hydration too.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::defaults::ChatDefaults;

/// What the page may know about a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyStatus {
    pub name: String,
    pub label: String,
    pub set: bool,
    pub source: Option<String>,
    pub last4: Option<String>,
}

#[cfg(feature = "ssr")]
fn store() -> Result<std::sync::Arc<backend::secrets::Secrets>, ServerFnError> {
    let backend = crate::api::backend()?;
    backend.secrets.clone().ok_or_else(|| ServerFnError::new("storing API keys is not configured (POCKET_DEV_SECRET_KEY)"))
}

#[cfg(feature = "ssr")]
fn convert(status: backend::secrets::KeyStatus) -> ApiKeyStatus {
    ApiKeyStatus {
        name: status.name.into(),
        label: status.label.into(),
        set: status.set,
        source: status.source.map(Into::into),
        last4: status.last4,
    }
}

/// Every key's status.
#[server(endpoint = "api_keys")]
pub async fn api_keys() -> Result<Vec<ApiKeyStatus>, ServerFnError> {
    Ok(store()?.status().into_iter().map(convert).collect())
}

/// Stores or replaces a key.
#[server(endpoint = "save_api_key")]
pub async fn save_api_key(name: String, value: String) -> Result<(), ServerFnError> {
    store()?.set(&name, &value).await.map(|_| ()).map_err(|e| ServerFnError::new(e.to_string()))
}

/// Deletes a stored key.
#[server(endpoint = "delete_api_key")]
pub async fn delete_api_key(name: String) -> Result<(), ServerFnError> {
    store()?.delete(&name).await.map(|_| ()).map_err(|e| ServerFnError::new(e.to_string()))
}

/// Every key's status: the server function during SSR, the JSON API in the browser.
async fn load_keys() -> Result<Vec<ApiKeyStatus>, String> {
    #[cfg(feature = "ssr")]
    return api_keys().await.map_err(|e| e.to_string());
    #[cfg(not(feature = "ssr"))]
    crate::actions::get("/api/settings/keys").await
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveApiKey>::new();
    let delete = ServerAction::<DeleteApiKey>::new();
    let keys = Resource::new(move || (save.version().get(), delete.version().get()), |_| load_keys());
    let problem = move || {
        let failed = |result: Option<Result<(), ServerFnError>>| match result {
            Some(Err(error)) => Some(error.to_string()),
            _ => None,
        };
        failed(save.value().get()).or_else(|| failed(delete.value().get()))
    };
    view! {
        <main class="chat settings">
            <p><a href="/">"← Conversations"</a></p>
            <h1>"Settings"</h1>
            <section>
                <h2>"API keys"</h2>
                <p class="details">
                    "Keys saved here are stored encrypted and replace the ones from the environment. "
                    "They are never shown again: only whether each is set, and its last 4 characters."
                </p>
                {move || problem().map(|message| view! { <p class="error" role="alert" data-testid="settings-error">{message}</p> })}
                <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                    {move || keys.get().map(|loaded| match loaded {
                        Ok(keys) => keys
                            .into_iter()
                            .map(|key| view! { <KeyRow key save delete/> })
                            .collect_view()
                            .into_any(),
                        Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
            <ChatDefaults/>
        </main>
    }
}

#[component]
fn KeyRow(key: ApiKeyStatus, save: ServerAction<SaveApiKey>, delete: ServerAction<DeleteApiKey>) -> impl IntoView {
    let status = match (key.set, key.last4.as_deref(), key.source.as_deref()) {
        (false, _, _) => "not set".to_string(),
        (true, Some(last4), Some(source)) => format!("set, ends in …{last4} (from {})", from(source)),
        (true, None, Some(source)) => format!("set (from {})", from(source)),
        (true, _, None) => "set".to_string(),
    };
    let stored_here = key.source.as_deref() == Some("settings");
    let input_id = format!("key-{}", key.name);
    let name = key.name.clone();
    let (row_name, form_name, label, code) = (key.name.clone(), key.name.clone(), key.label.clone(), key.name.clone());
    view! {
        <div class="session" data-testid="api-key" data-name=row_name data-set=key.set.to_string()>
            <p>
                <strong>{label}</strong>" "<code>{code}</code>
            </p>
            <p class="details" data-testid="api-key-status">{status}</p>
            <ActionForm action=save>
                <input type="hidden" name="name" value=form_name/>
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
            </ActionForm>
            {stored_here.then(|| view! {
                <ActionForm action=delete>
                    <input type="hidden" name="name" value=name/>
                    <button type="submit" class="secondary" data-testid="api-key-delete">"Delete"</button>
                </ActionForm>
            })}
        </div>
    }
}

fn from(source: &str) -> &'static str {
    match source {
        "settings" => "this page",
        _ => "the environment",
    }
}
