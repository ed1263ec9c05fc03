//! Lists the CLI's session files, `$HOME/.claude/projects/<project>/<session>.jsonl`, reading only their heads.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::error::BackendError;
use crate::event_log::format_time;
use crate::guard::Root;

/// One session file.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub project: String,
    pub session_id: String,
    pub cwd: Option<String>,
    pub first_prompt: Option<String>,
    pub modified_at: String,
    pub size_bytes: u64,
}

/// How far into a file the first prompt is looked for.
const HEAD_LINES: usize = 200;

fn projects(home: &Path) -> PathBuf {
    home.join(".claude").join("projects")
}

/// A name that is one path segment and nothing else.
fn segment(name: &str) -> Result<&str, BackendError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name)
    } else {
        Err(BackendError::invalid("project and session_id must be names from the session list"))
    }
}

/// The file of one session, checked to lie inside the projects folder.
pub fn session_file(home: &Path, project: &str, session_id: &str) -> Result<PathBuf, BackendError> {
    let file = format!("{}/{}.jsonl", segment(project)?, segment(session_id)?);
    let root = Root::open(&projects(home)).map_err(|_| BackendError::NotFound)?;
    match root.confine(&file) {
        Ok(resolved) if resolved.is_file() => Ok(resolved),
        _ => Err(BackendError::NotFound),
    }
}

/// Every session, newest first.
#[tracing::instrument(name = "claude.list_sessions", skip_all)]
pub async fn list_sessions(home: &Path) -> Result<Vec<SessionInfo>, BackendError> {
    let mut sessions = Vec::new();
    let Ok(mut projects) = tokio::fs::read_dir(projects(home)).await else { return Ok(sessions) };
    while let Ok(Some(project)) = projects.next_entry().await {
        let Ok(mut files) = tokio::fs::read_dir(project.path()).await else { continue };
        while let Ok(Some(file)) = files.next_entry().await {
            let path = file.path();
            if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
                continue;
            }
            let Ok(metadata) = file.metadata().await else { continue };
            let (cwd, first_prompt) = head(&path).await;
            sessions.push(SessionInfo {
                project: project.file_name().to_string_lossy().into_owned(),
                session_id: path.file_stem().unwrap_or_default().to_string_lossy().into_owned(),
                cwd,
                first_prompt,
                modified_at: metadata.modified().map(|m| format_time(m.into())).unwrap_or_default(),
                size_bytes: metadata.len(),
            });
        }
    }
    sessions.sort_by(|a, b| b.modified_at.cmp(&a.modified_at));
    Ok(sessions)
}

/// The cwd and the first prompt, from the first lines of a session.
async fn head(path: &Path) -> (Option<String>, Option<String>) {
    let Ok(file) = tokio::fs::File::open(path).await else { return (None, None) };
    let mut lines = BufReader::new(file).lines();
    let mut cwd = None;
    for _ in 0..HEAD_LINES {
        let Ok(Some(line)) = lines.next_line().await else { break };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if cwd.is_none() {
            cwd = value.get("cwd").and_then(|c| c.as_str()).map(str::to_string);
        }
        if let Some(prompt) = super::import::prompt_text(&value) {
            return (cwd, Some(prompt.chars().take(200).collect()));
        }
    }
    (cwd, None)
}
