//! Workspaces: folders directly under `WORKSPACE_ROOT`, named by the client and confined to the root.

use std::path::{Path, PathBuf};

use crate::error::BackendError;
use crate::guard::{PathError, Root};

/// Checks a workspace name: one path segment of letters, digits, `.`, `_` and `-`, not starting with a dot.
pub fn validate(name: &str) -> Result<&str, BackendError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name)
    } else {
        Err(BackendError::invalid("`workspace` must be a folder name of up to 100 letters, digits, `.`, `_` or `-`, not starting with `.`"))
    }
}

/// The existing workspace `name` under `root`, resolved by the guard: a folder directly under the
/// root, or a link to a folder inside it; `Missing` when there is none, `Forbidden` for a link out.
pub fn dir(root: &Path, name: &str) -> Result<Root, BackendError> {
    let name = validate(name)?;
    let root = Root::open(root).map_err(|e| BackendError::Store(format!("WORKSPACE_ROOT {} cannot be opened: {e}", root.display())))?;
    root.child(name).map_err(|error| match error {
        PathError::NotFound => BackendError::Missing(format!("workspace `{name}` does not exist")),
        PathError::Escapes => BackendError::Forbidden(format!("workspace `{name}` leads outside WORKSPACE_ROOT")),
        other => other.into(),
    })
}

/// Creates the workspace if missing and returns its name.
pub fn ensure(root: &Path, name: &str) -> Result<String, BackendError> {
    let name = validate(name)?;
    let path = root.join(name);
    std::fs::create_dir_all(&path).map_err(|e| BackendError::Store(format!("cannot create workspace {}: {e}", path.display())))?;
    // A symlink named like the workspace must not lead the agent out of the root: the one rule of `dir`.
    dir(root, name)?;
    Ok(name.to_string())
}

/// The workspaces: folders directly under `root` (links to folders inside it included), sorted by
/// name, hidden ones skipped.
#[tracing::instrument(name = "workspaces.list")]
pub fn list(root: &Path) -> Result<Vec<String>, BackendError> {
    let entries =
        std::fs::read_dir(root).map_err(|e| BackendError::Store(format!("cannot read WORKSPACE_ROOT {}: {e}", root.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
        .filter(|name| validate(name).is_ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Creates a new workspace; `Exists` when the name is taken.
#[tracing::instrument(name = "workspaces.create")]
pub fn create(root: &Path, name: &str) -> Result<String, BackendError> {
    let name = validate(name)?;
    let path = root.join(name);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(BackendError::Exists(format!("workspace `{name}` exists")));
    }
    match std::fs::create_dir(&path) {
        Ok(()) => ensure(root, name),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(BackendError::Exists(format!("workspace `{name}` exists"))),
        Err(e) => Err(BackendError::Store(format!("cannot create workspace {}: {e}", path.display()))),
    }
}

/// The directory a conversation runs in: its workspace, or the root itself.
pub fn directory(root: &Path, workspace: Option<&str>) -> PathBuf {
    match workspace {
        Some(name) => root.join(name),
        None => root.to_path_buf(),
    }
}

impl crate::state::Backend {
    /// The workspace names under `WORKSPACE_ROOT`, sorted.
    pub fn workspaces(&self) -> Result<Vec<String>, BackendError> {
        list(&self.config.workspace_root)
    }

    /// Creates a workspace; `BackendError::Exists` when the name is taken.
    pub fn create_workspace(&self, name: &str) -> Result<String, BackendError> {
        create(&self.config.workspace_root, name)
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn names_that_could_leave_the_root_are_refused() {
        for bad in ["", "..", "../etc", "a/b", ".hidden", "a\\\\b", "with space", &"x".repeat(101)] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        for good in ["project", "my-app_2", "v1.2"] {
            assert!(validate(good).is_ok(), "{good:?}");
        }
    }
}
