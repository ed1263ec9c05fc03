//! The settings page's "Chat defaults": provider, model, thinking budget and tool permissions a
//! new conversation gets when it names none (the same as `GET`/`PUT /api/settings/defaults`).
//! Rendered by the server with the settings page; saved by a plain form post to `save_chat_defaults`.

use leptos::prelude::*;

/// The `PUT /api/settings/defaults` body; empty fields are `null` (no default).
#[cfg(any(feature = "ssr", test))]
pub fn defaults_body(provider: &str, model: &str, thinking: &str, permission: &str) -> Result<serde_json::Value, String> {
    use serde_json::{json, Value};

    let text = |v: &str| if v.trim().is_empty() { Value::Null } else { Value::from(v.trim()) };
    let thinking = match thinking.trim() {
        "" => Value::Null,
        raw => raw.parse::<u32>().map(Value::from).map_err(|_| "The thinking budget must be a whole number".to_string())?,
    };
    Ok(json!({ "provider": text(provider), "model": text(model), "thinking_budget": thinking, "permission_mode": text(permission) }))
}

/// Saves the chat defaults, then shows the settings page again with "Defaults saved.".
#[server(endpoint = "save_chat_defaults")]
pub async fn save_chat_defaults(
    provider: String,
    model: String,
    thinking_budget: String,
    permission_mode: String,
) -> Result<(), ServerFnError> {
    let body = defaults_body(&provider, &model, &thinking_budget, &permission_mode).map_err(ServerFnError::new)?;
    let defaults = serde_json::from_value(body).map_err(|e| ServerFnError::new(e.to_string()))?;
    crate::api::backend()?.set_chat_defaults(defaults).await.map_err(crate::server_error::page_error)?;
    leptos_axum::redirect("/settings?saved=defaults");
    Ok(())
}

/// The section's HTML: the stored defaults in the form, and what the last save answered.
#[cfg(feature = "ssr")]
pub async fn render(backend: &backend::Backend, url: &leptos_router::location::Url) -> AnyView {
    use leptos::server_fn::ServerFn;

    let failed = crate::server_page::failure(url, SaveChatDefaults::PATH);
    let saved = failed.is_none() && url.search_params().get_str("saved") == Some("defaults");
    let (stored, load_error) = match backend.chat_defaults().await {
        Ok(stored) => (stored, None),
        Err(error) => (Default::default(), Some(error.to_string())),
    };
    let provider = stored.provider.unwrap_or_default();
    let permission = stored.permission_mode.map(|mode| mode.as_str().to_string()).unwrap_or_default();
    let thinking = stored.thinking_budget.map(|n| n.to_string()).unwrap_or_default();
    let options = |choices: &[(&'static str, &'static str)], current: String| {
        choices.iter().map(|&(value, label)| view! { <option value=value selected=value == current>{label}</option> }).collect_view()
    };
    view! {
        <section class="defaults">
            <h2>"Chat defaults"</h2>
            <p class="details">"What a new conversation gets when you leave a field empty."</p>
            <form class="grid-form" method="post" action=SaveChatDefaults::PATH>
                <label>"Provider"
                    <select data-testid="default-provider" name="provider">
                        {options(
                            &[
                                ("", "(server default)"),
                                ("anthropic", "Anthropic API"),
                                ("claude_code", "Claude Code"),
                                ("openai", "OpenAI API"),
                                ("openai_compatible", "OpenAI-compatible server"),
                            ],
                            provider,
                        )}
                    </select>
                </label>
                <label>"Model"
                    <input data-testid="default-model" name="model" placeholder="(provider default)" value=stored.model.unwrap_or_default()/>
                </label>
                <label>"Thinking budget"
                    <input data-testid="default-thinking" name="thinking_budget" type="number" min="0" placeholder="(off)" value=thinking/>
                </label>
                <label>"Tool permissions"
                    <select data-testid="default-permission" name="permission_mode">
                        {options(&[("", "(server default)"), ("ask", "Ask before tools"), ("accept_edits", "Accept edits"), ("bypass", "Never ask")], permission)}
                    </select>
                </label>
                <button type="submit" class="primary" data-testid="defaults-save">"Save defaults"</button>
            </form>
            {saved.then(|| view! { <p class="notice" data-testid="defaults-saved" role="status">"Defaults saved."</p> })}
            {failed.or(load_error).map(|text| view! { <p class="error" role="alert">{text}</p> })}
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn empty_defaults_are_null_and_numbers_are_checked() {
        let body = super::defaults_body("anthropic", " ", "2048", "ask").unwrap();
        assert_eq!(body, serde_json::json!({"provider": "anthropic", "model": null, "thinking_budget": 2048, "permission_mode": "ask"}));
        assert!(super::defaults_body("", "", "lots", "").is_err());
    }
}
