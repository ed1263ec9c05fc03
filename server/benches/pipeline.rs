//! Benchmarks of the event pipeline against the real Postgres and Redis: relay overhead, append and
//! whole-turn latency as a conversation grows, replay throughput, idle server memory, a 100 MB import.
//! Run through `scripts/bench.sh`, which starts the services and builds in release mode.

#[path = "support/common.rs"]
mod common;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/store_latency.rs"]
mod store_latency;

use common::{config, fresh_database, percentile, text_deltas};
use serve::{idle_rss, Serve};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store_latency::{append_latency, replay_throughput, turn_latency, AppendLatency, Growth};

use axum::body::Body;
use axum::response::Response;
use backend::Backend;
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
async fn import_session() -> (f64, f64, usize, f64) {
    let home = std::env::temp_dir().join(format!("pd-bench-home-{}", uuid::Uuid::new_v4().simple()));
    let project = home.join(".claude/projects/-bench");
    std::fs::create_dir_all(&project).unwrap();
    let file = project.join("big.jsonl");
    let lines = generate_session(&file, 100);
    let size_mb = std::fs::metadata(&file).unwrap().len() as f64 / 1024.0 / 1024.0;
    let database = fresh_database().await;
    let serve = Serve::start_with_home(&database, "http://127.0.0.1:9", Some(&home)).await;
    let (client, url) = (reqwest::Client::new(), &serve.url);
    let _ = client.get(format!("{url}/api/claude/sessions")).send().await;
    let before = serve.peak_rss_mb();
    let started = Instant::now();
    let response = client
        .post(format!("{url}/api/claude/sessions/import"))
        .json(&serde_json::json!({"project": "-bench", "session_id": "big"}))
        .timeout(Duration::from_secs(1800))
        .send()
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(response.status(), 201, "import failed: {}", response.text().await.unwrap_or_default());
    let after = serve.peak_rss_mb();
    drop(serve);
    let _ = std::fs::remove_dir_all(&home);
    (seconds, after - before, lines, size_mb)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::args().any(|a| a == "turns") {
        let turn = turn_latency().await;
        println!("{}", turn_row(turn));
        return;
    }
    if std::env::args().any(|a| a == "import") {
        println!("{}", import_row(import_session().await));
        return;
    }
    let (p50, p99, tokens) = relay_overhead().await;
    println!("relay overhead (mock token -> SSE client), {tokens} tokens: p50 {p50:.2} ms, p99 {p99:.2} ms  (target p50 < 5, p99 < 25)");
    let AppendLatency { execute, appender } = append_latency().await;
    println!(
        "append latency through Backend::execute, median of 300: {:.3} ms at ~10 prior events, {:.3} ms at ~10,000; ratio {:.2}x  (target <= 2x)",
        execute.small,
        execute.large,
        execute.ratio()
    );
    println!(
        "append latency through the worker's Appender (cached aggregate, group commit), median of 300: {:.3} ms at ~10 prior events, {:.3} ms at ~10,000; ratio {:.2}x  (target <= 2x)",
        appender.small,
        appender.large,
        appender.ratio()
    );
    let replay = replay_throughput().await;
    println!(
        "replay: {} events, every one applied, best of 3: {:.0} events/s  (target >= 50,000)",
        replay.events, replay.events_per_second
    );
    println!("{}", turn_row(turn_latency().await));
    println!("idle serve RSS: {:.1} MB  (target < 40)", idle_rss().await);
    println!("{}", import_row(import_session().await));
}

fn turn_row(turn: Growth) -> String {
    format!(
        "whole-turn latency, median of 50: {:.3} ms at ~10 turns, {:.3} ms at ~10,000 events; ratio {:.2}x  (target <= 2x)",
        turn.small,
        turn.large,
        turn.ratio()
    )
}

fn import_row((seconds, grew, lines, size): (f64, f64, usize, f64)) -> String {
    format!("import of a {size:.0} MB session ({lines} lines): {seconds:.1} s, peak RSS grew {grew:.1} MB  (target < 50 MB)")
}
