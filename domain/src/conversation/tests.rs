//! Given/when/then tests of the conversation rules.

use super::*;
use crate::view::{ContextLevel, ContextMeter, ConversationView, LoggedEvent, Status};
use crate::Role;

fn given(events: &[ConversationEvent]) -> Conversation {
    let mut state = Conversation::default();
    for event in events {
        state.apply(event);
    }
    state
}

fn started() -> ConversationEvent {
    ConversationEvent::ConversationStarted {
        provider: "anthropic".into(),
        model: "m".into(),
        title: String::new(),
        workspace: None,
        permission_mode: PermissionMode::Ask,
    }
}

fn prompt(turn: u32) -> ConversationEvent {
    ConversationEvent::PromptSubmitted { turn, text: "hi".into(), job_id: format!("job-{turn}") }
}

fn submit(text: &str) -> ConversationCommand {
    ConversationCommand::SubmitPrompt { text: text.into(), job_id: "job".into() }
}

#[test]
fn the_first_prompt_titles_an_untitled_conversation_with_its_first_60_characters() {
    let long = "word ".repeat(30);
    let events = given(&[started()]).decide(submit(&long)).unwrap();
    let ConversationEvent::ConversationRetitled { title } = &events[0] else { panic!("{events:?}") };
    assert_eq!(title.chars().count(), 60);
    assert!(long.starts_with(title.as_str()));
    assert!(matches!(events[1], ConversationEvent::PromptSubmitted { turn: 1, .. }));
}

#[test]
fn a_second_prompt_while_a_turn_runs_is_refused() {
    let result = given(&[started(), prompt(1)]).decide(submit("again"));
    assert_eq!(result, Err(ConversationError::TurnInProgress));
}

#[test]
fn an_archived_conversation_refuses_new_messages() {
    let result = given(&[started(), ConversationEvent::ConversationArchived]).decide(submit("hello"));
    assert_eq!(result, Err(ConversationError::Archived));
}

#[test]
fn a_deleted_conversation_is_not_found() {
    let result = given(&[started(), ConversationEvent::ConversationDeleted]).decide(ConversationCommand::Archive);
    assert_eq!(result, Err(ConversationError::NotFound));
}

#[test]
fn empty_and_oversized_prompts_are_refused() {
    let state = given(&[started()]);
    assert_eq!(state.decide(submit("  \n ")), Err(ConversationError::EmptyPrompt));
    let huge = "x".repeat(MAX_PROMPT_BYTES + 1);
    assert_eq!(state.decide(submit(&huge)), Err(ConversationError::PromptTooLarge));
}

#[test]
fn output_from_a_superseded_attempt_is_refused() {
    let state = given(&[
        started(),
        prompt(1),
        ConversationEvent::AttemptStarted { turn: 1, attempt: 1, attempt_id: "a1".into(), worker: "w1".into(), resume_blocks: Some(0) },
        ConversationEvent::AttemptStarted { turn: 1, attempt: 2, attempt_id: "a2".into(), worker: "w2".into(), resume_blocks: Some(0) },
    ]);
    let stale = ConversationCommand::RecordOutput { turn: 1, attempt_id: "a1".into(), items: vec![] };
    assert_eq!(state.decide(stale), Err(ConversationError::StaleAttempt));
    let current = ConversationCommand::CompleteTurn { turn: 1, attempt_id: "a2".into(), stop_reason: "end_turn".into() };
    assert!(state.decide(current).is_ok());
}

#[test]
fn a_turn_gives_up_after_the_maximum_number_of_attempts() {
    let mut events = vec![started(), prompt(1)];
    for attempt in 1..=MAX_ATTEMPTS {
        events.push(ConversationEvent::AttemptStarted {
            turn: 1,
            attempt,
            attempt_id: format!("a{attempt}"),
            worker: "w".into(),
            resume_blocks: Some(0),
        });
    }
    let command = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "next".into(), worker: "w".into(), takeover: true };
    assert_eq!(given(&events).decide(command), Err(ConversationError::TooManyAttempts(1)));
}

#[test]
fn aborting_with_nothing_running_is_refused() {
    assert_eq!(given(&[started()]).decide(ConversationCommand::AbortTurn), Err(ConversationError::NothingRunning));
    let events = given(&[started(), prompt(1)]).decide(ConversationCommand::AbortTurn).unwrap();
    assert_eq!(events, vec![ConversationEvent::TurnAborted { turn: 1 }]);
}

#[test]
fn a_version_1_restarted_attempt_discards_the_whole_partial_reply_in_the_view() {
    let log: Vec<LoggedEvent> = [
        started(),
        prompt(1),
        ConversationEvent::AttemptStarted { turn: 1, attempt: 1, attempt_id: "a1".into(), worker: "w1".into(), resume_blocks: None },
        ConversationEvent::BlockStarted { turn: 1, block: 0, kind: BlockKind::Text, name: None, tool_use_id: None },
        ConversationEvent::TextAppended { turn: 1, block: 0, text: "Hel".into() },
        ConversationEvent::AttemptStarted { turn: 1, attempt: 2, attempt_id: "a2".into(), worker: "w2".into(), resume_blocks: None },
        ConversationEvent::BlockStarted { turn: 1, block: 0, kind: BlockKind::Text, name: None, tool_use_id: None },
        ConversationEvent::TextAppended { turn: 1, block: 0, text: "Hello".into() },
        ConversationEvent::TurnCompleted { turn: 1, stop_reason: "end_turn".into() },
    ]
    .into_iter()
    .enumerate()
    .map(|(i, event)| LoggedEvent { seq: i as u64 + 1, at: format!("t{i}"), event })
    .collect();
    let view = ConversationView::fold("c", &log);
    assert_eq!(view.reply_text(1), "Hello");
    assert_eq!(view.status, Status::Idle);
    assert_eq!(view.messages.len(), 2);
    // Applying an already-applied event again changes nothing.
    let mut again = view.clone();
    again.apply(&log[4]);
    assert_eq!(again, view);
}

#[test]
fn a_duplicate_delivery_leaves_a_running_attempt_alone_but_a_takeover_supersedes_it() {
    let state = given(&[
        started(),
        prompt(1),
        ConversationEvent::AttemptStarted { turn: 1, attempt: 1, attempt_id: "a1".into(), worker: "w1".into(), resume_blocks: Some(0) },
    ]);
    let duplicate = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a2".into(), worker: "w2".into(), takeover: false };
    assert_eq!(state.decide(duplicate), Err(ConversationError::AttemptInProgress(1)));
    let takeover = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a2".into(), worker: "w2".into(), takeover: true };
    assert!(matches!(state.decide(takeover).unwrap()[0], ConversationEvent::AttemptStarted { attempt: 2, .. }));
}

fn requested(id: &str, tool: &str) -> ConversationEvent {
    ConversationEvent::ApprovalRequested { turn: 1, approval_id: id.into(), tool: tool.into(), input: serde_json::json!({}) }
}

fn decide(id: &str, decision: Decision) -> ConversationCommand {
    ConversationCommand::DecideApproval { approval_id: id.into(), decision, reason: None }
}

#[test]
fn an_approval_is_decided_once_and_a_second_decision_is_refused() {
    let state = given(&[started(), prompt(1), requested("ap1", "Write")]);
    let events = state.decide(decide("ap1", Decision::Allow)).unwrap();
    assert!(matches!(&events[0], ConversationEvent::ApprovalDecided { decision: Decision::Allow, tool, .. } if tool == "Write"));
    let mut after = state.clone();
    after.apply(&events[0]);
    assert_eq!(after.decide(decide("ap1", Decision::Deny)), Err(ConversationError::ApprovalAlreadyDecided));
    assert_eq!(after.decide(decide("nope", Decision::Deny)), Err(ConversationError::ApprovalNotFound));
}

#[test]
fn always_allow_remembers_the_tool_for_the_conversation() {
    let mut state = given(&[started(), prompt(1), requested("ap1", "Bash")]);
    for event in state.decide(decide("ap1", Decision::Always)).unwrap() {
        state.apply(&event);
    }
    state.apply(&ConversationEvent::TurnCompleted { turn: 1, stop_reason: "end_turn".into() });
    assert!(state.always_allowed.contains("Bash"));
    assert!(state.approvals.is_empty(), "approvals belong to their turn");
}

fn settings(max_tokens: u32, thinking_budget: Option<u32>, reasoning_effort: Option<&str>) -> ConversationSettings {
    ConversationSettings { max_tokens, thinking_budget, reasoning_effort: reasoning_effort.map(Into::into), context_window: 1000 }
}

fn start_with(settings: Option<ConversationSettings>) -> ConversationCommand {
    ConversationCommand::StartConversation {
        provider: "openai".into(),
        model: "gpt-5".into(),
        title: None,
        workspace: None,
        permission_mode: PermissionMode::Ask,
        settings,
    }
}

#[test]
fn settings_chosen_at_the_start_are_recorded_right_after_it() {
    let chosen = settings(4096, Some(2048), Some("high"));
    let events = Conversation::default().decide(start_with(Some(chosen.clone()))).unwrap();
    assert!(matches!(events[0], ConversationEvent::ConversationStarted { .. }));
    assert_eq!(events[1], ConversationEvent::ConversationConfigured(chosen));
    assert_eq!(Conversation::default().decide(start_with(None)).unwrap().len(), 1, "no settings, no event");
}

#[test]
fn out_of_range_settings_are_refused() {
    for bad in [settings(0, None, None), settings(8192, Some(100), None), settings(8192, None, Some("extreme"))] {
        let refused = Conversation::default().decide(start_with(Some(bad.clone())));
        assert!(matches!(refused, Err(ConversationError::InvalidSettings(_))), "{bad:?}: {refused:?}");
    }
}

fn logged(events: Vec<ConversationEvent>) -> Vec<LoggedEvent> {
    events.into_iter().enumerate().map(|(i, event)| LoggedEvent { seq: i as u64 + 1, at: format!("t{i}"), event }).collect()
}

fn usage(turn: u32, input_tokens: u64, output_tokens: u64, cost_usd: f64) -> ConversationEvent {
    ConversationEvent::UsageRecorded { turn, input_tokens, output_tokens, cost_usd }
}

#[test]
fn each_reply_carries_its_usage_and_the_meter_follows_the_last_turn() {
    let view = ConversationView::fold(
        "c",
        &logged(vec![
            started(),
            ConversationEvent::ConversationConfigured(settings(8192, None, None)),
            prompt(1),
            usage(1, 600, 100, 0.25),
            ConversationEvent::TurnCompleted { turn: 1, stop_reason: "end_turn".into() },
            prompt(2),
            usage(2, 800, 100, 0.5),
        ]),
    );
    let replies: Vec<_> = view.messages.iter().filter(|m| m.role == Role::Assistant).map(|m| m.usage.clone().unwrap()).collect();
    assert_eq!((replies[0].input_tokens, replies[0].output_tokens, replies[0].cost_usd), (600, 100, 0.25));
    assert_eq!((replies[1].input_tokens, replies[1].cost_usd), (800, 0.5));
    assert_eq!((view.usage.input_tokens, view.usage.output_tokens, view.usage.cost_usd), (1400, 200, 0.75));
    assert_eq!(view.context, ContextMeter { used_tokens: 900, window: 1000, percent: 90.0, level: ContextLevel::Danger });
    assert_eq!(view.settings.as_ref().map(|s| s.max_tokens), Some(8192));
}

#[test]
fn the_meter_warns_from_75_and_shows_danger_from_90_percent() {
    let level = |used| ContextMeter::new(used, 200).level;
    assert_eq!(
        [level(0), level(149), level(150), level(179), level(180), level(400)],
        [ContextLevel::Ok, ContextLevel::Ok, ContextLevel::Warn, ContextLevel::Warn, ContextLevel::Danger, ContextLevel::Danger]
    );
    assert_eq!(ContextMeter::new(1, 3).percent, 33.3);
    assert_eq!(ContextMeter::new(500, 0), ContextMeter { used_tokens: 500, ..ContextMeter::default() }, "unknown window");
}

#[test]
fn a_view_stored_before_usage_and_settings_existed_still_reads() {
    let stored = serde_json::json!({
        "id": "c", "title": "t", "provider": "anthropic", "model": "m", "status": "idle", "archived": false,
        "created_at": "t0", "updated_at": "t1", "usage": {"input_tokens": 5, "output_tokens": 6, "cost_usd": 0.0},
        "messages": [{"role": "assistant", "turn": 1, "blocks": []}], "seq": 4,
    });
    let mut view: ConversationView = serde_json::from_value(stored).unwrap();
    assert_eq!((view.context.clone(), view.settings.clone(), view.messages[0].usage.clone()), (ContextMeter::default(), None, None));
    view.set_context_window(100);
    view.apply(&LoggedEvent { seq: 5, at: "t2".into(), event: usage(1, 70, 10, 0.0) });
    assert_eq!((view.context.percent, view.context.level), (80.0, ContextLevel::Warn));
}

#[test]
fn a_thinking_block_keeps_its_signature_for_the_next_request() {
    use ConversationEvent as E;
    let view = ConversationView::fold(
        "c",
        &logged(vec![
            started(),
            prompt(1),
            E::BlockStarted { turn: 1, block: 0, kind: BlockKind::Thinking, name: None, tool_use_id: None },
            E::TextAppended { turn: 1, block: 0, text: "hm".into() },
            E::BlockFinished { turn: 1, block: 0, input: None, signature: Some("sig".into()), is_error: None },
        ]),
    );
    let block = &view.messages[1].blocks[0];
    assert_eq!((block.text.as_deref(), block.signature.as_deref()), (Some("hm"), Some("sig")));
}

fn block(block: u32, kind: BlockKind) -> ConversationEvent {
    ConversationEvent::BlockStarted { turn: 1, block, kind, name: None, tool_use_id: Some(format!("call-{block}")) }
}

fn text(block: u32, text: &str) -> ConversationEvent {
    ConversationEvent::TextAppended { turn: 1, block, text: text.into() }
}

fn finished(block: u32) -> ConversationEvent {
    ConversationEvent::BlockFinished { turn: 1, block, input: None, signature: None, is_error: Some(false) }
}

fn attempt(attempt: u32, resume_blocks: Option<u32>) -> ConversationEvent {
    ConversationEvent::AttemptStarted { turn: 1, attempt, attempt_id: format!("a{attempt}"), worker: "w".into(), resume_blocks }
}

/// A turn that called two tools: a whole reply (blocks 0-2, its usage recorded), the first tool's
/// result finished (3), the second's started but not finished (4), and a reply begun after (5).
fn interrupted_mid_turn() -> Vec<ConversationEvent> {
    vec![
        started(),
        prompt(1),
        attempt(1, Some(0)),
        block(0, BlockKind::Text),
        text(0, "Let me look."),
        finished(0),
        block(1, BlockKind::ToolUse),
        finished(1),
        block(2, BlockKind::ToolUse),
        finished(2),
        usage(1, 10, 5, 0.0),
        block(3, BlockKind::ToolResult),
        text(3, "file contents"),
        finished(3),
        block(4, BlockKind::ToolResult),
        block(5, BlockKind::Text),
        text(5, "partial"),
    ]
}

#[test]
fn a_takeover_keeps_every_whole_reply_and_every_started_tool_result() {
    let state = given(&interrupted_mid_turn());
    assert_eq!(state.running.as_ref().map(|r| (r.next_block, r.resume_blocks)), Some((6, 5)));
    let takeover = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a2".into(), worker: "w2".into(), takeover: true };
    let events = state.decide(takeover).unwrap();
    assert!(matches!(events[0], ConversationEvent::AttemptStarted { attempt: 2, resume_blocks: Some(5), .. }), "{events:?}");
}

#[test]
fn a_partial_reply_before_any_usage_is_not_kept() {
    let state = given(&[started(), prompt(1), attempt(1, Some(0)), block(0, BlockKind::Text), text(0, "Hel")]);
    assert_eq!(state.running.as_ref().map(|r| r.resume_blocks), Some(0));
}

#[test]
fn the_next_attempt_numbers_its_blocks_after_the_kept_ones() {
    let mut events = interrupted_mid_turn();
    events.push(attempt(2, Some(5)));
    let state = given(&events);
    assert_eq!(state.running.as_ref().map(|r| (r.next_block, r.resume_blocks)), Some((5, 5)));
}

#[test]
fn a_resumed_attempt_keeps_the_blocks_below_its_resume_point_in_the_view() {
    let mut events = interrupted_mid_turn();
    events.push(requested("ap-old", "bash"));
    events.push(attempt(2, Some(5)));
    let log: Vec<LoggedEvent> =
        events.into_iter().enumerate().map(|(i, event)| LoggedEvent { seq: i as u64 + 1, at: format!("t{i}"), event }).collect();
    let view = ConversationView::fold("c", &log);
    let reply = view.messages.iter().find(|m| m.role == Role::Assistant).expect("the reply is kept");
    assert_eq!(reply.blocks.iter().map(|b| b.index).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert_eq!(reply.blocks[3].text.as_deref(), Some("file contents"));
    assert_eq!(reply.blocks[4].is_error, None, "the interrupted result is still unfinished");
    assert!(view.pending_approvals.is_empty(), "the old attempt's question is void");
    assert_eq!(view.status, Status::Running);
}

#[test]
fn a_claude_code_session_reported_in_the_turn_is_remembered_for_its_next_attempt() {
    let mut events = vec![started(), prompt(1), attempt(1, Some(0))];
    assert!(!given(&events).running.unwrap().cli_session_started);
    events.push(ConversationEvent::CliSessionStarted { turn: 1, session_id: "s".into() });
    assert!(given(&events).running.unwrap().cli_session_started);
}
