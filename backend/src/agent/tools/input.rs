//! A tool call's input: parsed into the tool's own type, and its paths resolved through the guard,
//! with errors worded for the model (which named the path, so they may repeat it).

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::limits::FILE_MAX_BYTES;
use super::Workspace;
use crate::guard::PathError;
use crate::workspace_files::is_credentials_file;

/// The input as `T`, or an error naming what is wrong with it.
pub fn parse<T: DeserializeOwned>(tool: &str, input: &Value) -> Result<T, String> {
    if !input.is_object() {
        return Err(format!("the {tool} tool takes a JSON object as input"));
    }
    serde_json::from_value(input.clone()).map_err(|error| format!("invalid input for {tool}: {error}"))
}

/// An existing file or folder at `path` inside the workspace.
pub fn existing(workspace: &Workspace, path: &str) -> Result<PathBuf, String> {
    workspace.root().confine(within(workspace, path)).map_err(|error| refused(path, error))
}

/// Where a file at `path` may be created inside the workspace (it may exist already).
pub fn creatable(workspace: &Workspace, path: &str) -> Result<PathBuf, String> {
    workspace.root().confine_new(within(workspace, path)).map(|(path, _)| path).map_err(|error| refused(path, error))
}

/// An absolute path that names the workspace itself or something in it, made relative (models often
/// name files absolutely); anything else is left for the guard to judge.
fn within<'a>(workspace: &Workspace, path: &'a str) -> &'a str {
    let root = workspace.root().path().to_string_lossy();
    match path.strip_prefix(root.as_ref()) {
        Some("") => ".",
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/'),
        _ => path,
    }
}

/// Refuses a file that holds credentials (`.env`, private keys, …), even inside the workspace.
pub fn not_credentials(path: &std::path::Path, named: &str) -> Result<(), String> {
    match path.file_name().and_then(|name| name.to_str()) {
        Some(name) if is_credentials_file(name) => {
            Err(format!("{named}: refused: this file holds credentials, which the agent may not read or write"))
        }
        _ => Ok(()),
    }
}

/// An existing file the `tool` may open at `path`: inside the workspace, not a folder, not a
/// credentials file, at most [`FILE_MAX_BYTES`]. Returns where it is, its metadata and its bytes.
pub fn existing_file(workspace: &Workspace, path: &str, tool: &str) -> Result<(PathBuf, std::fs::Metadata, Vec<u8>), String> {
    let file = existing(workspace, path)?;
    not_credentials(&file, path)?;
    let meta = std::fs::metadata(&file).map_err(|error| format!("{path}: {error}"))?;
    if meta.is_dir() {
        return Err(format!("{path} is a folder; use the list tool to see what it holds"));
    }
    if meta.len() > FILE_MAX_BYTES {
        return Err(format!("{path} is {} bytes, more than the {FILE_MAX_BYTES} bytes the {tool} tool handles", meta.len()));
    }
    let bytes = std::fs::read(&file).map_err(|error| format!("{path}: {error}"))?;
    Ok((file, meta, bytes))
}

fn refused(path: &str, error: PathError) -> String {
    match error {
        PathError::Escapes | PathError::Absolute | PathError::ParentDirectory => {
            format!("{path}: refused: {error}; tools only reach files inside the workspace, named relative to it")
        }
        error => format!("{path}: {error}"),
    }
}
