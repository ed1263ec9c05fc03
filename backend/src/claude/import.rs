//! Imports a CLI session file as a conversation, streaming it line by line so that even a
//! 100 MB file never sits in memory whole. Each turn goes through the ordinary commands, so the
//! audit log of an imported conversation looks like one that ran here; unknown lines are counted.

use std::path::Path;

use domain::{ConversationCommand, OutputItem, PermissionMode, ProviderId, MAX_PROMPT_BYTES};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

use crate::error::BackendError;
use crate::guard::Root;
use crate::state::Backend;

mod lines;

pub use lines::{prompt_text, SessionLines, Step};

/// Output items recorded per command while importing.
const BATCH: usize = 200;

/// The outcome of an import.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub conversation_id: String,
    pub turns: u32,
    pub lines: u64,
    pub skipped: u64,
}

/// Turns and their output, recorded as they are read.
struct Recorder<'a> {
    backend: &'a Backend,
    id: String,
    turn: u32,
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
        let begin =
            ConversationCommand::BeginAttempt { turn: self.turn, attempt_id: self.attempt(), worker: "import".into(), takeover: false };
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
    let mut recorder = Recorder { backend, id: id.clone(), turn: 0, items: Vec::new(), session_id: Some(session_id.to_string()) };
    let (mut count, mut skipped, mut title) = (0u64, 0u64, None::<String>);
    let mut session = SessionLines::default();
    while let Some(raw) = lines.next_line().await.map_err(|e| BackendError::Store(format!("reading session: {e}")))? {
        count += 1;
        let Some(line) = lines::parse(&raw) else {
            skipped += 1;
            continue;
        };
        drop(raw);
        if !started && lines::starts_conversation(&line) {
            let workspace = workspace_of(&backend.config.workspace_root, &line);
            let model = backend.registry.default_model(ProviderId::ClaudeCode).unwrap_or_default();
            let settings =
                crate::settings::resolve(&backend.registry, &backend.config.defaults, ProviderId::ClaudeCode, &model, Default::default())
                    .ok();
            let start = ConversationCommand::StartConversation {
                provider: ProviderId::ClaudeCode.as_str().into(),
                model,
                title: None,
                workspace,
                permission_mode: PermissionMode::Ask,
                settings,
            };
            backend.execute_bulk(&id, start).await?;
            started = true;
        }
        match session.step(&line) {
            Step::Prompt(prompt) => recorder.start_turn(prompt).await?,
            Step::Output(items) => recorder.push(items).await?,
            Step::Title(text) => title = Some(text),
            Step::Ignored => {}
            Step::Skipped => skipped += 1,
        }
    }
    if !started {
        return Err(BackendError::invalid("the session file holds no readable lines"));
    }
    recorder.finish_turn().await?;
    if let Some(title) = title.filter(|t| !t.trim().is_empty()) {
        if let Err(error) = backend.execute_bulk(&id, ConversationCommand::Rename { title }).await {
            // The import stands with its default title.
            tracing::warn!(%error, conversation = %id, "giving an imported session its title failed");
        }
    }
    backend.projector.catch_up(&id).await?;
    Ok(Imported { conversation_id: id, turns: recorder.turn, lines: count, skipped })
}

/// The workspace a session ran in, when its cwd is a folder directly under the workspace root.
fn workspace_of(root: &Path, line: &Value) -> Option<String> {
    let root = Root::open(root).ok()?;
    let cwd = root.resolve(Path::new(line.get("cwd")?.as_str()?)).ok()?;
    (cwd.parent()? == root.path()).then(|| cwd.file_name()?.to_str().map(str::to_string)).flatten()
}
