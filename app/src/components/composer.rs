//! The composer: Enter sends, Shift+Enter inserts a newline; file attachments uploaded into the
//! conversation's workspace; plus the stop button.

use domain::{ConversationView, Status};
use leptos::prelude::*;

use super::Icon;
use crate::actions;

/// The prompt with the attached paths appended.
pub fn with_attachments(prompt: &str, paths: &[String]) -> String {
    if paths.is_empty() {
        return prompt.to_string();
    }
    let list = paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    format!("{}\n\nAttached: {list}", prompt.trim_end())
}

#[component]
pub fn Composer(view: RwSignal<ConversationView>) -> impl IntoView {
    // Keeps what was typed before the app hydrated.
    let text = RwSignal::new(crate::dom::typed_text("[data-testid=composer]"));
    let error = RwSignal::new(None::<String>);
    let attached = RwSignal::new(Vec::<String>::new());
    let uploading = RwSignal::new(0usize);
    let running = move || view.with(|v| v.status == Status::Running);
    let workspace = move || view.with(|v| v.workspace.clone());
    let send = move || {
        let prompt = text.get_untracked();
        if prompt.trim().is_empty() || uploading.get_untracked() > 0 {
            return;
        }
        let prompt = with_attachments(&prompt, &attached.get_untracked());
        let id = view.with_untracked(|v| v.id.clone());
        leptos::task::spawn_local(async move {
            match actions::send_message(&id, &prompt).await {
                Ok(()) => {
                    text.set(String::new());
                    attached.set(vec![]);
                    error.set(None);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let stop = move |_| {
        let id = view.with_untracked(|v| v.id.clone());
        leptos::task::spawn_local(async move {
            if let Err(message) = actions::stop(&id).await {
                error.set(Some(message));
            }
        });
    };
    let on_files = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
            let Some(workspace) = view.with_untracked(|v| v.workspace.clone()) else { return };
            let files: Vec<web_sys::File> =
                input.files().map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default();
            input.set_value("");
            for file in files {
                let path = format!("uploads/{}", file.name().replace(['/', '\\'], "_"));
                let url = format!("/api/workspaces/{}/files?path={}", actions::encode(&workspace), actions::encode(&path));
                uploading.update(|n| *n += 1);
                leptos::task::spawn_local(async move {
                    match actions::upload(&url, file).await {
                        Ok(saved) => {
                            let path = saved["path"].as_str().map(str::to_string).unwrap_or(path);
                            attached.update(|list| {
                                if !list.contains(&path) {
                                    list.push(path)
                                }
                            });
                        }
                        Err(message) => error.set(Some(message)),
                    }
                    uploading.update(|n| *n -= 1);
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <Show when=move || { !attached.with(Vec::is_empty) || uploading.get() != 0 }>
                <ul class="attachments">
                    {move || attached.get().into_iter().map(|path| {
                        let remove = path.clone();
                        let label = path.clone();
                        view! {
                            <li class="chip" data-testid="attachment" data-path=path>
                                <code>{label}</code>
                                <button type="button" class="icon" aria-label="Remove attachment"
                                    on:click=move |_| attached.update(|list| list.retain(|p| p != &remove))>"×"</button>
                            </li>
                        }
                    }).collect_view()}
                    {move || (uploading.get() != 0).then(|| view! { <li class="chip uploading">"Uploading…"</li> })}
                </ul>
            </Show>
            <textarea
                data-testid="composer"
                placeholder="Message… (Enter sends, Shift+Enter for a new line)"
                rows="2"
                enterkeyhint="send"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    }
                }
            ></textarea>
            <div class="actions">
                <label class="attach" class:disabled=move || workspace().is_none()
                    title=move || if workspace().is_some() { "Attach files (uploaded to uploads/ in the workspace)".to_string() } else { "Files need a workspace: this conversation has none".to_string() }>
                    <input type="file" multiple data-testid="attach" aria-label="Attach files" disabled=move || workspace().is_none() on:change=on_files/>
                    <Icon name="clip"/>
                </label>
                {move || workspace().is_none().then(|| view! {
                    <span class="hint" data-testid="no-workspace" title="The agent can read, change and run files only in a workspace">"No workspace: no tools or attachments"</span>
                })}
                <button type="button" data-testid="stop" class="secondary" on:click=stop disabled=move || !running()>"Stop"</button>
                <button type="submit" data-testid="send" class="primary">"Send"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn attached_paths_follow_the_prompt() {
        assert_eq!(super::with_attachments("hi", &[]), "hi");
        assert_eq!(super::with_attachments("look\n", &["uploads/a.txt".into()]), "look\n\nAttached: `uploads/a.txt`");
    }
}
