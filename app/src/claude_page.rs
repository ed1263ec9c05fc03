//! The Claude Code page: the CLI's login status and credentials, and its sessions to import.
//! Nothing secret is ever shown. Rendered by the server (`server_page.rs`); its forms post to the
//! server functions below.

use leptos::prelude::*;

use crate::server_page::ServerPage;

/// Stores a pasted `.credentials.json` for the CLI.
#[server(endpoint = "claude_credentials")]
pub async fn save_claude_credentials(credentials: String) -> Result<(), ServerFnError> {
    let body = serde_json::from_str(&credentials).map_err(|e| ServerFnError::new(format!("Not JSON: {e}")))?;
    crate::api::backend()?.store_claude_credentials(&body).map_err(crate::server_error::page_error)?;
    leptos_axum::redirect("/claude?done=saved");
    Ok(())
}

/// Removes the CLI's credentials.
#[server(endpoint = "claude_logout")]
pub async fn log_out_claude() -> Result<(), ServerFnError> {
    crate::api::backend()?.delete_claude_credentials().map_err(crate::server_error::page_error)?;
    leptos_axum::redirect("/claude?done=logout");
    Ok(())
}

/// Imports a CLI session as a conversation, then opens it.
#[server(endpoint = "claude_import")]
pub async fn import_claude_session(project: String, session_id: String) -> Result<(), ServerFnError> {
    let backend = crate::api::backend()?;
    let imported = backend.import_claude_session(&project, &session_id).await.map_err(crate::server_error::page_error)?;
    leptos_axum::redirect(&format!("/c/{}", imported.conversation_id));
    Ok(())
}

#[component]
pub fn ClaudePage() -> impl IntoView {
    view! { <ServerPage class="chat settings"/> }
}

/// The page's HTML; `url` carries what the last form post answered.
#[cfg(feature = "ssr")]
pub async fn render(backend: &std::sync::Arc<backend::Backend>, url: &leptos_router::location::Url) -> String {
    use leptos::server_fn::ServerFn;

    use crate::server_page::failure;

    let failed = failure(url, SaveClaudeCredentials::PATH)
        .or_else(|| failure(url, LogOutClaude::PATH))
        .or_else(|| failure(url, ImportClaudeSession::PATH));
    let message = failed.or_else(|| match url.search_params().get_str("done") {
        Some("saved") => Some("Credentials saved.".to_string()),
        Some("logout") => Some("Logged out.".to_string()),
        _ => None,
    });
    let status = backend.claude_auth();
    let key = if status.api_key { "An API key is passed to the CLI." } else { "No API key is passed to the CLI." };
    let login = match &status.credentials {
        c if c.present => format!(
            "Logged in{}{}.",
            c.subscription_type.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
            if c.expired == Some(true) { ", but the login has expired" } else { "" }
        ),
        _ => "Not logged in with a Claude account.".to_string(),
    };
    let sessions = backend.claude_sessions().await;
    crate::server_page::render_html(view! {
        <p><a href="/">"← Conversations"</a></p>
        <h1>"Claude Code"</h1>
        <p><a href="/claude/config" data-testid="config-link">"Edit Claude Code's configuration (CLAUDE.md, settings, commands, agents, skills, hooks) →"</a></p>
        {message.map(|m| view! { <p class="notice" role="status">{m}</p> })}
        <section>
            <h2>"Login"</h2>
            <p data-testid="claude-auth">{key}" "{login}</p>
            <form method="post" action=SaveClaudeCredentials::PATH>
                <label for="credentials">"Paste a "<code>".credentials.json"</code>" to log the CLI in:"</label>
                <textarea id="credentials" name="credentials" data-testid="credentials" rows="4" required></textarea>
                <div class="actions">
                    <button type="submit" class="primary" data-testid="save-credentials">"Save credentials"</button>
                    <button type="submit" class="secondary" data-testid="logout" form="claude-logout">"Log out"</button>
                </div>
            </form>
            <form id="claude-logout" method="post" action=LogOutClaude::PATH></form>
        </section>
        <section>
            <h2>"Sessions"</h2>
            {match sessions {
                Ok(sessions) if !sessions.is_empty() => sessions.into_iter().map(|session| {
                    let size = format!("{:.1} MB", session.size_bytes as f64 / 1_048_576.0);
                    view! {
                        <article class="session" data-testid="session">
                            <p><strong>{session.first_prompt.unwrap_or_default()}</strong></p>
                            <p class="details">{format!("{} · {} · {size}", session.project, session.modified_at)}</p>
                            <form method="post" action=ImportClaudeSession::PATH>
                                <input type="hidden" name="project" value=session.project/>
                                <input type="hidden" name="session_id" value=session.session_id/>
                                <button type="submit" class="secondary" data-testid="import">"Import"</button>
                            </form>
                        </article>
                    }
                }).collect_view().into_any(),
                Ok(_) => view! { <p class="empty">"No Claude Code sessions found."</p> }.into_any(),
                Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
            }}
        </section>
    })
}
