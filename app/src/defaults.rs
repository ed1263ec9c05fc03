//! The settings page's "Chat defaults": provider, model, thinking budget and tool permissions a
//! new conversation gets when it names none (`GET`/`PUT /api/settings/defaults`).

use leptos::prelude::*;
use serde_json::{json, Value};

use crate::actions;

/// The `PUT /api/settings/defaults` body; empty fields are `null` (no default).
pub fn defaults_body(provider: &str, model: &str, thinking: &str, permission: &str) -> Result<Value, String> {
    let text = |v: &str| if v.trim().is_empty() { Value::Null } else { Value::from(v.trim()) };
    let thinking = match thinking.trim() {
        "" => Value::Null,
        raw => raw.parse::<u32>().map(Value::from).map_err(|_| "The thinking budget must be a whole number".to_string())?,
    };
    Ok(json!({ "provider": text(provider), "model": text(model), "thinking_budget": thinking, "permission_mode": text(permission) }))
}

#[component]
pub fn ChatDefaults() -> impl IntoView {
    let provider = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let thinking = RwSignal::new(String::new());
    let permission = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match actions::get_json("/api/settings/defaults").await {
                Ok(d) => {
                    provider.set(d["provider"].as_str().unwrap_or("").to_string());
                    model.set(d["model"].as_str().unwrap_or("").to_string());
                    thinking.set(d["thinking_budget"].as_u64().map(|n| n.to_string()).unwrap_or_default());
                    permission.set(d["permission_mode"].as_str().unwrap_or("").to_string());
                }
                Err(error) => message.set(Some((false, error))),
            }
        });
    });
    let save = move || {
        let body = match defaults_body(&provider.get_untracked(), &model.get_untracked(), &thinking.get_untracked(), &permission.get_untracked()) {
            Ok(body) => body,
            Err(error) => return message.set(Some((false, error))),
        };
        leptos::task::spawn_local(async move {
            match actions::send_json("PUT", "/api/settings/defaults", &body.to_string()).await {
                Ok(_) => message.set(Some((true, "Defaults saved.".into()))),
                Err(error) => message.set(Some((false, error))),
            }
        });
    };
    view! {
        <section class="defaults">
            <h2>"Chat defaults"</h2>
            <p class="details">"What a new conversation gets when you leave a field empty."</p>
            <form class="grid-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
                <label>"Provider"
                    <select data-testid="default-provider" prop:value=move || provider.get() on:change=move |ev| provider.set(event_target_value(&ev))>
                        <option value="">"(server default)"</option>
                        <option value="anthropic">"Anthropic API"</option>
                        <option value="claude_code">"Claude Code"</option>
                        <option value="openai">"OpenAI API"</option>
                        <option value="openai_compatible">"OpenAI-compatible server"</option>
                    </select>
                </label>
                <label>"Model"
                    <input data-testid="default-model" placeholder="(provider default)" prop:value=move || model.get()
                        on:input=move |ev| model.set(event_target_value(&ev))/>
                </label>
                <label>"Thinking budget"
                    <input data-testid="default-thinking" type="number" min="0" placeholder="(off)" prop:value=move || thinking.get()
                        on:input=move |ev| thinking.set(event_target_value(&ev))/>
                </label>
                <label>"Tool permissions"
                    <select data-testid="default-permission" prop:value=move || permission.get() on:change=move |ev| permission.set(event_target_value(&ev))>
                        <option value="">"(server default)"</option>
                        <option value="ask">"Ask before tools"</option>
                        <option value="accept_edits">"Accept edits"</option>
                        <option value="bypass">"Never ask"</option>
                    </select>
                </label>
                <button type="submit" class="primary" data-testid="defaults-save">"Save defaults"</button>
            </form>
            {move || message.get().map(|(ok, text)| if ok {
                view! { <p class="notice" data-testid="defaults-saved" role="status">{text}</p> }.into_any()
            } else {
                view! { <p class="error" role="alert">{text}</p> }.into_any()
            })}
        </section>
    }
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
