//! PocketDev's own agent loop for the API providers: call the model with the tools, run the calls
//! it ends with (after approval where the permission mode asks), record each result, and call it
//! again with the whole turn, until it stops or after [`MAX_MODEL_CALLS`] calls.
//!
//! A tool's result block is started (committed) before the tool runs and finished with its output
//! in one commit after, so the log always says which tools finished.

use std::collections::HashSet;
use std::sync::Arc;

use domain::{AgentTool, Block, BlockKind, BlockType, ConversationSettings, ConversationView, Decision, OutputItem, Role};
use providers::ToolDefinition;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::approvals::{deny_timed_out, ours};
use super::drive::{drive, record, Ending};
use super::run_turn::{build_request, Streams};
use crate::agent::system_prompt::SystemPrompt;
use crate::agent::{self, history, ToolOutput, Workspace};
use crate::state::Backend;

/// The most model calls one turn makes; then it ends with a visible message.
pub const MAX_MODEL_CALLS: u32 = 25;

/// One tool call of the model's reply.
struct Call {
    id: String,
    name: String,
    input: Option<Value>,
}

/// Runs the turn's model calls and tools with `system` as the system prompt, and answers `Stopped`
/// with the last reply's stop reason. Without a workspace no tools are offered.
///
/// A resumed attempt (the one before it died) goes on from what its `view` kept: it records an
/// interrupted result for a tool that had started and never finished, runs the calls that never
/// started, and calls the model only when the last recorded step was not a whole answer.
pub async fn run(
    backend: &Arc<Backend>,
    api: &dyn Streams,
    turn: u32,
    attempt_id: &str,
    mut view: ConversationView,
    setup: Setup<'_>,
) -> Ending {
    let Setup { settings, workspace, system } = setup;
    let id = view.id.clone();
    let used = OutputItem::SystemPromptUsed { sha256: system.sha256.clone(), text: system.text.clone() };
    if let Err(ending) = record(backend, &id, turn, attempt_id, vec![used]).await {
        return ending;
    }
    let tools: Vec<ToolDefinition> = match &workspace {
        Some(_) => agent::specs()
            .into_iter()
            .map(|spec| ToolDefinition {
                name: spec.tool.name().into(),
                description: spec.description.into(),
                input_schema: spec.input_schema,
            })
            .collect(),
        None => Vec::new(),
    };
    let interrupted = unfinished_results(&view, turn);
    if !interrupted.is_empty() {
        let items = interrupted.into_iter().flat_map(|block| finish(block, error(history::NO_RESULT.into()))).collect();
        if let Err(ending) = record(backend, &id, turn, attempt_id, items).await {
            return ending;
        }
        view = match backend.view(&id, None).await {
            Ok(view) => view,
            Err(error) => return Ending::Interrupted(error),
        };
    }
    let mut model_calls = replies(&view, turn);
    loop {
        let mut calls = unanswered(&view, turn);
        if calls.is_empty() {
            if answered(&view, turn) {
                // The attempt before this one recorded the whole answer and died before ending the turn.
                return Ending::Stopped(END_TURN.into());
            }
            if model_calls >= MAX_MODEL_CALLS {
                break;
            }
            model_calls += 1;
            let first_block = next_block(&view, turn);
            let mut request = build_request(&view, turn, settings);
            request.system = Some(system.text.clone());
            request.tools = tools.clone();
            let stop_reason = match drive(backend, &view, turn, attempt_id, api.stream(request), None, first_block).await {
                Ending::Stopped(stop_reason) => stop_reason,
                other => return other,
            };
            // Only a reply that called tools in a workspace needs the turn read back.
            if workspace.is_none() || stop_reason != "tool_use" {
                return Ending::Stopped(stop_reason);
            }
            view = match backend.view(&id, None).await {
                Ok(view) => view,
                Err(error) => return Ending::Interrupted(error),
            };
            calls = unanswered(&view, turn);
            if calls.is_empty() {
                return Ending::Stopped(stop_reason);
            }
        }
        let Some(workspace) = workspace.as_ref() else {
            // Calls recorded without tools offered: nothing can answer them.
            return Ending::Stopped(END_TURN.into());
        };
        for (block, call) in (next_block(&view, turn)..).zip(calls) {
            if let Err(ending) = run_call(backend, &id, turn, attempt_id, workspace, &call, block).await {
                return ending;
            }
        }
        view = match backend.view(&id, None).await {
            Ok(view) => view,
            Err(error) => return Ending::Interrupted(error),
        };
    }
    let text = format!("Stopped after {MAX_MODEL_CALLS} model calls in one turn. Send a message to let the agent continue.");
    let block = next_block(&view, turn);
    let items = vec![
        OutputItem::BlockStarted { block, kind: BlockKind::Text, name: None, tool_use_id: None },
        OutputItem::TextAppended { block, text },
        OutputItem::BlockFinished { block, input: None, signature: None, is_error: None },
    ];
    if let Err(ending) = record(backend, &id, turn, attempt_id, items).await {
        return ending;
    }
    Ending::Stopped("max_model_calls".into())
}

/// What an agent turn runs with besides its conversation.
pub struct Setup<'a> {
    pub settings: &'a ConversationSettings,
    /// The conversation's workspace; without one no tools are offered.
    pub workspace: Option<Workspace>,
    pub system: SystemPrompt,
}

/// The stop reason of a whole answer whose own was not recorded.
const END_TURN: &str = "end_turn";

/// The blocks of `turn`'s reply, in order.
fn blocks(view: &ConversationView, turn: u32) -> impl Iterator<Item = &Block> {
    view.messages.iter().filter(move |m| m.turn == turn && m.role == Role::Assistant).flat_map(|m| m.blocks.iter())
}

/// The turn's next free block number.
fn next_block(view: &ConversationView, turn: u32) -> u32 {
    blocks(view, turn).map(|b| b.index + 1).max().unwrap_or(0)
}

/// The tool calls of the turn that have no result block, in order.
fn unanswered(view: &ConversationView, turn: u32) -> Vec<Call> {
    let answered: HashSet<&str> = blocks(view, turn).filter(|b| b.kind == BlockType::ToolResult).filter_map(|b| b.id.as_deref()).collect();
    blocks(view, turn)
        .filter(|b| b.kind == BlockType::ToolUse && !b.id.as_deref().is_some_and(|id| answered.contains(id)))
        .map(|b| Call { id: b.id.clone().unwrap_or_default(), name: b.name.clone().unwrap_or_default(), input: b.input.clone() })
        .collect()
}

/// The result blocks a tool began and never finished (its attempt died while it ran).
fn unfinished_results(view: &ConversationView, turn: u32) -> Vec<u32> {
    blocks(view, turn).filter(|b| b.kind == BlockType::ToolResult && b.is_error.is_none()).map(|b| b.index).collect()
}

/// How many model replies the turn has recorded: each run of blocks that are not tool results.
fn replies(view: &ConversationView, turn: u32) -> u32 {
    let mut kinds: Vec<(u32, BlockType)> = blocks(view, turn).map(|b| (b.index, b.kind)).collect();
    kinds.sort_by_key(|(index, _)| *index);
    let mut count = 0;
    let mut in_reply = false;
    for (_, kind) in kinds {
        let said = kind != BlockType::ToolResult;
        if said && !in_reply {
            count += 1;
        }
        in_reply = said;
    }
    count
}

/// Whether the turn's last recorded step is the model's answer (a reply after which no tool ran).
fn answered(view: &ConversationView, turn: u32) -> bool {
    blocks(view, turn).max_by_key(|b| b.index).is_some_and(|last| last.kind != BlockType::ToolResult)
}

/// Asks where the mode says so, then runs one call and records its result at `block`.
async fn run_call(
    backend: &Arc<Backend>,
    id: &str,
    turn: u32,
    attempt_id: &str,
    workspace: &Workspace,
    call: &Call,
    block: u32,
) -> Result<(), Ending> {
    let output = match (AgentTool::parse(&call.name), &call.input) {
        (None, _) => {
            error(format!("There is no tool named `{}`. The tools are: {}.", call.name, AgentTool::ALL.map(AgentTool::name).join(", ")))
        }
        (Some(_), Some(Value::String(raw))) => error(format!("The tool input is not valid JSON: {raw}")),
        (Some(tool), input) => {
            let input = input.clone().unwrap_or(Value::Null);
            match approve(backend, id, turn, attempt_id, tool, &input).await? {
                Some(denied) => error(denied),
                None => {
                    record(backend, id, turn, attempt_id, vec![started(block, call)]).await?;
                    let stop = CancellationToken::new();
                    let watch = tokio::spawn(stop_when_not_ours(backend.clone(), id.to_string(), attempt_id.to_string(), stop.clone()));
                    let output = agent::run(tool, &input, workspace, &stop).await;
                    watch.abort();
                    return record(backend, id, turn, attempt_id, finish(block, output)).await;
                }
            }
        }
    };
    let mut items = vec![started(block, call)];
    items.extend(finish(block, output));
    record(backend, id, turn, attempt_id, items).await
}

/// The start of `call`'s result block.
fn started(block: u32, call: &Call) -> OutputItem {
    OutputItem::BlockStarted { block, kind: BlockKind::ToolResult, name: None, tool_use_id: Some(call.id.clone()) }
}

fn error(text: String) -> ToolOutput {
    ToolOutput { text, is_error: true }
}

fn finish(block: u32, output: ToolOutput) -> Vec<OutputItem> {
    vec![
        OutputItem::TextAppended { block, text: output.text },
        OutputItem::BlockFinished { block, input: None, signature: None, is_error: Some(output.is_error) },
    ]
}

/// Waits for the user's decision where the mode asks. `Ok(Some(reason))` is a denial.
async fn approve(
    backend: &Arc<Backend>,
    id: &str,
    turn: u32,
    attempt_id: &str,
    tool: AgentTool,
    input: &Value,
) -> Result<Option<String>, Ending> {
    let state = backend.state(id).await.map_err(Ending::Interrupted)?;
    if !tool.asks(state.permission_mode, state.always_allowed.contains(tool.name())) {
        return Ok(None);
    }
    let approval_id = Uuid::new_v4().to_string();
    let topic = backend.hub.topic(id);
    let mut changes = topic.state();
    let request = OutputItem::ApprovalRequested { approval_id: approval_id.clone(), tool: tool.name().into(), input: input.clone() };
    record(backend, id, turn, attempt_id, vec![request]).await?;
    let deadline = tokio::time::Instant::now() + backend.config.worker.approval_timeout;
    loop {
        let state = backend.state(id).await.map_err(Ending::Interrupted)?;
        if !ours(&state, attempt_id) {
            return Err(Ending::Superseded);
        }
        match state.approvals.get(&approval_id).and_then(|a| a.decision) {
            Some(Decision::Allow | Decision::Always) => return Ok(None),
            Some(Decision::Deny) => return Ok(Some("The user denied this tool use.".into())),
            None => {}
        }
        tokio::select! {
            _ = changes.changed() => {}
            // The next round reads the denial, or a decision made meanwhile elsewhere.
            () = tokio::time::sleep_until(deadline) => deny_timed_out(backend, id, &approval_id).await,
        }
    }
}

/// Cancels `stop` once the turn is no longer this attempt's (aborted, deleted, taken over).
async fn stop_when_not_ours(backend: Arc<Backend>, id: String, attempt_id: String, stop: CancellationToken) {
    let topic = backend.hub.topic(&id);
    let mut changes = topic.state();
    while changes.changed().await.is_ok() {
        if !backend.state(&id).await.is_ok_and(|state| ours(&state, &attempt_id)) {
            stop.cancel();
            return;
        }
    }
}
