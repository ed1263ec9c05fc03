//! The event store under concurrent writers: every command lands once or reports a conflict.

use std::sync::Arc;

use backend::appender::Appender;
use backend::{Backend, BackendError};
use domain::{BlockKind, ConversationCommand, ConversationError, OutputItem};
use sqlx::Row;

use crate::helpers::{spawn_app, spawn_app_without_worker};

/// A conversation whose turn 1 runs as attempt "a" with text block 0 open.
async fn running_turn(backend: &Arc<Backend>) -> String {
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
    id
}

fn text(piece: &str) -> ConversationCommand {
    let items = vec![OutputItem::TextAppended { block: 0, text: piece.into() }];
    ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items }
}

/// The texts of a conversation's `TextAppended` events in order, after checking its sequences are gap-free.
async fn stored_texts(pool: &sqlx::PgPool, id: &str) -> Vec<String> {
    let rows =
        sqlx::query("SELECT sequence, payload->'TextAppended'->>'text' AS text FROM events WHERE aggregate_id = $1 ORDER BY sequence")
            .bind(id)
            .fetch_all(pool)
            .await
            .unwrap();
    let sequences: Vec<i64> = rows.iter().map(|r| r.get("sequence")).collect();
    assert_eq!(sequences, (1..=rows.len() as i64).collect::<Vec<_>>(), "gap-free sequences in {id}");
    rows.iter().filter_map(|r| r.get::<Option<String>, _>("text")).collect()
}

async fn snapshot_sequence(pool: &sqlx::PgPool, id: &str) -> i64 {
    sqlx::query_scalar("SELECT last_sequence FROM snapshots WHERE aggregate_id = $1").bind(id).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn an_appender_stores_streamed_text_without_moving_the_snapshot_and_other_commands_still_see_it() {
    // Arrange
    let app = spawn_app_without_worker().await;
    let backend = app.backend.clone();
    let id = running_turn(&backend).await;
    let before = snapshot_sequence(&app.pool, &id).await;
    let mut appender = Appender::new(&id);
    // Act: three text commits, then a command through the ordinary path.
    for piece in ["one ", "two ", "three"] {
        appender.execute(&backend, text(piece)).await.unwrap();
    }
    let after_text = snapshot_sequence(&app.pool, &id).await;
    let finish = OutputItem::BlockFinished { block: 0, input: None, signature: None, is_error: None };
    backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items: vec![finish] }).await.unwrap();
    // Assert: the text went in without the snapshot; the next command loaded past it and moved it.
    assert_eq!(after_text, before, "text alone leaves the snapshot where it was");
    assert_eq!(snapshot_sequence(&app.pool, &id).await, before + 4);
    assert_eq!(crate::helpers::reply_text(&app.view(&id).await, 1), "one two three");
}

#[tokio::test]
async fn an_appender_that_lost_a_race_decides_again_against_what_was_stored() {
    // Arrange: the appender has committed once, so it holds the aggregate.
    let app = spawn_app_without_worker().await;
    let backend = app.backend.clone();
    let id = running_turn(&backend).await;
    let mut appender = Appender::new(&id);
    appender.execute(&backend, text("kept ")).await.unwrap();
    // Act: another process writes (text, then an abort) behind the appender's back.
    backend.execute(&id, text("theirs ")).await.unwrap();
    let after_theirs = appender.execute(&backend, text("mine ")).await;
    backend.execute(&id, ConversationCommand::AbortTurn).await.unwrap();
    let after_abort = appender.execute(&backend, text("late")).await;
    // Assert: the first race is retried on top of the other write; the abort's rule wins over the copy.
    after_theirs.unwrap();
    let refused = after_abort.unwrap_err();
    assert!(matches!(refused, BackendError::Domain(ConversationError::TurnNotRunning(_) | ConversationError::StaleAttempt)), "{refused:?}");
    let texts = stored_texts(&app.pool, &id).await;
    assert_eq!(texts, ["kept ", "theirs ", "mine "]);
}

#[tokio::test]
async fn concurrent_writers_never_store_an_event_twice() {
    // Arrange: a running turn that 40 tasks write into at once.
    let app = spawn_app().await;
    let backend = app.backend.clone();
    let id = running_turn(&backend).await;
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
    let mut refusals = Vec::new();
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(()) => landed += 1,
            Err(error) => refusals.push(error),
        }
    }
    // The race must have been run and won: a writer may only lose it (a conflict after its retries),
    // never fail otherwise, and enough writers land for "each once" to mean something (about 10 of
    // the 40 do here; a tenth is the floor).
    assert!(refusals.iter().all(|e| matches!(e, BackendError::Conflict)), "only lost races: {refusals:?}");
    assert!(landed >= 4, "only {landed} of 40 concurrent writers landed ({} lost the race)", refusals.len());
    // Assert: exactly the commands that succeeded are stored, each once, with gap-free sequences.
    let texts = stored_texts(&app.pool, &id).await;
    let mut unique = texts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), texts.len(), "no event was stored twice");
    assert_eq!(texts.len(), landed, "every success is stored, every failure is not");
    let view = app.view(&id).await;
    assert_eq!(crate::helpers::reply_text(&view, 1).matches('<').count(), landed);
}

#[tokio::test]
async fn a_live_feed_that_missed_an_announcement_reads_the_gap_from_the_log_and_sends_each_event_once() {
    // Arrange: a feed following a running turn from its current end.
    let app = spawn_app_without_worker().await;
    let backend = app.backend.clone();
    let id = running_turn(&backend).await;
    let end: i64 =
        sqlx::query_scalar("SELECT max(sequence) FROM events WHERE aggregate_id = $1").bind(&id).fetch_one(&app.pool).await.unwrap();
    let mut feed = backend.follow(id.clone(), end as u64);
    // Act: an event lands without its announcement (a writer died between commit and notify), then
    // two announced commits follow: a small one (carried in the notification) and one too large to carry.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('conversation', $1, $2, 'TextAppended', '1.0', $3::json, '{}')",
    )
    .bind(&id)
    .bind(end + 1)
    .bind(r#"{"TextAppended":{"block":0,"text":"unannounced ","turn":1}}"#)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut appender = Appender::new(&id);
    appender.execute(&backend, text("carried ")).await.unwrap();
    let large = "x".repeat(10_000);
    appender.execute(&backend, text(&large)).await.unwrap();
    // Assert: the feed sends every event, in order, once.
    let mut received = Vec::new();
    while received.len() < 3 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv()).await.expect("the feed went quiet");
        received.push(next.expect("the feed ended").expect("the feed failed"));
    }
    let sequences: Vec<u64> = received.iter().map(|logged| logged.seq).collect();
    assert_eq!(sequences, [end as u64 + 1, end as u64 + 2, end as u64 + 3]);
    let texts: Vec<String> = received
        .iter()
        .map(|logged| match &logged.event {
            domain::ConversationEvent::TextAppended { text, .. } => text.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(texts, ["unannounced ".to_string(), "carried ".to_string(), large]);
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), feed.recv()).await;
    assert!(quiet.is_err(), "nothing is sent twice: {quiet:?}");
}

#[tokio::test]
async fn text_from_many_turns_is_group_committed_and_a_lost_race_in_a_round_is_refused_alone() {
    // Arrange: 10 running turns, each with 4 appenders that all hold the same aggregate, so in
    // every round their writes claim the same sequence.
    let app = spawn_app_without_worker().await;
    let backend = app.backend.clone();
    let mut ids = Vec::new();
    let mut appenders = Vec::new();
    for _ in 0..10 {
        let id = running_turn(&backend).await;
        for writer in 0..4 {
            let mut appender = Appender::new(&id);
            appender.execute(&backend, text(&format!("[warm {writer}]"))).await.unwrap();
            appenders.push((id.clone(), writer, appender));
        }
        ids.push(id);
    }
    // Act: every appender writes 5 pieces at once.
    let mut tasks = tokio::task::JoinSet::new();
    for (id, writer, mut appender) in appenders {
        let backend = backend.clone();
        tasks.spawn(async move {
            let mut landed = Vec::new();
            for piece in 0..5 {
                let piece = format!("<{id}:{writer}:{piece}>");
                // Four writers racing for every sequence may each lose more often than they retry.
                match appender.execute(&backend, text(&piece)).await {
                    Ok(()) => landed.push(piece),
                    Err(BackendError::Conflict) => {}
                    Err(other) => panic!("{other:?}"),
                }
            }
            landed
        });
    }
    let mut landed = Vec::new();
    while let Some(done) = tasks.join_next().await {
        landed.extend(done.unwrap());
    }
    landed.sort();
    assert!(landed.len() >= 100, "most writes land: {}", landed.len());
    // Assert: per conversation, gap-free sequences, and stored exactly the pieces that were
    // acknowledged, each once.
    let mut stored_all = Vec::new();
    for id in ids {
        stored_all.extend(stored_texts(&app.pool, &id).await.into_iter().filter(|t| t.starts_with('<')));
    }
    stored_all.sort();
    assert_eq!(stored_all, landed);
}

#[tokio::test]
async fn a_view_read_while_the_projector_rewrites_its_rows_is_always_the_fold_of_the_log_up_to_its_sequence() {
    // Arrange: turns that a writer takes over once each (each attempt restarts block 0 and
    // streams text into it), with a projector catching up in a loop, so the projected rows change
    // between any two statements a reader runs.
    let app = spawn_app_without_worker().await;
    let backend = app.backend.clone();
    let id = running_turn(&backend).await;
    let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let (backend, id, writing) = (backend.clone(), id.clone(), writing.clone());
        tokio::spawn(async move {
            let written = async {
                for turn in 1..=10u32 {
                    if turn > 1 {
                        backend
                            .execute_bulk(&id, ConversationCommand::SubmitPrompt { text: "go".into(), job_id: format!("j{turn}") })
                            .await?;
                    }
                    // Turn 1 already runs attempt "a": both of its attempts here are takeovers.
                    for attempt in 1..=2 {
                        let attempt_id = format!("t{turn}.{attempt}");
                        let takeover = turn == 1 || attempt > 1;
                        let begin =
                            ConversationCommand::BeginAttempt { turn, attempt_id: attempt_id.clone(), worker: "w".into(), takeover };
                        backend.execute_bulk(&id, begin).await?;
                        let open = vec![OutputItem::BlockStarted { block: 0, kind: BlockKind::Text, name: None, tool_use_id: None }];
                        backend
                            .execute_bulk(&id, ConversationCommand::RecordOutput { turn, attempt_id: attempt_id.clone(), items: open })
                            .await?;
                        for n in 0..5 {
                            let items = vec![OutputItem::TextAppended { block: 0, text: format!("<{attempt_id}.{n}>") }];
                            backend
                                .execute_bulk(&id, ConversationCommand::RecordOutput { turn, attempt_id: attempt_id.clone(), items })
                                .await?;
                        }
                        if attempt == 2 {
                            let complete = ConversationCommand::CompleteTurn { turn, attempt_id, stop_reason: "end_turn".into() };
                            backend.execute_bulk(&id, complete).await?;
                        }
                    }
                }
                Ok::<_, BackendError>(())
            }
            .await;
            writing.store(false, std::sync::atomic::Ordering::SeqCst);
            written
        })
    };
    let projector = {
        let (backend, id, writing) = (backend.clone(), id.clone(), writing.clone());
        tokio::spawn(async move {
            while writing.load(std::sync::atomic::Ordering::SeqCst) {
                backend.catch_up(&id).await.unwrap();
            }
        })
    };
    // Act + Assert: every view read meanwhile equals the log folded up to the view's own sequence.
    let mut reads = 0;
    while writing.load(std::sync::atomic::Ordering::SeqCst) {
        let view = backend::views::load_view(&app.pool, &app.log, &id, None).await.unwrap();
        let mut folded = domain::ConversationView::fold(&id, &app.log.range(&id, 0, Some(view.seq)).await.unwrap());
        folded.messages.sort_by_key(|m| (m.turn, m.role == domain::Role::Assistant));
        assert_eq!(view.messages, folded.messages, "read {reads} at seq {}", view.seq);
        reads += 1;
    }
    writer.await.unwrap().expect("every write lands");
    projector.await.unwrap();
    assert!(reads > 10, "the reader ran while the writer wrote ({reads} reads)");
}

#[tokio::test]
async fn a_log_written_before_attempts_could_resume_reads_as_it_always_did() {
    // Arrange: a conversation exactly as the code before `AttemptStarted` 2.0 stored it: a first
    // attempt that streamed "Hel" and died, a second one that answered "Hello".
    let app = spawn_app_without_worker().await;
    let id = uuid::Uuid::new_v4().to_string();
    let log = [
        (
            "ConversationStarted",
            "2.0",
            r#"{"ConversationStarted":{"provider":"anthropic","model":"m","title":"","workspace":null,"permission_mode":"ask"}}"#,
        ),
        ("PromptSubmitted", "1.0", r#"{"PromptSubmitted":{"turn":1,"text":"hi","job_id":"j"}}"#),
        ("AttemptStarted", "1.0", r#"{"AttemptStarted":{"turn":1,"attempt":1,"attempt_id":"a1","worker":"w1"}}"#),
        ("BlockStarted", "1.0", r#"{"BlockStarted":{"turn":1,"block":0,"kind":"text","name":null,"tool_use_id":null}}"#),
        ("TextAppended", "1.0", r#"{"TextAppended":{"turn":1,"block":0,"text":"Hel"}}"#),
        ("AttemptStarted", "1.0", r#"{"AttemptStarted":{"turn":1,"attempt":2,"attempt_id":"a2","worker":"w2"}}"#),
        ("BlockStarted", "1.0", r#"{"BlockStarted":{"turn":1,"block":0,"kind":"text","name":null,"tool_use_id":null}}"#),
        ("TextAppended", "1.0", r#"{"TextAppended":{"turn":1,"block":0,"text":"Hello"}}"#),
        ("BlockFinished", "1.0", r#"{"BlockFinished":{"turn":1,"block":0,"input":null,"signature":null,"is_error":null}}"#),
        ("TurnCompleted", "1.0", r#"{"TurnCompleted":{"turn":1,"stop_reason":"end_turn"}}"#),
    ];
    for (sequence, (event_type, version, payload)) in (1i64..).zip(log) {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             VALUES ('conversation', $1, $2, $3, $4, $5::json, '{}')",
        )
        .bind(&id)
        .bind(sequence)
        .bind(event_type)
        .bind(version)
        .bind(payload)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    // Act + Assert: the first attempt's partial reply is void, as it was then, and the conversation
    // takes its next turn.
    let view = app.view(&id).await;
    assert_eq!(crate::helpers::reply_text(&view, 1), "Hello");
    let next = ConversationCommand::SubmitPrompt { text: "again".into(), job_id: "j2".into() };
    app.backend.execute(&id, next).await.unwrap();
    let begin = ConversationCommand::BeginAttempt { turn: 2, attempt_id: "b".into(), worker: "w".into(), takeover: false };
    app.backend.execute(&id, begin).await.unwrap();
    let stored: String = sqlx::query_scalar(
        "SELECT event_version || ' ' || payload::text FROM events WHERE aggregate_id = $1 AND event_type = 'AttemptStarted' ORDER BY sequence DESC LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(stored.starts_with("2.0 ") && stored.contains(r#""resume_blocks":0"#), "{stored}");
}
