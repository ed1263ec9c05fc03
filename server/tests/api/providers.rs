//! The providers through the HTTP API: OpenAI (Responses) and OpenAI-compatible (Chat
//! Completions) turns against the mock, per-conversation settings, costs from the price table,
//! the context meter, availability, and the model catalogue (`/api/pricing`, `PD_MODELS_FILE`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{blocks_text, free_port, fresh_database, prompt, reply_text, spawn_app, spawn_app_with, TestApp};
use crate::security::{server_command, ServerProcess};

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/api/conversations", body).await
}

async fn created(app: &TestApp, body: Value) -> Value {
    let response = create(app, body.clone()).await;
    assert_eq!(response.status(), 201, "{body}: {}", response.text().await.unwrap_or_default());
    response.json().await.unwrap()
}

/// Sends `text` and waits until the turn ends; returns the view.
async fn turn(app: &TestApp, id: &str, text: &str) -> Value {
    let sent = app.post_json(&format!("/api/conversations/{id}/messages"), json!({"text": text})).await;
    assert_eq!(sent.status(), 202);
    app.wait_until_settled(id, Duration::from_secs(20)).await
}

fn reply_usage(view: &Value, turn: u64) -> Value {
    view["messages"].as_array().unwrap().iter().find(|m| m["role"] == "assistant" && m["turn"] == turn).unwrap()["usage"].clone()
}

/// The last request body the mock got that has `field`.
fn last_request_with(app: &TestApp, field: &str) -> Value {
    app.mock_requests.lock().unwrap().iter().rev().find(|body| body.get(field).is_some()).cloned().expect("a request reached the mock")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[tokio::test]
async fn an_openai_turn_streams_reasoning_and_text_and_costs_tokens_times_the_price_table() {
    let app = spawn_app().await;
    let view = created(&app, json!({"provider": "openai", "model": "gpt-5", "reasoning_effort": "high"})).await;
    assert_eq!(
        view["settings"],
        json!({"max_tokens": 8192, "thinking_budget": null, "reasoning_effort": "high", "context_window": 400000})
    );
    let id = view["id"].as_str().unwrap();
    let view = turn(&app, id, &prompt("tokens=20 thinking=5")).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(blocks_text(&view, 1, "thinking"), mockllm::thinking_text(5));
    assert_eq!(reply_text(&view, 1), mockllm::reply_text(20));
    let sent = last_request_with(&app, "input");
    assert_eq!(sent["reasoning"], json!({"effort": "high", "summary": "auto"}));
    assert_eq!(
        (sent["model"].clone(), sent["max_output_tokens"].clone(), sent["stream"].clone()),
        (json!("gpt-5"), json!(8192), json!(true))
    );
    // The mock counts words as tokens: the system prompt's and the prompt's 7 (its nonce included)
    // are input; 5 reasoning + 20 text tokens are output. gpt-5: $1.25 / $10 per MTok.
    let input = 7 + words(&sent["instructions"]);
    let usage = reply_usage(&view, 1);
    assert_eq!((usage["input_tokens"].as_u64(), usage["output_tokens"].as_u64()), (Some(input), Some(25)), "{usage}");
    let expected = (input as f64 * 1.25 + 25.0 * 10.0) / 1e6;
    assert!(close(usage["cost_usd"].as_f64().unwrap(), expected), "{usage}");
    assert!(close(view["usage"]["cost_usd"].as_f64().unwrap(), expected), "{view}");
    assert_eq!(view["context"], json!({"used_tokens": input + 25, "window": 400000, "percent": 0.0, "level": "ok"}));
    // A second turn adds up, and the meter follows the last turn.
    let view = turn(&app, id, &prompt("tokens=4 thinking=0")).await;
    let second = reply_usage(&view, 2);
    let total = view["usage"]["cost_usd"].as_f64().unwrap();
    assert!(close(total, expected + second["cost_usd"].as_f64().unwrap()), "{view}");
    let used = second["input_tokens"].as_u64().unwrap() + second["output_tokens"].as_u64().unwrap();
    assert_eq!(view["context"]["used_tokens"], used);
}

#[tokio::test]
async fn an_openai_compatible_turn_uses_chat_completions_with_the_configured_model_and_window_and_costs_nothing() {
    let app = spawn_app().await;
    let view = created(&app, json!({"provider": "openai_compatible"})).await;
    assert_eq!(view["model"], "local-mock", "OPENAI_COMPATIBLE_MODEL is the default");
    assert_eq!(view["settings"]["context_window"], 4096, "OPENAI_COMPATIBLE_CONTEXT_WINDOW");
    assert_eq!(view["settings"]["reasoning_effort"], Value::Null, "a local server gets no effort unless asked");
    let id = view["id"].as_str().unwrap();
    let view = turn(&app, id, &prompt("tokens=12 thinking=3")).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(blocks_text(&view, 1, "thinking"), mockllm::thinking_text(3));
    assert_eq!(reply_text(&view, 1), mockllm::reply_text(12));
    let sent = last_request_with(&app, "messages");
    assert_eq!(sent["model"], "local-mock");
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    assert!(sent.get("reasoning_effort").is_none(), "{sent}");
    assert_eq!(sent["messages"][0]["role"], "system");
    let input = 7 + words(&sent["messages"][0]["content"]);
    let usage = reply_usage(&view, 1);
    assert_eq!(
        (usage["input_tokens"].as_u64(), usage["output_tokens"].as_u64(), usage["cost_usd"].as_f64()),
        (Some(input), Some(15), Some(0.0))
    );
    let percent = ((input + 15) as f64 * 1000.0 / 4096.0).round() / 10.0;
    assert_eq!(view["context"], json!({"used_tokens": input + 15, "window": 4096, "percent": percent, "level": "ok"}));
}

#[tokio::test]
async fn an_anthropic_turn_gets_its_thinking_budget_and_length_and_the_sonnet_price() {
    let app = spawn_app().await;
    let view = created(&app, json!({"provider": "anthropic", "thinking_budget": 2048, "max_tokens": 1000})).await;
    let id = view["id"].as_str().unwrap();
    let view = turn(&app, id, &prompt("tokens=10 thinking=4")).await;
    let sent = last_request_with(&app, "thinking");
    assert_eq!((sent["thinking"]["budget_tokens"].as_u64(), sent["max_tokens"].as_u64()), (Some(2048), Some(3048)));
    assert_eq!(blocks_text(&view, 1, "thinking"), mockllm::thinking_text(4));
    let usage = reply_usage(&view, 1);
    let (input, output) = (usage["input_tokens"].as_f64().unwrap(), usage["output_tokens"].as_f64().unwrap());
    assert!(close(usage["cost_usd"].as_f64().unwrap(), (input * 3.0 + output * 15.0) / 1e6), "{usage}");
    let log: Value = app.client.get(format!("{}/api/conversations/{id}/log", app.address)).send().await.unwrap().json().await.unwrap();
    let configured = log.as_array().unwrap().iter().find(|e| e["type"] == "ConversationConfigured").expect("settings are an event");
    assert_eq!(configured["seq"], 2);
    assert_eq!(configured["data"]["ConversationConfigured"]["thinking_budget"], 2048);
}

#[tokio::test]
async fn settings_that_do_not_fit_the_provider_or_the_rules_are_a_400() {
    let app = spawn_app().await;
    for (body, expected) in [
        (json!({"provider": "anthropic", "reasoning_effort": "high"}), "reasoning_effort"),
        (json!({"provider": "openai", "thinking_budget": 2048}), "thinking_budget"),
        (json!({"provider": "anthropic", "thinking_budget": 10}), "thinking_budget"),
        (json!({"provider": "openai", "reasoning_effort": "extreme"}), "reasoning_effort"),
        (json!({"provider": "openai", "max_tokens": 0}), "max_tokens"),
        (json!({"provider": "openai", "max_tokens": "lots"}), "invalid JSON body"),
    ] {
        let response = create(&app, body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let error = response.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
        assert!(error.contains(expected), "{body}: {error}");
    }
}

#[tokio::test]
async fn an_error_event_mid_stream_fails_an_openai_turn_with_the_providers_message() {
    let app = spawn_app().await;
    let id = created(&app, json!({"provider": "openai", "model": "gpt-5-mini"})).await["id"].as_str().unwrap().to_string();
    let view = turn(&app, &id, &prompt("tokens=10 fail=error_event after=3")).await;
    assert_eq!(view["status"], "failed", "{view}");
    assert!(blocks_text(&view, 1, "error").contains("Overloaded"), "{view}");
    assert_eq!(view["usage"]["cost_usd"], 0.0, "a failed turn records no usage");
}

#[tokio::test]
async fn a_provider_without_its_key_or_server_is_listed_unavailable_with_the_reason_and_refused_with_a_400() {
    let app = spawn_app_with(
        |config| {
            config.openai.api_key = None;
            config.openai_compatible.base_url = String::new();
        },
        true,
    )
    .await;
    let listed: Value = app.client.get(format!("{}/api/providers", app.address)).send().await.unwrap().json().await.unwrap();
    let find = |id: &str| listed.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
    let openai = find("openai");
    assert_eq!(openai["available"], false);
    assert!(openai["unavailable_reason"].as_str().unwrap().contains("OPENAI_API_KEY"), "{openai}");
    let local = find("openai_compatible");
    assert_eq!(local["available"], false);
    assert!(local["unavailable_reason"].as_str().unwrap().contains("OPENAI_COMPATIBLE_BASE_URL"), "{local}");
    assert_eq!(find("anthropic")["available"], true);
    for (provider, variable) in [("openai", "OPENAI_API_KEY"), ("openai_compatible", "OPENAI_COMPATIBLE_BASE_URL")] {
        let refused = create(&app, json!({"provider": provider})).await;
        assert_eq!(refused.status(), 400);
        let error = refused.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
        assert!(error.contains(&format!("provider `{provider}` is unavailable")) && error.contains(variable), "{error}");
    }
}

#[tokio::test]
async fn a_key_saved_on_the_settings_page_makes_openai_available() {
    let app = spawn_app_with(|config| config.openai.api_key = None, true).await;
    let saved = app
        .client
        .put(format!("{}/api/settings/keys/OPENAI_API_KEY", app.address))
        .json(&json!({"value": "sk-proj-from-settings-0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let id = created(&app, json!({"provider": "openai"})).await["id"].as_str().unwrap().to_string();
    let view = turn(&app, &id, &prompt("tokens=5")).await;
    assert_eq!(reply_text(&view, 1), mockllm::reply_text(5));
    assert_eq!(view["model"], "gpt-5", "the catalogue's default model");
}

#[tokio::test]
async fn providers_list_models_with_windows_and_prices_and_pricing_serves_the_catalogue() {
    let app = spawn_app().await;
    let listed: Value = app.client.get(format!("{}/api/providers", app.address)).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["anthropic", "claude_code", "openai", "openai_compatible"]);
    let openai = &listed[2];
    assert_eq!(openai["default_model"], "gpt-5");
    let gpt5 = openai["models"].as_array().unwrap().iter().find(|m| m["id"] == "gpt-5").unwrap();
    assert_eq!(gpt5["context_window"], 400000);
    assert_eq!(gpt5["price_per_mtok"], json!({"input": 1.25, "output": 10.0, "cache_write": 1.25, "cache_read": 0.125}));
    assert_eq!(listed[3]["models"][0]["id"], "local-mock");
    assert_eq!(listed[3]["models"][0]["context_window"], 4096);
    let pricing: Value = app.client.get(format!("{}/api/pricing", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(pricing["source"], "built-in");
    let sonnet = &pricing["providers"]["anthropic"]["models"][0];
    assert_eq!(sonnet["id"], "claude-sonnet-4-5");
    assert_eq!(sonnet["price_per_mtok"]["cache_read"], 0.3);
    assert_eq!(pricing["providers"]["openai_compatible"]["models"][0]["id"], "*");
}

#[tokio::test]
async fn a_models_file_replaces_the_catalogue_and_an_invalid_one_stops_serve_with_status_2() {
    let database = fresh_database().await;
    let dir = std::env::temp_dir().join(format!("pd-models-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("models.json");
    std::fs::write(
        &good,
        r#"{"providers": {"anthropic": {"default_model": "claude-tiny", "models": [
            {"id": "claude-tiny", "context_window": 100, "price_per_mtok": {"input": 7, "output": 9, "cache_write": 8, "cache_read": 1}}]}}}"#,
    )
    .unwrap();
    let server = ServerProcess::start(&[("DATABASE_URL", database.clone()), ("PD_MODELS_FILE", good.display().to_string())]).await;
    let pricing: Value = reqwest::get(format!("{}/api/pricing", server.address)).await.unwrap().json().await.unwrap();
    assert_eq!(pricing["providers"]["anthropic"]["models"][0]["price_per_mtok"]["input"], 7.0);
    assert_eq!(pricing["source"], good.display().to_string());
    drop(server);
    for (name, text) in [("broken.json", "{not json"), ("typo.json", r#"{"providers": {"open_ai": {"models": []}}}"#)] {
        let bad = dir.join(name);
        std::fs::write(&bad, text).unwrap();
        let log = dir.join(format!("{name}.log"));
        let env = [("DATABASE_URL", database.clone()), ("PD_MODELS_FILE", bad.display().to_string())];
        let status =
            tokio::time::timeout(Duration::from_secs(20), server_command(free_port(), &env, &log).status()).await.unwrap().unwrap();
        let output = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(2), "{output}");
        assert!(output.contains("configuration error: PD_MODELS_FILE"), "{output}");
    }
    let missing = [("DATABASE_URL", database.clone()), ("PD_MODELS_FILE", dir.join("absent.json").display().to_string())];
    let log = dir.join("absent.log");
    let status =
        tokio::time::timeout(Duration::from_secs(20), server_command(free_port(), &missing, &log).status()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_conversation_from_before_settings_existed_gets_its_window_from_the_catalogue() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4().to_string();
    let start = domain::ConversationCommand::StartConversation {
        provider: "anthropic".into(),
        model: "claude-haiku-4-5".into(),
        title: None,
        workspace: None,
        permission_mode: Default::default(),
        settings: None,
    };
    app.backend.execute(&id, start).await.unwrap();
    let view = turn(&app, &id, &prompt("tokens=3")).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert!(view.get("settings").is_none(), "{view}");
    assert_eq!(view["context"]["window"], 200000);
    assert!(view["context"]["used_tokens"].as_u64().unwrap() > 3);
}

/// How many tokens the mock counts in a text: its words.
fn words(text: &Value) -> u64 {
    text.as_str().expect("a text").split_whitespace().count() as u64
}
