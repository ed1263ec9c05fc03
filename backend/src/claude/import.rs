//! Imports a CLI session file as a conversation, streaming it line by line so that even a
//! 100 MB file never sits in memory whole. Each turn goes through the ordinary commands, so the
//! audit log of an imported conversation looks like one that ran here; unknown lines are counted.

use std::path::Path;

use domain::{BlockKind, ConversationCommand, OutputItem, PermissionMode, MAX_PROMPT_BYTES};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

use crate::catalog;
use crate::error::BackendError;
use crate::state::Backend;

/// Output items recorded per command while importing.
const BATCH: usize = 200;
/// Line types the CLI writes that carry nothing for the conversation.
const IGNORED: [&str; 7] = ["queue-operation", "attachment", "last-prompt", "summary", "system", "file-history-snapshot", "progress"];

/// The outcome of an import.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub conversation_id: String,
    pub turns: u32,
    pub lines: u64,
    pub skipped: u64,
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

/// Turns and their output, recorded as they are read.
struct Recorder<'a> {
    backend: &'a Backend,
    id: String,
    turn: u32,
    block: u32,
    items: Vec<OutputItem>,
    session_id: Option<String>,
}

impl Recorder<'_> {
    fn attempt(&self) -> String {
        format!("import-{}", self.turn)
    }

    async fn start_turn(&mut self, prompt: String) -> Result<(), BackendError> {
        self.finish_turn().await?;
        let text = truncate(prompt);
        self.backend.execute_bulk(&self.id, ConversationCommand::SubmitPrompt { text, job_id: "import".into() }).await?;
        self.turn += 1;
        self.block = 0;
        let begin = ConversationCommand::BeginAttempt { turn: self.turn, attempt_id: self.attempt(), worker: "import".into(), takeover: false };
        self.backend.execute_bulk(&self.id, begin).await?;
        if let Some(session_id) = self.session_id.take() {
            self.items.push(OutputItem::CliSessionStarted { session_id });
        }
        Ok(())
    }

    async fn push(&mut self, items: Vec<OutputItem>) -> Result<(), BackendError> {
        self.items.extend(items);
        if self.items.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), BackendError> {
        if self.turn == 0 || self.items.is_empty() {
            return Ok(());
        }
        let items = std::mem::take(&mut self.items);
        self.backend.execute_bulk(&self.id, ConversationCommand::RecordOutput { turn: self.turn, attempt_id: self.attempt(), items }).await
    }

    async fn finish_turn(&mut self) -> Result<(), BackendError> {
        if self.turn == 0 {
            return Ok(());
        }
        self.flush().await?;
        let complete = ConversationCommand::CompleteTurn { turn: self.turn, attempt_id: self.attempt(), stop_reason: "end_turn".into() };
        self.backend.execute_bulk(&self.id, complete).await
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
                Some(Value::Array(parts)) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n"),
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

/// Tool results and thinking longer than this are kept as a preview: the CLI's own session
/// file still holds them whole, and `--resume` gives the model the full context.
const PREVIEW_BYTES: usize = 2048;

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

fn truncate(mut text: String) -> String {
    if text.len() > MAX_PROMPT_BYTES {
        let mut end = MAX_PROMPT_BYTES - 64;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n[truncated on import]");
    }
    text
}

/// Imports the session file at `path` (already confined) as a new Claude Code conversation.
#[tracing::instrument(name = "claude.import_session", skip(backend))]
pub async fn import_session(backend: &Backend, path: &Path, session_id: &str) -> Result<Imported, BackendError> {
    let file = tokio::fs::File::open(path).await.map_err(|e| BackendError::Store(format!("cannot open session: {e}")))?;
    let mut lines = BufReader::with_capacity(256 * 1024, file).lines();
    let id = Uuid::new_v4().to_string();
    let mut started = false;
    let mut recorder = Recorder {
        backend,
        id: id.clone(),
        turn: 0,
        block: 0,
        items: Vec::new(),
        session_id: Some(session_id.to_string()),
    };
    let (mut count, mut skipped, mut title) = (0u64, 0u64, None::<String>);
    while let Some(raw) = lines.next_line().await.map_err(|e| BackendError::Store(format!("reading session: {e}")))? {
        count += 1;
        let Ok(line) = serde_json::from_str::<Value>(&raw) else {
            skipped += 1;
            continue;
        };
        drop(raw);
        if !started && (line.get("cwd").is_some() || line.get("type").and_then(Value::as_str) == Some("user")) {
            let workspace = workspace_of(&backend.config.workspace_root, &line);
            let model = catalog::default_model(&backend.config, catalog::CLAUDE_CODE).unwrap_or_default();
            let settings = crate::settings::resolve(&backend.config, catalog::CLAUDE_CODE, &model, Default::default()).ok();
            let start = ConversationCommand::StartConversation {
                provider: catalog::CLAUDE_CODE.into(),
                model,
                title: None,
                workspace,
                permission_mode: PermissionMode::Ask,
                settings,
            };
            backend.execute_bulk(&id, start).await?;
            started = true;
        }
        let kind = line.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "user" if is_aside(&line) => {}
            "user" => match prompt_text(&line) {
                Some(prompt) => recorder.start_turn(prompt).await?,
                None => {
                    let items = recorder.tool_results(&line);
                    recorder.push(items).await?;
                }
            },
            "assistant" if is_aside(&line) || recorder.turn == 0 => {}
            "assistant" => {
                let items = recorder.assistant(&line);
                recorder.push(items).await?;
            }
            "ai-title" | "summary" if title.is_none() => {
                title = line.get("title").or_else(|| line.get("summary")).and_then(Value::as_str).map(str::to_string);
            }
            known if IGNORED.contains(&known) || known == "ai-title" || known == "summary" => {}
            _ => skipped += 1,
        }
    }
    if !started {
        return Err(BackendError::invalid("the session file holds no readable lines"));
    }
    recorder.finish_turn().await?;
    if let Some(title) = title.filter(|t| !t.trim().is_empty()) {
        let _ = backend.execute_bulk(&id, ConversationCommand::Rename { title: title.chars().take(200).collect() }).await;
    }
    backend.projector.catch_up(&id).await?;
    Ok(Imported { conversation_id: id, turns: recorder.turn, lines: count, skipped })
}

/// The workspace a session ran in, when its cwd is a folder directly under the workspace root.
fn workspace_of(root: &Path, line: &Value) -> Option<String> {
    let cwd = Path::new(line.get("cwd")?.as_str()?);
    let cwd = cwd.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    (cwd.parent()? == root).then(|| cwd.file_name()?.to_str().map(str::to_string)).flatten()
}
