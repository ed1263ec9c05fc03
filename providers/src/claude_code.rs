//! The Claude Code CLI adapter: runs the real `claude` binary (argv only, never a shell) in
//! stream-json mode and turns its output into `ProviderEvent`s; answers permission requests and
//! interrupts through the CLI's control protocol on stdin.

mod parse;
mod process;

pub use parse::{parse_line, Line, LineParser};
pub use process::{start, ClaudeCodeRun, ClaudeControl};

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How to run the CLI.
#[derive(Clone)]
pub struct ClaudeCodeConfig {
    /// The binary: a path, or a name looked up on PATH (`CLAUDE_BIN`, default `claude`).
    pub bin: String,
    /// Passed through to the CLI: ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and the like.
    pub env: Vec<(String, String)>,
    /// The CLI's HOME, where `.claude/` (credentials and sessions) lives.
    pub home: PathBuf,
}

impl std::fmt::Debug for ClaudeCodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ClaudeCodeConfig").field("bin", &self.bin).field("env", &names).field("home", &self.home).finish()
    }
}

/// How a conversation lets the CLI use tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permissions {
    /// Ask PocketDev (and so the user) through `can_use_tool` control requests.
    Ask,
    AcceptEdits,
    Bypass,
}

/// One turn for the CLI.
#[derive(Debug, Clone)]
pub struct ClaudeCodeRequest {
    pub prompt: String,
    pub model: String,
    pub cwd: PathBuf,
    pub resume: Option<String>,
    pub permissions: Permissions,
    pub allowed_tools: Vec<String>,
    pub thinking_budget: Option<u32>,
    /// Text added to the end of the CLI's own system prompt (`--append-system-prompt`).
    pub append_system_prompt: Option<String>,
}

/// Finds the binary. The error says why it cannot be used.
pub fn locate(bin: &str) -> Result<PathBuf, String> {
    let is_executable = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if bin.contains('/') {
        let path = PathBuf::from(bin);
        return if is_executable(&path) { Ok(path) } else { Err(format!("CLAUDE_BIN `{bin}` is not an executable file")) };
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(bin))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| format!("`{bin}` was not found on PATH (set CLAUDE_BIN)"))
}

/// The command line for one turn.
pub fn arguments(request: &ClaudeCodeRequest) -> Vec<String> {
    let mut args: Vec<String> =
        ["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--include-partial-messages", "--verbose", "--model"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    args.push(request.model.clone());
    if let Some(session) = &request.resume {
        args.push("--resume".into());
        args.push(session.clone());
    }
    let mode = match request.permissions {
        Permissions::Ask => "default",
        Permissions::AcceptEdits => "acceptEdits",
        Permissions::Bypass => "bypassPermissions",
    };
    args.extend(["--permission-mode".into(), mode.into()]);
    if request.permissions != Permissions::Bypass {
        args.extend(["--permission-prompt-tool".into(), "stdio".into()]);
    }
    if !request.allowed_tools.is_empty() {
        args.extend(["--allowedTools".into(), request.allowed_tools.join(",")]);
    }
    if let Some(text) = request.append_system_prompt.as_ref().filter(|text| !text.is_empty()) {
        args.extend(["--append-system-prompt".into(), text.clone()]);
    }
    args
}

/// How long the CLI gets to leave after an interrupt or SIGTERM before the next step.
pub const GRACE: Duration = Duration::from_millis(500);
