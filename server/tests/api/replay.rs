//! `pocket-dev replay` rebuilds the projections to identical rows.

use domain::{BlockKind, ConversationCommand, OutputItem};
use sqlx::Row;

use crate::helpers::{fresh_database, spawn_mock};

async fn rows(pool: &sqlx::PgPool) -> (Vec<String>, Vec<String>, Vec<String>) {
    let views = texts(pool, "SELECT id || '|' || last_seq || '|' || payload::text AS row FROM conversation_views ORDER BY id").await;
    let list = texts(pool, "SELECT row_to_json(l)::text AS row FROM conversation_list l ORDER BY id").await;
    let messages =
        texts(pool, "SELECT row_to_json(m)::text AS row FROM conversation_messages m ORDER BY conversation_id, turn, position").await;
    (views, list, messages)
}

async fn texts(pool: &sqlx::PgPool, sql: &str) -> Vec<String> {
    sqlx::query(sql).fetch_all(pool).await.unwrap().iter().map(|r| r.get::<String, _>("row")).collect()
}

#[tokio::test]
async fn replay_of_1000_conversations_reproduces_identical_projection_rows() {
    // Arrange: 1,000 conversations in every state, written through the real command path.
    let database = fresh_database().await;
    let (mock, _mock_task) = spawn_mock().await;
    let stream = format!("pocketdev:test:{}", uuid::Uuid::new_v4().simple());
    let backend = backend::Backend::connect(crate::helpers::backend_config(&database, &mock, &stream)).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..1000u32 {
        let backend = backend.clone();
        tasks.spawn(async move {
            let id = uuid::Uuid::new_v4().to_string();
            let run = |command| backend.execute(&id, command);
            run(ConversationCommand::StartConversation {
                provider: "anthropic".into(),
                model: "claude-sonnet-4-5".into(),
                title: None,
                workspace: None,
                permission_mode: Default::default(),
                settings: None,
            })
            .await
            .unwrap();
            run(ConversationCommand::SubmitPrompt { text: format!("prompt number {n}"), job_id: format!("job-{n}") }).await.unwrap();
            run(ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a".into(), worker: "w".into(), takeover: false }).await.unwrap();
            let items = vec![
                OutputItem::BlockStarted { block: 0, kind: BlockKind::Text, name: None, tool_use_id: None },
                OutputItem::TextAppended { block: 0, text: format!("reply {n} ") },
            ];
            run(ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items }).await.unwrap();
            run(ConversationCommand::RecordOutput {
                turn: 1,
                attempt_id: "a".into(),
                items: vec![OutputItem::TextAppended { block: 0, text: "more".into() }],
            })
            .await
            .unwrap();
            let finish = vec![
                OutputItem::BlockFinished { block: 0, input: None, signature: None, is_error: None },
                OutputItem::UsageRecorded { input_tokens: 10, output_tokens: n as u64, cost_usd: 0.001 * n as f64 },
            ];
            run(ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items: finish }).await.unwrap();
            match n % 4 {
                0 => run(ConversationCommand::CompleteTurn { turn: 1, attempt_id: "a".into(), stop_reason: "end_turn".into() })
                    .await
                    .unwrap(),
                1 => run(ConversationCommand::FailTurn { turn: 1, reason: "boom".into() }).await.unwrap(),
                2 => {
                    run(ConversationCommand::AbortTurn).await.unwrap();
                    run(ConversationCommand::Archive).await.unwrap();
                }
                _ => {
                    run(ConversationCommand::CompleteTurn { turn: 1, attempt_id: "a".into(), stop_reason: "end_turn".into() })
                        .await
                        .unwrap();
                    if n % 8 == 3 {
                        run(ConversationCommand::Delete).await.unwrap();
                    }
                }
            }
        });
        if tasks.len() >= 16 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    let before = rows(&pool).await;
    assert_eq!(before.0.len(), 1000);
    assert_eq!(before.1.len(), 1000 - 125);
    // Act
    let output =
        tokio::process::Command::new(env!("CARGO_BIN_EXE_pocket-dev")).arg("replay").env("DATABASE_URL", &database).output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // Assert
    let after = rows(&pool).await;
    assert_eq!(after.0, before.0);
    assert_eq!(after.1, before.1);
    assert_eq!(after.2, before.2);
    assert!(before.2.len() >= 2000, "every conversation's prompt and reply rows: {}", before.2.len());
}
