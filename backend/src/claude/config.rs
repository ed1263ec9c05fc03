//! The Claude Code configuration editor: `CLAUDE.md`, `settings.json` (and its `hooks`), commands,
//! agents and skills, globally (`<HOME>/.claude/`) or per workspace (`<workspace>/CLAUDE.md`,
//! `<workspace>/.claude/`).
//!
//! Only these relative paths are accepted: `CLAUDE.md`, `settings.json`, `commands/NAME.md`,
//! `agents/NAME.md`, `skills/NAME/SKILL.md`. Writes are atomic (temp file + rename), 0644, at most
//! `MAX_FILE_BYTES`; links leading out of the scope's folder are refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::BackendError;
use crate::workspaces;

/// The largest file the editor writes.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// Whose configuration: the CLI's own (`global`) or one workspace's (`workspace:NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Global,
    Workspace(String),
}

impl Scope {
    pub fn parse(raw: &str) -> Result<Scope, BackendError> {
        match raw {
            "" | "global" => Ok(Scope::Global),
            other => match other.strip_prefix("workspace:") {
                Some(name) => Ok(Scope::Workspace(workspaces::validate(name)?.to_string())),
                None => Err(BackendError::invalid("`scope` must be `global` or `workspace:NAME`")),
            },
        }
    }

    fn label(&self) -> String {
        match self {
            Scope::Global => "global".into(),
            Scope::Workspace(name) => format!("workspace:{name}"),
        }
    }
}

/// Where a scope's files live.
#[derive(Debug, Clone)]
pub struct ConfigRoots {
    /// The CLI's HOME (`<home>/.claude` is the global folder).
    pub home: PathBuf,
    pub workspace_root: PathBuf,
}

impl crate::state::Backend {
    /// Where the config editor's scopes live: the Claude Code adapter's HOME and `WORKSPACE_ROOT`.
    pub fn claude_config_roots(&self) -> ConfigRoots {
        ConfigRoots { home: self.config.claude_code.home.clone(), workspace_root: self.config.workspace_root.clone() }
    }
}

/// One editable file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    ClaudeMd,
    Settings,
    Command(String),
    Agent(String),
    Skill(String),
}

impl Kind {
    fn parse(path: &str) -> Result<Kind, BackendError> {
        let parts: Vec<&str> = path.split('/').collect();
        if parts.iter().any(|p| *p == ".." || p.contains('\\')) || path.starts_with('/') {
            return Err(BackendError::Forbidden("the path may not leave the configuration folder".into()));
        }
        let named = |name: &str| valid_name(name).map(str::to_string);
        match parts.as_slice() {
            ["CLAUDE.md"] => Ok(Kind::ClaudeMd),
            ["settings.json"] => Ok(Kind::Settings),
            ["commands", file] if file.ends_with(".md") => Ok(Kind::Command(named(&file[..file.len() - 3])?)),
            ["agents", file] if file.ends_with(".md") => Ok(Kind::Agent(named(&file[..file.len() - 3])?)),
            ["skills", name, "SKILL.md"] => Ok(Kind::Skill(named(name)?)),
            _ => Err(BackendError::invalid(
                "`path` must be CLAUDE.md, settings.json, commands/NAME.md, agents/NAME.md or skills/NAME/SKILL.md",
            )),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Kind::ClaudeMd => "claude_md",
            Kind::Settings => "settings",
            Kind::Command(_) => "command",
            Kind::Agent(_) => "agent",
            Kind::Skill(_) => "skill",
        }
    }

    fn name(&self) -> String {
        match self {
            Kind::ClaudeMd => "CLAUDE.md".into(),
            Kind::Settings => "settings.json".into(),
            Kind::Command(n) | Kind::Agent(n) | Kind::Skill(n) => n.clone(),
        }
    }

    fn path(&self) -> String {
        match self {
            Kind::ClaudeMd => "CLAUDE.md".into(),
            Kind::Settings => "settings.json".into(),
            Kind::Command(n) => format!("commands/{n}.md"),
            Kind::Agent(n) => format!("agents/{n}.md"),
            Kind::Skill(n) => format!("skills/{n}/SKILL.md"),
        }
    }
}

fn valid_name(name: &str) -> Result<&str, BackendError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(['.', '-'])
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name)
    } else {
        Err(BackendError::invalid("names may have up to 100 letters, digits, `.`, `_` or `-`, and may not start with `.` or `-`"))
    }
}

/// A scope's folders: `base` (what confinement checks against), `claude_md`'s folder and the
/// `.claude` folder holding settings, commands, agents and skills.
struct Folders {
    base: PathBuf,
    dot: PathBuf,
}

fn folders(roots: &ConfigRoots, scope: &Scope) -> Result<Folders, BackendError> {
    match scope {
        Scope::Global => {
            let dot = roots.home.join(".claude");
            Ok(Folders { base: dot.clone(), dot })
        }
        Scope::Workspace(name) => {
            let base = roots.workspace_root.join(name);
            if !base.is_dir() {
                return Err(BackendError::invalid(format!("workspace `{name}` does not exist")));
            }
            Ok(Folders { dot: base.join(".claude"), base })
        }
    }
}

impl Folders {
    fn file(&self, kind: &Kind) -> PathBuf {
        match kind {
            Kind::ClaudeMd if self.base != self.dot => self.base.join("CLAUDE.md"),
            Kind::ClaudeMd => self.dot.join("CLAUDE.md"),
            Kind::Settings => self.dot.join("settings.json"),
            Kind::Command(n) => self.dot.join("commands").join(format!("{n}.md")),
            Kind::Agent(n) => self.dot.join("agents").join(format!("{n}.md")),
            Kind::Skill(n) => self.dot.join("skills").join(n).join("SKILL.md"),
        }
    }

    /// Refuses a path that resolves (through links) outside the scope's folder.
    fn confine(&self, path: &Path) -> Result<(), BackendError> {
        let Ok(base) = self.base.canonicalize() else { return Ok(()) };
        let mut existing = path.to_path_buf();
        while !existing.exists() {
            if !existing.pop() {
                return Ok(());
            }
        }
        let resolved = existing.canonicalize().map_err(|_| BackendError::Forbidden("the path cannot be resolved".into()))?;
        if resolved.starts_with(&base) {
            Ok(())
        } else {
            Err(BackendError::Forbidden("the path leads outside the configuration folder".into()))
        }
    }
}

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

/// The `hooks` object of the scope's `settings.json` (`{}` when none).
#[tracing::instrument(name = "claude_config.hooks", skip(roots))]
pub fn hooks(roots: &ConfigRoots, scope: &Scope) -> Result<Value, BackendError> {
    let settings = read(roots, scope, "settings.json")?;
    if !settings.exists || settings.content.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let parsed = parse_settings(&settings.content)?;
    Ok(parsed.get("hooks").cloned().unwrap_or_else(|| Value::Object(Map::new())))
}

/// Replaces the `hooks` object of `settings.json`, keeping its other keys. Each hook event must
/// map to an array.
#[tracing::instrument(name = "claude_config.set_hooks", skip(roots, hooks))]
pub fn set_hooks(roots: &ConfigRoots, scope: &Scope, hooks: Value) -> Result<Value, BackendError> {
    let Value::Object(events) = &hooks else {
        return Err(BackendError::invalid("`hooks` must be an object mapping hook events to arrays"));
    };
    if let Some((event, _)) = events.iter().find(|(_, value)| !value.is_array()) {
        return Err(BackendError::invalid(format!("`hooks.{event}` must be an array")));
    }
    let current = read(roots, scope, "settings.json")?;
    let mut settings = if current.exists && !current.content.trim().is_empty() { parse_settings(&current.content)? } else { Map::new() };
    settings.insert("hooks".into(), hooks.clone());
    let mut text = serde_json::to_string_pretty(&Value::Object(settings)).expect("JSON always serializes");
    text.push('\n');
    write(roots, scope, "settings.json", &text)?;
    Ok(hooks)
}

fn parse_settings(content: &str) -> Result<Map<String, Value>, BackendError> {
    match serde_json::from_str::<Value>(content) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(BackendError::invalid("settings.json must be a JSON object")),
        Err(e) => Err(BackendError::invalid(format!("settings.json is not valid JSON: line {}, column {}: {e}", e.line(), e.column()))),
    }
}

fn write_atomically(folders: &Folders, file: &Path, content: &str) -> Result<(), BackendError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e: std::io::Error| BackendError::Store(format!("cannot write {}: {e}", file.display()));
    folders.confine(file)?;
    let parent = file.parent().ok_or_else(|| BackendError::invalid("the path must name a file"))?;
    std::fs::create_dir_all(parent).map_err(io)?;
    folders.confine(parent)?;
    if std::fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(BackendError::Forbidden("the file is a link; edit its target instead".into()));
    }
    let temp = parent.join(format!(".pd-{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut out = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&temp)?;
        out.write_all(content.as_bytes())?;
        out.sync_all()?;
        std::fs::rename(&temp, file)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whitelisted_paths_are_accepted() {
        for good in ["CLAUDE.md", "settings.json", "commands/review.md", "agents/tester.md", "skills/pdf/SKILL.md"] {
            assert!(Kind::parse(good).is_ok(), "{good}");
        }
        for bad in
            ["", ".credentials.json", "commands/x.txt", "commands/.hidden.md", "skills/pdf/other.md", "commands/a/b.md", "x/CLAUDE.md"]
        {
            assert!(matches!(Kind::parse(bad), Err(BackendError::Invalid(_))), "{bad}");
        }
        for escape in ["../CLAUDE.md", "commands/../../x.md", "/etc/passwd"] {
            assert!(matches!(Kind::parse(escape), Err(BackendError::Forbidden(_))), "{escape}");
        }
    }

    #[test]
    fn invalid_settings_name_the_line_and_column() {
        let Err(BackendError::Invalid(message)) = parse_settings("{\n  \"a\": ,\n}") else { panic!("accepted") };
        assert!(message.contains("line 2, column"), "{message}");
    }
}
