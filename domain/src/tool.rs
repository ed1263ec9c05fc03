//! `AgentTool`: the tools PocketDev's own agent offers the API providers, and the one rule of which of
//! them ask the user first under each permission mode.

use crate::PermissionMode;

/// A tool of PocketDev's agent. Stored in events and sent to the model as its `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentTool {
    /// Reads a text file, a window of its lines.
    Read,
    /// Creates or replaces a file.
    Write,
    /// Replaces exact strings in a file.
    Edit,
    /// Lists a folder.
    List,
    /// Finds files by glob pattern.
    Glob,
    /// Searches file contents by regular expression.
    Grep,
    /// Runs a shell command in the workspace.
    Bash,
}

/// What a tool does to the workspace, which decides whether it asks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolEffect {
    /// Only reads.
    Reads,
    /// Changes files, and nothing else.
    Edits,
    /// Runs a program: anything may happen.
    Runs,
}

impl AgentTool {
    /// Every tool, in the order the model is offered them.
    pub const ALL: [AgentTool; 7] =
        [AgentTool::Read, AgentTool::Write, AgentTool::Edit, AgentTool::List, AgentTool::Glob, AgentTool::Grep, AgentTool::Bash];

    /// The name the model calls it by.
    pub fn name(self) -> &'static str {
        match self {
            AgentTool::Read => "read",
            AgentTool::Write => "write",
            AgentTool::Edit => "edit",
            AgentTool::List => "list",
            AgentTool::Glob => "glob",
            AgentTool::Grep => "grep",
            AgentTool::Bash => "bash",
        }
    }

    /// The tool the model named, if there is one.
    pub fn parse(name: &str) -> Option<AgentTool> {
        AgentTool::ALL.into_iter().find(|tool| tool.name() == name)
    }

    /// What it does to the workspace.
    pub fn effect(self) -> ToolEffect {
        match self {
            AgentTool::Read | AgentTool::List | AgentTool::Glob | AgentTool::Grep => ToolEffect::Reads,
            AgentTool::Write | AgentTool::Edit => ToolEffect::Edits,
            AgentTool::Bash => ToolEffect::Runs,
        }
    }

    /// Whether running it under `mode` waits for the user's approval. A tool the user chose to
    /// always allow in this conversation (`always_allowed`) never asks; readers never ask.
    pub fn asks(self, mode: PermissionMode, always_allowed: bool) -> bool {
        if always_allowed {
            return false;
        }
        match (mode, self.effect()) {
            (PermissionMode::Bypass, _) | (_, ToolEffect::Reads) => false,
            (PermissionMode::AcceptEdits, ToolEffect::Edits) => false,
            (PermissionMode::Ask, _) | (PermissionMode::AcceptEdits, ToolEffect::Runs) => true,
        }
    }
}

impl std::fmt::Display for AgentTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_parses_from_its_own_name_and_nothing_else_does() {
        for tool in AgentTool::ALL {
            assert_eq!(AgentTool::parse(tool.name()), Some(tool));
        }
        for name in ["Read", "bash ", "", "shell", "Bash"] {
            assert_eq!(AgentTool::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn ask_mode_asks_for_every_tool_but_the_readers() {
        let asking: Vec<_> = AgentTool::ALL.into_iter().filter(|tool| tool.asks(PermissionMode::Ask, false)).collect();
        assert_eq!(asking, vec![AgentTool::Write, AgentTool::Edit, AgentTool::Bash]);
    }

    #[test]
    fn accept_edits_asks_only_before_running_a_command() {
        let asking: Vec<_> = AgentTool::ALL.into_iter().filter(|tool| tool.asks(PermissionMode::AcceptEdits, false)).collect();
        assert_eq!(asking, vec![AgentTool::Bash]);
    }

    #[test]
    fn bypass_asks_for_nothing() {
        assert!(AgentTool::ALL.into_iter().all(|tool| !tool.asks(PermissionMode::Bypass, false)));
    }

    #[test]
    fn a_tool_always_allowed_never_asks() {
        for mode in [PermissionMode::Ask, PermissionMode::AcceptEdits] {
            assert!(!AgentTool::Bash.asks(mode, true));
            assert!(!AgentTool::Write.asks(mode, true));
        }
    }
}
