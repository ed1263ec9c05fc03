//! Benchmarks of the event pipeline against the real Postgres and Redis: relay overhead,
//! append latency as a conversation grows, replay throughput, and idle server memory.
//! Run through `scripts/bench.sh`, which starts the services and builds in release mode.

#[path = "common.rs"]
mod common;

use common::{config, env, fresh_database, percentile, proc_status_mb, text_deltas};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use backend::Backend;
use domain::{BlockKind, ConversationCommand, OutputItem};
use futures::StreamExt;

type Taps = Arc<Mutex<Vec<(Instant, String)>>>;

/// The mock LLM, with every text delta it sends timestamped as it leaves the handler.
async fn tapped_mock(taps: Taps) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = mockllm::router(mockllm::MockConfig::default()).layer(axum::middleware::map_response(move |response: Response| {
        let taps = taps.clone();
        async move {
            let (parts, body) = response.into_parts();
            let stream = body.into_data_stream().inspect(move |chunk| {
                if let Ok(bytes) = chunk {
                    for text in text_deltas(bytes) {
                        taps.lock().unwrap().push((Instant::now(), text));
                    }
                }
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
    }));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// Milliseconds from the mock sending a token to an SSE client holding it.
async fn relay_overhead() -> (f64, f64, usize) {
    let taps: Taps = Arc::default();
    let mock = tapped_mock(taps.clone()).await;
    let database = fresh_database().await;
    let backend = Backend::connect(config(&database, &mock)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server::startup::router(backend.clone(), server::startup::leptos_options(addr));
    tokio::spawn(async move { server::startup::serve(listener, router).await.unwrap() });
    tokio::spawn(backend::worker::run_worker(backend.clone(), "bench".into()));
    let new = backend::NewConversation { provider: "anthropic".into(), ..Default::default() };
    let view = backend.create_conversation(new).await.unwrap();
    let client = reqwest::Client::new();
    let response = client.get(format!("http://{addr}/api/conversations/{}/events", view.id)).send().await.unwrap();
    let mut frames = eventsource_stream::EventStream::new(response.bytes_stream());
    backend.submit_prompt(&view.id, "bench [[mock tokens=2000 rate=200]]".into()).await.unwrap();
    let mut received: Vec<(Instant, usize)> = Vec::new();
    let mut offset = 0;
    while let Some(Ok(frame)) = frames.next().await {
        let now = Instant::now();
        if frame.event == "TextAppended" {
            let data: serde_json::Value = serde_json::from_str(&frame.data).unwrap();
            offset += data["event"]["TextAppended"]["text"].as_str().unwrap().len();
            received.push((now, offset));
        }
        if frame.event == "TurnCompleted" || frame.event == "TurnFailed" {
            break;
        }
    }
    let taps = taps.lock().unwrap().clone();
    let mut latencies = Vec::new();
    let mut end = 0;
    for (sent, text) in &taps {
        end += text.len();
        let (got, _) = received.iter().find(|(_, reached)| *reached >= end).expect("every token arrives");
        latencies.push(got.duration_since(*sent).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    (percentile(&latencies, 0.5), percentile(&latencies, 0.99), latencies.len())
}

/// Median milliseconds of one append at about 10 and about 10,000 prior events.
async fn append_latency() -> (f64, f64) {
    let database = fresh_database().await;
    let backend = Backend::connect(config(&database, "http://127.0.0.1:9")).await.unwrap();
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    backend
        .execute(
            &id,
            ConversationCommand::StartConversation {
                provider: "anthropic".into(),
                model: "m".into(),
                title: None,
                workspace: None,
                permission_mode: Default::default(),
                settings: None,
            },
        )
        .await
        .unwrap();
    backend.execute(&id, ConversationCommand::SubmitPrompt { text: "go".into(), job_id: "j".into() }).await.unwrap();
    backend
        .execute(&id, ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a".into(), worker: "w".into(), takeover: false })
        .await
        .unwrap();
    let start = vec![OutputItem::BlockStarted { block: 0, kind: BlockKind::Text, name: None, tool_use_id: None }];
    backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items: start }).await.unwrap();
    let append = |text: &str| ConversationCommand::RecordOutput {
        turn: 1,
        attempt_id: "a".into(),
        items: vec![OutputItem::TextAppended { block: 0, text: text.into() }],
    };
    let measure = |backend: Arc<Backend>, id: String| async move {
        let mut samples = Vec::new();
        for _ in 0..300 {
            let started = Instant::now();
            backend.execute(&id, append("token ")).await.unwrap();
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(f64::total_cmp);
        percentile(&samples, 0.5)
    };
    for _ in 0..6 {
        backend.execute(&id, append("warm ")).await.unwrap();
    }
    let small = measure(backend.clone(), id.clone()).await;
    // Grow the conversation to 10,000 prior events, 100 per commit.
    while count_events(&pool, &id).await < 10_000 {
        let items = (0..100).map(|_| OutputItem::TextAppended { block: 0, text: "filler ".into() }).collect();
        backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items }).await.unwrap();
    }
    let large = measure(backend.clone(), id.clone()).await;
    (small, large)
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

/// Median milliseconds of a whole turn (commands plus projection) at ~10 turns and at ~1,500 turns (~10,000 events).
async fn turn_latency() -> (f64, f64) {
    let database = fresh_database().await;
    let backend = Backend::connect(config(&database, "http://127.0.0.1:9")).await.unwrap();
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
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
    let mut turn = 0;
    let measure = async |turn: &mut u32| {
        let mut samples = Vec::new();
        for _ in 0..50 {
            *turn += 1;
            let started = Instant::now();
            run_small_turn(&backend, &id, *turn).await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(f64::total_cmp);
        percentile(&samples, 0.5)
    };
    for _ in 0..10 {
        turn += 1;
        run_small_turn(&backend, &id, turn).await;
    }
    let early = measure(&mut turn).await;
    while count_events(&pool, &id).await < 10_000 {
        turn += 1;
        run_small_turn(&backend, &id, turn).await;
    }
    let late = measure(&mut turn).await;
    (early, late)
}

async fn count_events(pool: &sqlx::PgPool, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1").bind(id).fetch_one(pool).await.unwrap()
}

/// Events per second replayed into the projections.
async fn replay_throughput() -> (f64, usize) {
    let database = fresh_database().await;
    let backend = Backend::connect(config(&database, "http://127.0.0.1:9")).await.unwrap();
    for n in 0..200 {
        let id = uuid::Uuid::new_v4().to_string();
        backend
            .execute(
                &id,
                ConversationCommand::StartConversation {
                    provider: "anthropic".into(),
                    model: "m".into(),
                    title: None,
                    workspace: None,
                    permission_mode: Default::default(),
                    settings: None,
                },
            )
            .await
            .unwrap();
        backend.execute(&id, ConversationCommand::SubmitPrompt { text: format!("prompt {n}"), job_id: "j".into() }).await.unwrap();
        backend
            .execute(&id, ConversationCommand::BeginAttempt { turn: 1, attempt_id: "a".into(), worker: "w".into(), takeover: false })
            .await
            .unwrap();
        let mut items = vec![OutputItem::BlockStarted { block: 0, kind: BlockKind::Text, name: None, tool_use_id: None }];
        items.extend((0..496).map(|i| OutputItem::TextAppended { block: (i % 2) as u32, text: "word ".into() }));
        backend.execute(&id, ConversationCommand::RecordOutput { turn: 1, attempt_id: "a".into(), items }).await.unwrap();
        backend
            .execute(&id, ConversationCommand::CompleteTurn { turn: 1, attempt_id: "a".into(), stop_reason: "end_turn".into() })
            .await
            .unwrap();
    }
    let mut best = 0.0f64;
    let mut events = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let (_, count) = backend.replay().await.unwrap();
        events = count;
        best = best.max(count as f64 / started.elapsed().as_secs_f64());
    }
    (best, events)
}

/// A release `pocket-dev serve` on a fresh database; returns the child and its base URL.
async fn spawn_serve(claude_home: &std::path::Path) -> Option<(tokio::process::Child, String)> {
    let binary = std::env::var("PD_BIN").ok()?;
    let database = fresh_database().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(binary)
        .arg("serve")
        .env("DATABASE_URL", &database)
        .env("REDIS_URL", env("REDIS_URL"))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("WORKSPACE_ROOT", std::env::temp_dir().join("pd-bench-workspace"))
        .env("CLAUDE_HOME", claude_home)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/health")).await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some((child, url))
}

/// Resident memory of an idle `pocket-dev serve`, in MB.
async fn idle_rss() -> Option<f64> {
    let (mut child, _) = spawn_serve(&std::env::temp_dir()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = proc_status_mb(child.id()?, "VmRSS:");
    let _ = child.kill().await;
    rss
}

/// Writes a realistic CLI session of about `megabytes` MB: prompts, thinking, text, tool calls and large tool results.
fn generate_session(path: &std::path::Path, megabytes: usize) -> usize {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let words = mockllm::reply_text(400);
    let (mut written, mut lines, mut turn) = (0usize, 0usize, 0usize);
    while written < megabytes * 1024 * 1024 {
        turn += 1;
        let tool_id = format!("toolu_{turn}");
        let records = [
            serde_json::json!({"type": "user", "cwd": "/somewhere", "message": {"role": "user", "content": format!("Turn {turn}: please read the file and explain it.")}}),
            serde_json::json!({"type": "assistant", "message": {"model": "claude-sonnet-4-5", "content": [{"type": "thinking", "thinking": &words[..1500]}]}}),
            serde_json::json!({"type": "assistant", "message": {"content": [{"type": "tool_use", "id": tool_id, "name": "Read", "input": {"file_path": format!("/somewhere/src/file{turn}.rs")}}]}}),
            serde_json::json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": words.repeat(14)}]}}),
            serde_json::json!({"type": "assistant", "message": {"content": [{"type": "text", "text": &words[..1200]}]}}),
            serde_json::json!({"type": "attachment", "attachment": {"type": "todo", "content": &words[..600]}}),
        ];
        for record in records {
            let line = record.to_string();
            written += line.len() + 1;
            lines += 1;
            writeln!(file, "{line}").unwrap();
        }
    }
    lines
}

/// Seconds to import a 100 MB session, and how much the server's peak RSS grew (MB).
async fn import_session() -> Option<(f64, f64, usize, f64)> {
    let home = std::env::temp_dir().join(format!("pd-bench-home-{}", uuid::Uuid::new_v4().simple()));
    let project = home.join(".claude/projects/-bench");
    std::fs::create_dir_all(&project).unwrap();
    let file = project.join("big.jsonl");
    let lines = generate_session(&file, 100);
    let size_mb = std::fs::metadata(&file).ok()?.len() as f64 / 1024.0 / 1024.0;
    let (mut child, url) = spawn_serve(&home).await?;
    let client = reqwest::Client::new();
    let _ = client.get(format!("{url}/api/claude/sessions")).send().await;
    let pid = child.id()?;
    let before = proc_status_mb(pid, "VmHWM:")?;
    let started = Instant::now();
    let response = client
        .post(format!("{url}/api/claude/sessions/import"))
        .json(&serde_json::json!({"project": "-bench", "session_id": "big"}))
        .timeout(Duration::from_secs(1800))
        .send()
        .await
        .ok()?;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(response.status(), 201, "import failed: {}", response.text().await.unwrap_or_default());
    let after = proc_status_mb(pid, "VmHWM:")?;
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&home);
    Some((seconds, after - before, lines, size_mb))
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::args().any(|a| a == "turns") {
        let (early, late) = turn_latency().await;
        println!(
            "whole-turn latency, median of 50: {early:.3} ms at ~10 turns, {late:.3} ms at ~10,000 events; ratio {:.2}x  (target <= 2x)",
            late / early
        );
        return;
    }
    if std::env::args().any(|a| a == "import") {
        if let Some((seconds, grew, lines, size)) = import_session().await {
            println!("import of a {size:.0} MB session ({lines} lines): {seconds:.1} s, peak RSS grew {grew:.1} MB  (target < 50 MB)");
        }
        return;
    }
    let (p50, p99, tokens) = relay_overhead().await;
    println!("relay overhead (mock token -> SSE client), {tokens} tokens: p50 {p50:.2} ms, p99 {p99:.2} ms  (target p50 < 5, p99 < 25)");
    let (small, large) = append_latency().await;
    println!(
        "append latency, median of 300: {small:.3} ms at ~10 prior events, {large:.3} ms at ~10,000; ratio {:.2}x  (target <= 2x)",
        large / small
    );
    let (rate, events) = replay_throughput().await;
    println!("replay: {events} events, best of 3: {rate:.0} events/s  (target >= 50,000)");
    match idle_rss().await {
        Some(mb) => println!("idle serve RSS: {mb:.1} MB  (target < 40)"),
        None => println!("idle serve RSS: skipped (set PD_BIN to a pocket-dev binary)"),
    }
    match import_session().await {
        Some((seconds, grew, lines, size)) => {
            println!("import of a {size:.0} MB session ({lines} lines): {seconds:.1} s, peak RSS grew {grew:.1} MB  (target < 50 MB)")
        }
        None => println!("session import: skipped (set PD_BIN to a pocket-dev binary)"),
    }
}
