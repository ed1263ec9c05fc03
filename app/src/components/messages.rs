//! The message list: user prompts and assistant replies, block by block.

use domain::{Block, ConversationView, Message};
use leptos::prelude::*;

use super::{format_tokens, format_usd};

#[component]
pub fn MessageList(view: RwSignal<ConversationView>) -> impl IntoView {
    view! {
        <section class="messages" aria-live="polite">
            {move || view.with(|v| v.messages.iter().cloned().map(|message| view! { <MessageView message/> }).collect_view())}
        </section>
    }
}

#[component]
fn MessageView(message: Message) -> impl IntoView {
    let role = message.role.clone();
    let stop = message.stop_reason.clone();
    let usage = message.usage.map(|u| {
        format!("{} in · {} out · {}", format_tokens(u.input_tokens), format_tokens(u.output_tokens), format_usd(u.cost_usd))
    });
    view! {
        <article class=format!("message {role}") data-testid="message" data-role=role data-turn=message.turn>
            {message.blocks.into_iter().map(|block| view! { <BlockView block/> }).collect_view()}
            {(stop.as_deref() == Some("aborted")).then(|| view! { <p class="marker">"Stopped."</p> })}
            {usage.map(|text| view! { <p class="turn-usage" data-testid="turn-usage">{text}</p> })}
        </article>
    }
}

#[component]
fn BlockView(block: Block) -> impl IntoView {
    let text = block.text.clone().unwrap_or_default();
    match block.kind.as_str() {
        "thinking" => view! {
            <details class="thinking"><summary>"Thinking"</summary><p class="text">{text}</p></details>
        }
        .into_any(),
        "tool_use" => {
            let input = block.input.map(|i| serde_json::to_string_pretty(&i).unwrap_or_default()).unwrap_or(text);
            view! {
                <details class="tool"><summary>{format!("Tool: {}", block.name.unwrap_or_default())}</summary><pre>{input}</pre></details>
            }
            .into_any()
        }
        "tool_result" => view! { <details class="tool-result"><summary>"Result"</summary><pre>{text}</pre></details> }.into_any(),
        "error" => view! { <p class="error" data-testid="error">{text}</p> }.into_any(),
        _ => view! { <p class="text">{text}</p> }.into_any(),
    }
}
