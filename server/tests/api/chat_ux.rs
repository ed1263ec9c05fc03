//! The chat UI's API (docs/UI.md): paged views, rendered Markdown, search, the live list, export,
//! audit summaries, workspaces, the Claude Code config editor, chat defaults and file previews.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use crate::helpers::{prompt, spawn_app, TestApp};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(format!("{}{path}", app.address)).send().await.unwrap()
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = get(app, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn put_json(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.client.put(format!("{}{path}", app.address)).json(&body).send().await.unwrap()
}

/// Sends a prompt and waits for its turn to end.
async fn turn(app: &TestApp, id: &str, text: &str) -> Value {
    let response = app.post_json(&format!("/api/conversations/{id}/messages"), json!({ "text": text })).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap_or_default());
    app.wait_until_settled(id, Duration::from_secs(20)).await
}

fn turns_of(messages: &Value) -> Vec<u64> {
    messages.as_array().unwrap().iter().map(|m| m["turn"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn a_view_of_the_newest_turns_says_older_ones_exist_and_they_load_by_page() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    for _ in 0..3 {
        turn(&app, &id, &prompt("tokens=3")).await;
    }
    let newest = get_json(&app, &format!("/api/conversations/{id}?turns=1")).await;
    assert_eq!(turns_of(&newest["messages"]), vec![3, 3]);
    assert_eq!(newest["has_older"], true);
    let whole = get_json(&app, &format!("/api/conversations/{id}")).await;
    assert_eq!(turns_of(&whole["messages"]), vec![1, 1, 2, 2, 3, 3]);
    assert!(whole.get("has_older").is_none_or(|v| v == false));
    let older = get_json(&app, &format!("/api/conversations/{id}/messages?before_turn=3&limit=1")).await;
    assert_eq!(turns_of(&older["messages"]), vec![2, 2]);
    assert_eq!(older["has_older"], true);
    let oldest = get_json(&app, &format!("/api/conversations/{id}/messages?before_turn=2")).await;
    assert_eq!(turns_of(&oldest["messages"]), vec![1, 1]);
    assert_eq!(oldest["has_older"], false);
    let opened = get_json(&app, &format!("/api/conversations/{id}?from_turn=3")).await;
    assert_eq!(turns_of(&opened["messages"]), vec![2, 2, 3, 3]);
    for bad in ["before_turn=x", "before_turn=3&limit=0", "before_turn=3&limit=201", "limit=5", "before_turn=0"] {
        let response = get(&app, &format!("/api/conversations/{id}/messages?{bad}")).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    }
    assert_eq!(get(&app, &format!("/api/conversations/{id}?turns=abc")).await.status(), 400);
}

#[tokio::test]
async fn text_blocks_carry_sanitized_markdown_html_with_marked_paths() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    let text =
        "See `src/main.rs` and **bold** <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) [[mock tokens=3]]";
    turn(&app, &id, text).await;
    let view = get_json(&app, &format!("/api/conversations/{id}")).await;
    let user_html = view["messages"][0]["blocks"][0]["html"].as_str().expect("the prompt is rendered");
    assert!(user_html.contains("<strong>bold</strong>"), "{user_html}");
    assert!(user_html.contains("<code class=\"path\" data-path=\"src/main.rs\">"), "{user_html}");
    for bad in ["<script", "onerror", "javascript:"] {
        assert!(!user_html.contains(bad), "{bad} in {user_html}");
    }
    let reply = &view["messages"][1]["blocks"].as_array().unwrap().iter().find(|b| b["type"] == "text").unwrap().clone();
    assert!(reply["html"].as_str().is_some_and(|h| h.starts_with("<p>")), "{reply}");
    let css = get(&app, "/highlight.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.text().await.unwrap().contains('{'));
}

#[tokio::test]
async fn a_search_finds_a_word_from_an_assistant_reply_and_names_its_turn() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    turn(&app, &id, &format!("zebrafish question {}", prompt("tokens=3"))).await;
    let view = turn(&app, &id, &prompt("tokens=40")).await;
    let reply = crate::helpers::reply_text(&view, 2);
    let word = reply
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .expect("a word in the reply")
        .to_lowercase();
    let found = get_json(&app, &format!("/api/search?q={word}")).await;
    let hit = found["hits"].as_array().unwrap().iter().find(|h| h["role"] == "assistant").unwrap_or_else(|| panic!("{word}: {found}"));
    assert_eq!(hit["conversation_id"], id.as_str());
    assert_eq!(hit["turn"], 2);
    assert!(hit["snippet"].as_str().unwrap().to_lowercase().contains(&word), "{hit}");
    let prompt_hit = get_json(&app, "/api/search?q=zebrafish").await;
    assert_eq!(prompt_hit["hits"][0]["turn"], 1);
    assert_eq!(prompt_hit["hits"][0]["role"], "user");
    assert!(prompt_hit["hits"][0]["snippet"].as_str().unwrap().contains("«zebrafish»"), "{prompt_hit}");
    let empty = get(&app, "/api/search?q=%20").await;
    assert_eq!(empty.status(), 400);
    assert!(empty.json::<Value>().await.unwrap()["error"].is_string());
    let deleted = app.client.delete(format!("{}/api/conversations/{id}", app.address)).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(get_json(&app, "/api/search?q=zebrafish").await["hits"].as_array().unwrap().is_empty());
    let listed = get_json(&app, "/api/conversations?q=zebra").await;
    assert!(listed["items"].is_array());
}

/// Reads `summary` events from the live list until one satisfies `wanted`.
async fn next_summary(
    events: &mut (impl futures::Stream<Item = Result<eventsource_stream::Event, impl std::fmt::Debug>> + Unpin),
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event =
            tokio::time::timeout_at(deadline, events.next()).await.expect("a summary in time").expect("the stream is open").unwrap();
        assert_eq!(event.event, "summary");
        let data: Value = serde_json::from_str(&event.data).unwrap();
        if wanted(&data) {
            return data;
        }
    }
}

#[tokio::test]
async fn the_live_list_sends_a_summary_when_another_request_renames_or_deletes_a_conversation() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    let response = get(&app, "/api/conversations/live").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut events = eventsource_stream::EventStream::new(response.bytes_stream());
    let renamed =
        app.client.patch(format!("{}/api/conversations/{id}", app.address)).json(&json!({"title": "Live rename"})).send().await.unwrap();
    assert_eq!(renamed.status(), 200);
    let summary = next_summary(&mut events, |s| s["id"] == id.as_str() && s["title"] == "Live rename").await;
    assert_eq!(summary["status"], "idle");
    assert!(summary.get("deleted").is_none());
    app.client.delete(format!("{}/api/conversations/{id}", app.address)).send().await.unwrap();
    let gone = next_summary(&mut events, |s| s["id"] == id.as_str() && s["deleted"] == true).await;
    assert_eq!(gone["title"], "Live rename");
}

#[tokio::test]
async fn an_export_is_a_markdown_attachment_with_both_sides_of_each_turn() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    app.client.patch(format!("{}/api/conversations/{id}", app.address)).json(&json!({"title": "My Export: test"})).send().await.unwrap();
    let view = turn(&app, &id, &prompt("tokens=5")).await;
    let response = get(&app, &format!("/api/conversations/{id}/export.md")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"my-export-test.md\"");
    let body = response.text().await.unwrap();
    assert!(body.starts_with("# My Export: test\n"), "{body}");
    assert!(body.contains("## You\n\nTell me something."), "{body}");
    assert!(body.contains("## Assistant\n"), "{body}");
    assert!(body.contains(crate::helpers::reply_text(&view, 1).trim()), "{body}");
}

#[tokio::test]
async fn the_audit_log_gives_each_event_a_human_summary() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    turn(&app, &id, &prompt("tokens=3")).await;
    let log = get_json(&app, &format!("/api/conversations/{id}/log")).await;
    let summaries: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["summary"].as_str().unwrap()).collect();
    assert!(summaries.iter().any(|s| s.starts_with("Prompt (turn 1): Tell me something.")), "{summaries:?}");
    assert!(summaries.iter().any(|s| s.starts_with("Text +")), "{summaries:?}");
    assert!(summaries.iter().any(|s| s.starts_with("Turn 1 completed (")), "{summaries:?}");
}

#[tokio::test]
async fn workspaces_are_listed_sorted_and_creating_one_twice_is_a_conflict() {
    let app = spawn_app().await;
    let name = format!("ws-{}", uuid::Uuid::new_v4().simple());
    let created = app.post_json("/api/workspaces", json!({ "name": name })).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await.unwrap()["name"], name.as_str());
    let again = app.post_json("/api/workspaces", json!({ "name": name })).await;
    assert_eq!(again.status(), 409);
    for bad in ["../x", ".hidden", "a/b", ""] {
        assert_eq!(app.post_json("/api/workspaces", json!({ "name": bad })).await.status(), 400, "{bad}");
    }
    let listed = get_json(&app, "/api/workspaces").await;
    let names: Vec<&str> = listed["workspaces"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert!(names.contains(&name.as_str()));
    assert!(names.windows(2).all(|pair| pair[0] <= pair[1]), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with('.')));
    assert!(listed["root"].is_string());
}

#[tokio::test]
async fn the_config_editor_writes_and_reads_files_and_refuses_bad_json_and_traversal() {
    let app = spawn_app().await;
    let saved = put_json(&app, "/api/claude/config/file?scope=global&path=CLAUDE.md", json!({"content": "# Rules\n"})).await;
    assert_eq!(saved.status(), 200);
    assert_eq!(std::fs::read_to_string(app.claude_home.join(".claude/CLAUDE.md")).unwrap(), "# Rules\n");
    let read = get_json(&app, "/api/claude/config/file?scope=global&path=CLAUDE.md").await;
    assert_eq!(read, json!({"path": "CLAUDE.md", "content": "# Rules\n", "exists": true}));
    let missing = get_json(&app, "/api/claude/config/file?scope=global&path=agents/none.md").await;
    assert_eq!(missing["exists"], false);
    assert_eq!(
        put_json(&app, "/api/claude/config/file?scope=global&path=commands/review.md", json!({"content": "Review"})).await.status(),
        200
    );
    let listing = get_json(&app, "/api/claude/config?scope=global").await;
    let files = listing["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["kind"] == "command" && f["name"] == "review" && f["path"] == "commands/review.md"), "{listing}");
    assert!(files.iter().any(|f| f["kind"] == "claude_md" && f["exists"] == true), "{listing}");
    let deleted =
        app.client.delete(format!("{}/api/claude/config/file?scope=global&path=commands/review.md", app.address)).send().await.unwrap();
    assert_eq!(deleted.status(), 204);

    let invalid =
        put_json(&app, "/api/claude/config/file?scope=global&path=settings.json", json!({"content": "{\n  \"model\": ,\n}"})).await;
    assert_eq!(invalid.status(), 400);
    let message = invalid.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
    assert!(message.contains("line 2, column"), "{message}");

    for path in ["../secrets.md", "commands/../../x.md", ".credentials.json", "commands/x.sh", "/etc/passwd"] {
        let refused =
            put_json(&app, &format!("/api/claude/config/file?scope=global&path={}", urlencode(path)), json!({"content": "x"})).await;
        assert!(matches!(refused.status().as_u16(), 400 | 403), "{path}: {}", refused.status());
        let read = get(&app, &format!("/api/claude/config/file?scope=global&path={}", urlencode(path))).await;
        assert!(matches!(read.status().as_u16(), 400 | 403), "{path}");
    }
    assert_eq!(get(&app, "/api/claude/config?scope=workspace:../etc").await.status(), 400);
    let too_big = put_json(&app, "/api/claude/config/file?scope=global&path=CLAUDE.md", json!({"content": "x".repeat(257 * 1024)})).await;
    assert_eq!(too_big.status(), 413);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn hooks_round_trip_through_a_workspace_settings_file_keeping_other_keys() {
    let app = spawn_app().await;
    let name = format!("cfg-{}", uuid::Uuid::new_v4().simple());
    assert_eq!(app.post_json("/api/workspaces", json!({ "name": name })).await.status(), 201);
    let scope = format!("workspace:{name}");
    let settings =
        put_json(&app, &format!("/api/claude/config/file?scope={scope}&path=settings.json"), json!({"content": "{\"model\": \"opus\"}"}))
            .await;
    assert_eq!(settings.status(), 200);
    assert_eq!(get_json(&app, &format!("/api/claude/config/hooks?scope={scope}")).await, json!({"hooks": {}}));
    let hooks = json!({"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo hi"}]}]});
    let saved = put_json(&app, &format!("/api/claude/config/hooks?scope={scope}"), json!({ "hooks": hooks })).await;
    assert_eq!(saved.status(), 200);
    assert_eq!(get_json(&app, &format!("/api/claude/config/hooks?scope={scope}")).await["hooks"], hooks);
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(app.workspace_root.join(&name).join(".claude/settings.json")).unwrap()).unwrap();
    assert_eq!(on_disk["model"], "opus");
    assert_eq!(on_disk["hooks"], hooks);
    for bad in [json!({"hooks": []}), json!({"hooks": {"PreToolUse": {}}})] {
        assert_eq!(put_json(&app, &format!("/api/claude/config/hooks?scope={scope}"), bad.clone()).await.status(), 400, "{bad}");
    }
    let md = put_json(&app, &format!("/api/claude/config/file?scope={scope}&path=CLAUDE.md"), json!({"content": "ws rules"})).await;
    assert_eq!(md.status(), 200);
    assert!(app.workspace_root.join(&name).join("CLAUDE.md").is_file());
}

#[tokio::test]
async fn chat_defaults_round_trip_and_fill_what_a_new_conversation_omits() {
    let app = spawn_app().await;
    let initial = get_json(&app, "/api/settings/defaults").await;
    assert!(initial["provider"].is_null());
    let omitted = app.post_json("/api/conversations", json!({})).await;
    assert_eq!(omitted.status(), 400, "no default provider yet");
    let defaults =
        json!({"provider": "anthropic", "model": "claude-haiku-4-5", "thinking_budget": 2048, "permission_mode": "accept_edits"});
    let saved = put_json(&app, "/api/settings/defaults", defaults.clone()).await;
    assert_eq!(saved.status(), 200);
    assert_eq!(get_json(&app, "/api/settings/defaults").await, defaults);
    let created = app.post_json("/api/conversations", json!({})).await;
    assert_eq!(created.status(), 201);
    let view: Value = created.json().await.unwrap();
    assert_eq!(view["provider"], "anthropic");
    assert_eq!(view["model"], "claude-haiku-4-5");
    assert_eq!(view["permission_mode"], "accept_edits");
    assert_eq!(view["settings"]["thinking_budget"], 2048);
    let explicit: Value = app
        .post_json("/api/conversations", json!({"provider": "anthropic", "permission_mode": "ask", "thinking_budget": 0}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(explicit["permission_mode"], "ask");
    assert!(explicit["settings"]["thinking_budget"].is_null());
    for bad in [json!({"provider": "nope"}), json!({"permission_mode": "sometimes"}), json!({"thinking_budget": 10}), json!({"model": ""})]
    {
        let response = put_json(&app, "/api/settings/defaults", bad.clone()).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    }
}

#[tokio::test]
async fn a_text_file_preview_comes_with_its_language_and_highlighted_html() {
    let app = spawn_app().await;
    let name = format!("pv-{}", uuid::Uuid::new_v4().simple());
    let dir = app.workspace_root.join(&name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"<hi>\"); }\n").unwrap();
    std::fs::write(dir.join("notes.zzz"), "<b>plain</b>").unwrap();
    let preview = get_json(&app, &format!("/api/workspaces/{name}/files?path=src/main.rs")).await;
    assert_eq!(preview["language"], "Rust");
    assert!(preview["html"].as_str().unwrap().contains("<span class="), "{preview}");
    assert!(!preview["html"].as_str().unwrap().contains("<hi>"));
    let plain = get_json(&app, &format!("/api/workspaces/{name}/files?path=notes.zzz")).await;
    assert!(plain["language"].is_null());
    assert_eq!(plain["html"], "&lt;b&gt;plain&lt;/b&gt;");
}

#[tokio::test]
async fn the_newest_page_of_a_ten_thousand_message_conversation_opens_in_milliseconds() {
    let app = spawn_app().await;
    let id = app.create_conversation().await;
    let turns: Vec<i32> = (1..=5000).flat_map(|t| [t, t]).collect();
    let positions: Vec<i16> = (1..=5000).flat_map(|_| [0i16, 1]).collect();
    let payloads: Vec<String> = (1..=5000)
        .flat_map(|t| {
            [
                json!({"role": "user", "turn": t, "blocks": [{"type": "text", "index": 0, "text": format!("question {t}")}]}).to_string(),
                json!({"role": "assistant", "turn": t, "blocks": [{"type": "text", "index": 0, "text": format!("answer **{t}**")}], "stop_reason": "end_turn"}).to_string(),
            ]
        })
        .collect();
    sqlx::query(
        "INSERT INTO conversation_messages (conversation_id, turn, position, payload) \
         SELECT $1, turn, position, payload::jsonb FROM UNNEST($2::int[], $3::smallint[], $4::text[]) AS t(turn, position, payload)",
    )
    .bind(&id)
    .bind(&turns)
    .bind(&positions)
    .bind(&payloads)
    .execute(&app.pool)
    .await
    .unwrap();
    let page = backend::PageRequest { turns: Some(20), from_turn: None };
    app.backend.view_page(&id, None, page).await.unwrap();
    let started = std::time::Instant::now();
    let view = app.backend.view_page(&id, None, page).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(view.messages.len(), 40);
    assert_eq!(view.messages[0].turn, 4981);
    assert!(view.has_older);
    assert!(view.messages[1].blocks[0].html.as_deref().is_some_and(|h| h.contains("<strong>4981</strong>")));
    let older = app.backend.messages_before(&id, 4981, 20).await.unwrap();
    assert_eq!(older.messages.first().map(|m| m.turn), Some(4961));
    let started = std::time::Instant::now();
    backend::views::load_page(&app.pool, &app.log, &id, None, page).await.unwrap();
    eprintln!("newest page of 10,000 messages: {elapsed:?} rendered, {:?} read", started.elapsed());
    assert!(elapsed < Duration::from_millis(250), "{elapsed:?}");
}

#[tokio::test]
async fn a_cross_site_page_cannot_write_config_defaults_or_workspaces() {
    let app = spawn_app().await;
    let writes = [
        app.client.put(format!("{}/api/claude/config/file?scope=global&path=CLAUDE.md", app.address)).json(&json!({"content": "pwned"})),
        app.client.put(format!("{}/api/claude/config/hooks?scope=global", app.address)).json(&json!({"hooks": {}})),
        app.client.put(format!("{}/api/settings/defaults", app.address)).json(&json!({"provider": "anthropic"})),
        app.client.post(format!("{}/api/workspaces", app.address)).json(&json!({"name": "csrf-test"})),
    ];
    for write in writes {
        let response = write.header("origin", "https://evil.example").send().await.unwrap();
        assert_eq!(response.status(), 403);
    }
    assert!(!app.claude_home.join(".claude/CLAUDE.md").exists());
    assert!(get_json(&app, "/api/settings/defaults").await["provider"].is_null());
}
