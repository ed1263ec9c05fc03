//! The one filesystem guard: every path the backend reaches under a root (workspace files, Claude Code
//! session and config files, uploads, the agents' tools) is resolved here and nowhere else.
//!
//! A [`Root`] is a folder resolved once (a symlinked root is followed to its target). Client paths are
//! refused rather than repaired: `..`, an absolute path, a backslash, a NUL or control character, or an
//! overlong path is an error, never "normalised" into something else. What is left is resolved on disk,
//! symlinks included, and must still lie inside the root; a dangling link that points out reads as an
//! escape, not as "not found".

use std::path::{Component, Path, PathBuf};

/// Longest client path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest single path segment, in bytes (ext4's limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Why a path was refused. The messages never echo the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("the path contains a NUL or control character")]
    ControlCharacter,
    #[error("the path is longer than {MAX_PATH_BYTES} bytes or has a segment longer than {MAX_SEGMENT_BYTES}")]
    TooLong,
    #[error("the path must be relative to the workspace")]
    Absolute,
    #[error("the path contains a backslash")]
    Backslash,
    #[error("the path may not contain `..`")]
    ParentDirectory,
    #[error("the path leads outside the workspace")]
    Escapes,
    #[error("no such file or folder")]
    NotFound,
    #[error("the path cannot be resolved")]
    Unresolvable,
}

/// Checks `client_path` without touching the disk: its normal segments, in order.
pub fn segments(client_path: &str) -> Result<Vec<&str>, PathError> {
    if client_path.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    if client_path.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong);
    }
    if client_path.contains('\\') {
        return Err(PathError::Backslash);
    }
    let bytes = client_path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if client_path.starts_with('/') || client_path.starts_with('~') || drive {
        return Err(PathError::Absolute);
    }
    let mut out = Vec::new();
    for part in client_path.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(PathError::ParentDirectory),
            part if part.len() > MAX_SEGMENT_BYTES => return Err(PathError::TooLong),
            part => out.push(part),
        }
    }
    // Belt and braces: what std makes of it must be plain names too.
    let joined: PathBuf = out.iter().collect();
    if joined.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(PathError::Escapes);
    }
    Ok(out)
}

/// A folder that paths are confined to, resolved (its canonical path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    path: PathBuf,
}

impl Root {
    /// Resolves `path`, which must be an existing folder (`NotFound` otherwise).
    pub fn open(path: &Path) -> Result<Root, PathError> {
        let path = path.canonicalize().map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => PathError::NotFound,
            _ => PathError::Unresolvable,
        })?;
        if !path.is_dir() {
            return Err(PathError::NotFound);
        }
        Ok(Root { path })
    }

    /// The resolved folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Resolves `client_path` inside the root; the result exists. Symlinks are followed, and the
    /// result must still be the root or below it.
    pub fn confine(&self, client_path: &str) -> Result<PathBuf, PathError> {
        let parts = segments(client_path)?;
        let joined = parts.iter().fold(self.path.clone(), |path, part| path.join(part));
        let resolved = match joined.canonicalize() {
            Ok(resolved) => resolved,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(match self.deepest_existing(&parts) {
                    Some(prefix) if !prefix.starts_with(&self.path) => PathError::Escapes,
                    _ => PathError::NotFound,
                });
            }
            Err(_) => return Err(PathError::Unresolvable),
        };
        self.inside(resolved)
    }

    /// Like [`Root::confine`], for a path that may not exist yet (an upload's target): the deepest
    /// existing part is resolved and must be inside the root; the missing rest is appended. Returns
    /// the path and how many trailing segments do not exist yet.
    pub fn confine_new(&self, client_path: &str) -> Result<(PathBuf, usize), PathError> {
        let parts = segments(client_path)?;
        if parts.is_empty() {
            return Err(PathError::Empty);
        }
        let path = parts.iter().fold(self.path.clone(), |path, part| path.join(part));
        self.resolve_new(&path)
    }

    /// The folder `name` directly names inside the root (a link to a folder inside it included).
    pub fn child(&self, name: &str) -> Result<Root, PathError> {
        let path = self.confine(name)?;
        if path == self.path || !path.is_dir() {
            return Err(PathError::NotFound);
        }
        Ok(Root { path })
    }

    /// Resolves a path the program made (not the client), which must exist and lie inside the root.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, PathError> {
        let resolved = path.canonicalize().map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => PathError::NotFound,
            _ => PathError::Unresolvable,
        })?;
        self.inside(resolved)
    }

    /// Resolves a path the program made that may not exist yet: its deepest existing ancestor (a
    /// link, even a dangling one, counts as existing) is resolved and must be inside the root; the
    /// missing rest, plain names only, is appended. Returns the path and how many trailing segments
    /// do not exist yet.
    pub fn resolve_new(&self, path: &Path) -> Result<(PathBuf, usize), PathError> {
        if path.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(PathError::ParentDirectory);
        }
        let mut existing = path.to_path_buf();
        let mut missing = Vec::new();
        while std::fs::symlink_metadata(&existing).is_err() {
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    missing.push(name.to_os_string());
                    existing = parent.to_path_buf();
                }
                _ => return Err(PathError::Unresolvable),
            }
        }
        let resolved = existing.canonicalize().map_err(|_| PathError::Escapes)?;
        let resolved = self.inside(resolved)?;
        let count = missing.len();
        Ok((missing.into_iter().rev().fold(resolved, |path, name| path.join(name)), count))
    }

    fn inside(&self, resolved: PathBuf) -> Result<PathBuf, PathError> {
        if resolved.starts_with(&self.path) {
            Ok(resolved)
        } else {
            Err(PathError::Escapes)
        }
    }

    /// Where the deepest existing prefix of `parts` leads: a link's target (even if nothing is
    /// there), or the resolved folder.
    fn deepest_existing(&self, parts: &[&str]) -> Option<PathBuf> {
        let mut path = self.path.clone();
        let mut deepest = None;
        for part in parts {
            path.push(part);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let target = std::fs::read_link(&path).ok()?;
                    let target = if target.is_absolute() { target } else { path.parent()?.join(target) };
                    return Some(lexical_normalize(&target));
                }
                Ok(_) => deepest = path.canonicalize().ok(),
                Err(_) => break,
            }
        }
        deepest
    }
}

fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests;
