//! The message list: user prompts and assistant replies block by block (rendered markdown,
//! thinking, tools with their results, errors), older turns loaded on demand, and a copy button.

use domain::{Block, BlockType, ConversationView, Message, Role};
use leptos::html;
use leptos::prelude::*;

use super::{format_tokens, format_usd};
use crate::actions;
use crate::layout::Ui;

/// What decides whether a rendered message must be redrawn.
fn fingerprint(message: &Message, first: bool) -> (u32, Role, bool, usize, usize, bool, bool) {
    let text: usize =
        message.blocks.iter().map(|b| b.text.as_ref().map_or(0, String::len) + b.html.as_ref().map_or(0, |h| h.len() + 1)).sum();
    let finished = message.stop_reason.is_some() || message.usage.is_some();
    let inputs = message.blocks.iter().any(|b| b.input.is_some() || b.is_error.is_some());
    (message.turn, message.role, first, message.blocks.len(), text, finished, inputs)
}

#[component]
pub fn MessageList(view: RwSignal<ConversationView>, #[prop(into)] highlight: Signal<Option<u32>>, live: bool) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let scroller = NodeRef::<html::Section>::new();
    let loading = RwSignal::new(false);
    let older_error = RwSignal::new(None::<String>);
    let stick = StoredValue::new(true);
    let rows = move || {
        view.with(|v| {
            let mut previous = None;
            v.messages
                .iter()
                .map(|m| {
                    let first = previous != Some(m.turn);
                    previous = Some(m.turn);
                    (fingerprint(m, first), m.clone())
                })
                .collect::<Vec<_>>()
        })
    };
    let load_older = move || {
        if loading.get_untracked() || !view.with_untracked(|v| v.has_older) {
            return;
        }
        let (id, first) = view.with_untracked(|v| (v.id.clone(), v.messages.first().map_or(0, |m| m.turn)));
        loading.set(true);
        leptos::task::spawn_local(async move {
            let url = format!("/api/conversations/{id}/messages?before_turn={first}&limit={}", crate::api::PAGE_TURNS);
            let page = actions::get::<crate::api::MessagePage>(&url).await.map(|p| (p.messages, p.has_older));
            match page {
                Ok((older, has_older)) => {
                    let before = scroller.get_untracked().map(|el| el.scroll_height());
                    view.update(|v| {
                        let keep = std::mem::take(&mut v.messages);
                        v.messages = older.into_iter().filter(|m| keep.first().is_none_or(|f| m.turn < f.turn)).collect();
                        v.messages.extend(keep);
                        v.has_older = has_older;
                    });
                    // Keep what the reader sees in place: scroll down by what was added above.
                    request_animation_frame(move || {
                        if let (Some(el), Some(before)) = (scroller.get_untracked(), before) {
                            el.set_scroll_top(el.scroll_top() + el.scroll_height() - before);
                        }
                        loading.set(false);
                    });
                    older_error.set(None);
                }
                Err(message) => {
                    older_error.set(Some(message));
                    loading.set(false);
                }
            }
        });
    };
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            stick.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 80);
            if el.scroll_top() < 200 {
                load_older();
            }
        }
    };
    // Opening at a turn scrolls there; otherwise follow the newest message while at the bottom.
    let opened_at_turn = StoredValue::new(false);
    Effect::new(move |_| {
        view.track();
        // Only the first render goes to the asked-for turn; later updates follow the bottom.
        let target = highlight.get_untracked().filter(|_| !opened_at_turn.get_value());
        if target.is_some() {
            opened_at_turn.set_value(true);
            stick.set_value(false);
        }
        let follow = stick.get_value();
        request_animation_frame(move || {
            crate::dom::tag_file_paths();
            if let Some(turn) = target {
                if crate::dom::scroll_to_id(&format!("turn-{turn}")) {
                    return;
                }
            }
            if follow {
                if let Some(el) = scroller.get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            }
        });
    });
    // A click on a file path in rendered text opens its preview.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(path) = crate::dom::clicked_path(&ev) {
            match view.with_untracked(|v| v.workspace.clone()) {
                Some(workspace) => ui.preview.set(Some((workspace, path))),
                None => ui.preview.set(Some((String::new(), path))),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, ui);
    };
    view! {
        <section class="messages" aria-live="polite" node_ref=scroller on:scroll=on_scroll on:click=on_click>
            <Show when=move || view.with(|v| v.has_older)>
                <button type="button" class="secondary older" data-testid="load-older" disabled=move || loading.get()
                    on:click=move |_| load_older()>{move || if loading.get() { "Loading…" } else { "Load older messages" }}</button>
            </Show>
            {move || older_error.get().map(|message| view! { <p class="error">{message}</p> })}
            <For each=rows key=|(key, _)| *key children=move |((_, _, first, ..), message)| {
                let highlighted = first && highlight.get_untracked() == Some(message.turn);
                view! { <MessageView message first highlighted live/> }
            }/>
        </section>
    }
}

#[component]
fn MessageView(message: Message, first: bool, highlighted: bool, live: bool) -> impl IntoView {
    let role = message.role.as_str();
    let stop = message.stop_reason.clone();
    let finished = stop.is_some() || message.usage.is_some() || message.role == Role::User || !live;
    let usage = message
        .usage
        .clone()
        .map(|u| format!("{} in · {} out · {}", format_tokens(u.input_tokens), format_tokens(u.output_tokens), format_usd(u.cost_usd)));
    let plain: String =
        message.blocks.iter().filter(|b| b.kind == BlockType::Text).filter_map(|b| b.text.clone()).collect::<Vec<_>>().join("\n\n");
    let copied = RwSignal::new(false);
    let copy = move |_| {
        crate::dom::copy_text(&plain);
        copied.set(true);
        set_timeout(move || copied.set(false), std::time::Duration::from_millis(1500));
    };
    let count = message.blocks.len();
    let blocks = message.blocks.clone();
    let results: Vec<Block> = blocks.iter().filter(|b| b.kind == BlockType::ToolResult).cloned().collect();
    let used_results: Vec<String> = blocks.iter().filter(|b| b.kind == BlockType::ToolUse).filter_map(|b| b.id.clone()).collect();
    let rendered = blocks
        .into_iter()
        .enumerate()
        .filter(|(_, b)| !(b.kind == BlockType::ToolResult && b.id.as_ref().is_some_and(|id| used_results.contains(id))))
        .map(|(i, block)| {
            let last = i + 1 == count;
            let result =
                if block.kind == BlockType::ToolUse { results.iter().find(|r| r.id.is_some() && r.id == block.id).cloned() } else { None };
            view! { <BlockView block result open=last && !finished/> }
        })
        .collect_view();
    view! {
        <article class=format!("message {role}") class:highlight=highlighted data-testid="message" data-role=role
            data-turn=message.turn id=first.then(|| format!("turn-{}", message.turn))>
            {rendered}
            {(stop.as_deref() == Some(domain::ABORTED)).then(|| view! { <p class="marker" data-testid="interrupted">"Stopped."</p> })}
            <footer class="message-footer">
                {usage.map(|text| view! { <span class="turn-usage" data-testid="turn-usage">{text}</span> })}
                <button type="button" class="icon copy" data-testid="copy-message" aria-label="Copy message" on:click=copy
                    data-copied=move || copied.get().to_string()>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
            </footer>
        </article>
    }
}

/// Pretty JSON of a tool input.
fn pretty(input: &serde_json::Value) -> String {
    serde_json::to_string_pretty(input).unwrap_or_default()
}

#[component]
fn BlockView(block: Block, result: Option<Block>, open: bool) -> impl IntoView {
    let text = block.text.clone().unwrap_or_default();
    match block.kind {
        BlockType::Thinking => view! {
            <details class="thinking" data-testid="thinking" open=open><summary>"Thinking"</summary><p class="text">{text}</p></details>
        }
        .into_any(),
        BlockType::ToolUse => {
            let input = block.input.as_ref().map(pretty).unwrap_or(text);
            let failed = result.as_ref().and_then(|r| r.is_error).unwrap_or(false) || block.is_error == Some(true);
            let waiting = result.is_none();
            let name = block.name.clone().unwrap_or_default();
            view! {
                <details class="tool" data-testid="tool" data-error=failed.to_string() open=open>
                    <summary>
                        <span class="tool-name">{name}</span>
                        <span class="tool-state">{if failed { " · failed" } else if waiting { "" } else { " · done" }}</span>
                    </summary>
                    <pre class="tool-input">{input}</pre>
                    {result.map(|r| view! {
                        <pre class="tool-result" data-testid="tool-result" data-error=failed.to_string()>{r.text.unwrap_or_default()}</pre>
                    })}
                </details>
            }
            .into_any()
        }
        BlockType::ToolResult => {
            let failed = block.is_error == Some(true);
            view! {
                <details class="tool" data-testid="tool" data-error=failed.to_string()>
                    <summary>"Tool result"</summary>
                    <pre class="tool-result" data-testid="tool-result">{text}</pre>
                </details>
            }
            .into_any()
        }
        BlockType::Error => view! { <p class="error" data-testid="error" role="alert">{text}</p> }.into_any(),
        BlockType::Text => match block.html {
            // Rendered and sanitized by the server.
            Some(html) => view! { <div class="markdown" data-testid="markdown" inner_html=html></div> }.into_any(),
            None => view! { <p class="text">{text}</p> }.into_any(),
        },
    }
}
