//! The conversation lifecycle through the HTTP API, with a real worker and the mock LLM.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{prompt, reply_text, spawn_app, spawn_app_without_worker};

#[tokio::test]
async fn a_prompt_streams_back_the_mock_reply_and_the_turn_completes() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    // Act
    let response = app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": prompt("tokens=50")})).await;
    // Assert
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({"turn": 1}));
    let view = app.wait_until_settled(&id, Duration::from_secs(20)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(reply_text(&view, 1), mockllm::reply_text(50));
    assert_eq!(view["messages"][0]["role"], "user");
    assert!(view["usage"]["output_tokens"].as_u64().unwrap() > 0, "{view}");
}

#[tokio::test]
async fn the_title_defaults_to_the_first_60_characters_of_the_first_prompt() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    let text = format!("{} [[mock tokens=3]]", "abcdefghij".repeat(8));
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": text})).await;
    let view = app.wait_until_settled(&id, Duration::from_secs(20)).await;
    assert_eq!(view["title"], "abcdefghij".repeat(6));
}

#[tokio::test]
async fn archiving_hides_a_conversation_from_the_default_list_and_refuses_messages() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    let archived = app.post_json(&format!("/api/conversations/{id}/archive"), json!({})).await;
    assert_eq!(archived.status(), 200);
    let list: serde_json::Value = app.client.get(format!("{}/api/conversations", app.address)).send().await.unwrap().json().await.unwrap();
    assert!(list["items"].as_array().unwrap().iter().all(|item| item["id"] != id.as_str()));
    let listed: serde_json::Value =
        app.client.get(format!("{}/api/conversations?archived=true", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let by_name: serde_json::Value =
        app.client.get(format!("{}/api/conversations?archived=archived", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_name["items"], listed["items"]);
    let refused = app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": "hello"})).await;
    assert_eq!(refused.status(), 409);
    let unarchived = app.post_json(&format!("/api/conversations/{id}/unarchive"), json!({})).await;
    assert_eq!(unarchived.json::<serde_json::Value>().await.unwrap()["archived"], false);
}

#[tokio::test]
async fn a_deleted_conversation_answers_404_and_leaves_the_list() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    let deleted = app.client.delete(format!("{}/api/conversations/{id}", app.address)).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let shown = app.client.get(format!("{}/api/conversations/{id}", app.address)).send().await.unwrap();
    assert_eq!(shown.status(), 404);
    let again = app.client.delete(format!("{}/api/conversations/{id}", app.address)).send().await.unwrap();
    assert_eq!(again.status(), 404);
    let list: serde_json::Value =
        app.client.get(format!("{}/api/conversations?archived=all", app.address)).send().await.unwrap().json().await.unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn renaming_changes_the_title_and_the_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.create_conversation().await);
    }
    let renamed =
        app.client.patch(format!("{}/api/conversations/{}", app.address, ids[0])).json(&json!({"title": "Renamed"})).send().await.unwrap();
    assert_eq!(renamed.json::<serde_json::Value>().await.unwrap()["title"], "Renamed");
    let first: serde_json::Value =
        app.client.get(format!("{}/api/conversations?limit=2", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["items"][0]["id"], ids[0].as_str(), "the renamed one has the newest activity");
    let cursor = first["next"].as_str().unwrap();
    let second: serde_json::Value =
        app.client.get(format!("{}/api/conversations?limit=2&before={cursor}", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next"].is_null());
}

#[tokio::test]
async fn stopping_a_running_turn_ends_it_and_a_second_stop_is_a_conflict() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": prompt("tokens=400 rate=20")})).await;
    let aborted = app.post_json(&format!("/api/conversations/{id}/abort"), json!({})).await;
    assert_eq!(aborted.status(), 202);
    let view = app.wait_until_settled(&id, Duration::from_secs(10)).await;
    assert_eq!(view["status"], "idle");
    let again = app.post_json(&format!("/api/conversations/{id}/abort"), json!({})).await;
    assert_eq!(again.status(), 409);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = app.view(&id).await;
    assert_eq!(later["messages"].as_array().unwrap().last().unwrap()["stop_reason"], "aborted");
    assert!(reply_text(&later, 1).len() < mockllm::reply_text(400).len(), "the worker stopped writing");
}

#[tokio::test]
async fn a_provider_error_fails_the_turn_with_a_visible_message_and_the_next_prompt_works() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": prompt("tokens=20 fail=error_event after=5")})).await;
    let view = app.wait_until_settled(&id, Duration::from_secs(20)).await;
    assert_eq!(view["status"], "failed");
    let blocks = view["messages"][1]["blocks"].as_array().unwrap();
    assert!(blocks.iter().any(|b| b["type"] == "error" && b["text"].as_str().unwrap().contains("Overloaded")), "{view}");
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": prompt("tokens=5")})).await;
    let view = app.wait_until_settled(&id, Duration::from_secs(20)).await;
    assert_eq!(view["status"], "idle");
    assert_eq!(reply_text(&view, 2), mockllm::reply_text(5));
}

#[tokio::test]
async fn the_view_as_of_an_event_shows_the_conversation_at_that_point() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": prompt("tokens=10")})).await;
    app.wait_until_settled(&id, Duration::from_secs(20)).await;
    let log: Vec<serde_json::Value> =
        app.client.get(format!("{}/api/conversations/{id}/log", app.address)).send().await.unwrap().json().await.unwrap();
    let prompt_seq = log.iter().find(|e| e["type"] == "PromptSubmitted").unwrap()["seq"].as_u64().unwrap();
    assert!(log.iter().all(|e| e["at"].is_string() && e["version"].is_string()));
    assert_eq!(log[0]["type"], "ConversationStarted");
    assert_eq!(log[0]["version"], "2.0");
    let then: serde_json::Value =
        app.client.get(format!("{}/api/conversations/{id}?at={prompt_seq}", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(then["status"], "running");
    assert_eq!(then["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn health_reports_ok_and_providers_list_their_models() {
    let app = spawn_app().await;
    let health = app.client.get(format!("{}/health", app.address)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().await.unwrap(), json!({"status": "ok", "postgres": {"ok": true}, "redis": {"ok": true}}));
    let providers: serde_json::Value = app.client.get(format!("{}/api/providers", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(providers[0]["id"], "anthropic");
    assert_eq!(providers[0]["available"], true);
    assert!(providers[0]["models"][0]["context_window"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_turn_whose_job_redis_lost_is_queued_again_and_completes() {
    // Arrange: the job is removed from Redis right after it is queued, as a Redis restart without data would.
    let mut app = spawn_app_without_worker().await;
    let id = app.create_conversation().await;
    let mut redis = redis::Client::open(std::env::var("REDIS_URL").unwrap()).unwrap().get_multiplexed_async_connection().await.unwrap();
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": prompt("tokens=8")})).await;
    let _: () = redis::cmd("DEL").arg(&app.job_stream).query_async(&mut redis).await.unwrap();
    app.start_worker();
    // Act + Assert: the reconciler notices the unstarted turn and queues it again.
    let view = app.wait_until_settled(&id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(reply_text(&view, 1), mockllm::reply_text(8));
}
