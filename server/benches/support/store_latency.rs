//! The event store's latency as a conversation grows, and replay throughput, measured in process
//! against the real Postgres: one append through `Backend::execute` (what the API does) and through
//! the worker's `Appender` (what a streaming turn does), a whole small turn, and a full replay.

#![allow(dead_code)]

use std::time::Instant;

use backend::appender::Appender;
use backend::Backend;
use domain::{BlockKind, ConversationCommand, OutputItem};

use crate::common::{config, fresh_database, percentile, sorted};

/// Median ms of one thing at about 10 and at about 10,000 prior events.
#[derive(Clone, Copy)]
pub struct Growth {
    pub small: f64,
    pub large: f64,
}

impl Growth {
    pub fn ratio(&self) -> f64 {
        self.large / self.small
    }
}

/// One text append, timed two ways.
pub struct AppendLatency {
    /// `Backend::execute`: load the aggregate, decide, commit (the API's path).
    pub execute: Growth,
    /// `Appender::execute`: decide against the writer's cached aggregate, group-committed (the worker's path).
    pub appender: Growth,
}

fn start_conversation() -> ConversationCommand {
    ConversationCommand::StartConversation {
        provider: "anthropic".into(),
        model: "m".into(),
        title: None,
        workspace: None,
        permission_mode: Default::default(),
        settings: None,
    }
}

fn append(text: &str) -> ConversationCommand {
    ConversationCommand::RecordOutput {
        turn: 1,
        attempt_id: "a".into(),
        items: vec![OutputItem::TextAppended { block: 0, text: text.into() }],
    }
}

const APPEND_SAMPLES: usize = 300;

/// The median, in ms, of `samples` runs of `op`, each timed alone.
async fn median_ms(samples: usize, mut op: impl AsyncFnMut()) -> f64 {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        op().await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    percentile(&sorted(times), 0.5)
}

async fn median_of_executes(backend: &Backend, id: &str) -> f64 {
    median_ms(APPEND_SAMPLES, async || backend.execute(id, append("token ")).await.unwrap()).await
}

/// A fresh `Appender` each time, as a worker starts one per attempt; its first append loads the aggregate.
async fn median_of_appends(backend: &Backend, id: &str) -> f64 {
    let mut appender = Appender::new(id);
    appender.execute(backend, append("warm ")).await.unwrap();
    median_ms(APPEND_SAMPLES, async || appender.execute(backend, append("token ")).await.unwrap()).await
}

/// Appends at about 10 and about 10,000 prior events, through both write paths.
pub async fn append_latency() -> AppendLatency {
    let database = fresh_database().await;
    let backend = Backend::connect(config(&database, "http://127.0.0.1:9")).await.unwrap();
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    backend.execute(&id, start_conversation()).await.unwrap();
    backend.execute(&id, ConversationCommand::SubmitPrompt { text: "go".into(), job_id: "j".into() }).await.unwrap();
    let begin = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a".into(), worker: "w".into(), takeover: false };
    backend.execute(&id, begin).await.unwrap();
    let start = vec![OutputItem::BlockStarted { block: 0, kind: BlockKind::Text, name: None, tool_use_id: None }];
    backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items: start }).await.unwrap();
    for _ in 0..6 {
        backend.execute(&id, append("warm ")).await.unwrap();
    }
    // The appender's samples come first at the small size, so both paths see about the same history.
    let appender_small = median_of_appends(&backend, &id).await;
    let execute_small = median_of_executes(&backend, &id).await;
    // Grow the conversation to 10,000 prior events, 100 per commit.
    while count_events(&pool, &id).await < 10_000 {
        let items = (0..100).map(|_| OutputItem::TextAppended { block: 0, text: "filler ".into() }).collect();
        backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items }).await.unwrap();
    }
    let appender_large = median_of_appends(&backend, &id).await;
    let execute_large = median_of_executes(&backend, &id).await;
    AppendLatency {
        execute: Growth { small: execute_small, large: execute_large },
        appender: Growth { small: appender_small, large: appender_large },
    }
}

/// One whole small turn (prompt, attempt, a block with text, completion: 7 events, 5 of them
/// projected), as a worker and the API write it.
async fn run_small_turn(backend: &Backend, id: &str, turn: u32) {
    let attempt = format!("a{turn}");
    backend.execute(id, ConversationCommand::SubmitPrompt { text: format!("question {turn}"), job_id: "j".into() }).await.unwrap();
    let begin = ConversationCommand::BeginAttempt { turn, attempt_id: attempt.clone(), worker: "w".into(), takeover: false };
    backend.execute(id, begin).await.unwrap();
    let items = vec![
        OutputItem::BlockStarted { block: 0, kind: BlockKind::Text, name: None, tool_use_id: None },
        OutputItem::TextAppended { block: 0, text: "an answer of a few words ".repeat(8) },
        OutputItem::BlockFinished { block: 0, input: None, signature: None, is_error: None },
    ];
    backend.execute(id, ConversationCommand::RecordOutput { turn, attempt_id: attempt.clone(), items }).await.unwrap();
    backend.execute(id, ConversationCommand::CompleteTurn { turn, attempt_id: attempt, stop_reason: "end_turn".into() }).await.unwrap();
}

/// Median ms of a whole turn (commands plus projection) at ~10 turns and at ~1,500 turns (~10,000 events).
pub async fn turn_latency() -> Growth {
    let database = fresh_database().await;
    let backend = Backend::connect(config(&database, "http://127.0.0.1:9")).await.unwrap();
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    backend.execute(&id, start_conversation()).await.unwrap();
    let mut turn = 0;
    for _ in 0..10 {
        turn += 1;
        run_small_turn(&backend, &id, turn).await;
    }
    let small = median_ms(50, async || {
        turn += 1;
        run_small_turn(&backend, &id, turn).await
    })
    .await;
    while count_events(&pool, &id).await < 10_000 {
        turn += 1;
        run_small_turn(&backend, &id, turn).await;
    }
    let large = median_ms(50, async || {
        turn += 1;
        run_small_turn(&backend, &id, turn).await
    })
    .await;
    Growth { small, large }
}

async fn count_events(pool: &sqlx::PgPool, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1").bind(id).fetch_one(pool).await.unwrap()
}

/// Best of three full replays into the projections.
pub struct Replay {
    pub events_per_second: f64,
    pub events: usize,
}

/// 200 conversations of one turn each: a thinking block and a text block, 248 deltas each,
/// every event one the fold applies (a delta to a block that was started and not yet finished).
pub async fn replay_throughput() -> Replay {
    let database = fresh_database().await;
    let backend = Backend::connect(config(&database, "http://127.0.0.1:9")).await.unwrap();
    for n in 0..200 {
        let id = uuid::Uuid::new_v4().to_string();
        backend.execute(&id, start_conversation()).await.unwrap();
        backend.execute(&id, ConversationCommand::SubmitPrompt { text: format!("prompt {n}"), job_id: "j".into() }).await.unwrap();
        let begin = ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a".into(), worker: "w".into(), takeover: false };
        backend.execute(&id, begin).await.unwrap();
        let mut items = vec![
            OutputItem::BlockStarted { block: 0, kind: BlockKind::Thinking, name: None, tool_use_id: None },
            OutputItem::BlockStarted { block: 1, kind: BlockKind::Text, name: None, tool_use_id: None },
        ];
        items.extend((0..496).map(|i| OutputItem::TextAppended { block: (i % 2) as u32, text: "word ".into() }));
        items.extend((0..2).map(|block| OutputItem::BlockFinished { block, input: None, signature: None, is_error: None }));
        backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items }).await.unwrap();
        let complete = ConversationCommand::CompleteTurn { turn: 1, attempt_id: "a".into(), stop_reason: "end_turn".into() };
        backend.execute(&id, complete).await.unwrap();
        if n == 0 {
            assert_every_delta_applied(&backend, &id).await;
        }
    }
    let mut best = 0.0f64;
    let mut events = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let (_, count) = backend.replay().await.unwrap();
        events = count;
        best = best.max(count as f64 / started.elapsed().as_secs_f64());
    }
    Replay { events_per_second: best, events }
}

/// The replayed shape folds every delta: 248 words in each block.
async fn assert_every_delta_applied(backend: &Backend, id: &str) {
    let view = backend.view(id, None).await.unwrap();
    let reply = view.messages.last().expect("the reply");
    let words: Vec<usize> = reply.blocks.iter().map(|block| block.text.as_deref().unwrap_or("").matches("word").count()).collect();
    assert_eq!(words, [248, 248], "every delta of the replay bench applies to a started block");
}
