//! The audit timeline of one conversation (`/c/:id/timeline`): every event with its time and a
//! one-line summary, each linking to the conversation as of that event (`/c/:id?at=SEQ`).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

use crate::api::load_log;

/// A one-line summary of an event, when the server sent none.
pub fn summarize(kind: &str, data: &Value) -> String {
    let short = |text: &str| {
        let line = text.lines().next().unwrap_or("");
        if line.chars().count() > 80 { format!("{}…", line.chars().take(80).collect::<String>()) } else { line.to_string() }
    };
    // Events are stored as `{"Type": {fields}}` or as the fields themselves.
    let fields = data.get(kind).unwrap_or(data);
    let field = |name: &str| fields.get(name).and_then(Value::as_str).map(short);
    let turn = fields.get("turn").and_then(Value::as_u64).map(|t| format!("turn {t}"));
    let detail = field("text").or_else(|| field("title")).or_else(|| field("reason")).or_else(|| field("tool")).or_else(|| field("stop_reason"));
    match (turn, detail) {
        (Some(turn), Some(detail)) => format!("{turn}: {detail}"),
        (Some(turn), None) => turn,
        (None, Some(detail)) => detail,
        (None, None) => String::new(),
    }
}

#[component]
pub fn TimelinePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let log = Resource::new(id, load_log);
    view! {
        <main class="chat timeline">
            <p><a href=move || format!("/c/{}", id())>"← Back to the conversation"</a></p>
            <h1>"Timeline"</h1>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || log.get().map(|loaded| match loaded {
                    Ok(entries) if entries.is_empty() => view! { <p class="empty">"No events."</p> }.into_any(),
                    Ok(entries) => view! {
                        <ol class="events">
                            {entries.into_iter().map(|entry| view! { <TimelineEvent id=id() entry/> }).collect_view()}
                        </ol>
                    }.into_any(),
                    Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn TimelineEvent(id: String, entry: Value) -> impl IntoView {
    let seq = entry["seq"].as_u64().unwrap_or(0);
    let kind = entry["event_type"].as_str().or(entry["type"].as_str()).unwrap_or("").to_string();
    let at = entry["at"].as_str().unwrap_or("").to_string();
    let time = at.replacen('T', " ", 1).chars().take(19).collect::<String>();
    let summary = entry["summary"].as_str().map(str::to_string).unwrap_or_else(|| summarize(&kind, &entry["data"]));
    let label = kind.clone();
    view! {
        <li class="event" data-testid="timeline-event" data-seq=seq data-type=kind>
            <span class="seq">{format!("#{seq}")}</span>
            <time datetime=at>{time}</time>
            <strong class="type">{label}</strong>
            <span class="summary">{summary}</span>
            <a data-testid="timeline-open" href=format!("/c/{id}?at={seq}")>"Open as of here"</a>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn summaries_name_the_turn_and_what_happened() {
        assert_eq!(super::summarize("PromptSubmitted", &json!({"PromptSubmitted": {"turn": 2, "text": "hello\nworld"}})), "turn 2: hello");
        assert_eq!(super::summarize("ConversationRetitled", &json!({"title": "Plans"})), "Plans");
        assert_eq!(super::summarize("ConversationArchived", &json!(null)), "");
    }
}
