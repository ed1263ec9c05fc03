//! The system prompt a turn is sent with: PocketDev's own part (what the agent is, its tools, the
//! workspace, the permission mode), then the workspace's `AGENTS.md` or `CLAUDE.md`, then the
//! user's instructions (all workspaces', then this workspace's), each part under its own heading.
//!
//! The Claude Code CLI has its own prompt and reads `CLAUDE.md` itself, so it gets only what it
//! lacks, for `--append-system-prompt`: where it runs, `AGENTS.md` when there is no `CLAUDE.md`,
//! and the user's instructions.

use std::io::Read;

use domain::{AgentTool, PermissionMode};
use sha2::{Digest, Sha256};

use crate::guard::Root;

/// The most of an instructions file the prompt carries; the rest is left out, and it says so.
pub const INSTRUCTIONS_MAX_BYTES: usize = 64 * 1024;

/// The instructions files read from a workspace's top folder, the first found wins.
const INSTRUCTIONS_FILES: [&str; 2] = ["AGENTS.md", "CLAUDE.md"];

/// The text of a turn's system prompt and its SHA-256, which the turn's log records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPrompt {
    pub text: String,
    pub sha256: String,
}

impl SystemPrompt {
    fn new(parts: Vec<String>) -> SystemPrompt {
        let text = parts.join("\n\n");
        let sha256 = format!("{:x}", Sha256::digest(text.as_bytes()));
        SystemPrompt { text, sha256 }
    }
}

/// What a turn's prompt is made of.
pub struct Sources<'a> {
    /// The workspace's name and folder; none for a conversation without one (no tools then).
    pub workspace: Option<(&'a str, &'a Root)>,
    pub permission_mode: PermissionMode,
    /// The user's instructions for every workspace, then for this one.
    pub user: [Option<&'a str>; 2],
}

/// The whole system prompt of an API provider's turn.
pub fn for_api(sources: &Sources<'_>) -> SystemPrompt {
    let mut parts = vec![agent_part(sources)];
    if let Some((_, root)) = sources.workspace {
        parts.extend(instructions(root, &INSTRUCTIONS_FILES));
    }
    parts.extend(user_parts(sources));
    SystemPrompt::new(parts)
}

/// What a Claude Code turn appends to the CLI's own prompt.
pub fn for_claude_code(sources: &Sources<'_>) -> SystemPrompt {
    let mut parts = vec![format!(
        "You are running inside PocketDev, a self-hosted workbench the user drives from a browser, often a phone: keep answers \
         short and easy to read on a small screen.{}",
        sources.workspace.map(|(name, _)| format!(" The workspace is `{name}`.")).unwrap_or_default()
    )];
    if let Some((_, root)) = sources.workspace {
        // The CLI reads CLAUDE.md itself; AGENTS.md only when there is no CLAUDE.md.
        if root.confine("CLAUDE.md").is_err() {
            parts.extend(instructions(root, &INSTRUCTIONS_FILES[..1]));
        }
    }
    parts.extend(user_parts(sources));
    SystemPrompt::new(parts)
}

fn agent_part(sources: &Sources<'_>) -> String {
    let Some((name, _)) = sources.workspace else {
        return "You are PocketDev's assistant, answering a developer who may be on a phone: keep answers short and easy to read \
                on a small screen.\n\nThis conversation has no workspace, so you have no tools: you cannot read, change or run \
                anything. Answer from the conversation alone, and say so when a task needs a workspace."
            .into();
    };
    let tools: Vec<&str> = AgentTool::ALL.iter().map(|tool| tool.name()).collect();
    let mode = match sources.permission_mode {
        PermissionMode::Ask => "ask: the user approves every tool call except read, list, glob and grep before it runs",
        PermissionMode::AcceptEdits => "accept_edits: write and edit run at once; the user approves every bash command",
        PermissionMode::Bypass => "bypass: every tool call runs at once",
    };
    format!(
        "You are PocketDev's coding agent, working for a developer who may be on a phone: keep answers short and easy to read \
         on a small screen.\n\n\
         You work in the workspace `{name}`, a folder on the server. Paths are relative to it; nothing outside it can be read or \
         written. Your tools: {tools}. Read a file before you edit it, make the smallest change that does the job, and run the \
         project's tests or a command that proves a change before you say it is done. A denied or failed tool call comes back \
         as an error result: adapt instead of repeating it.\n\n\
         Permission mode {mode}.",
        tools = tools.join(", ")
    )
}

/// The first of `names` that the workspace's top folder holds, under a heading, its size capped.
fn instructions(root: &Root, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        let path = root.confine(name).ok().filter(|path| path.is_file())?;
        let mut bytes = Vec::new();
        let file = std::fs::File::open(&path).ok()?;
        file.take(INSTRUCTIONS_MAX_BYTES as u64 + 1).read_to_end(&mut bytes).ok()?;
        let cut = bytes.len() > INSTRUCTIONS_MAX_BYTES;
        bytes.truncate(INSTRUCTIONS_MAX_BYTES);
        let text = String::from_utf8_lossy(&bytes);
        let note =
            if cut { format!("\n\n({name} is longer than {INSTRUCTIONS_MAX_BYTES} bytes; the rest was left out.)") } else { String::new() };
        Some(format!("# The workspace's {name}\n\n{}{note}", text.trim_end()))
    })
}

fn user_parts(sources: &Sources<'_>) -> Vec<String> {
    let [global, workspace] = sources.user;
    let headed = |heading: &str, text: Option<&str>| text.map(str::trim).filter(|t| !t.is_empty()).map(|t| format!("# {heading}\n\n{t}"));
    [headed("The user's instructions", global), headed("The user's instructions for this workspace", workspace)]
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::open(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn an_api_prompt_names_the_workspace_tools_and_mode_then_agents_md_then_the_users_instructions() {
        let (dir, root) = workspace();
        std::fs::write(dir.path().join("AGENTS.md"), "Use tabs.\n").unwrap();
        std::fs::write(dir.path().join("CLAUDE.md"), "ignored: AGENTS.md comes first").unwrap();
        let sources = Sources {
            workspace: Some(("web", &root)),
            permission_mode: PermissionMode::AcceptEdits,
            user: [Some("Be terse."), Some("Python 3.11.")],
        };
        let prompt = for_api(&sources);
        let at = |needle: &str| prompt.text.find(needle).unwrap_or_else(|| panic!("{needle:?} missing from {}", prompt.text));
        assert!(
            at("`web`") < at("# The workspace's AGENTS.md") && at("Use tabs.") < at("Be terse.") && at("Be terse.") < at("Python 3.11.")
        );
        assert!(at("read, write, edit, list, glob, grep, bash") > 0 && at("accept_edits") > 0);
        assert!(!prompt.text.contains("ignored"));
        assert_eq!(prompt.sha256.len(), 64);
        assert_eq!(for_api(&sources), prompt, "the same sources make the same prompt");
    }

    #[test]
    fn a_conversation_without_a_workspace_is_told_it_has_no_tools() {
        let prompt = for_api(&Sources { workspace: None, permission_mode: PermissionMode::Ask, user: [None, Some("  ")] });
        assert!(prompt.text.contains("no workspace, so you have no tools"), "{}", prompt.text);
        assert!(!prompt.text.contains("# The user's"), "blank instructions add nothing");
    }

    #[test]
    fn a_long_instructions_file_is_cut_and_says_so() {
        let (dir, root) = workspace();
        std::fs::write(dir.path().join("CLAUDE.md"), "x".repeat(INSTRUCTIONS_MAX_BYTES + 10)).unwrap();
        let prompt = for_api(&Sources { workspace: Some(("w", &root)), permission_mode: PermissionMode::Ask, user: [None, None] });
        assert!(prompt.text.contains("longer than 65536 bytes"));
        assert!(prompt.text.len() < INSTRUCTIONS_MAX_BYTES + 2_000);
    }

    #[test]
    fn an_instructions_link_out_of_the_workspace_is_not_followed() {
        let (dir, root) = workspace();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "TOP SECRET").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), dir.path().join("AGENTS.md")).unwrap();
        let prompt = for_api(&Sources { workspace: Some(("w", &root)), permission_mode: PermissionMode::Ask, user: [None, None] });
        assert!(!prompt.text.contains("TOP SECRET"));
    }

    #[test]
    fn claude_code_gets_agents_md_only_without_a_claude_md_and_always_the_users_instructions() {
        let (dir, root) = workspace();
        std::fs::write(dir.path().join("AGENTS.md"), "Use tabs.").unwrap();
        let sources = Sources { workspace: Some(("w", &root)), permission_mode: PermissionMode::Ask, user: [Some("Be terse."), None] };
        let prompt = for_claude_code(&sources);
        assert!(prompt.text.contains("Use tabs.") && prompt.text.contains("Be terse.") && prompt.text.contains("PocketDev"));
        std::fs::write(dir.path().join("CLAUDE.md"), "the CLI reads me").unwrap();
        let prompt = for_claude_code(&sources);
        assert!(!prompt.text.contains("Use tabs.") && !prompt.text.contains("the CLI reads me"), "{}", prompt.text);
    }
}
