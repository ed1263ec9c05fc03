//! The Anthropic Messages request body, built from a `ChatRequest`.

use serde::Serialize;

use crate::{ChatRequest, ChatRole};

#[derive(Debug, Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    stream: bool,
    messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Thinking>,
}

#[derive(Debug, Serialize)]
struct Message<'a> {
    role: ChatRole,
    content: [TextBlock<'a>; 1],
}

#[derive(Debug, Serialize)]
struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Debug, Serialize)]
struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    budget_tokens: u32,
}

/// The JSON body for a streamed `POST /v1/messages`. `max_tokens` includes the thinking budget.
pub(super) fn body(req: &ChatRequest) -> serde_json::Value {
    let budget = req.thinking_budget.filter(|b| *b > 0);
    let body = Body {
        model: &req.model,
        max_tokens: req.max_tokens.saturating_add(budget.unwrap_or(0)),
        stream: true,
        messages: req.messages.iter().map(|m| Message { role: m.role, content: [TextBlock { kind: "text", text: &m.text }] }).collect(),
        system: req.system.as_deref().filter(|s| !s.is_empty()),
        thinking: budget.map(|budget_tokens| Thinking { kind: "enabled", budget_tokens }),
    };
    serde_json::to_value(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChatMessage;
    use serde_json::json;

    fn request(system: Option<&str>, thinking_budget: Option<u32>) -> ChatRequest {
        ChatRequest {
            model: "claude-x".into(),
            system: system.map(Into::into),
            messages: vec![
                ChatMessage { role: ChatRole::User, text: "hi".into() },
                ChatMessage { role: ChatRole::Assistant, text: "hello".into() },
            ],
            max_tokens: 1000,
            thinking_budget,
            reasoning_effort: None,
        }
    }

    #[test]
    fn a_plain_request_has_text_blocks_and_no_thinking() {
        assert_eq!(
            body(&request(None, None)),
            json!({
                "model": "claude-x",
                "max_tokens": 1000,
                "stream": true,
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                    {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
                ],
            })
        );
    }

    #[test]
    fn a_thinking_budget_is_added_to_max_tokens() {
        let b = body(&request(Some("be terse"), Some(2048)));
        assert_eq!(b["max_tokens"], 3048);
        assert_eq!(b["thinking"], json!({"type": "enabled", "budget_tokens": 2048}));
        assert_eq!(b["system"], "be terse");
    }

    #[test]
    fn a_zero_budget_and_an_empty_system_are_left_out() {
        let b = body(&request(Some(""), Some(0)));
        assert!(b.get("thinking").is_none() && b.get("system").is_none());
        assert_eq!(b["max_tokens"], 1000);
    }
}
