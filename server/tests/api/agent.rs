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
