//! Streams as a client sees them: the keyed mock LLM (every text delta timestamped as it leaves the
//! handler, keyed by a marker in the prompt), turns followed over SSE, their analysis (a token that
//! never arrived is counted as lost, not skipped), and the concurrency and idle-subscriber loads.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;

use crate::common::{fresh_database, percentile, sorted, text_deltas};
use crate::serve::{cpu_seconds, PostgresCluster, Serve};

/// (sent at, stream key, text) for every text delta the mock sends.
pub type Taps = Arc<Mutex<Vec<(Instant, String, String)>>>;

pub const USER: &str = "bench";
pub const PASSWORD: &str = "correct horse battery staple";

/// The last `bkey_...` marker in a request body: which stream a mock reply belongs to.
fn marker(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let at = text.rfind("bkey_")?;
    Some(text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
}

/// The mock LLM in this process, every text delta timestamped and keyed by the prompt's marker.
pub async fn keyed_mock(taps: Taps) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tap = move |request: Request, next: Next| {
        let taps = taps.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let key = marker(&bytes);
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            let (parts, body) = response.into_parts();
            let stream = body.into_data_stream().inspect(move |chunk| {
                if let (Ok(bytes), Some(key)) = (chunk, &key) {
                    for text in text_deltas(bytes) {
                        taps.lock().unwrap().push((Instant::now(), key.clone(), text));
                    }
                }
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
    };
    let router = mockllm::router(mockllm::MockConfig::default()).layer(axum::middleware::from_fn(tap));
    if std::env::var("BENCH_MOCK_NODELAY").is_ok_and(|v| v == "1") {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    } else {
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    }
    url
}

/// Where the client talks to: the server directly, or nginx with Basic credentials.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub auth: Option<String>,
}

impl Target {
    pub fn get(&self, client: &reqwest::Client, path: &str) -> reqwest::RequestBuilder {
        self.with_auth(client.get(format!("{}{path}", self.base)))
    }
    pub fn post(&self, client: &reqwest::Client, path: &str) -> reqwest::RequestBuilder {
        self.with_auth(client.post(format!("{}{path}", self.base)))
    }
    fn with_auth(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Some(auth) => builder.header("authorization", auth),
            None => builder,
        }
    }
}

pub fn basic_auth() -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}")))
}

pub async fn create_conversation(client: &reqwest::Client, target: &Target, provider: &str) -> String {
    let response = target.post(client, "/api/conversations").json(&serde_json::json!({ "provider": provider })).send().await.unwrap();
    assert_eq!(response.status(), 201, "create: {}", response.text().await.unwrap_or_default());
    response.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

/// One turn as the client sees it.
pub struct Turn {
    key: String,
    submitted: Instant,
    /// (received at, bytes of reply text received so far) for every TextAppended frame.
    received: Vec<(Instant, usize)>,
    failed: Option<String>,
}

/// Opens the SSE stream of a fresh conversation (so it is subscribed before anything streams).
pub async fn open_stream(
    client: &reqwest::Client,
    target: &Target,
    id: &str,
) -> impl futures::Stream<Item = Result<eventsource_stream::Event, eventsource_stream::EventStreamError<reqwest::Error>>> + Unpin {
    use eventsource_stream::Eventsource;
    let response = target.get(client, &format!("/api/conversations/{id}/events")).send().await.unwrap();
    assert_eq!(response.status(), 200, "events");
    response.bytes_stream().eventsource()
}

/// Submits `prompt` (which carries `key`) and collects TextAppended frames until the turn ends.
pub async fn run_turn(client: reqwest::Client, target: Target, provider: String, key: String, directive: String) -> Turn {
    let id = create_conversation(&client, &target, &provider).await;
    let frames = open_stream(&client, &target, &id).await;
    submit_and_follow(client, target, id, frames, key, directive, None).await
}

/// Submits on an already subscribed conversation (after `start` opens, if given) and follows it.
pub async fn submit_and_follow(
    client: reqwest::Client,
    target: Target,
    id: String,
    mut frames: impl futures::Stream<Item = Result<eventsource_stream::Event, eventsource_stream::EventStreamError<reqwest::Error>>> + Unpin,
    key: String,
    directive: String,
    start: Option<Arc<tokio::sync::Barrier>>,
) -> Turn {
    if let Some(start) = start {
        start.wait().await;
    }
    let submitted = Instant::now();
    let response = target
        .post(&client, &format!("/api/conversations/{id}/messages"))
        .json(&serde_json::json!({ "text": format!("{key} {directive}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "submit: {}", response.text().await.unwrap_or_default());
    let mut received = Vec::new();
    let mut offset = 0;
    let mut failed = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let frame = match tokio::time::timeout_at(deadline, frames.next()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(other) => {
                failed = Some(format!("stream ended: {:?}", other.map(|r| r.err().map(|e| e.to_string()))));
                break;
            }
            Err(_) => {
                failed = Some("timed out".into());
                break;
            }
        };
        let now = Instant::now();
        if std::env::var("BENCH_DEBUG").is_ok() {
            eprintln!("frame {} {}", frame.event, frame.data.chars().take(200).collect::<String>());
        }
        match frame.event.as_str() {
            "TextAppended" => {
                let data: serde_json::Value = serde_json::from_str(&frame.data).unwrap();
                offset += data["event"]["TextAppended"]["text"].as_str().unwrap_or("").len();
                received.push((now, offset));
            }
            "TurnCompleted" => break,
            "TurnFailed" => {
                failed = Some(frame.data.clone());
                break;
            }
            _ => {}
        }
    }
    Turn { key, submitted, received, failed }
}

/// What the client received of some turns, against what the mock sent them; all times in ms, sorted.
pub struct Delivery {
    /// Per turn: first text delta sent by the mock → first TextAppended frame received.
    pub first: Vec<f64>,
    /// Per turn: submit → first TextAppended frame.
    pub to_text: Vec<f64>,
    /// Per token: sent by the mock → received in a frame.
    pub tokens: Vec<f64>,
    /// Turns that failed, timed out, or of which the mock sent or the client received nothing.
    pub failed_turns: usize,
    /// Tokens the mock sent that no frame carried: a failure, never a missing sample.
    pub lost_tokens: usize,
}

impl Delivery {
    /// ", 2 turns failed, 30 tokens lost", or nothing when none were.
    pub fn failures(&self) -> String {
        let mut said = String::new();
        if self.failed_turns > 0 {
            said += &format!(", {} turns failed", self.failed_turns);
        }
        if self.lost_tokens > 0 {
            said += &format!(", {} tokens lost", self.lost_tokens);
        }
        said
    }
}

/// Matches every turn's received frames with the deltas the mock sent for its key.
pub fn analyse(turns: &[Turn], taps: &Taps) -> Delivery {
    let taps = taps.lock().unwrap().clone();
    let mut by_key: HashMap<&str, Vec<(Instant, &str)>> = HashMap::new();
    for (at, key, text) in &taps {
        by_key.entry(key.as_str()).or_default().push((*at, text.as_str()));
    }
    let debug = std::env::var("BENCH_DEBUG").is_ok();
    let (mut first, mut to_text, mut tokens, mut failed_turns, mut lost_tokens) = (Vec::new(), Vec::new(), Vec::new(), 0, 0);
    let mut by_index: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for turn in turns {
        let sent = by_key.get(turn.key.as_str()).cloned().unwrap_or_default();
        if turn.failed.is_some() || sent.is_empty() || turn.received.is_empty() {
            failed_turns += 1;
            eprintln!(
                "turn {} failed: {} ({} deltas sent for it, {} frames received)",
                turn.key,
                turn.failed.as_deref().unwrap_or("nothing streamed"),
                sent.len(),
                turn.received.len()
            );
        }
        if let (Some(sent_first), Some(received_first)) = (sent.first(), turn.received.first()) {
            first.push(received_first.0.duration_since(sent_first.0).as_secs_f64() * 1000.0);
            to_text.push(received_first.0.duration_since(turn.submitted).as_secs_f64() * 1000.0);
        }
        let mut end = 0;
        for (index, (at, text)) in sent.iter().enumerate() {
            end += text.len();
            match turn.received.iter().find(|(_, reached)| *reached >= end) {
                Some((got, _)) => {
                    let ms = got.saturating_duration_since(*at).as_secs_f64() * 1000.0;
                    tokens.push(ms);
                    if debug {
                        by_index.entry(index / 25).or_default().push(ms);
                    }
                }
                None => lost_tokens += 1,
            }
        }
    }
    for (bucket, samples) in by_index {
        let samples = sorted(samples);
        eprintln!(
            "tokens {}..{}: p50 {:.1} ms, p99 {:.1} ms",
            bucket * 25,
            bucket * 25 + 24,
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    }
    Delivery { first: sorted(first), to_text: sorted(to_text), tokens: sorted(tokens), failed_turns, lost_tokens }
}

pub fn key(label: &str, n: usize) -> String {
    let label: String = label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("bkey_{label}_{n}_{}", uuid::Uuid::new_v4().simple())
}

/// `streams` concurrent turns at 50 tokens/s (150 tokens each) on one server.
pub struct Concurrency {
    pub streams: usize,
    pub delivery: Delivery,
    /// Seconds from the common start to the last turn's end.
    pub wall: f64,
    /// CPU of the server and of the bench's own Postgres cluster over `wall`, in seconds.
    pub server_cpu: f64,
    pub postgres_cpu: f64,
    pub peak_rss_mb: f64,
}

impl Concurrency {
    pub fn p99(&self) -> f64 {
        percentile(&self.delivery.tokens, 0.99)
    }

    pub fn row(&self) -> String {
        let Concurrency { streams, delivery, wall, server_cpu, postgres_cpu, peak_rss_mb } = self;
        format!(
            "| {streams} concurrent stream{} at 50 tokens/s (150 tokens each) | per-token p50 **{:.2} ms**, p99 **{:.2} ms** ({} tokens delivered{}); first token p99 {:.2} ms; server CPU **{:.0} %** of one core (its Postgres cluster {:.0} %) over {wall:.1} s; RSS peak **{peak_rss_mb:.1} MB** | p99 < 50 ms, no token lost | — |",
            if *streams == 1 { "" } else { "s" },
            percentile(&delivery.tokens, 0.5),
            self.p99(),
            delivery.tokens.len(),
            delivery.failures(),
            percentile(&delivery.first, 0.99),
            server_cpu / wall * 100.0,
            postgres_cpu / wall * 100.0,
        )
    }
}

/// Runs `streams` concurrent turns: every conversation created and subscribed first (8 at a time),
/// then every prompt submitted at once.
pub async fn concurrency(streams: usize, serve: &Serve, postgres: &PostgresCluster, taps: &Taps) -> Concurrency {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let target = Target { base: serve.url.clone(), auth: None };
    let directive = "[[mock tokens=150 rate=50 delay_ms=0]]".to_string();
    let pid = serve.pid();
    let prepared: Vec<_> = futures::stream::iter(0..streams)
        .map(|_| {
            let (client, target) = (client.clone(), target.clone());
            async move {
                let id = create_conversation(&client, &target, "anthropic").await;
                let frames = open_stream(&client, &target, &id).await;
                (id, frames)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let start = Arc::new(tokio::sync::Barrier::new(streams + 1));
    let handles: Vec<_> = prepared
        .into_iter()
        .enumerate()
        .map(|(n, (id, frames))| {
            tokio::spawn(submit_and_follow(
                client.clone(),
                target.clone(),
                id,
                frames,
                key(&format!("c{streams}"), n),
                directive.clone(),
                Some(start.clone()),
            ))
        })
        .collect();
    let (cpu_before, postgres_before) = (cpu_seconds(pid), postgres.cpu_seconds());
    let started = Instant::now();
    start.wait().await;
    let mut peak_rss_mb = 0.0f64;
    let mut turns = Vec::new();
    let sampler = async {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            peak_rss_mb = peak_rss_mb.max(serve.rss_mb());
        }
    };
    tokio::select! {
        results = futures::future::join_all(handles) => turns.extend(results.into_iter().filter_map(Result::ok)),
        _ = sampler => unreachable!(),
    }
    let wall = started.elapsed().as_secs_f64();
    let (server_cpu, postgres_cpu) = (cpu_seconds(pid) - cpu_before, postgres.cpu_seconds() - postgres_before);
    let mut delivery = analyse(&turns, taps);
    // A turn whose task panicked is not in `turns`: it failed.
    delivery.failed_turns += streams - turns.len();
    Concurrency { streams, delivery, wall, server_cpu, postgres_cpu, peak_rss_mb }
}

/// A fresh server's memory before and with `count` idle SSE subscribers, one conversation each.
pub struct IdleSubscribers {
    pub count: usize,
    pub open: usize,
    pub opened_in: f64,
    pub idle_mb: f64,
    pub after_create_mb: f64,
    pub with_mb: f64,
    pub peak_mb: f64,
}

impl IdleSubscribers {
    pub fn row(&self) -> String {
        let IdleSubscribers { count, open, opened_in, idle_mb, after_create_mb, with_mb, peak_mb } = self;
        format!(
            "| {open} idle SSE subscribers (of {count}, one conversation each) | RSS **{with_mb:.1} MB** (idle {idle_mb:.1} MB, {after_create_mb:.1} MB after creating the conversations; peak {peak_mb:.1} MB); opened in {opened_in:.1} s | < 150 MB | — |"
        )
    }
}

pub async fn idle_subscribers(count: usize, mock: &str) -> IdleSubscribers {
    let database = fresh_database().await;
    let serve = Serve::start(&database, mock).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_mb = serve.rss_mb();
    let target = Target { base: serve.url.clone(), auth: None };
    let client = reqwest::Client::new();
    let ids: Vec<String> = futures::stream::iter(0..count)
        .map(|_| {
            let (client, target) = (client.clone(), target.clone());
            async move { create_conversation(&client, &target, "anthropic").await }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let after_create_mb = serve.rss_mb();
    let started = Instant::now();
    let streams: Vec<_> = futures::stream::iter(ids.iter().cloned())
        .map(|id| {
            let (client, target) = (client.clone(), target.clone());
            async move {
                let response = target.get(&client, &format!("/api/conversations/{id}/events")).send().await;
                response.ok().filter(|r| r.status() == 200)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let open = streams.iter().filter(|s| s.is_some()).count();
    let opened_in = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (with_mb, peak_mb) = (serve.rss_mb(), serve.peak_rss_mb());
    drop(streams);
    IdleSubscribers { count, open, opened_in, idle_mb, after_create_mb, with_mb, peak_mb }
}
