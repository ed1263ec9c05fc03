//! A conversation's history as the content blocks it really had: each prompt as text, each reply as
//! assistant messages of text, signed thinking and tool calls, every call followed by a user message
//! with its result. A call that has no recorded result (a turn stopped or crashed before it ran) is
//! answered with a result saying so, so the history always pairs up as the APIs require. A prompt
//! after a turn the user stopped starts with the interruption reminder.

use domain::{Block, BlockType, ConversationView, Role, ABORTED};
use providers::{ChatMessage, ChatRole, Content};
use serde_json::{json, Value};

/// The result sent for a call whose turn ended before its result was recorded.
pub const NO_RESULT: &str =
    "This tool call has no result: the turn was interrupted before it finished, so it may or may not have taken effect.";

/// What the prompt after a turn the user stopped tells the model first (the original's reminder).
pub const INTERRUPTION_REMINDER: &str = "<system-reminder>Your previous response was interrupted by the user. Completed content \
blocks have been retained. You may continue from where you left off or address the user's new message as appropriate.</system-reminder>";

/// The reminder `turn`'s prompt starts with: the turn before it was stopped by the user.
pub fn reminder(view: &ConversationView, turn: u32) -> Option<&'static str> {
    let previous = turn.checked_sub(1)?;
    let stopped =
        view.messages.iter().any(|m| m.role == Role::Assistant && m.turn == previous && m.stop_reason.as_deref() == Some(ABORTED));
    stopped.then_some(INTERRUPTION_REMINDER)
}

/// The messages of every turn up to and including `turn` (its reply so far included).
pub fn messages(view: &ConversationView, turn: u32) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::new();
    for message in view.messages.iter().filter(|m| m.turn <= turn) {
        let pieces = match message.role {
            Role::User => {
                let mut content: Vec<Content> = reminder(view, message.turn).map(|text| Content::Text(text.into())).into_iter().collect();
                content.extend(texts(&message.blocks));
                vec![ChatMessage { role: ChatRole::User, content }]
            }
            Role::Assistant => reply(&message.blocks),
        };
        for piece in pieces.into_iter().filter(|m| !m.content.is_empty()) {
            match out.last_mut() {
                Some(last) if last.role == piece.role => last.content.extend(piece.content),
                _ => out.push(piece),
            }
        }
    }
    if out.first().is_some_and(|m| m.role == ChatRole::Assistant) {
        out.remove(0);
    }
    out
}

fn texts(blocks: &[Block]) -> Vec<Content> {
    blocks
        .iter()
        .filter(|b| b.kind == BlockType::Text)
        .filter_map(|b| b.text.clone())
        .filter(|t| !t.trim().is_empty())
        .map(Content::Text)
        .collect()
}

/// One reply's blocks, in order, as alternating assistant and result messages.
fn reply(blocks: &[Block]) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    let mut said: Vec<Content> = Vec::new();
    let mut results: Vec<Content> = Vec::new();
    for block in blocks {
        let content = match block.kind {
            BlockType::Text => block.text.clone().filter(|t| !t.trim().is_empty()).map(Content::Text),
            BlockType::Thinking => match (&block.text, &block.signature) {
                (Some(text), Some(signature)) => Some(Content::Thinking { text: text.clone(), signature: signature.clone() }),
                // Unsigned thinking (another provider's reasoning) is not sent back.
                _ => None,
            },
            BlockType::ToolUse => Some(Content::ToolCall {
                id: block.id.clone().unwrap_or_default(),
                name: block.name.clone().unwrap_or_default(),
                input: object(block.input.as_ref()),
            }),
            BlockType::ToolResult => {
                if let Some(call_id) = &block.id {
                    let finished = block.is_error.is_some();
                    let output = if finished { block.text.clone().unwrap_or_default() } else { NO_RESULT.to_string() };
                    results.push(Content::ToolResult { call_id: call_id.clone(), output, is_error: block.is_error.unwrap_or(true) });
                }
                None
            }
            BlockType::Error => None,
        };
        if let Some(content) = content {
            if !results.is_empty() {
                flush(&mut out, &mut said, &mut results);
            }
            said.push(content);
        }
    }
    flush(&mut out, &mut said, &mut results);
    out
}

/// Ends one assistant message: it, then the results of its calls, a call without one answered with
/// [`NO_RESULT`].
fn flush(out: &mut Vec<ChatMessage>, said: &mut Vec<Content>, results: &mut Vec<Content>) {
    for content in said.iter() {
        if let Content::ToolCall { id, .. } = content {
            let answered = results.iter().any(|r| matches!(r, Content::ToolResult { call_id, .. } if call_id == id));
            if !answered {
                results.push(Content::ToolResult { call_id: id.clone(), output: NO_RESULT.to_string(), is_error: true });
            }
        }
    }
    // Results whose call is not in this message (a stray) would be refused by every API.
    results.retain(|r| match r {
        Content::ToolResult { call_id, .. } => said.iter().any(|c| matches!(c, Content::ToolCall { id, .. } if id == call_id)),
        _ => true,
    });
    if !said.is_empty() {
        out.push(ChatMessage { role: ChatRole::Assistant, content: std::mem::take(said) });
    }
    if !results.is_empty() {
        out.push(ChatMessage { role: ChatRole::User, content: std::mem::take(results) });
    }
}

/// A call's input as the APIs take it: an object (a malformed input was recorded as something else).
fn object(input: Option<&Value>) -> Value {
    match input {
        Some(value @ Value::Object(_)) => value.clone(),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: BlockType, index: u32) -> Block {
        Block { kind, index, text: None, name: None, id: None, input: None, is_error: None, signature: None, html: None }
    }

    fn text(index: u32, text: &str) -> Block {
        Block { text: Some(text.into()), ..block(BlockType::Text, index) }
    }

    fn call(index: u32, id: &str, name: &str) -> Block {
        Block { id: Some(id.into()), name: Some(name.into()), input: Some(json!({"path": "a"})), ..block(BlockType::ToolUse, index) }
    }

    fn result(index: u32, id: &str, output: &str, is_error: Option<bool>) -> Block {
        Block { id: Some(id.into()), text: Some(output.into()), is_error, ..block(BlockType::ToolResult, index) }
    }

    fn view(messages: Vec<(Role, u32, Vec<Block>)>) -> ConversationView {
        let mut view = ConversationView::new("c");
        view.messages = messages
            .into_iter()
            .map(|(role, turn, blocks)| domain::Message { role, turn, blocks, stop_reason: None, usage: None })
            .collect();
        view
    }

    #[test]
    fn a_tool_loop_turn_alternates_calls_and_their_results() {
        let thinking = Block { text: Some("hm".into()), signature: Some("sig".into()), ..block(BlockType::Thinking, 1) };
        let v = view(vec![
            (Role::User, 1, vec![text(0, "fix it")]),
            (
                Role::Assistant,
                1,
                vec![
                    text(0, "Reading."),
                    thinking,
                    call(2, "t1", "read"),
                    call(3, "t2", "list"),
                    result(4, "t1", "x = 1", Some(false)),
                    result(5, "t2", "refused", Some(true)),
                    text(6, "Fixed."),
                ],
            ),
        ]);
        let messages = messages(&v, 1);
        let roles: Vec<ChatRole> = messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [ChatRole::User, ChatRole::Assistant, ChatRole::User, ChatRole::Assistant]);
        assert_eq!(messages[1].content.len(), 4);
        assert_eq!(messages[1].content[1], Content::Thinking { text: "hm".into(), signature: "sig".into() });
        assert_eq!(
            messages[2].content,
            vec![
                Content::ToolResult { call_id: "t1".into(), output: "x = 1".into(), is_error: false },
                Content::ToolResult { call_id: "t2".into(), output: "refused".into(), is_error: true },
            ]
        );
        assert_eq!(messages[3].content, vec![Content::Text("Fixed.".into())]);
    }

    #[test]
    fn a_call_without_a_recorded_result_is_answered_as_interrupted() {
        let started_only = Block { id: Some("t2".into()), ..block(BlockType::ToolResult, 3) };
        let v = view(vec![
            (Role::User, 1, vec![text(0, "go")]),
            (Role::Assistant, 1, vec![call(0, "t1", "bash"), call(1, "t2", "bash"), started_only]),
            (Role::User, 2, vec![text(0, "again")]),
        ]);
        let messages = messages(&v, 2);
        assert_eq!(messages.len(), 3);
        let results = &messages[2].content;
        assert_eq!(results.len(), 3, "two results, then the next prompt in the same user message: {results:?}");
        assert!(results[..2].iter().all(|r| matches!(r, Content::ToolResult { output, is_error: true, .. } if output == NO_RESULT)));
        assert_eq!(results[2], Content::Text("again".into()));
    }

    #[test]
    fn text_only_turns_stay_plain_text_and_unsigned_thinking_is_left_out() {
        let unsigned = Block { text: Some("reasoning".into()), ..block(BlockType::Thinking, 0) };
        let v = view(vec![
            (Role::User, 1, vec![text(0, "hi")]),
            (Role::Assistant, 1, vec![unsigned, text(1, "hello")]),
            (Role::User, 2, vec![text(0, "bye")]),
        ]);
        assert_eq!(
            messages(&v, 2),
            vec![
                ChatMessage::text(ChatRole::User, "hi"),
                ChatMessage::text(ChatRole::Assistant, "hello"),
                ChatMessage::text(ChatRole::User, "bye")
            ]
        );
    }
}
