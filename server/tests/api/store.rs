//! The event store under concurrent writers: every command lands once or reports a conflict.

use domain::{BlockKind, ConversationCommand, OutputItem};
use sqlx::Row;

use crate::helpers::spawn_app;

#[tokio::test]
async fn concurrent_writers_never_store_an_event_twice() {
    // Arrange: a running turn that 40 tasks write into at once.
    let app = spawn_app().await;
    let backend = app.backend.clone();
    let id = uuid::Uuid::new_v4().to_string();
    let start = ConversationCommand::StartConversation {
        provider: "anthropic".into(),
        model: "m".into(),
        title: None,
        workspace: None,
        permission_mode: Default::default(),
        settings: None,
    };
    backend.execute(&id, start).await.unwrap();
    backend.execute(&id, ConversationCommand::SubmitPrompt { text: "go".into(), job_id: "j".into() }).await.unwrap();
    let begin = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a".into(), worker: "w".into(), takeover: false };
    backend.execute(&id, begin).await.unwrap();
    let open = vec![OutputItem::BlockStarted { block: 0, kind: BlockKind::Text, name: None, tool_use_id: None }];
    backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items: open }).await.unwrap();
    // Act
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..40 {
        let (backend, id) = (backend.clone(), id.clone());
        tasks.spawn(async move {
            let items = vec![OutputItem::TextAppended { block: 0, text: format!("<{n}>") }];
            backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items }).await
        });
    }
    let mut landed = 0;
    while let Some(result) = tasks.join_next().await {
        if result.unwrap().is_ok() {
            landed += 1;
        }
    }
    // Assert: exactly the commands that succeeded are stored, each once, with gap-free sequences.
    let rows = sqlx::query("SELECT sequence, payload::text AS payload FROM events WHERE aggregate_id = $1 ORDER BY sequence")
        .bind(&id)
        .fetch_all(&backend.pool)
        .await
        .unwrap();
    let sequences: Vec<i64> = rows.iter().map(|r| r.get("sequence")).collect();
    assert_eq!(sequences, (1..=rows.len() as i64).collect::<Vec<_>>());
    let texts: Vec<String> = rows.iter().map(|r| r.get::<String, _>("payload")).filter(|p| p.contains("TextAppended")).collect();
    let mut unique = texts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), texts.len(), "no event was stored twice");
    assert_eq!(texts.len(), landed, "every success is stored, every failure is not");
    let view = app.view(&id).await;
    assert_eq!(crate::helpers::reply_text(&view, 1).matches('<').count(), landed);
}
