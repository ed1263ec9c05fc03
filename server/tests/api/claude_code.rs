//! The Claude Code provider with the real `claude` binary against the mock LLM.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{reply_text, spawn_app, spawn_app_with, TestApp};

fn workspace_name() -> String {
    format!("ws-{}", uuid::Uuid::new_v4().simple())
}

async fn create(app: &TestApp, workspace: &str, mode: &str) -> String {
    let body = json!({"provider": "claude_code", "model": "claude-sonnet-4-5", "workspace": workspace, "permission_mode": mode});
    let response = app.post_json("/api/conversations", body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["workspace"], workspace);
    assert_eq!(view["permission_mode"], mode);
    view["id"].as_str().unwrap().to_string()
}

async fn send(app: &TestApp, id: &str, text: &str) {
    let response = app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": text})).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
}

async fn wait_for_approval(app: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = app.view(id).await;
        if view["status"] == "awaiting_approval" {
            return view;
        }
        assert!(view["status"] == "running", "expected an approval, got {view}");
        assert!(Instant::now() < deadline, "no approval was requested: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A stand-in `claude` that runs `body` as a shell script (the app itself never uses a shell).
fn fake_cli(body: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("fake-claude-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn claude_processes_in(dir: &Path) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|entry| std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir)))
        .count()
}

#[tokio::test]
async fn a_claude_code_turn_streams_the_reply_and_records_the_session_cost_and_usage() {
    let app = spawn_app().await;
    let id = create(&app, &workspace_name(), "ask").await;
    send(&app, &id, "Say something. [[mock tokens=30]]").await;
    let view = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(reply_text(&view, 1), mockllm::reply_text(30));
    assert!(view["cli_session_id"].as_str().is_some_and(|s| !s.is_empty()), "{view}");
    assert!(view["usage"]["cost_usd"].as_f64().unwrap() > 0.0, "the CLI's cost is recorded: {view}");
    assert!(view["usage"]["output_tokens"].as_u64().unwrap() > 0);
    let log: Vec<Value> = app.client.get(format!("{}/api/conversations/{id}/log", app.address)).send().await.unwrap().json().await.unwrap();
    assert!(log.iter().any(|e| e["type"] == "CliSessionStarted"));
}

#[tokio::test]
async fn approving_a_write_creates_the_file_and_the_final_answer_streams() {
    let app = spawn_app().await;
    let workspace = workspace_name();
    let id = create(&app, &workspace, "ask").await;
    send(&app, &id, "Write it. [[mock tool=write file=hello.txt content=hello-from-mock tokens=10]]").await;
    let view = wait_for_approval(&app, &id).await;
    let approval = &view["pending_approvals"][0];
    assert_eq!(approval["tool"], "Write");
    assert!(approval["input"]["file_path"].as_str().unwrap().ends_with("hello.txt"), "{approval}");
    assert!(approval["requested_at"].is_string());
    let file = app.workspace_root.join(&workspace).join("hello.txt");
    assert!(!file.exists(), "nothing is written before the approval");
    let path = format!("/api/conversations/{id}/approvals/{}", approval["id"].as_str().unwrap());
    let decided = app.post_json(&path, json!({"decision": "allow"})).await;
    assert_eq!(decided.status(), 200);
    let again = app.post_json(&path, json!({"decision": "deny"})).await;
    assert_eq!(again.status(), 409);
    let view = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello-from-mock");
    assert!(reply_text(&view, 1).contains(&format!("Done: {}", mockllm::reply_text(10))), "{view}");
    let blocks = view["messages"][1]["blocks"].as_array().unwrap();
    assert!(blocks.iter().any(|b| b["type"] == "tool_use" && b["name"] == "Write"));
    assert!(blocks.iter().any(|b| b["type"] == "tool_result" && b["is_error"] == false));
}

#[tokio::test]
async fn denying_a_write_leaves_no_file_and_shows_the_reply_after_the_denial() {
    let app = spawn_app().await;
    let workspace = workspace_name();
    let id = create(&app, &workspace, "ask").await;
    send(&app, &id, "Write it. [[mock tool=write file=hello.txt content=nope tokens=6]]").await;
    let view = wait_for_approval(&app, &id).await;
    let approval_id = view["pending_approvals"][0]["id"].as_str().unwrap().to_string();
    let denied = app.post_json(&format!("/api/conversations/{id}/approvals/{approval_id}"), json!({"decision": "deny"})).await;
    assert_eq!(denied.status(), 200);
    let view = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert!(!app.workspace_root.join(&workspace).join("hello.txt").exists());
    assert!(reply_text(&view, 1).contains("Tool failed: "), "{view}");
}

#[tokio::test]
async fn the_second_turn_resumes_the_cli_session_and_the_model_receives_the_earlier_messages() {
    let app = spawn_app().await;
    let id = create(&app, &workspace_name(), "ask").await;
    send(&app, &id, "First question about turtles. [[mock tokens=5]]").await;
    let first = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    send(&app, &id, "Second question. [[mock tokens=7]]").await;
    let second = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(reply_text(&second, 2), mockllm::reply_text(7));
    assert_eq!(first["cli_session_id"], second["cli_session_id"], "the same CLI session");
    let requests = app.mock_requests.lock().unwrap().clone();
    let last = requests.iter().rev().find(|r| r["messages"].is_array()).expect("the CLI called the mock");
    let history = last["messages"].to_string();
    assert!(history.contains("First question about turtles"), "the resumed request carries turn 1: {history}");
    assert!(history.contains(&mockllm::reply_text(5).trim().replace('\n', "\\n")[..10]), "and its reply");
}

#[tokio::test]
async fn aborting_a_slow_reply_ends_the_turn_within_a_second_and_leaves_no_claude_process() {
    let app = spawn_app().await;
    let workspace = workspace_name();
    let id = create(&app, &workspace, "ask").await;
    send(&app, &id, "Go slowly. [[mock tokens=2000 rate=20]]").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while reply_text(&app.view(&id).await, 1).is_empty() {
        assert!(Instant::now() < deadline, "the reply never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let clicked = Instant::now();
    let aborted = app.post_json(&format!("/api/conversations/{id}/abort"), json!({})).await;
    assert_eq!(aborted.status(), 202);
    let view = app.view(&id).await;
    assert!(clicked.elapsed() < Duration::from_secs(1));
    assert_eq!(view["status"], "idle");
    assert_eq!(view["messages"][1]["stop_reason"], "aborted");
    assert!(!reply_text(&view, 1).is_empty(), "partial output is kept");
    let directory = app.workspace_root.join(&workspace);
    let deadline = Instant::now() + Duration::from_secs(5);
    while claude_processes_in(&directory) > 0 {
        assert!(Instant::now() < deadline, "a claude process outlived its aborted turn");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The next prompt tells the CLI the turn before was stopped.
    send(&app, &id, "Next question. [[mock tokens=3]]").await;
    let view = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "idle", "{view}");
    let requests = app.mock_requests.lock().unwrap().clone();
    let last = requests.iter().rev().map(Value::to_string).find(|body| body.contains("Next question.")).expect("the second turn's request");
    let at = last.find("Your previous response was interrupted by the user").unwrap_or_else(|| panic!("no reminder in {last}"));
    assert!(at < last.rfind("Next question.").unwrap(), "the reminder comes before the prompt");
}

async fn failed_reason(app: &TestApp, id: &str) -> String {
    let view = app.wait_until_settled(id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "failed", "{view}");
    let blocks = view["messages"][1]["blocks"].as_array().unwrap().clone();
    blocks.iter().find(|b| b["type"] == "error").expect("an error block").get("text").unwrap().as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_cli_that_exits_1_fails_the_turn_and_shows_the_tail_of_stderr() {
    let cli = fake_cli("echo 'fatal: simulated CLI failure' >&2\nexit 1");
    let app = spawn_app_with(|config| config.claude_code.bin = cli.display().to_string(), true).await;
    let id = create(&app, &workspace_name(), "ask").await;
    send(&app, &id, "hello").await;
    let reason = failed_reason(&app, &id).await;
    assert!(reason.contains("status 1") && reason.contains("simulated CLI failure"), "{reason}");
}

#[tokio::test]
async fn malformed_cli_output_fails_the_turn_and_unknown_messages_are_kept_for_audit() {
    let cli = fake_cli("echo 'this is not json'\necho '{\"type\":\"brand_new_message\",\"n\":1}'\nexit 0");
    let app = spawn_app_with(|config| config.claude_code.bin = cli.display().to_string(), true).await;
    let id = create(&app, &workspace_name(), "ask").await;
    send(&app, &id, "hello").await;
    let reason = failed_reason(&app, &id).await;
    assert!(reason.contains("without a result") && reason.contains("1 unreadable output lines"), "{reason}");
    let log: Vec<Value> = app.client.get(format!("{}/api/conversations/{id}/log", app.address)).send().await.unwrap().json().await.unwrap();
    let raw: Vec<&Value> = log.iter().filter(|e| e["type"] == "CliMessageRecorded").collect();
    assert!(raw.iter().any(|e| e.to_string().contains("brand_new_message")), "{log:?}");
    assert!(raw.iter().any(|e| e.to_string().contains("this is not json")));
}

#[tokio::test]
async fn a_claude_bin_that_disappeared_fails_the_turn_with_the_reason() {
    let cli = fake_cli("exit 0");
    let app = spawn_app_with(|config| config.claude_code.bin = cli.display().to_string(), true).await;
    let id = create(&app, &workspace_name(), "ask").await;
    std::fs::remove_file(&cli).unwrap();
    send(&app, &id, "hello").await;
    let reason = failed_reason(&app, &id).await;
    assert!(reason.contains("not an executable file"), "{reason}");
    let providers: Value = app.client.get(format!("{}/api/providers", app.address)).send().await.unwrap().json().await.unwrap();
    let claude = providers.as_array().unwrap().iter().find(|p| p["id"] == "claude_code").unwrap();
    assert_eq!(claude["available"], false);
    assert!(claude["unavailable_reason"].as_str().unwrap().contains("CLAUDE_BIN"));
}

#[tokio::test]
async fn an_approval_nobody_decides_is_denied_after_the_timeout() {
    let app = spawn_app_with(|config| config.worker.approval_timeout = Duration::from_secs(1), true).await;
    let workspace = workspace_name();
    let id = create(&app, &workspace, "ask").await;
    send(&app, &id, "Write it. [[mock tool=write file=late.txt content=x tokens=3]]").await;
    wait_for_approval(&app, &id).await;
    let view = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert!(!app.workspace_root.join(&workspace).join("late.txt").exists());
    assert!(reply_text(&view, 1).contains("Tool failed: "), "{view}");
    let log: Vec<Value> = app.client.get(format!("{}/api/conversations/{id}/log", app.address)).send().await.unwrap().json().await.unwrap();
    let decided = log.iter().find(|e| e["type"] == "ApprovalDecided").expect("the timeout is an event");
    assert_eq!(decided["data"]["ApprovalDecided"]["decision"], "deny");
}

#[tokio::test]
async fn a_reclaimed_claude_code_turn_resumes_the_session_it_began_and_says_it_was_interrupted_instead_of_sending_the_prompt_again() {
    use domain::{ConversationCommand, OutputItem};
    // Arrange: a first turn that made a real CLI session, and a second turn whose attempt reported
    // that session and died (submitted straight to the backend, so no job reaches the app's worker).
    let app = spawn_app().await;
    let id = create(&app, &workspace_name(), "accept_edits").await;
    send(&app, &id, "First question about turtles. [[mock tokens=5]]").await;
    let first = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    let session = first["cli_session_id"].as_str().unwrap_or_else(|| panic!("the CLI reported no session: {first}")).to_string();
    let backend = &app.backend;
    backend
        .execute(&id, ConversationCommand::SubmitPrompt { text: "Second question, write notes.txt.".into(), job_id: "j2".into() })
        .await
        .unwrap();
    let begin = ConversationCommand::BeginAttempt { turn: 2, attempt_id: "dead".into(), worker: "w1".into(), takeover: false };
    backend.execute(&id, begin).await.unwrap();
    let reported = vec![OutputItem::CliSessionStarted { session_id: session.clone() }];
    backend.execute(&id, ConversationCommand::RecordOutput { turn: 2, attempt_id: "dead".into(), items: reported }).await.unwrap();
    let before = app.mock_requests.lock().unwrap().len();
    // Act: the reclaim.
    let job = backend::queue::TurnJob { conversation_id: id.clone(), turn: 2, job_id: "j2".into() };
    backend::jobs::run_turn(backend, &job, "w2", true).await.unwrap();
    // Assert: the CLI resumed the session with the note, and never got the prompt again.
    let view = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(view["cli_session_id"], session.as_str(), "the same CLI session");
    let requests = app.mock_requests.lock().unwrap()[before..].to_vec();
    let sent: Vec<String> = requests.iter().filter(|r| r["messages"].is_array()).map(|r| r["messages"].to_string()).collect();
    assert!(!sent.is_empty(), "the resumed CLI called the model");
    assert!(sent.iter().all(|history| history.contains("First question about turtles")), "the session's history came along");
    assert!(sent.iter().all(|history| !history.contains("Second question")), "the prompt was not sent again: {sent:?}");
    assert!(sent.iter().any(|history| history.contains("The previous attempt at this request was interrupted")), "{sent:?}");
}

#[tokio::test]
async fn a_claude_code_turn_appends_the_users_instructions_to_the_clis_prompt_and_records_them() {
    let app = spawn_app().await;
    let put = app.client.put(format!("{}/api/settings/instructions", app.address)).json(&json!({"text": "Sign every answer ~pd."}));
    assert_eq!(put.send().await.unwrap().status(), 200);
    let id = create(&app, &workspace_name(), "ask").await;
    send(&app, &id, "Hello there. [[mock tokens=3]]").await;
    let view = app.wait_until_settled(&id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "idle", "{view}");
    let requests = app.mock_requests.lock().unwrap().clone();
    let request = requests.iter().rev().find(|r| r["messages"].to_string().contains("Hello there.")).expect("the CLI called the mock");
    let system = request["system"].to_string();
    assert!(system.contains("Sign every answer ~pd.") && system.contains("running inside PocketDev"), "appended: {system}");
    let recorded = app.system_prompts_used(&id).await;
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0]["text"].as_str().unwrap().contains("Sign every answer ~pd."));
}
