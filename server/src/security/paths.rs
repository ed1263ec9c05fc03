//! Confinement of client-supplied paths to a root folder.
//!
//! `confine` refuses rather than repairs: a path with `..`, an absolute path, a backslash, a NUL or
//! control character, or an overlong path is an error, never "normalised" into something else.
//! What is left is resolved on disk (symlinks included) and must still lie inside the root.

use std::path::{Component, Path, PathBuf};

/// Longest client path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest single path segment, in bytes (ext4's limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Why a client path was refused. The messages never echo the path.
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

/// Resolves `client_path` inside `root` and returns the canonical path, which exists.
/// Symlinks are followed, and the result must still be `root` or below it.
pub fn confine(root: &Path, client_path: &str) -> Result<PathBuf, PathError> {
    let root = root.canonicalize().map_err(|_| PathError::Unresolvable)?;
    let parts = segments(client_path)?;
    let joined = parts.iter().fold(root.clone(), |path, part| path.join(part));
    let resolved = match joined.canonicalize() {
        Ok(resolved) => resolved,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink that points outside must not read as "not found" inside.
            return Err(match resolve_existing_prefix(&root, &parts) {
                Some(prefix) if !prefix.starts_with(&root) => PathError::Escapes,
                _ => PathError::NotFound,
            });
        }
        Err(_) => return Err(PathError::Unresolvable),
    };
    if resolved.starts_with(&root) {
        Ok(resolved)
    } else {
        Err(PathError::Escapes)
    }
}

/// Like `confine`, for a path that may not exist yet (an upload's target): the deepest existing
/// ancestor is resolved and must be inside `root`; the missing rest is appended. Returns the path
/// and how many trailing segments do not exist yet.
pub fn confine_new(root: &Path, client_path: &str) -> Result<(PathBuf, usize), PathError> {
    let root = root.canonicalize().map_err(|_| PathError::Unresolvable)?;
    let parts = segments(client_path)?;
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    for existing in (0..=parts.len()).rev() {
        let candidate = parts[..existing].iter().fold(root.clone(), |path, part| path.join(part));
        // A symlink (even a dangling one) counts as existing: it is resolved, not replaced.
        if std::fs::symlink_metadata(&candidate).is_err() {
            continue;
        }
        let resolved = candidate.canonicalize().map_err(|_| PathError::Escapes)?;
        if !resolved.starts_with(&root) {
            return Err(PathError::Escapes);
        }
        let full = parts[existing..].iter().fold(resolved, |path, part| path.join(part));
        return Ok((full, parts.len() - existing));
    }
    Err(PathError::Unresolvable)
}

/// The deepest existing prefix of `parts` under `root`, resolved.
fn resolve_existing_prefix(root: &Path, parts: &[&str]) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    let mut deepest = None;
    for part in parts {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                // Where does it point, even if nothing is there?
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
mod tests {
    use super::*;

    fn sandbox() -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!("pd-confine-{}", uuid::Uuid::new_v4().simple()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}").unwrap();
        std::fs::write(base.join("outside.txt"), "secret").unwrap();
        (base.canonicalize().unwrap(), root.canonicalize().unwrap())
    }

    #[test]
    fn plain_relative_paths_resolve_inside() {
        let (base, root) = sandbox();
        assert_eq!(confine(&root, "src/main.rs").unwrap(), root.join("src/main.rs"));
        assert_eq!(confine(&root, "./src//main.rs").unwrap(), root.join("src/main.rs"));
        assert_eq!(confine(&root, "").unwrap(), root);
        assert_eq!(confine(&root, "missing.txt").unwrap_err(), PathError::NotFound);
        std::fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn traversal_absolute_nul_backslash_and_long_paths_are_refused() {
        let (base, root) = sandbox();
        let long = "a/".repeat(600);
        let cases: [(&str, PathError); 9] = [
            ("../outside.txt", PathError::ParentDirectory),
            ("src/../../outside.txt", PathError::ParentDirectory),
            ("/etc/passwd", PathError::Absolute),
            ("~/.ssh/id_rsa", PathError::Absolute),
            ("C:/Windows", PathError::Absolute),
            ("..\\outside.txt", PathError::Backslash),
            ("src/main.rs\0.txt", PathError::ControlCharacter),
            (&long, PathError::TooLong),
            ("src/\nx", PathError::ControlCharacter),
        ];
        for (path, expected) in cases {
            assert_eq!(confine(&root, path).unwrap_err(), expected, "{path:?}");
        }
        std::fs::remove_dir_all(base).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_that_leave_the_root_are_refused_even_when_dangling() {
        let (base, root) = sandbox();
        std::os::unix::fs::symlink(base.join("outside.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(&base, root.join("up")).unwrap();
        std::os::unix::fs::symlink(base.join("nothing-here"), root.join("dangling")).unwrap();
        std::os::unix::fs::symlink("src/main.rs", root.join("inner.rs")).unwrap();
        assert_eq!(confine(&root, "link.txt").unwrap_err(), PathError::Escapes);
        assert_eq!(confine(&root, "up/outside.txt").unwrap_err(), PathError::Escapes);
        assert_eq!(confine(&root, "dangling").unwrap_err(), PathError::Escapes);
        assert_eq!(confine(&root, "inner.rs").unwrap(), root.join("src/main.rs"));
        assert_eq!(confine_new(&root, "up/new.txt").unwrap_err(), PathError::Escapes);
        assert_eq!(confine_new(&root, "dangling").unwrap_err(), PathError::Escapes);
        assert_eq!(confine_new(&root, "src/new/deeper.txt").unwrap(), (root.join("src/new/deeper.txt"), 2));
        std::fs::remove_dir_all(base).unwrap();
    }
}
