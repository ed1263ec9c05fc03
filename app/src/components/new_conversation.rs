//! The new-conversation form: provider, model and limits, workspace (from `GET /api/workspaces`)
//! and tool permissions, pre-filled from the chat defaults (`GET /api/settings/defaults`).

use leptos::prelude::*;

use crate::actions;

#[component]
pub fn NewConversation() -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    // What the user chose before the app hydrated is kept, but applied only once hydration is
    // over: hydration must build exactly what the server rendered (the provider decides which
    // fields exist, and a different tree makes hydration panic and leaves the page dead).
    let chosen: Vec<(RwSignal<String>, String)> = Vec::new();
    let chosen = std::cell::RefCell::new(chosen);
    let kept = |testid: &str, fallback: &str| {
        let signal = RwSignal::new(fallback.to_string());
        let typed = crate::dom::typed_text(&format!("[data-testid={testid}]"));
        if !typed.is_empty() {
            chosen.borrow_mut().push((signal, typed));
        }
        signal
    };
    let provider = kept("provider", "anthropic");
    let workspace = RwSignal::new(String::new());
    let mode = kept("permission-mode", "ask");
    let model = kept("model", "");
    let max_tokens = kept("max-tokens", "");
    let thinking = kept("thinking-budget", "");
    let chosen = chosen.into_inner();
    let touched = RwSignal::new(chosen.iter().any(|(signal, typed)| (*signal == provider && typed != "anthropic") || *signal == model));
    Effect::new(move |_| {
        for (signal, typed) in &chosen {
            signal.set(typed.clone());
        }
    });
    let effort = RwSignal::new(String::new());
    let workspaces = RwSignal::new(Vec::<String>::new());
    // Browser only: the workspaces and the defaults.
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(list) = actions::get_json("/api/workspaces").await {
                let names = list["workspaces"].as_array().into_iter().flatten();
                workspaces.set(names.filter_map(|w| w["name"].as_str().map(str::to_string)).collect());
            }
            if let (Ok(defaults), false) = (actions::get_json("/api/settings/defaults").await, touched.get_untracked()) {
                if let Some(value) = defaults["provider"].as_str().filter(|v| !v.is_empty()) {
                    provider.set(value.to_string());
                }
                if let Some(value) = defaults["model"].as_str() {
                    model.set(value.to_string());
                }
                if let Some(value) = defaults["thinking_budget"].as_u64() {
                    thinking.set(value.to_string());
                }
                if let Some(value) = defaults["permission_mode"].as_str().filter(|v| !v.is_empty()) {
                    mode.set(value.to_string());
                }
            }
        });
    });
    let thinks = move || capabilities(&provider.get()).is_some_and(|can| can.thinking);
    let reasons = move || capabilities(&provider.get()).is_some_and(|can| can.reasoning_effort);
    let create = move |_| {
        let form = NewConversationForm {
            provider: provider.get_untracked(),
            workspace: workspace.get_untracked(),
            permission_mode: mode.get_untracked(),
            model: model.get_untracked(),
            max_tokens: max_tokens.get_untracked(),
            thinking_budget: thinking.get_untracked(),
            reasoning_effort: effort.get_untracked(),
        };
        let body = match form.body() {
            Ok(body) => body,
            Err(message) => return error.set(Some(message)),
        };
        leptos::task::spawn_local(async move {
            match actions::create_conversation(body).await {
                Ok(id) => actions::go_to(&format!("/c/{id}")),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <div class="new">
            <select data-testid="provider" aria-label="Provider" prop:value=move || provider.get()
                on:change=move |ev| { touched.set(true); provider.set(event_target_value(&ev)) }>
                <option value="anthropic" selected>"Anthropic API"</option>
                <option value="claude_code">"Claude Code"</option>
                <option value="openai">"OpenAI API"</option>
                <option value="openai_compatible">"OpenAI-compatible server"</option>
            </select>
            <input data-testid="model" placeholder="model (default)" aria-label="Model" prop:value=move || model.get()
                on:input=move |ev| { touched.set(true); model.set(event_target_value(&ev)) }/>
            <input data-testid="max-tokens" type="number" min="1" placeholder="reply tokens (default)" aria-label="Response length in tokens"
                prop:value=move || max_tokens.get() on:input=move |ev| max_tokens.set(event_target_value(&ev))/>
            {move || thinks().then(|| view! {
                <input data-testid="thinking-budget" type="number" min="0" placeholder="thinking budget (default)"
                    aria-label="Extended thinking budget in tokens (0: off)" prop:value=move || thinking.get()
                    on:input=move |ev| thinking.set(event_target_value(&ev))/>
            })}
            {move || reasons().then(|| view! {
                <select data-testid="reasoning-effort" aria-label="Reasoning effort" on:change=move |ev| effort.set(event_target_value(&ev))>
                    <option value="" selected>"reasoning effort (default)"</option>
                    <option value="minimal">"minimal"</option>
                    <option value="low">"low"</option>
                    <option value="medium">"medium"</option>
                    <option value="high">"high"</option>
                </select>
            })}
            <select data-testid="workspace-select" aria-label="Workspace" prop:value=move || workspace.get()
                on:change=move |ev| workspace.set(event_target_value(&ev))>
                <option value="">"(no workspace)"</option>
                {move || workspaces.get().into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
            </select>
            <select data-testid="permission-mode" aria-label="Tool permissions" prop:value=move || mode.get()
                on:change=move |ev| { touched.set(true); mode.set(event_target_value(&ev)) }>
                <option value="ask" selected>"Ask before tools"</option>
                <option value="accept_edits">"Accept edits"</option>
                <option value="bypass">"Never ask"</option>
            </select>
            <button class="primary" data-testid="new-conversation" on:click=create>"+ New conversation"</button>
            {move || error.get().map(|message| view! { <p class="error">{message}</p> })}
        </div>
    }
}

/// The new-conversation form's values, as typed.
struct NewConversationForm {
    provider: String,
    workspace: String,
    permission_mode: String,
    model: String,
    max_tokens: String,
    thinking_budget: String,
    reasoning_effort: String,
}

impl NewConversationForm {
    /// The `POST /api/conversations` body: empty fields are left out (the server's defaults
    /// apply), and only the settings the provider has are sent.
    fn body(&self) -> Result<serde_json::Value, String> {
        let mut body = serde_json::json!({ "provider": self.provider, "permission_mode": self.permission_mode });
        let number = |field: &str, text: &str| -> Result<Option<u32>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| format!("{field} must be a whole number"))
        };
        let thinks = capabilities(&self.provider).is_some_and(|can| can.thinking);
        let reasons = capabilities(&self.provider).is_some_and(|can| can.reasoning_effort);
        if !self.workspace.trim().is_empty() {
            body["workspace"] = self.workspace.trim().into();
        }
        if !self.model.trim().is_empty() {
            body["model"] = self.model.trim().into();
        }
        if let Some(tokens) = number("The response length", &self.max_tokens)? {
            body["max_tokens"] = tokens.into();
        }
        if let Some(budget) = number("The thinking budget", &self.thinking_budget)?.filter(|_| thinks) {
            body["thinking_budget"] = budget.into();
        }
        if reasons && !self.reasoning_effort.is_empty() {
            body["reasoning_effort"] = self.reasoning_effort.clone().into();
        }
        Ok(body)
    }
}

/// What the provider with this id can do (the domain's one table), or `None` for an unknown id.
fn capabilities(provider: &str) -> Option<domain::Capabilities> {
    domain::ProviderId::parse(provider).map(domain::ProviderId::capabilities)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(provider: &str) -> NewConversationForm {
        NewConversationForm {
            provider: provider.into(),
            workspace: String::new(),
            permission_mode: "ask".into(),
            model: " gpt-5-mini ".into(),
            max_tokens: "2000".into(),
            thinking_budget: "4096".into(),
            reasoning_effort: "low".into(),
        }
    }

    #[test]
    fn only_the_settings_of_the_chosen_provider_are_sent() {
        let body = form("openai").body().unwrap();
        assert_eq!(
            body,
            serde_json::json!({"provider": "openai", "permission_mode": "ask", "model": "gpt-5-mini", "max_tokens": 2000, "reasoning_effort": "low"})
        );
        let body = form("anthropic").body().unwrap();
        assert_eq!(body["thinking_budget"], 4096);
        assert!(body.get("reasoning_effort").is_none());
        let mut bad = form("anthropic");
        bad.max_tokens = "lots".into();
        assert!(bad.body().unwrap_err().contains("whole number"));
    }
}
