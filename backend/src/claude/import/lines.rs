//! The pure half of a session import: what one line of a CLI `.jsonl` session means for the
//! conversation. No IO, so the fuzz target in `fuzz/` drives it with arbitrary input.

use domain::{BlockKind, OutputItem};
use serde_json::Value;

/// Line types the CLI writes that carry nothing for the conversation.
const IGNORED: [&str; 7] = ["queue-operation", "attachment", "last-prompt", "summary", "system", "file-history-snapshot", "progress"];

/// Tool results and thinking longer than this are kept as a preview: the CLI's own session
/// file still holds them whole, and `--resume` gives the model the full context.
const PREVIEW_BYTES: usize = 2048;

/// What a line means.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A line type PocketDev does not know: counted as skipped.
    Skipped,
    /// A known line that carries nothing for the conversation (or an aside: sidechain, meta).
    Ignored,
    /// A user prompt: a new turn starts.
    Prompt(String),
    /// Output of the current turn.
    Output(Vec<OutputItem>),
    /// The session's title (only the first one is reported).
    Title(String),
}

/// Reads a session's lines in order, numbering turns and blocks.
#[derive(Debug, Default)]
pub struct SessionLines {
    turn: u32,
    block: u32,
    titled: bool,
}

/// Parses one raw line; `None` when it is not JSON (counted as skipped).
pub fn parse(raw: &str) -> Option<Value> {
    serde_json::from_str(raw).ok()
}

/// True for the line that starts the conversation: the first with a `cwd` or of type `user`.
pub fn starts_conversation(line: &Value) -> bool {
    line.get("cwd").is_some() || line.get("type").and_then(Value::as_str) == Some("user")
}

impl SessionLines {
    /// The number of prompts read so far.
    pub fn turns(&self) -> u32 {
        self.turn
    }

    pub fn step(&mut self, line: &Value) -> Step {
        let kind = line.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "user" if is_aside(line) => Step::Ignored,
            "user" => match prompt_text(line) {
                Some(prompt) => {
                    self.turn += 1;
                    self.block = 0;
                    Step::Prompt(prompt)
                }
                None if self.turn == 0 => Step::Ignored,
                None => Step::Output(self.tool_results(line)),
            },
            "assistant" if is_aside(line) || self.turn == 0 => Step::Ignored,
            "assistant" => Step::Output(self.assistant(line)),
            "ai-title" | "summary" if !self.titled => match line.get("title").or_else(|| line.get("summary")).and_then(Value::as_str) {
                Some(title) if !title.trim().is_empty() => {
                    self.titled = true;
                    Step::Title(title.chars().take(200).collect())
                }
                _ => Step::Ignored,
            },
            known if IGNORED.contains(&known) || known == "ai-title" => Step::Ignored,
            _ => Step::Skipped,
        }
    }

    fn next_block(&mut self) -> u32 {
        self.block += 1;
        self.block - 1
    }

    /// The blocks of an assistant line (the CLI writes one line per block).
    fn assistant(&mut self, line: &Value) -> Vec<OutputItem> {
        let Some(blocks) = line.pointer("/message/content").and_then(Value::as_array) else { return vec![] };
        let mut items = Vec::new();
        for block in blocks {
            let kind = block.get("type").and_then(Value::as_str).unwrap_or_default();
            let (kind, text, name, tool_id, input) = match kind {
                "text" => (BlockKind::Text, block.get("text"), None, None, None),
                "thinking" => (BlockKind::Thinking, block.get("thinking"), None, None, None),
                "tool_use" => (
                    BlockKind::ToolUse,
                    None,
                    block.get("name").and_then(Value::as_str).map(str::to_string),
                    block.get("id").and_then(Value::as_str).map(str::to_string),
                    block.get("input").cloned(),
                ),
                _ => continue,
            };
            let index = self.next_block();
            items.push(OutputItem::BlockStarted { block: index, kind, name, tool_use_id: tool_id });
            if let Some(text) = text.and_then(Value::as_str).filter(|t| !t.is_empty()) {
                let text = if kind == BlockKind::Thinking { preview(text) } else { text.to_string() };
                items.push(OutputItem::TextAppended { block: index, text });
            }
            items.push(OutputItem::BlockFinished { block: index, input, signature: None, is_error: None });
        }
        items
    }

    /// The tool results of a user line.
    fn tool_results(&mut self, line: &Value) -> Vec<OutputItem> {
        let Some(blocks) = line.pointer("/message/content").and_then(Value::as_array) else { return vec![] };
        let mut items = Vec::new();
        for block in blocks.iter().filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result")) {
            let index = self.next_block();
            let tool_use_id = block.get("tool_use_id").and_then(Value::as_str).map(str::to_string);
            let text = match block.get("content") {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Array(parts)) => {
                    parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n")
                }
                _ => String::new(),
            };
            items.push(OutputItem::BlockStarted { block: index, kind: BlockKind::ToolResult, name: None, tool_use_id });
            items.push(OutputItem::TextAppended { block: index, text: preview(&text) });
            let is_error = block.get("is_error").and_then(Value::as_bool).unwrap_or(false);
            items.push(OutputItem::BlockFinished { block: index, input: None, signature: None, is_error: Some(is_error) });
        }
        items
    }
}

/// The text of a user line that starts a turn (not a tool result, not a sidechain or meta line).
pub fn prompt_text(line: &Value) -> Option<String> {
    if line.get("type").and_then(Value::as_str) != Some("user") || is_aside(line) {
        return None;
    }
    match line.pointer("/message/content")? {
        Value::String(text) => Some(text.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
    .filter(|text| !text.trim().is_empty())
}

fn is_aside(line: &Value) -> bool {
    line.get("isSidechain").and_then(Value::as_bool).unwrap_or(false) || line.get("isMeta").and_then(Value::as_bool).unwrap_or(false)
}

fn preview(text: &str) -> String {
    if text.len() <= PREVIEW_BYTES {
        return text.to_string();
    }
    let mut end = PREVIEW_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[{} more bytes in the CLI session file]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompts_number_turns_and_output_before_the_first_prompt_is_ignored() {
        let mut lines = SessionLines::default();
        let reply = json!({"type": "assistant", "message": {"content": [{"type": "text", "text": "hi"}]}});
        assert_eq!(lines.step(&reply), Step::Ignored);
        assert_eq!(lines.step(&json!({"type": "user", "message": {"content": "hello"}})), Step::Prompt("hello".into()));
        let Step::Output(items) = lines.step(&reply) else { panic!("no output") };
        assert_eq!(items.len(), 3);
        assert_eq!(lines.step(&json!({"type": "mystery"})), Step::Skipped);
        assert_eq!(lines.step(&json!({"type": "summary", "summary": "A title"})), Step::Title("A title".into()));
        assert_eq!(lines.step(&json!({"type": "summary", "summary": "Another"})), Step::Ignored);
        assert_eq!(lines.turns(), 1);
    }
}
