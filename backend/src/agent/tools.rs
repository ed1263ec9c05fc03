//! The agent's tools: their schemas for the model, and [`run`], which runs one call in a workspace and
//! always answers with a [`ToolOutput`] (a bad input, a refused path or a failed command is an error
//! result the model reads, never a panic or an escape from the workspace).

use std::path::PathBuf;

use domain::AgentTool;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::guard::Root;

mod bash;
mod edit;
mod input;
mod limits;
mod read;
mod search;
mod write;

pub use limits::{BASH_DEFAULT_TIMEOUT, BASH_MAX_TIMEOUT, OUTPUT_CAP_BYTES};

/// Where the tools act: the conversation's workspace, and the home folder the agent's programs get.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: Root,
    home: PathBuf,
}

impl Workspace {
    /// A workspace at `root`, whose commands run with `HOME=home`.
    pub fn new(root: Root, home: PathBuf) -> Workspace {
        Workspace { root, home }
    }

    /// The workspace folder, resolved.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The path `absolute` has inside the workspace, as the model names it (`.` for the root).
    fn relative(&self, absolute: &std::path::Path) -> String {
        match absolute.strip_prefix(self.root.path()) {
            Ok(rest) if rest.as_os_str().is_empty() => ".".to_string(),
            Ok(rest) => rest.to_string_lossy().into_owned(),
            Err(_) => absolute.to_string_lossy().into_owned(),
        }
    }
}

/// What a tool call answers the model: its text, and whether it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub text: String,
    pub is_error: bool,
}

impl ToolOutput {
    fn from(result: Result<String, String>) -> ToolOutput {
        match result {
            Ok(text) => ToolOutput { text, is_error: false },
            Err(text) => ToolOutput { text, is_error: true },
        }
    }
}

/// A tool as the model is offered it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub tool: AgentTool,
    pub description: &'static str,
    /// A JSON Schema of the tool's input object.
    pub input_schema: Value,
}

/// Every tool, in the order the model is offered them.
pub fn specs() -> Vec<ToolSpec> {
    AgentTool::ALL.into_iter().map(spec).collect()
}

fn spec(tool: AgentTool) -> ToolSpec {
    let (description, input_schema) = match tool {
        AgentTool::Read => (read::DESCRIPTION, read::schema()),
        AgentTool::Write => (write::DESCRIPTION, write::schema()),
        AgentTool::Edit => (edit::DESCRIPTION, edit::schema()),
        AgentTool::List => (search::LIST_DESCRIPTION, search::list_schema()),
        AgentTool::Glob => (search::GLOB_DESCRIPTION, search::glob_schema()),
        AgentTool::Grep => (search::GREP_DESCRIPTION, search::grep_schema()),
        AgentTool::Bash => (bash::DESCRIPTION, bash::schema()),
    };
    ToolSpec { tool, description, input_schema }
}

/// Runs one call of `tool` with the model's `input` in `workspace`. `stop` ends a running command
/// (its whole process group is killed); the file tools are too short to need it.
#[tracing::instrument(name = "agent.tool", skip_all, fields(tool = %tool))]
pub async fn run(tool: AgentTool, input: &Value, workspace: &Workspace, stop: &CancellationToken) -> ToolOutput {
    let blocking: fn(&Value, &Workspace) -> Result<String, String> = match tool {
        AgentTool::Bash => return ToolOutput::from(bash::run(input, workspace, stop).await),
        AgentTool::Read => read::run,
        AgentTool::Write => write::run,
        AgentTool::Edit => edit::run,
        AgentTool::List => search::list,
        AgentTool::Glob => search::glob,
        AgentTool::Grep => search::grep,
    };
    let (input, workspace) = (input.clone(), workspace.clone());
    let work = tokio::task::spawn_blocking(move || blocking(&input, &workspace));
    ToolOutput::from(work.await.unwrap_or_else(|error| Err(format!("the {tool} tool failed: {error}"))))
}

#[cfg(test)]
mod tests;
