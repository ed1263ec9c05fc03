//! The Claude Code configuration editor (`/claude/config`): per scope (global, or a workspace),
//! CLAUDE.md, settings.json, commands, agents and skills, new ones, and the `hooks` object.

use leptos::prelude::*;
use serde_json::{json, Value};

use crate::actions::{self, encode};

/// Where a new command, agent or skill lives, relative to the scope's `.claude` folder.
pub fn new_file_path(kind: &str, name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err("Names use letters, digits, - and _ only".into());
    }
    Ok(match kind {
        "agent" => format!("agents/{name}.md"),
        "skill" => format!("skills/{name}/SKILL.md"),
        _ => format!("commands/{name}.md"),
    })
}

fn template(kind: &str, name: &str) -> String {
    match kind {
        "agent" => format!("---\nname: {name}\ndescription: What this agent is for\n---\n\nYou are…\n"),
        "skill" => format!("---\nname: {name}\ndescription: When to use this skill\n---\n\n# {name}\n"),
        _ => "Describe what this command should do. $ARGUMENTS\n".to_string(),
    }
}

#[component]
pub fn ConfigPage() -> impl IntoView {
    let scope = RwSignal::new("global".to_string());
    let refresh = RwSignal::new(0u32);
    let workspaces = LocalResource::new(|| actions::get_json("/api/workspaces"));
    let files = LocalResource::new(move || {
        refresh.track();
        let scope = scope.get();
        async move { actions::get_json(&format!("/api/claude/config?scope={}", encode(&scope))).await }
    });
    let open = RwSignal::new(None::<String>);
    let content = RwSignal::new(String::new());
    let status = RwSignal::new(None::<(bool, String)>);
    let new_kind = RwSignal::new("command".to_string());
    let new_name = RwSignal::new(String::new());

    let load = move |path: String| {
        let scope = scope.get_untracked();
        status.set(None);
        open.set(Some(path.clone()));
        leptos::task::spawn_local(async move {
            match actions::get_json(&format!("/api/claude/config/file?scope={}&path={}", encode(&scope), encode(&path))).await {
                Ok(doc) => content.set(doc["content"].as_str().unwrap_or("").to_string()),
                Err(error) => status.set(Some((false, error))),
            }
        });
    };
    let write = move |path: String, text: String, then_open: bool| {
        let scope = scope.get_untracked();
        leptos::task::spawn_local(async move {
            let url = format!("/api/claude/config/file?scope={}&path={}", encode(&scope), encode(&path));
            match actions::send_json("PUT", &url, &json!({ "content": text }).to_string()).await {
                Ok(_) => {
                    status.set(Some((true, format!("Saved {path}."))));
                    refresh.update(|n| *n += 1);
                    if then_open {
                        open.set(Some(path));
                        content.set(text);
                    }
                }
                Err(error) => status.set(Some((false, error))),
            }
        });
    };
    let save = move |_| {
        if let Some(path) = open.get_untracked() {
            write(path, content.get_untracked(), false);
        }
    };
    let create = move |_| {
        let kind = new_kind.get_untracked();
        match new_file_path(&kind, &new_name.get_untracked()) {
            Ok(path) => {
                let text = template(&kind, new_name.get_untracked().trim());
                new_name.set(String::new());
                write(path, text, true);
            }
            Err(error) => status.set(Some((false, error))),
        }
    };
    view! {
        <main class="chat settings config">
            <p><a href="/claude" rel="external">"← Claude Code"</a></p>
            <h1>"Claude Code configuration"</h1>
            <label>"Scope "
                <select data-testid="config-scope" prop:value=move || scope.get()
                    on:change=move |ev| { scope.set(event_target_value(&ev)); open.set(None); status.set(None); }>
                    <option value="global">"Global (~/.claude)"</option>
                    {move || workspaces.get().and_then(Result::ok).map(|doc| {
                        doc["workspaces"].as_array().cloned().unwrap_or_default().into_iter()
                            .filter_map(|w| w["name"].as_str().map(str::to_string))
                            .map(|name| view! { <option value=format!("workspace:{name}")>{format!("Workspace {name}")}</option> })
                            .collect_view()
                    })}
                </select>
            </label>
            <div class="config-columns">
                <section>
                    <h2>"Files"</h2>
                    <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                        {move || files.get().map(|loaded| match loaded {
                            Ok(doc) => view! {
                                <p class="details">{doc["dir"].as_str().unwrap_or("").to_string()}</p>
                                <ul class="plain-list files">
                                    {doc["files"].as_array().cloned().unwrap_or_default().into_iter().map(|file| {
                                        let path = file["path"].as_str().unwrap_or("").to_string();
                                        let exists = file["exists"] != false;
                                        let label = format!("{} · {}", file["kind"].as_str().unwrap_or(""), file["name"].as_str().unwrap_or(&path));
                                        let target = path.clone();
                                        let current = path.clone();
                                        view! {
                                            <li>
                                                <button type="button" class="file" data-testid="config-file" data-path=path.clone()
                                                    class:current=move || open.get().as_deref() == Some(current.as_str()) class:missing=!exists
                                                    on:click=move |_| load(target.clone())>
                                                    {label}{(!exists).then_some(" (new)")}
                                                </button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                        })}
                    </Suspense>
                    <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); create(()); }>
                        <select data-testid="config-new-kind" aria-label="Kind" prop:value=move || new_kind.get()
                            on:change=move |ev| new_kind.set(event_target_value(&ev))>
                            <option value="command">"Command"</option>
                            <option value="agent">"Agent"</option>
                            <option value="skill">"Skill"</option>
                        </select>
                        <input data-testid="config-new-name" placeholder="name" aria-label="Name" prop:value=move || new_name.get()
                            on:input=move |ev| new_name.set(event_target_value(&ev))/>
                        <button type="button" class="secondary" data-testid="config-create" on:click=move |_| create(())>"Create"</button>
                    </form>
                </section>
                <section>
                    <h2>{move || open.get().unwrap_or_else(|| "Pick a file".into())}</h2>
                    {move || status.get().map(|(ok, text)| if ok {
                        view! { <p class="notice" data-testid="config-saved" role="status">{text}</p> }.into_any()
                    } else {
                        view! { <p class="error" data-testid="config-error" role="alert">{text}</p> }.into_any()
                    })}
                    <Show when=move || open.get().is_some()>
                        <textarea data-testid="config-editor" class="editor" rows="18" spellcheck="false" aria-label="File content"
                            prop:value=move || content.get() on:input=move |ev| content.set(event_target_value(&ev))></textarea>
                        <button type="button" class="primary" data-testid="config-save" on:click=save>"Save"</button>
                    </Show>
                </section>
            </div>
            <Hooks scope/>
        </main>
    }
}

/// The `hooks` object of the scope's settings.json, edited as JSON.
#[component]
fn Hooks(scope: RwSignal<String>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(None::<(bool, String)>);
    Effect::new(move |_| {
        let scope = scope.get();
        leptos::task::spawn_local(async move {
            match actions::get_json(&format!("/api/claude/config/hooks?scope={}", encode(&scope))).await {
                Ok(doc) => {
                    let hooks = doc.get("hooks").cloned().unwrap_or(Value::Null);
                    let hooks = if hooks.is_null() { json!({}) } else { hooks };
                    text.set(serde_json::to_string_pretty(&hooks).unwrap_or_default());
                    status.set(None);
                }
                Err(error) => status.set(Some((false, error))),
            }
        });
    });
    let save = move |_| {
        let hooks = match serde_json::from_str::<Value>(&text.get_untracked()) {
            Ok(hooks) => hooks,
            Err(error) => return status.set(Some((false, format!("Not JSON: {error}")))),
        };
        let scope = scope.get_untracked();
        leptos::task::spawn_local(async move {
            let url = format!("/api/claude/config/hooks?scope={}", encode(&scope));
            match actions::send_json("PUT", &url, &json!({ "hooks": hooks }).to_string()).await {
                Ok(_) => status.set(Some((true, "Hooks saved.".into()))),
                Err(error) => status.set(Some((false, error))),
            }
        });
    };
    view! {
        <section class="hooks">
            <h2>"Hooks"</h2>
            <p class="details">"The "<code>"hooks"</code>" object of this scope's settings.json; its other keys are kept."</p>
            <textarea data-testid="hooks-editor" class="editor" rows="10" spellcheck="false" aria-label="Hooks JSON"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button type="button" class="primary" data-testid="hooks-save" on:click=save>"Save hooks"</button>
            {move || status.get().map(|(ok, message)| view! {
                <p class=if ok { "notice" } else { "error" } data-testid="hooks-status" role="status">{message}</p>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_files_go_where_claude_code_looks() {
        assert_eq!(super::new_file_path("command", "review").unwrap(), "commands/review.md");
        assert_eq!(super::new_file_path("agent", "qa").unwrap(), "agents/qa.md");
        assert_eq!(super::new_file_path("skill", "pdf").unwrap(), "skills/pdf/SKILL.md");
        assert!(super::new_file_path("command", "../x").is_err());
    }
}
