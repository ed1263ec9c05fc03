//! The file preview dialog: a workspace file, highlighted by the server, or why it cannot be shown.

use leptos::prelude::*;

use crate::actions;
use crate::layout::Ui;

#[component]
pub fn PreviewDialog() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let file = LocalResource::new(move || {
        let target = ui.preview.get();
        async move {
            match target {
                Some((workspace, _)) if workspace.is_empty() => {
                    Some(Err("This conversation has no workspace, so its files cannot be shown.".to_string()))
                }
                Some((workspace, path)) => {
                    let url = format!("/api/workspaces/{}/files?path={}", actions::encode(&workspace), actions::encode(&path));
                    Some(actions::get_json(&url).await)
                }
                None => None,
            }
        }
    });
    let close = move |_| ui.preview.set(None);
    view! {
        <Show when=move || ui.preview.get().is_some()>
            <div class="overlay" on:click=close>
                <div class="dialog preview" data-testid="preview" role="dialog" aria-modal="true" on:click=|ev| ev.stop_propagation()>
                    <header>
                        <code>{move || ui.preview.get().map(|(_, path)| path)}</code>
                        <button type="button" class="secondary" data-testid="preview-close" on:click=close>"Close"</button>
                    </header>
                    <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                        {move || file.get().flatten().map(|loaded| match loaded {
                            Ok(doc) => match doc["html"].as_str() {
                                // Highlighted and sanitized by the server.
                                Some(html) => view! { <pre class="code" inner_html=html.to_string()></pre> }.into_any(),
                                None => match doc["text"].as_str() {
                                    Some(text) => view! { <pre>{text.to_string()}</pre> }.into_any(),
                                    None => view! { <p class="empty">"This is a folder."</p> }.into_any(),
                                },
                            },
                            Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                        })}
                    </Suspense>
                </div>
            </div>
        </Show>
    }
}
