//! Bad input gets a 4xx with a message, never a 500.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{prompt, spawn_app};

#[tokio::test]
async fn an_unknown_conversation_is_404_on_every_route() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/conversations/{unknown}"),
        "/api/conversations/not-a-uuid".into(),
        format!("/api/conversations/{unknown}/log"),
        format!("/api/conversations/{unknown}/events"),
    ] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let posted = app.post_json(&format!("/api/conversations/{unknown}/messages"), json!({"text": "hi"})).await;
    assert_eq!(posted.status(), 404);
    let body: serde_json::Value = posted.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not found"));
}

#[tokio::test]
async fn empty_and_oversized_messages_are_400() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    for text in [String::new(), "   ".into(), "x".repeat(200 * 1024 + 1)] {
        let response = app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": text})).await;
        assert_eq!(response.status(), 400);
        assert!(response.json::<serde_json::Value>().await.unwrap()["error"].is_string());
    }
    let view = app.view(&id).await;
    assert!(view["messages"].as_array().unwrap().is_empty(), "nothing was recorded");
}

#[tokio::test]
async fn a_message_while_a_turn_runs_is_409_and_the_first_turn_is_unharmed() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": prompt("tokens=60 rate=100")})).await;
    let second = app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": "me too"})).await;
    assert_eq!(second.status(), 409);
    let view = app.wait_until_settled(&id, Duration::from_secs(20)).await;
    assert_eq!(crate::helpers::reply_text(&view, 1), mockllm::reply_text(60));
}

#[tokio::test]
async fn malformed_json_is_400_with_a_message() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    for (path, body) in [
        (format!("/api/conversations/{id}/messages"), "{\"text\": "),
        ("/api/conversations".to_string(), "[1,2"),
        (format!("/api/conversations/{id}/messages"), "{\"words\": \"hi\"}"),
    ] {
        let response =
            app.client.post(format!("{}{path}", app.address)).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{path} {body}");
        let message = response.json::<serde_json::Value>().await.unwrap()["error"].as_str().unwrap().to_string();
        assert!(message.starts_with("invalid JSON body"), "{message}");
    }
}

#[tokio::test]
async fn an_unknown_provider_and_bad_list_parameters_are_400() {
    let app = spawn_app().await;
    let response = app.post_json("/api/conversations", json!({"provider": "nope"})).await;
    assert_eq!(response.status(), 400);
    for query in ["limit=0", "limit=abc", "archived=maybe", "before=garbage"] {
        let response = app.client.get(format!("{}/api/conversations?{query}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }
}

#[tokio::test]
async fn two_tabs_posting_at_the_same_moment_get_exactly_one_turn_and_one_409() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    for round in 0..5 {
        let url = format!("/api/conversations/{id}/messages");
        let (first, second) = tokio::join!(
            app.post_json(&url, json!({"text": prompt("tokens=3")})),
            app.post_json(&url, json!({"text": prompt("tokens=3")})),
        );
        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [202, 409], "round {round}");
        app.wait_until_settled(&id, Duration::from_secs(20)).await;
    }
    let view = app.view(&id).await;
    let prompts = view["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "user").count();
    assert_eq!(prompts, 5, "one prompt per round, none lost, none doubled");
}
