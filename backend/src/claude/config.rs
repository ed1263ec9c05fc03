//! The Claude Code configuration editor: `CLAUDE.md`, `settings.json` (and its `hooks`), commands,
//! agents and skills, globally (`<HOME>/.claude/`) or per workspace (`<workspace>/CLAUDE.md`,
//! `<workspace>/.claude/`).
//!
//! Only these relative paths are accepted: `CLAUDE.md`, `settings.json`, `commands/NAME.md`,
//! `agents/NAME.md`, `skills/NAME/SKILL.md`. Writes are atomic (`crate::atomic`), 0644, at most
//! `MAX_FILE_BYTES`; paths go through `crate::guard`, so links leading out of the scope's folder are refused.

use std::path::{Path, PathBuf};

use crate::error::BackendError;
use crate::guard::{PathError, Root};
use crate::workspaces;

mod files;
mod hooks;

pub use files::{delete, list, read, write, ConfigContent, ConfigFile, ConfigListing, MAX_FILE_BYTES};
pub use hooks::{hooks, set_hooks};

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

    pub(super) fn label(&self) -> String {
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
pub(super) enum Kind {
    ClaudeMd,
    Settings,
    Command(String),
    Agent(String),
    Skill(String),
}

impl Kind {
    pub(super) fn parse(path: &str) -> Result<Kind, BackendError> {
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

    pub(super) fn kind(&self) -> &'static str {
        match self {
            Kind::ClaudeMd => "claude_md",
            Kind::Settings => "settings",
            Kind::Command(_) => "command",
            Kind::Agent(_) => "agent",
            Kind::Skill(_) => "skill",
        }
    }

    pub(super) fn name(&self) -> String {
        match self {
            Kind::ClaudeMd => "CLAUDE.md".into(),
            Kind::Settings => "settings.json".into(),
            Kind::Command(n) | Kind::Agent(n) | Kind::Skill(n) => n.clone(),
        }
    }

    pub(super) fn path(&self) -> String {
        match self {
            Kind::ClaudeMd => "CLAUDE.md".into(),
            Kind::Settings => "settings.json".into(),
            Kind::Command(n) => format!("commands/{n}.md"),
            Kind::Agent(n) => format!("agents/{n}.md"),
            Kind::Skill(n) => format!("skills/{n}/SKILL.md"),
        }
    }
}

pub(super) fn valid_name(name: &str) -> Result<&str, BackendError> {
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
pub(super) struct Folders {
    pub(super) base: PathBuf,
    pub(super) dot: PathBuf,
}

pub(super) fn folders(roots: &ConfigRoots, scope: &Scope) -> Result<Folders, BackendError> {
    match scope {
        Scope::Global => {
            let dot = roots.home.join(".claude");
            Ok(Folders { base: dot.clone(), dot })
        }
        Scope::Workspace(name) => {
            let base = match workspaces::dir(&roots.workspace_root, name) {
                Ok(dir) => dir.path().to_path_buf(),
                Err(BackendError::Missing(message)) => return Err(BackendError::Invalid(message)),
                Err(other) => return Err(other),
            };
            Ok(Folders { dot: base.join(".claude"), base })
        }
    }
}

impl Folders {
    pub(super) fn file(&self, kind: &Kind) -> PathBuf {
        match kind {
            Kind::ClaudeMd if self.base != self.dot => self.base.join("CLAUDE.md"),
            Kind::ClaudeMd => self.dot.join("CLAUDE.md"),
            Kind::Settings => self.dot.join("settings.json"),
            Kind::Command(n) => self.dot.join("commands").join(format!("{n}.md")),
            Kind::Agent(n) => self.dot.join("agents").join(format!("{n}.md")),
            Kind::Skill(n) => self.dot.join("skills").join(n).join("SKILL.md"),
        }
    }

    /// Refuses a path that resolves (through links) outside the scope's folder. A folder that does
    /// not exist yet holds nothing to lead out.
    pub(super) fn confine(&self, path: &Path) -> Result<(), BackendError> {
        match Root::open(&self.base) {
            Ok(root) => root.resolve_new(path).map(|_| ()).map_err(outside),
            Err(_) => Ok(()),
        }
    }
}

/// The config editor's word for a path the guard refused.
pub(super) fn outside(error: PathError) -> BackendError {
    match error {
        PathError::Escapes => BackendError::Forbidden("the path leads outside the configuration folder".into()),
        _ => BackendError::Forbidden("the path cannot be resolved".into()),
    }
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
}
