//! Workspace files: a folder's listing, a text file's preview and uploads, every path through the
//! [`guard`](crate::guard) and every write through [`atomic`](crate::atomic).
//!
//! Rules: a text file up to [`PREVIEW_MAX_BYTES`] is previewed (highlighted by extension); binary files
//! are `Unsupported`, larger ones `TooLarge`, and credentials files (`.env`, private keys, …) are
//! `Forbidden` even inside a workspace. An upload creates only safe names ([`safe_name`]), at most the
//! caller's byte cap, and replaces an existing file only when asked to.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::atomic::{AtomicError, Placement, Staged};
use crate::error::BackendError;
use crate::guard::{self, PathError, Root};
use crate::state::Backend;

/// Largest file the preview shows.
pub const PREVIEW_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// What an entry of a folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
}

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    pub size: u64,
}

/// What a path in a workspace shows: a folder's entries (folders first, then by name) or a text file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum WorkspaceItem {
    Folder { path: String, entries: Vec<Entry> },
    File { path: String, size: u64, text: String, language: Option<String>, html: String },
}

/// A file an upload placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uploaded {
    pub path: String,
    pub size: u64,
}

/// Files that hold credentials are never shown, even inside a workspace.
pub fn is_credentials_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let env =
        lower == ".env" || (lower.starts_with(".env.") && !matches!(lower.as_str(), ".env.example" | ".env.sample" | ".env.template"));
    env || matches!(
        lower.as_str(),
        ".netrc"
            | ".git-credentials"
            | ".credentials.json"
            | "credentials.json"
            | ".pgpass"
            | "id_rsa"
            | "id_dsa"
            | "id_ecdsa"
            | "id_ed25519"
            | "secret.key"
    ) || lower.ends_with(".pem")
        || lower.ends_with(".key")
        || lower.ends_with(".p12")
}

/// A name an upload may create: no leading dot or dash, no separators or control characters,
/// nothing a shell or Windows treats specially, at most 255 bytes.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= guard::MAX_SEGMENT_BYTES
        && !name.starts_with(['.', '-', ' '])
        && !name.ends_with([' ', '.'])
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ' ' | '(' | ')' | '+' | ',' | '@' | '=' | '[' | ']'))
}

const UNSAFE_NAME: &str =
    "file and folder names may only use letters, digits, spaces and . _ - ( ) + , @ = [ ], and may not start with . or -";
const TOO_LARGE_PREVIEW: &str = "the file is larger than the 2 MB preview limit";
const EXISTS: &str = "the file exists; add overwrite=true to replace it";

impl Backend {
    /// The workspace folder: a direct child of `WORKSPACE_ROOT` (or a link to a folder inside it).
    pub fn workspace_dir(&self, workspace: &str) -> Result<Root, BackendError> {
        crate::workspaces::dir(&self.config.workspace_root, workspace)
    }

    /// A folder's listing or a text file's preview.
    #[tracing::instrument(name = "workspace_files.show", skip(self))]
    pub async fn workspace_item(&self, workspace: &str, path: &str) -> Result<WorkspaceItem, BackendError> {
        let dir = self.workspace_dir(workspace)?;
        let target = dir.confine(path)?;
        let relative = relative(&dir, &target);
        let meta = tokio::fs::metadata(&target).await.map_err(|_| PathError::NotFound)?;
        if meta.is_dir() {
            let mut entries = Vec::new();
            let mut listing =
                tokio::fs::read_dir(&target).await.map_err(|_| BackendError::Forbidden("the folder cannot be read".into()))?;
            while let Ok(Some(entry)) = listing.next_entry().await {
                let Ok(kind) = entry.file_type().await else { continue };
                let size = if kind.is_file() { entry.metadata().await.map(|m| m.len()).unwrap_or(0) } else { 0 };
                let kind = if kind.is_symlink() {
                    EntryKind::Symlink
                } else if kind.is_dir() {
                    EntryKind::Dir
                } else {
                    EntryKind::File
                };
                entries.push(Entry { name: entry.file_name().to_string_lossy().into_owned(), kind, size });
            }
            entries.sort_by(|a, b| (a.kind != EntryKind::Dir, &a.name).cmp(&(b.kind != EntryKind::Dir, &b.name)));
            return Ok(WorkspaceItem::Folder { path: relative, entries });
        }
        if !meta.is_file() {
            return Err(BackendError::Unsupported("only regular files can be shown".into()));
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if is_credentials_file(&name) {
            return Err(BackendError::Forbidden("credentials files (.env, private keys, …) are never shown".into()));
        }
        if meta.len() > PREVIEW_MAX_BYTES {
            return Err(BackendError::TooLarge(TOO_LARGE_PREVIEW.into()));
        }
        let bytes = tokio::fs::read(&target).await.map_err(|_| BackendError::Forbidden("the file cannot be read".into()))?;
        if bytes.len() as u64 > PREVIEW_MAX_BYTES {
            return Err(BackendError::TooLarge(TOO_LARGE_PREVIEW.into()));
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => text,
            _ => return Err(BackendError::Unsupported("binary files cannot be previewed".into())),
        };
        let name = relative.clone();
        let (text, language, html) = tokio::task::spawn_blocking(move || {
            let (language, html) = crate::render::highlight_file(&name, &text);
            (text, language, html)
        })
        .await
        .map_err(|e| BackendError::Store(format!("highlighting failed: {e}")))?;
        Ok(WorkspaceItem::File { path: relative, size: meta.len(), text, language, html })
    }

    /// Streams `body` into `path` in the workspace: at most `cap` bytes (`TooLarge` beyond, nothing
    /// left behind), replacing an existing file only when `overwrite` is set.
    #[tracing::instrument(name = "workspace_files.upload", skip(self, body))]
    pub async fn upload_file<S, E>(&self, workspace: &str, path: &str, overwrite: bool, body: S, cap: u64) -> Result<Uploaded, BackendError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let dir = self.workspace_dir(workspace)?;
        let segments = guard::segments(path)?;
        if segments.is_empty() {
            return Err(BackendError::invalid("`path` must name the file to create"));
        }
        if !segments.iter().all(|s| safe_name(s)) {
            return Err(BackendError::invalid(UNSAFE_NAME));
        }
        let (target, missing) = dir.confine_new(path)?;
        if missing == 0 {
            if target.is_dir() {
                return Err(BackendError::Exists("a folder of that name exists".into()));
            }
            if !overwrite {
                return Err(BackendError::Exists(EXISTS.into()));
            }
        }
        let staged = Staged::beside(&dir, &target, 0o644).map_err(placement_error)?;
        let size = write_capped(&staged, body, cap).await?;
        let placed = staged.place(if overwrite { Placement::Replace } else { Placement::CreateNew }).map_err(placement_error)?;
        let path = relative(&dir, &placed);
        tracing::info!(workspace = %workspace, size, "file uploaded");
        Ok(Uploaded { path, size })
    }
}

/// Streams `body` into the staged file; `TooLarge` once it grows past `cap`.
async fn write_capped<S, E>(staged: &Staged, body: S, cap: u64) -> Result<u64, BackendError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let cannot_write = |e: std::io::Error| BackendError::NoSpace(format!("the file could not be written: {}", e.kind()));
    let mut file = staged.async_file().map_err(placement_error)?;
    let mut body = std::pin::pin!(body);
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| BackendError::invalid(format!("the upload was interrupted: {e}")))?;
        size += chunk.len() as u64;
        if size > cap {
            return Err(BackendError::TooLarge(format!("uploads are limited to {cap} bytes (PD_UPLOAD_MAX_BYTES)")));
        }
        file.write_all(&chunk).await.map_err(cannot_write)?;
    }
    file.flush().await.map_err(cannot_write)?;
    Ok(size)
}

fn placement_error(error: AtomicError) -> BackendError {
    match error {
        AtomicError::Path(error) => error.into(),
        AtomicError::Exists => BackendError::Exists(EXISTS.into()),
        AtomicError::Io(e) => BackendError::Exists(format!("the file cannot be written there: {}", e.kind())),
    }
}

fn relative(dir: &Root, path: &std::path::Path) -> String {
    path.strip_prefix(dir.path()).unwrap_or(path).to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_are_plain() {
        for good in ["notes.txt", "IMG 2024 (1).jpg", "résumé.pdf", "a+b=c.md", "v1.2.tar.gz"] {
            assert!(safe_name(good), "{good}");
        }
        for bad in [
            "",
            ".env",
            ".bashrc",
            "-rf",
            "a/b",
            "a\\b",
            "a:b",
            "x\0y",
            "trailing.",
            "trailing ",
            "a\nb",
            "*.txt",
            "$(id)",
            "<x>",
            &"x".repeat(256),
        ] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn credentials_files_are_recognised() {
        for name in [".env", ".env.local", ".ENV", "id_rsa", "server.pem", "secret.key", ".credentials.json", ".git-credentials"] {
            assert!(is_credentials_file(name), "{name}");
        }
        for name in [".env.example", "main.rs", "README.md", "environment.txt"] {
            assert!(!is_credentials_file(name), "{name}");
        }
    }
}
