//! The Claude Code page: the CLI's login status and credentials, and its sessions to import.
//! Loaded in the browser from the JSON API; nothing secret is ever shown.

use leptos::prelude::*;
use serde_json::Value;

use crate::actions;

#[component]
pub fn ClaudePage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let status = LocalResource::new(move || {
        refresh.track();
        actions::get_json("/api/claude/auth")
    });
    let sessions = LocalResource::new(move || {
        refresh.track();
        actions::get_json("/api/claude/sessions")
    });
    let credentials = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let save = move |_| {
        let body = credentials.get_untracked();
        leptos::task::spawn_local(async move {
            match actions::send_json("PUT", "/api/claude/credentials", &body).await {
                Ok(_) => {
                    credentials.set(String::new());
                    message.set(Some("Credentials saved.".into()));
                    refresh.update(|n| *n += 1);
                }
                Err(error) => message.set(Some(error)),
            }
        });
    };
    let logout = move |_| {
        leptos::task::spawn_local(async move {
            match actions::send_json("DELETE", "/api/claude/credentials", "").await {
                Ok(_) => {
                    message.set(Some("Logged out.".into()));
                    refresh.update(|n| *n += 1);
                }
                Err(error) => message.set(Some(error)),
            }
        });
    };
    view! {
        <main class="chat settings">
            <p><a href="/">"← Conversations"</a></p>
            <h1>"Claude Code"</h1>
            <p><a href="/claude/config" data-testid="config-link">"Edit Claude Code's configuration (CLAUDE.md, settings, commands, agents, skills, hooks) →"</a></p>
            {move || message.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
            <section>
                <h2>"Login"</h2>
                <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                    {move || status.get().map(|loaded| match loaded {
                        Ok(status) => view! { <AuthSummary status/> }.into_any(),
                        Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                    })}
                </Suspense>
                <label for="credentials">"Paste a "<code>".credentials.json"</code>" to log the CLI in:"</label>
                <textarea id="credentials" data-testid="credentials" rows="4" prop:value=move || credentials.get()
                    on:input=move |ev| credentials.set(event_target_value(&ev))></textarea>
                <div class="actions">
                    <button class="primary" data-testid="save-credentials" on:click=save>"Save credentials"</button>
                    <button class="secondary" data-testid="logout" on:click=logout>"Log out"</button>
                </div>
            </section>
            <section>
                <h2>"Sessions"</h2>
                <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                    {move || sessions.get().map(|loaded| match loaded {
                        Ok(Value::Array(items)) if !items.is_empty() => items
                            .into_iter()
                            .map(|session| view! { <SessionRow session message/> })
                            .collect_view()
                            .into_any(),
                        Ok(_) => view! { <p class="empty">"No Claude Code sessions found."</p> }.into_any(),
                        Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
        </main>
    }
}

#[component]
fn AuthSummary(status: Value) -> impl IntoView {
    let key = if status["api_key"] == true { "An API key is passed to the CLI." } else { "No API key is passed to the CLI." };
    let login = match &status["credentials"] {
        c if c["present"] == true => format!(
            "Logged in{}{}.",
            c["subscription_type"].as_str().map(|s| format!(" ({s})")).unwrap_or_default(),
            if c["expired"] == true { ", but the login has expired" } else { "" }
        ),
        _ => "Not logged in with a Claude account.".to_string(),
    };
    view! { <p data-testid="claude-auth">{key}" "{login}</p> }
}

#[component]
fn SessionRow(session: Value, message: RwSignal<Option<String>>) -> impl IntoView {
    let text = |key: &str| session[key].as_str().unwrap_or_default().to_string();
    let (project, session_id) = (text("project"), text("session_id"));
    let size = session["size_bytes"].as_u64().unwrap_or(0);
    let import = move |_| {
        let body = serde_json::json!({"project": project, "session_id": session_id}).to_string();
        leptos::task::spawn_local(async move {
            message.set(Some("Importing…".into()));
            match actions::send_json("POST", "/api/claude/sessions/import", &body).await {
                Ok(imported) => {
                    let id = imported["conversation"]["id"].as_str().unwrap_or_default().to_string();
                    actions::go_to(&format!("/c/{id}"));
                }
                Err(error) => message.set(Some(error)),
            }
        });
    };
    view! {
        <article class="session" data-testid="session">
            <p><strong>{text("first_prompt")}</strong></p>
            <p class="details">{format!("{} · {} · {:.1} MB", text("project"), text("modified_at"), size as f64 / 1_048_576.0)}</p>
            <button class="secondary" data-testid="import" on:click=import>"Import"</button>
        </article>
    }
}
