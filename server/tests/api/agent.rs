//! PocketDev's own agent loop on the API providers, against the mock's agent script: a failing test
//! fixed through read, edit and bash calls, approvals in `ask` mode, and hostile tool calls.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const CALC: &str = "def add(a, b):\n    return a - b\n";
const TEST: &str = "import unittest\nfrom calc import add\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\nunittest.main()\n";
const FIX: &str = r#"[[mock tokens=3 step="read:calc.py" step="edit:calc.py:a - b:a + b" step="bash:python3 test_calc.py"]]"#;

/// A workspace holding a failing test, and a conversation on `provider` in it.
async fn conversation(app: &TestApp, provider: &str, mode: &str) -> (String, std::path::PathBuf) {
    let name = format!("agent-{}", uuid::Uuid::new_v4().simple());
    assert_eq!(app.post_json("/api/workspaces", json!({"name": name})).await.status(), 201);
    let dir = app.workspace_root.join(&name);
    std::fs::write(dir.join("calc.py"), CALC).unwrap();
    std::fs::write(dir.join("test_calc.py"), TEST).unwrap();
    let body = json!({"provider": provider, "workspace": name, "permission_mode": mode});
    let response = app.post_json("/api/conversations", body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let view: Value = response.json().await.unwrap();
    (view["id"].as_str().unwrap().to_string(), dir)
}

async fn send(app: &TestApp, id: &str, text: &str) {
    let response = app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": text})).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
}

/// The view once the turn waits for an approval, or once it ended.
async fn next_stop(app: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let view = app.view(id).await;
        if view["status"] != "running" {
            return view;
        }
        assert!(Instant::now() < deadline, "the turn did not stop: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The (kind, name or tool id, is_error) of each of the reply's blocks.
fn blocks(view: &Value) -> Vec<(String, String, Option<bool>)> {
    let reply = view["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "assistant").unwrap();
    reply["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["type"].as_str().unwrap().to_string(), b["name"].as_str().unwrap_or("").to_string(), b["is_error"].as_bool()))
        .collect()
}

fn result_text(view: &Value, n: usize) -> String {
    let reply = view["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "assistant").unwrap();
    let results: Vec<&Value> = reply["blocks"].as_array().unwrap().iter().filter(|b| b["type"] == "tool_result").collect();
    results[n]["text"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn every_api_provider_fixes_a_failing_test_through_its_tools_in_bypass_mode() {
    let app = spawn_app().await;
    for provider in ["anthropic", "openai", "openai_compatible"] {
        let (id, dir) = conversation(&app, provider, "bypass").await;
        send(&app, &id, FIX).await;
        let view = next_stop(&app, &id).await;
        assert_eq!(view["status"], "idle", "{provider}: {view}");
        assert_eq!(std::fs::read_to_string(dir.join("calc.py")).unwrap(), "def add(a, b):\n    return a + b\n", "{provider}");
        let tools: Vec<(String, Option<bool>)> =
            blocks(&view).into_iter().filter(|(kind, _, _)| kind.starts_with("tool")).map(|(_, name, error)| (name, error)).collect();
        let expected = [("read", None), ("", Some(false)), ("edit", None), ("", Some(false)), ("bash", None), ("", Some(false))];
        assert_eq!(tools, expected.map(|(n, e)| (n.to_string(), e)), "{provider}");
        assert!(result_text(&view, 0).contains("return a - b"), "{provider}: the read saw the file");
        let ran = result_text(&view, 2);
        assert!(ran.contains("OK") && ran.ends_with("[exit code 0]"), "{provider}: {ran}");
        let answer = crate::helpers::reply_text(&view, 1);
        assert!(answer.contains("Done: "), "{provider}: {answer}");
    }
}

#[tokio::test]
async fn in_ask_mode_edits_and_commands_wait_for_a_decision_and_a_denied_command_is_reported_to_the_model() {
    let app = spawn_app().await;
    let (id, dir) = conversation(&app, "anthropic", "ask").await;
    send(&app, &id, FIX).await;
    let view = next_stop(&app, &id).await;
    assert_eq!(view["status"], "awaiting_approval", "the read ran without asking, the edit asks: {view}");
    assert_eq!(view["pending_approvals"][0]["tool"], "edit");
    assert_eq!(std::fs::read_to_string(dir.join("calc.py")).unwrap(), CALC, "nothing changed before the approval");
    let approval = view["pending_approvals"][0]["id"].as_str().unwrap().to_string();
    let decided = app.post_json(&format!("/api/conversations/{id}/approvals/{approval}"), json!({"decision": "allow"})).await;
    assert_eq!(decided.status(), 200, "{}", decided.text().await.unwrap());
    let view = next_stop(&app, &id).await;
    assert_eq!(view["pending_approvals"][0]["tool"], "bash", "{view}");
    assert!(std::fs::read_to_string(dir.join("calc.py")).unwrap().contains("a + b"));
    let approval = view["pending_approvals"][0]["id"].as_str().unwrap().to_string();
    let denied = app.post_json(&format!("/api/conversations/{id}/approvals/{approval}"), json!({"decision": "deny"})).await;
    assert_eq!(denied.status(), 200);
    let view = next_stop(&app, &id).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(result_text(&view, 2), "The user denied this tool use.");
    assert!(crate::helpers::reply_text(&view, 1).contains("Tool failed: "), "the model was told");
}

#[tokio::test]
async fn hostile_tool_calls_get_error_results_and_the_turn_goes_on() {
    let app = spawn_app().await;
    let (id, dir) = conversation(&app, "openai_compatible", "bypass").await;
    let hostile = r#"[[mock tokens=2 step="raw:read:{\"path\": || raw:rm_rf:{} || read:../../etc/passwd || write:../escape.txt:x"]]"#;
    send(&app, &id, hostile).await;
    let view = next_stop(&app, &id).await;
    assert_eq!(view["status"], "idle", "{view}");
    let results: Vec<String> = (0..4).map(|n| result_text(&view, n)).collect();
    assert!(results[0].starts_with("The tool input is not valid JSON"), "{results:?}");
    assert!(results[1].starts_with("There is no tool named `rm_rf`"), "{results:?}");
    assert!(results[2].contains("refused") && !results[2].contains("root:"), "{results:?}");
    assert!(results[3].contains("refused"), "{results:?}");
    assert!(!dir.parent().unwrap().join("escape.txt").exists());
    assert!(blocks(&view).iter().filter(|(kind, _, _)| kind == "tool_result").all(|(_, _, error)| *error == Some(true)));
}

/// Two appends to `effects.log`, one per call of one reply: what each test below interrupts.
const APPENDS: &str = r#"[[mock tokens=2 step="bash:echo one >> effects.log || bash:echo two >> effects.log"]]"#;

/// How far the attempt that died got through [`APPENDS`].
#[derive(Clone, Copy)]
enum DiedAfter {
    /// The first call ran and its result was recorded; the second had started.
    FirstResultAndSecondStarted,
    /// The first call ran and its result was recorded; the second never started.
    FirstResult,
    /// Both calls' results and the final answer were recorded; the turn never ended.
    Answer,
}

/// A conversation whose turn was taken by an attempt that died at `point`, the appends it made
/// done to the workspace as the tools would have; then a takeover runs the turn as a reclaimed
/// job does. Answers the view at the end and the workspace.
async fn taken_over_after(provider: &str, point: DiedAfter) -> (Value, std::path::PathBuf) {
    use domain::{BlockKind, ConversationCommand, OutputItem};
    let app = crate::helpers::spawn_app_without_worker().await;
    let (id, dir) = conversation(&app, provider, "bypass").await;
    send(&app, &id, APPENDS).await;
    let backend = &app.backend;
    let job_id = backend.state(&id).await.unwrap().running.unwrap().job_id;
    let begin = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "dead".into(), worker: "w1".into(), takeover: false };
    backend.execute(&id, begin).await.unwrap();
    let record =
        |items: Vec<OutputItem>| backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "dead".into(), items });
    let call = |block: u32, n: &str| {
        let input = json!({"command": format!("echo {n} >> effects.log")});
        vec![
            OutputItem::BlockStarted { block, kind: BlockKind::ToolUse, name: Some("bash".into()), tool_use_id: Some(format!("call-{n}")) },
            OutputItem::BlockFinished { block, input: Some(input), signature: None, is_error: None },
        ]
    };
    let result = |block: u32, n: &str| OutputItem::BlockStarted {
        block,
        kind: BlockKind::ToolResult,
        name: None,
        tool_use_id: Some(format!("call-{n}")),
    };
    let finished = |block: u32, text: &str| {
        vec![
            OutputItem::TextAppended { block, text: text.into() },
            OutputItem::BlockFinished { block, input: None, signature: None, is_error: Some(false) },
        ]
    };
    let mut reply = call(0, "one");
    reply.extend(call(1, "two"));
    reply.push(OutputItem::UsageRecorded { input_tokens: 10, output_tokens: 5, cost_usd: 0.0 });
    record(reply).await.unwrap();
    record(vec![result(2, "one")]).await.unwrap();
    std::fs::write(dir.join("effects.log"), "one\n").unwrap();
    record(finished(2, "[exit code 0]")).await.unwrap();
    match point {
        DiedAfter::FirstResult => {}
        DiedAfter::FirstResultAndSecondStarted => {
            record(vec![result(3, "two")]).await.unwrap();
            std::fs::write(dir.join("effects.log"), "one\ntwo\n").unwrap();
        }
        DiedAfter::Answer => {
            record(vec![result(3, "two")]).await.unwrap();
            std::fs::write(dir.join("effects.log"), "one\ntwo\n").unwrap();
            record(finished(3, "[exit code 0]")).await.unwrap();
            let mut answer = vec![OutputItem::BlockStarted { block: 4, kind: BlockKind::Text, name: None, tool_use_id: None }];
            answer.extend(finished(4, "Both appended."));
            answer.push(OutputItem::UsageRecorded { input_tokens: 20, output_tokens: 5, cost_usd: 0.0 });
            record(answer).await.unwrap();
        }
    }
    // A partial reply after the last recorded step, which the takeover must not keep.
    let partial = vec![
        OutputItem::BlockStarted { block: 9, kind: BlockKind::Text, name: None, tool_use_id: None },
        OutputItem::TextAppended { block: 9, text: "half a thou".into() },
    ];
    record(partial).await.unwrap();
    let job = backend::queue::TurnJob { conversation_id: id.clone(), turn: 1, job_id };
    backend::jobs::run_turn(backend, &job, "w2", true).await.unwrap();
    (app.view(&id).await, dir)
}

#[tokio::test]
async fn a_takeover_records_an_interrupted_tool_as_such_and_runs_no_recorded_tool_again() {
    for provider in ["anthropic", "openai", "openai_compatible"] {
        let (view, dir) = taken_over_after(provider, DiedAfter::FirstResultAndSecondStarted).await;
        assert_eq!(view["status"], "idle", "{provider}: {view}");
        assert_eq!(std::fs::read_to_string(dir.join("effects.log")).unwrap(), "one\ntwo\n", "{provider}: no append twice");
        assert_eq!(result_text(&view, 0), "[exit code 0]", "{provider}");
        assert_eq!(result_text(&view, 1), backend::agent::history::NO_RESULT, "{provider}");
        let kinds: Vec<(String, Option<bool>)> = blocks(&view).into_iter().map(|(kind, _, error)| (kind, error)).collect();
        assert_eq!(
            kinds[..4],
            [("tool_use", None), ("tool_use", None), ("tool_result", Some(false)), ("tool_result", Some(true))]
                .map(|(k, e)| (k.to_string(), e)),
            "{provider}"
        );
        let answer = crate::helpers::reply_text(&view, 1);
        assert!(!answer.contains("half a thou"), "{provider}: the dead attempt's partial reply is void: {answer}");
        assert!(answer.contains("Tool failed: "), "{provider}: the model was told the second call has no result: {answer}");
    }
}

#[tokio::test]
async fn a_takeover_runs_a_call_that_never_started_once() {
    for provider in ["anthropic", "openai", "openai_compatible"] {
        let (view, dir) = taken_over_after(provider, DiedAfter::FirstResult).await;
        assert_eq!(view["status"], "idle", "{provider}: {view}");
        assert_eq!(std::fs::read_to_string(dir.join("effects.log")).unwrap(), "one\ntwo\n", "{provider}");
        assert_eq!(result_text(&view, 1), "[exit code 0]", "{provider}: the second call ran");
        assert!(crate::helpers::reply_text(&view, 1).contains("Done: "), "{provider}");
    }
}

#[tokio::test]
async fn a_takeover_after_the_whole_answer_was_recorded_ends_the_turn_without_calling_the_model() {
    let (view, dir) = taken_over_after("anthropic", DiedAfter::Answer).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(std::fs::read_to_string(dir.join("effects.log")).unwrap(), "one\ntwo\n");
    assert_eq!(crate::helpers::reply_text(&view, 1), "Both appended.", "nothing more was asked or said");
    let reply = view["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(reply["stop_reason"], "end_turn");
}

#[tokio::test]
async fn the_prompt_after_a_stopped_turn_starts_with_the_interruption_reminder_for_every_api_provider() {
    let app = spawn_app().await;
    let reminder = backend::agent::history::INTERRUPTION_REMINDER;
    for provider in ["anthropic", "openai", "openai_compatible"] {
        let (id, _dir) = conversation(&app, provider, "bypass").await;
        send(&app, &id, "[[mock tokens=400 rate=20]]").await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while crate::helpers::reply_text(&app.view(&id).await, 1).is_empty() {
            assert!(Instant::now() < deadline, "{provider}: the reply never started");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(app.post_json(&format!("/api/conversations/{id}/abort"), json!({})).await.status(), 202);
        app.wait_until_settled(&id, Duration::from_secs(10)).await;
        send(&app, &id, "Next question. [[mock tokens=3]]").await;
        let view = app.wait_until_settled(&id, Duration::from_secs(30)).await;
        assert_eq!(view["status"], "idle", "{provider}: {view}");
        let requests = app.mock_requests.lock().unwrap().clone();
        let last =
            requests.iter().rev().map(Value::to_string).find(|body| body.contains("Next question.")).expect("the second turn's request");
        let at = last.find(&reminder.replace('"', "\\\"")).unwrap_or_else(|| panic!("{provider}: no reminder in {last}"));
        assert!(at < last.find("Next question.").unwrap(), "{provider}: the reminder comes first");
        assert_eq!(last.matches("interrupted by the user").count(), 1, "{provider}: once, before the turn after the stop");
    }
}

/// The system prompt a recorded request carried, in each format's field.
fn system_of(request: &Value) -> String {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    };
    if !request["system"].is_null() {
        return text(&request["system"]);
    }
    if let Some(instructions) = request["instructions"].as_str() {
        return instructions.to_string();
    }
    let first = &request["messages"][0];
    if first["role"] == "system" {
        return text(&first["content"]);
    }
    String::new()
}

#[tokio::test]
async fn every_api_provider_gets_the_built_in_prompt_then_agents_md_then_the_users_instructions_and_the_turn_records_it() {
    use sha2::Digest;
    let app = spawn_app().await;
    let put = |url: String, text: &str| app.client.put(format!("{}{url}", app.address)).json(&json!({"text": text})).send();
    assert_eq!(put("/api/settings/instructions".into(), "Answer in French.").await.unwrap().status(), 200);
    for provider in ["anthropic", "openai", "openai_compatible"] {
        let (id, dir) = conversation(&app, provider, "accept_edits").await;
        let workspace = dir.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::write(dir.join("AGENTS.md"), "Run the tests with python3.\n").unwrap();
        assert_eq!(put(format!("/api/workspaces/{workspace}/instructions"), "Never touch calc.py.").await.unwrap().status(), 200);
        send(&app, &id, &format!("Prompt for {provider}. [[mock tokens=2]]")).await;
        let view = next_stop(&app, &id).await;
        assert_eq!(view["status"], "idle", "{provider}: {view}");
        let requests = app.mock_requests.lock().unwrap().clone();
        let request = requests.iter().rev().find(|r| r.to_string().contains(&format!("Prompt for {provider}."))).unwrap();
        let system = system_of(request);
        let at = |needle: &str| system.find(needle).unwrap_or_else(|| panic!("{provider}: {needle:?} missing from {system}"));
        assert!(at(&format!("`{workspace}`")) < at("Run the tests with python3."), "{provider}");
        assert!(at("Run the tests with python3.") < at("Answer in French.") && at("Answer in French.") < at("Never touch calc.py."));
        assert!(at("accept_edits") > 0, "{provider}: the mode is named");
        let recorded = app.system_prompts_used(&id).await;
        assert_eq!(recorded.len(), 1, "{provider}: one record for the turn");
        assert_eq!(recorded[0]["text"], system.as_str(), "{provider}: the log holds the text sent");
        assert_eq!(recorded[0]["sha256"], format!("{:x}", sha2::Sha256::digest(system.as_bytes())), "{provider}");
    }
    let plain = app.post_json("/api/conversations", json!({"provider": "anthropic"})).await.json::<Value>().await.unwrap();
    let id = plain["id"].as_str().unwrap();
    send(&app, id, "No workspace here. [[mock tokens=2]]").await;
    next_stop(&app, id).await;
    let requests = app.mock_requests.lock().unwrap().clone();
    let request = requests.iter().rev().find(|r| r.to_string().contains("No workspace here.")).unwrap();
    assert!(system_of(request).contains("no workspace, so you have no tools"), "{}", system_of(request));
    assert!(request["tools"].is_null() || request["tools"].as_array().is_some_and(Vec::is_empty), "no tools offered");
}
