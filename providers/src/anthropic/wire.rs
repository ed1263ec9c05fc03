//! The Anthropic Messages request body, built from a `ChatRequest`: the history as content blocks
//! (`text`, signed `thinking`, `tool_use`, `tool_result`) and the tools offered.

use serde_json::{json, Value};

use crate::{ChatRequest, ChatRole, Content};

/// The JSON body for a streamed `POST /v1/messages`. `max_tokens` includes the thinking budget.
pub(super) fn body(req: &ChatRequest) -> Value {
    let budget = req.thinking_budget.filter(|b| *b > 0);
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                ChatRole::User => "user",
                ChatRole::Assistant => "assistant",
            };
            json!({"role": role, "content": m.content.iter().filter_map(block).collect::<Vec<_>>()})
        })
        .collect();
    let mut body = json!({
        "model": req.model,
        "max_tokens": req.max_tokens.saturating_add(budget.unwrap_or(0)),
        "stream": true,
        "messages": messages,
    });
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        body["system"] = json!(system);
    }
    if let Some(budget_tokens) = budget {
        body["thinking"] = json!({"type": "enabled", "budget_tokens": budget_tokens});
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|tool| json!({"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}))
            .collect();
        body["tools"] = json!(tools);
    }
    body
}

/// One content block; an empty text (which the API refuses) is left out.
fn block(content: &Content) -> Option<Value> {
    Some(match content {
        Content::Text(text) if text.is_empty() => return None,
        Content::Text(text) => json!({"type": "text", "text": text}),
        Content::Thinking { text, signature } => json!({"type": "thinking", "thinking": text, "signature": signature}),
        Content::ToolCall { id, name, input } => json!({"type": "tool_use", "id": id, "name": name, "input": input}),
        Content::ToolResult { call_id, output, is_error: false } => {
            json!({"type": "tool_result", "tool_use_id": call_id, "content": output})
        }
        Content::ToolResult { call_id, output, is_error: true } => {
            json!({"type": "tool_result", "tool_use_id": call_id, "content": output, "is_error": true})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChatMessage, ToolDefinition};
    use serde_json::json;

    fn request(system: Option<&str>, thinking_budget: Option<u32>) -> ChatRequest {
        ChatRequest {
            model: "claude-x".into(),
            system: system.map(Into::into),
            messages: vec![ChatMessage::text(ChatRole::User, "hi"), ChatMessage::text(ChatRole::Assistant, "hello")],
            tools: vec![],
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

    #[test]
    fn tool_calls_and_results_go_as_content_blocks_with_signed_thinking_and_the_tools() {
        let mut req = request(None, Some(1024));
        req.messages = vec![
            ChatMessage::text(ChatRole::User, "fix the test"),
            ChatMessage {
                role: ChatRole::Assistant,
                content: vec![
                    Content::Thinking { text: "look first".into(), signature: "sig1".into() },
                    Content::Text(String::new()),
                    Content::ToolCall { id: "toolu_1".into(), name: "read".into(), input: json!({"path": "a.py"}) },
                    Content::ToolCall { id: "toolu_2".into(), name: "bash".into(), input: json!({"command": "false"}) },
                ],
            },
            ChatMessage {
                role: ChatRole::User,
                content: vec![
                    Content::ToolResult { call_id: "toolu_1".into(), output: "     1\tx = 1".into(), is_error: false },
                    Content::ToolResult { call_id: "toolu_2".into(), output: "[exit code 1]".into(), is_error: true },
                ],
            },
        ];
        req.tools =
            vec![ToolDefinition { name: "read".into(), description: "Read a file.".into(), input_schema: json!({"type": "object"}) }];
        let b = body(&req);
        assert_eq!(
            b["messages"][1]["content"],
            json!([
                {"type": "thinking", "thinking": "look first", "signature": "sig1"},
                {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"path": "a.py"}},
                {"type": "tool_use", "id": "toolu_2", "name": "bash", "input": {"command": "false"}},
            ])
        );
        assert_eq!(
            b["messages"][2]["content"],
            json!([
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "     1\tx = 1"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "[exit code 1]", "is_error": true},
            ])
        );
        assert_eq!(b["tools"], json!([{"name": "read", "description": "Read a file.", "input_schema": {"type": "object"}}]));
        assert!(body(&request(None, None)).get("tools").is_none(), "no tools key without tools");
    }
}
