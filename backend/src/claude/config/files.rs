//! The config editor's files: list a scope's files, read, write (atomically, through the guard) and delete one.

use std::path::Path;

use serde::Serialize;

use super::hooks::parse_settings;
use super::{folders, outside, valid_name, ConfigRoots, Folders, Kind, Scope};
use crate::atomic::{self, AtomicError, Placement};
use crate::error::BackendError;
use crate::guard::Root;

/// The largest file the editor writes.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// One file in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigFile {
    pub kind: &'static str,
    pub name: String,
    pub path: String,
    pub exists: bool,
}

/// `GET /api/claude/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigListing {
    pub scope: String,
    pub dir: String,
    pub files: Vec<ConfigFile>,
}

/// `GET /api/claude/config/file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigContent {
    pub path: String,
    pub content: String,
    pub exists: bool,
}

/// The scope's files: `CLAUDE.md` and `settings.json` always (with `exists`), then every command,
/// agent and skill, each sorted by name.
#[tracing::instrument(name = "claude_config.list", skip(roots))]
pub fn list(roots: &ConfigRoots, scope: &Scope) -> Result<ConfigListing, BackendError> {
    let folders = folders(roots, scope)?;
    let mut files = Vec::new();
    for kind in [Kind::ClaudeMd, Kind::Settings] {
        let exists = folders.file(&kind).is_file();
        files.push(ConfigFile { kind: kind.kind(), name: kind.name(), path: kind.path(), exists });
    }
    let mut named = |folder: &str, make: fn(String) -> Kind| {
        let mut names: Vec<String> = std::fs::read_dir(folders.dot.join(folder))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
            .filter_map(|file| if folder == "skills" { Some(file) } else { file.strip_suffix(".md").map(str::to_string) })
            .filter(|name| valid_name(name).is_ok())
            .collect();
        names.sort();
        for name in names {
            let kind = make(name);
            let path = folders.file(&kind);
            if path.is_file() && folders.confine(&path).is_ok() {
                files.push(ConfigFile { kind: kind.kind(), name: kind.name(), path: kind.path(), exists: true });
            }
        }
    };
    named("commands", Kind::Command);
    named("agents", Kind::Agent);
    named("skills", Kind::Skill);
    Ok(ConfigListing { scope: scope.label(), dir: folders.base.display().to_string(), files })
}

/// A file's content; a missing file is empty with `exists: false`.
#[tracing::instrument(name = "claude_config.read", skip(roots))]
pub fn read(roots: &ConfigRoots, scope: &Scope, path: &str) -> Result<ConfigContent, BackendError> {
    let kind = Kind::parse(path)?;
    let folders = folders(roots, scope)?;
    let file = folders.file(&kind);
    folders.confine(&file)?;
    match std::fs::read_to_string(&file) {
        Ok(content) => Ok(ConfigContent { path: kind.path(), content, exists: true }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(ConfigContent { path: kind.path(), content: String::new(), exists: false })
        }
        Err(e) => Err(BackendError::Store(format!("cannot read {}: {e}", file.display()))),
    }
}

/// Writes a file atomically. `settings.json` must be a JSON object.
#[tracing::instrument(name = "claude_config.write", skip(roots, content), fields(bytes = content.len()))]
pub fn write(roots: &ConfigRoots, scope: &Scope, path: &str, content: &str) -> Result<ConfigContent, BackendError> {
    let kind = Kind::parse(path)?;
    if content.len() > MAX_FILE_BYTES {
        return Err(BackendError::TooLarge(format!("configuration files are limited to {} KB", MAX_FILE_BYTES / 1024)));
    }
    if kind == Kind::Settings {
        parse_settings(content)?;
    }
    let folders = folders(roots, scope)?;
    let file = folders.file(&kind);
    write_atomically(&folders, &file, content)?;
    Ok(ConfigContent { path: kind.path(), content: content.to_string(), exists: true })
}

/// Removes a command, agent or skill (`SKILL.md`, and its folder when that leaves it empty).
#[tracing::instrument(name = "claude_config.delete", skip(roots))]
pub fn delete(roots: &ConfigRoots, scope: &Scope, path: &str) -> Result<(), BackendError> {
    let kind = Kind::parse(path)?;
    if matches!(kind, Kind::ClaudeMd | Kind::Settings) {
        return Err(BackendError::invalid("only commands, agents and skills can be deleted"));
    }
    let folders = folders(roots, scope)?;
    let file = folders.file(&kind);
    folders.confine(&file)?;
    match std::fs::remove_file(&file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BackendError::invalid(format!("{} does not exist", kind.path()))),
        Err(e) => return Err(BackendError::Store(format!("cannot delete {}: {e}", file.display()))),
    }
    if let Kind::Skill(_) = kind {
        if let Some(folder) = file.parent() {
            let _ = std::fs::remove_dir(folder);
        }
    }
    Ok(())
}

fn write_atomically(folders: &Folders, file: &Path, content: &str) -> Result<(), BackendError> {
    let io = |e: std::io::Error| BackendError::Store(format!("cannot write {}: {e}", file.display()));
    std::fs::create_dir_all(&folders.base).map_err(io)?;
    let root = Root::open(&folders.base).map_err(outside)?;
    if std::fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(BackendError::Forbidden("the file is a link; edit its target instead".into()));
    }
    match atomic::write(&root, file, content.as_bytes(), 0o644, Placement::Replace) {
        Ok(_) => Ok(()),
        Err(AtomicError::Path(error)) => Err(outside(error)),
        Err(AtomicError::Io(error)) => Err(io(error)),
        Err(AtomicError::Exists) => Err(BackendError::Store(format!("cannot replace {}", file.display()))),
    }
}
