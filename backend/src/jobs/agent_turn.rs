//! PocketDev's own agent loop for the API providers: call the model with the tools, run the calls
//! it ends with (after approval where the permission mode asks), record each result, and call it
//! again with the whole turn, until it stops or after [`MAX_MODEL_CALLS`] calls.
//!
//! A tool's result block is started (committed) before the tool runs and finished with its output
//! in one commit after, so the log always says which tools finished.

use std::sync::Arc;

use domain::{AgentTool, BlockKind, BlockType, ConversationCommand, ConversationSettings, ConversationView, Decision, OutputItem};
use providers::ToolDefinition;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::drive::{complete, drive, Ending};
use super::output::{classify, WriteStop};
use super::run_turn::{build_request, Streams};
use crate::agent::{self, ToolOutput, Workspace};
use crate::state::Backend;

/// The most model calls one turn makes; then it ends with a visible message.
pub const MAX_MODEL_CALLS: u32 = 25;

/// One tool call of the model's reply.
struct Call {
    id: String,
    name: String,
    input: Option<Value>,
}

/// Runs the turn's model calls and tools. Without a workspace no tools are offered.
pub async fn run(
    backend: &Arc<Backend>,
    api: &dyn Streams,
    turn: u32,
    attempt_id: &str,
    mut view: ConversationView,
    settings: &ConversationSettings,
    workspace: Option<Workspace>,
) -> Ending {
    let id = view.id.clone();
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
    for _ in 0..MAX_MODEL_CALLS {
        let first_block = next_block(&view, turn);
        let mut request = build_request(&view, turn, settings);
        request.tools = tools.clone();
        let stop_reason = match drive(backend, &view, turn, attempt_id, api.stream(request), None, first_block).await {
            Ending::Stopped(stop_reason) => stop_reason,
            other => return other,
        };
        // Only a reply that called tools in a workspace needs the turn read back.
        let Some(workspace) = workspace.as_ref().filter(|_| stop_reason == "tool_use") else {
            return complete(backend, &id, turn, attempt_id, stop_reason).await;
        };
        view = match backend.view(&id, None).await {
            Ok(view) => view,
            Err(error) => return Ending::Interrupted(error),
        };
        let calls = calls_from(&view, turn, first_block);
        if calls.is_empty() {
            return complete(backend, &id, turn, attempt_id, stop_reason).await;
        }
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
    complete(backend, &id, turn, attempt_id, "max_model_calls".into()).await
}

/// The turn's next free block number.
fn next_block(view: &ConversationView, turn: u32) -> u32 {
    view.messages.iter().filter(|m| m.turn == turn).flat_map(|m| m.blocks.iter()).map(|b| b.index + 1).max().unwrap_or(0)
}

/// The tool calls the reply starting at `first_block` ended with, in order.
fn calls_from(view: &ConversationView, turn: u32, first_block: u32) -> Vec<Call> {
    view.messages
        .iter()
        .filter(|m| m.turn == turn)
        .flat_map(|m| m.blocks.iter())
        .filter(|b| b.kind == BlockType::ToolUse && b.index >= first_block)
        .map(|b| Call { id: b.id.clone().unwrap_or_default(), name: b.name.clone().unwrap_or_default(), input: b.input.clone() })
        .collect()
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
                    let started =
                        OutputItem::BlockStarted { block, kind: BlockKind::ToolResult, name: None, tool_use_id: Some(call.id.clone()) };
                    record(backend, id, turn, attempt_id, vec![started]).await?;
                    let stop = CancellationToken::new();
                    let watch = tokio::spawn(stop_when_not_ours(backend.clone(), id.to_string(), attempt_id.to_string(), stop.clone()));
                    let output = agent::run(tool, &input, workspace, &stop).await;
                    watch.abort();
                    return record(backend, id, turn, attempt_id, finish(block, output)).await;
                }
            }
        }
    };
    let started = OutputItem::BlockStarted { block, kind: BlockKind::ToolResult, name: None, tool_use_id: Some(call.id.clone()) };
    let mut items = vec![started];
    items.extend(finish(block, output));
    record(backend, id, turn, attempt_id, items).await
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
        if state.deleted || state.running.as_ref().and_then(|r| r.attempt_id.as_deref()) != Some(attempt_id) {
            return Err(Ending::Superseded);
        }
        match state.approvals.get(&approval_id).and_then(|a| a.decision) {
            Some(Decision::Allow | Decision::Always) => return Ok(None),
            Some(Decision::Deny) => return Ok(Some("The user denied this tool use.".into())),
            None => {}
        }
        tokio::select! {
            _ = changes.changed() => {}
            () = tokio::time::sleep_until(deadline) => {
                let reason = Some("No decision in time; denied.".to_string());
                let decide = ConversationCommand::DecideApproval { approval_id: approval_id.clone(), decision: Decision::Deny, reason };
                if let Err(error) = backend.execute(id, decide).await {
                    // A decision made meanwhile elsewhere wins; the next round reads it.
                    tracing::warn!(%error, approval = %approval_id, "recording a timed-out approval's denial failed");
                }
            }
        }
    }
}

/// Cancels `stop` once the turn is no longer this attempt's (aborted, deleted, taken over).
async fn stop_when_not_ours(backend: Arc<Backend>, id: String, attempt_id: String, stop: CancellationToken) {
    let topic = backend.hub.topic(&id);
    let mut changes = topic.state();
    while changes.changed().await.is_ok() {
        let ours = backend
            .state(&id)
            .await
            .is_ok_and(|state| !state.deleted && state.running.as_ref().and_then(|r| r.attempt_id.as_deref()) == Some(attempt_id.as_str()));
        if !ours {
            stop.cancel();
            return;
        }
    }
}

async fn record(backend: &Backend, id: &str, turn: u32, attempt_id: &str, items: Vec<OutputItem>) -> Result<(), Ending> {
    let command = ConversationCommand::RecordOutput { turn, attempt_id: attempt_id.to_string(), items };
    match backend.execute(id, command).await.map_err(classify) {
        Ok(()) => Ok(()),
        Err(WriteStop::Superseded) => Err(Ending::Superseded),
        Err(WriteStop::Failed(error)) if error.is_unavailable() => Err(Ending::Interrupted(error)),
        Err(WriteStop::Failed(error)) => Err(Ending::Failed(format!("Recording a tool result failed: {error}"))),
    }
}
