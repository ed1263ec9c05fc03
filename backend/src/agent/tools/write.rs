//! `write`: creates or replaces a file atomically (through [`atomic`](crate::atomic)), keeping a
//! replaced file's permissions.

use std::os::unix::fs::PermissionsExt;

use serde::Deserialize;
use serde_json::{json, Value};

use super::limits::FILE_MAX_BYTES;
use super::{input, Workspace};
use crate::atomic::{self, Placement};

pub const DESCRIPTION: &str = "Create a file in the workspace, or replace one, with the given content (missing folders \
are created). To change part of an existing file, prefer the edit tool. Credentials files (.env, private keys) are \
refused. Paths are relative to the workspace root.";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "The file, relative to the workspace root."},
            "content": {"type": "string", "description": "The whole new content of the file."}
        },
        "required": ["path", "content"],
        "additionalProperties": false
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    path: String,
    content: String,
}

pub fn run(value: &Value, workspace: &Workspace) -> Result<String, String> {
    let Input { path, content } = input::parse("write", value)?;
    let target = input::creatable(workspace, &path)?;
    input::not_credentials(&target, &path)?;
    if content.len() as u64 > FILE_MAX_BYTES {
        return Err(format!("the content is {} bytes, more than the {FILE_MAX_BYTES} bytes the write tool handles", content.len()));
    }
    let existing = std::fs::symlink_metadata(&target).ok();
    if existing.as_ref().is_some_and(|meta| meta.is_dir()) {
        return Err(format!("{path} is a folder"));
    }
    let mode = existing.as_ref().map_or(0o644, |meta| meta.permissions().mode() & 0o7777);
    place(workspace, &target, content.as_bytes(), mode, &path)?;
    let verb = if existing.is_some() { "replaced" } else { "created" };
    Ok(format!("{verb} {path} ({} bytes, {} lines)", content.len(), content.lines().count()))
}

/// Writes `bytes` over `target` atomically with `mode`; errors name the file as the model did.
pub fn place(workspace: &Workspace, target: &std::path::Path, bytes: &[u8], mode: u32, named: &str) -> Result<(), String> {
    atomic::write(workspace.root(), target, bytes, mode, Placement::Replace).map(drop).map_err(|error| format!("{named}: {error}"))
}
