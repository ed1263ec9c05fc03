//! Claude Code's own files: importing CLI sessions (and continuing them) and managing its credentials.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{reply_text, spawn_app, TestApp};

async fn claude_conversation(app: &TestApp, workspace: &str) -> String {
    let body = json!({"provider": "claude_code", "workspace": workspace});
    let view: Value = app.post_json("/api/conversations", body).await.json().await.unwrap();
    view["id"].as_str().unwrap().to_string()
}

async fn import(app: &TestApp, project: &str, session_id: &str) -> reqwest::Response {
    app.post_json("/api/claude/sessions/import", json!({"project": project, "session_id": session_id})).await
}

#[tokio::test]
async fn a_cli_session_is_listed_imported_and_continued_with_resume() {
    // Arrange: a real CLI session, made by running one turn.
    let app = spawn_app().await;
    let workspace = format!("ws-{}", uuid::Uuid::new_v4().simple());
    let original = claude_conversation(&app, &workspace).await;
    app.post_json(&format!("/api/conversations/{original}/messages"), json!({"text": "Tell me about otters [[mock tokens=9]]"})).await;
    let ran = app.wait_until_settled(&original, Duration::from_secs(60)).await;
    let session_id = ran["cli_session_id"].as_str().unwrap().to_string();
    // Act: list and import it.
    let sessions: Vec<Value> = app.client.get(format!("{}/api/claude/sessions", app.address)).send().await.unwrap().json().await.unwrap();
    let listed = sessions.iter().find(|s| s["session_id"] == session_id.as_str()).expect("the session is listed");
    assert!(listed["first_prompt"].as_str().unwrap().starts_with("Tell me about otters"));
    assert!(listed["size_bytes"].as_u64().unwrap() > 0 && listed["modified_at"].is_string());
    let response = import(&app, listed["project"].as_str().unwrap(), &session_id).await;
    assert_eq!(response.status(), 201);
    let imported: Value = response.json().await.unwrap();
    // Assert: it renders like the original, in the same workspace, and continues the same CLI session.
    let view = &app.view(imported["conversation"]["id"].as_str().unwrap()).await;
    assert_eq!(imported["turns"], 1);
    assert_eq!(view["workspace"], workspace.as_str());
    assert_eq!(view["cli_session_id"], session_id.as_str());
    assert_eq!(reply_text(view, 1), mockllm::reply_text(9));
    let id = view["id"].as_str().unwrap();
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": "And beavers? [[mock tokens=4]]"})).await;
    let continued = app.wait_until_settled(id, Duration::from_secs(60)).await;
    assert_eq!(continued["status"], "idle", "{continued}");
    assert_eq!(reply_text(&continued, 2), mockllm::reply_text(4));
    assert_eq!(continued["cli_session_id"], session_id.as_str(), "resumed, not a new session");
    let last = app.mock_requests.lock().unwrap().iter().rev().find(|r| r["messages"].is_array()).cloned().unwrap();
    assert!(last["messages"].to_string().contains("Tell me about otters"));
}

#[tokio::test]
async fn importing_skips_and_counts_unknown_lines() {
    let app = spawn_app().await;
    let project = app.claude_home.join(".claude/projects/-elsewhere");
    std::fs::create_dir_all(&project).unwrap();
    let lines = [
        r#"{"type":"queue-operation","operation":"enqueue"}"#,
        r#"{"type":"user","cwd":"/elsewhere","message":{"role":"user","content":"first prompt"}}"#,
        r#"{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"first answer"}]}}"#,
        "this line is not JSON",
        r#"{"type":"a_future_line_type","x":1}"#,
        r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]}}"#,
        r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a.txt","is_error":false}]}}"#,
        r#"{"type":"user","isSidechain":true,"message":{"role":"user","content":"side chatter"}}"#,
        r#"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"second prompt"}]}}"#,
        r#"{"type":"assistant","message":{"content":[{"type":"text","text":"second answer"}]}}"#,
        r#"{"type":"ai-title","title":"Imported chat"}"#,
    ];
    std::fs::write(project.join("s1.jsonl"), lines.join("\n")).unwrap();
    let imported: Value = import(&app, "-elsewhere", "s1").await.json().await.unwrap();
    assert_eq!((imported["lines"].as_u64(), imported["skipped"].as_u64(), imported["turns"].as_u64()), (Some(11), Some(2), Some(2)));
    let view = &app.view(imported["conversation"]["id"].as_str().unwrap()).await;
    assert_eq!(view["title"], "Imported chat");
    assert_eq!(reply_text(view, 1), "first answer");
    assert_eq!(reply_text(view, 2), "second answer");
    let blocks = view["messages"][1]["blocks"].as_array().unwrap();
    assert!(blocks.iter().any(|b| b["type"] == "tool_result" && b["text"] == "a.txt"), "{view}");
    assert!(view["workspace"].is_null(), "a cwd outside the workspace root maps to no workspace");
}

#[tokio::test]
async fn import_refuses_names_that_leave_the_projects_folder() {
    let app = spawn_app().await;
    for (project, session) in [("..", "x"), ("a/../..", "x"), ("p", "../../etc/passwd"), ("p", "%2e%2e"), ("p", "a\0b"), (".", "s")] {
        let status = import(&app, project, session).await.status();
        assert!(status == 400 || status == 404, "{project} {session}: {status}");
    }
}

#[tokio::test]
async fn credentials_are_validated_stored_privately_and_never_echoed() {
    let app = spawn_app().await;
    let secret = "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz0123456789";
    let put = |body: Value| app.client.put(format!("{}/api/claude/credentials", app.address)).json(&body).send();
    let missing = put(json!({"claudeAiOauth": {"accessToken": secret}})).await.unwrap();
    assert_eq!(missing.status(), 400);
    assert!(missing.text().await.unwrap().contains("refreshToken"));
    let good = json!({"claudeAiOauth": {"accessToken": secret, "refreshToken": "sk-ant-ort01-zyxw", "expiresAt": 4102444800000i64, "subscriptionType": "max"}});
    let stored = put(good).await.unwrap();
    assert_eq!(stored.status(), 200);
    let text = stored.text().await.unwrap();
    assert!(!text.contains(secret) && !text.contains("sk-ant-ort01"), "{text}");
    let status: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status["credentials"]["present"], true);
    assert_eq!(status["credentials"]["subscription_type"], "max");
    assert_eq!(status["credentials"]["expired"], false);
    let file = app.claude_home.join(".claude/.credentials.json");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let deleted = app.client.delete(format!("{}/api/claude/credentials", app.address)).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let after: Value = app.client.get(format!("{}/api/claude/auth", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(after["credentials"]["present"], false);
    assert!(!file.exists());
}
