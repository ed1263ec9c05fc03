//! Fault tests (docs/RELIABILITY.md): real `pocket-dev` processes on a private Postgres and Redis
//! (private_services.rs) that the tests kill, restart and stop, and the real nginx in front of two
//! `serve` nodes. Every test checks exactness the same way: each SSE client's frames have the ids
//! 1..n with no gap or repeat across its reconnects (`Last-Event-ID`), folding them gives exactly
//! the mock's reply, and so does the server's view.
//!
//! The tests take one lock, so at most one of them loads the machine at a time, and each is
//! bounded by its deadlines. Process logs: $TMPDIR/pd-faults-logs/<test>/.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::Rng;
use serde_json::{json, Value};

use crate::helpers::{prompt, reply_text, spawn_mock, AbortOnDrop, Frame, Process};
use crate::nginx::Nginx;
use crate::private_services::{log_dir, PrivateServices};
use crate::security::{basic, PASSWORD, USER};

/// One fault test at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Private services, a migrated database on them, the mock LLM and a job stream.
struct Rig {
    services: PrivateServices,
    database: String,
    mock: String,
    _mock: AbortOnDrop,
    jobs: String,
    logs: PathBuf,
    client: reqwest::Client,
    /// Basic Auth for requests through nginx.
    auth: Option<String>,
}

impl Rig {
    async fn new(test: &str) -> Rig {
        let services = PrivateServices::start().await;
        let database = services.postgres.fresh_database().await;
        let (mock, mock_task) = spawn_mock().await;
        let jobs = format!("pocketdev:faults:{}", uuid::Uuid::new_v4().simple());
        Rig { services, database, mock, _mock: mock_task, jobs, logs: log_dir(test), client: reqwest::Client::new(), auth: None }
    }

    /// `pocket-dev <args>` on the private services; its logs in `<logs>/<name>.log`.
    async fn process(&self, args: &[&str], name: &str, extra: &[(&str, &str)]) -> Process {
        let mut env: Vec<(&str, String)> = vec![("REDIS_URL", self.services.redis.url()), ("RUST_LOG", "info".into())];
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let log = self.logs.join(format!("{name}.log"));
        Process::start_with(args, &self.database, &self.mock, &self.jobs, &env, Some(&log)).await
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, url);
        match &self.auth {
            Some(auth) => builder.header("authorization", auth),
            None => builder,
        }
    }

    async fn create_conversation(&self, base: &str) -> String {
        let response = self
            .request(reqwest::Method::POST, format!("{base}/api/conversations"))
            .json(&json!({"provider": "anthropic"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "creating a conversation (logs in {})", self.logs.display());
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    async fn send(&self, base: &str, id: &str, text: &str) -> reqwest::StatusCode {
        let response = self
            .request(reqwest::Method::POST, format!("{base}/api/conversations/{id}/messages"))
            .json(&json!({"text": text}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        if !status.is_success() {
            // Shown with a failing test's output.
            println!("POST messages to {id}: {status} {}", response.text().await.unwrap_or_default());
        }
        status
    }

    /// Polls the view (through any transient 5xx) until the turn is no longer running.
    async fn settled(&self, base: &str, id: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(response) = self.request(reqwest::Method::GET, format!("{base}/api/conversations/{id}")).send().await {
                if response.status() == 200 {
                    let view: Value = response.json().await.unwrap();
                    if view["status"] != "running" && view["status"] != "awaiting_approval" {
                        return view;
                    }
                }
            }
            assert!(Instant::now() < deadline, "{id}: the turn did not end within {within:?} (logs in {})", self.logs.display());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A client that follows `id`'s feed through cuts, from the start until `turn` ends.
    fn follow(
        &self,
        base: &str,
        id: &str,
        turn: u64,
        within: Duration,
    ) -> (tokio::task::JoinHandle<Feed>, tokio::sync::oneshot::Receiver<()>) {
        let (ready, is_ready) = tokio::sync::oneshot::channel();
        let url = format!("{base}/api/conversations/{id}/events");
        let (client, auth) = (self.client.clone(), self.auth.clone());
        let task = tokio::spawn(follow(client, url, auth, within, ready, move |f| ends_turn(f, turn)));
        (task, is_ready)
    }
}

fn ends_turn(frame: &Frame, turn: u64) -> bool {
    matches!(frame.event.as_str(), "TurnCompleted" | "TurnFailed" | "TurnAborted") && frame.data["event"][&frame.event]["turn"] == turn
}

/// What one SSE client received.
#[derive(Default, Debug)]
struct Feed {
    frames: Vec<Frame>,
    /// When each frame arrived.
    arrived: Vec<Instant>,
    /// Streams that ended or broke before the turn did, after which the client resumed.
    cuts: usize,
    /// Connection attempts that failed (refused, 5xx) while resuming.
    refused: usize,
}

/// Reads `url` as an EventSource does: on a cut it reconnects with `Last-Event-ID` until `until`.
async fn follow(
    client: reqwest::Client,
    url: String,
    auth: Option<String>,
    within: Duration,
    ready: tokio::sync::oneshot::Sender<()>,
    mut until: impl FnMut(&Frame) -> bool,
) -> Feed {
    let deadline = tokio::time::Instant::now() + within;
    let mut feed = Feed::default();
    let mut ready = Some(ready);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url}: the feed did not end within {within:?} ({} frames, {} cuts, {} refused)",
            feed.frames.len(),
            feed.cuts,
            feed.refused
        );
        let mut request = client.get(&url);
        if let Some(auth) = &auth {
            request = request.header("authorization", auth);
        }
        if let Some(last) = feed.frames.last() {
            request = request.header("Last-Event-ID", &last.id);
        }
        let response = match tokio::time::timeout_at(deadline, request.send()).await {
            Ok(Ok(response)) if response.status() == 200 => response,
            _ => {
                feed.refused += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let mut events = eventsource_stream::EventStream::new(response.bytes_stream());
        while let Ok(Some(Ok(event))) = tokio::time::timeout_at(deadline, events.next()).await {
            let frame = Frame { id: event.id, event: event.event, data: serde_json::from_str(&event.data).unwrap() };
            feed.frames.push(frame);
            feed.arrived.push(Instant::now());
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
            if until(feed.frames.last().unwrap()) {
                return feed;
            }
        }
        feed.cuts += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every frame exactly once and in order, and the fold of the frames replies exactly one attempt's
/// whole reply of `tokens` tokens (the mock varies its reply from attempt to attempt, so a reply
/// spliced from two attempts is none of them); returns that reply.
fn assert_exact(frames: &[Frame], id: &str, turn: u64, tokens: usize, what: &str) -> String {
    let ids: Vec<u64> = frames.iter().map(|f| f.id.parse().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "{what}: every frame exactly once, in order");
    let events: Vec<domain::LoggedEvent> = frames.iter().map(|f| serde_json::from_value(f.data.clone()).unwrap()).collect();
    let view = serde_json::to_value(domain::ConversationView::fold(id, &events)).unwrap();
    let reply = reply_text(&view, turn);
    let variant = crate::helpers::reply_variant(&reply, tokens, attempts(frames, turn));
    assert!(variant.is_some(), "{what}: the folded reply is one attempt's whole reply, nothing lost, repeated or spliced: {reply:?}");
    reply
}

/// How many attempts the frames show for `turn`.
fn attempts(frames: &[Frame], turn: u64) -> usize {
    frames.iter().filter(|f| f.event == "AttemptStarted" && f.data["event"]["AttemptStarted"]["turn"] == turn).count()
}

fn port_of(process: &Process) -> u16 {
    process.address().rsplit(':').next().unwrap().parse().unwrap()
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_worker_with_sigkill_mid_turn_20_times_loses_and_repeats_no_token() {
    let _serial = SERIAL.lock().await;
    let rig = Rig::new("kill9").await;
    let serve = rig.process(&["serve", "--no-worker"], "serve", &[]).await;
    let base = serve.address().to_string();
    // Every turn is killed once and finished by its second attempt: the mock's second variant.
    let expected = mockllm::reply_text_variant(200, 2);
    let mut rng = rand::rng();
    let mut conversations = Vec::new();
    let kills_started = Instant::now();
    for round in 0..20 {
        let id = rig.create_conversation(&base).await;
        // The victim never reclaims (a 10 min lease), so each job is killed exactly once.
        let mut victim = rig.process(&["worker"], &format!("victim-{round}"), &[("PD_JOB_LEASE_MS", "600000")]).await;
        assert_eq!(rig.send(&base, &id, &prompt("tokens=200 rate=100")).await, 202);
        let cut_after = rng.random_range(1..=8);
        let mut texts = 0;
        let seen = crate::helpers::read_frames(&rig.client, &base, &id, None, Duration::from_secs(20), |f, _| {
            texts += usize::from(f.event == "TextAppended");
            texts >= cut_after
        })
        .await;
        assert!(seen.iter().filter(|f| f.event == "TextAppended").count() >= cut_after, "round {round}: the victim streamed");
        victim.kill_hard().await;
        conversations.push(id);
    }
    let kills = kills_started.elapsed();
    // Two healthy workers take every killed job over once it has been silent for their lease.
    let rescue_started = Instant::now();
    let rescuers = [("PD_JOB_LEASE_MS", "3000"), ("PD_WORKER_CONCURRENCY", "10")];
    let _rescuer_a = rig.process(&["worker"], "rescuer-a", &rescuers).await;
    let _rescuer_b = rig.process(&["worker"], "rescuer-b", &rescuers).await;
    for id in &conversations {
        let view = rig.settled(&base, id, Duration::from_secs(60)).await;
        assert_eq!(view["status"], "idle", "{id}: {view}");
        assert_eq!(reply_text(&view, 1), expected, "{id}: the view");
    }
    let rescue = rescue_started.elapsed();
    for id in &conversations {
        let feed = crate::helpers::read_frames(&rig.client, &base, id, None, Duration::from_secs(10), |f, _| ends_turn(f, 1)).await;
        assert_eq!(assert_exact(&feed, id, 1, 200, id), expected, "{id}: the second attempt's reply");
        assert_eq!(attempts(&feed, 1), 2, "{id}: the killed attempt and the one that finished");
    }
    eprintln!(
        "[faults] kill -9: 20 workers killed mid-turn in {}; all 20 turns completed exactly in their second attempt, {} after two workers (lease 3 s) started",
        secs(kills),
        secs(rescue)
    );
}

/// Runs `turns` concurrent turns with one follower each, applies `fault` while they stream,
/// then checks that every follower and every view has exactly the mock's reply.
async fn turns_survive(
    rig: &Rig,
    base: &str,
    turns: usize,
    directive: &str,
    tokens: usize,
    fault: impl std::future::Future<Output = ()>,
) -> Vec<Feed> {
    let mut followers = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..turns {
        let id = rig.create_conversation(base).await;
        let (task, ready) = rig.follow(base, &id, 1, Duration::from_secs(90));
        ready.await.expect("the follower connected");
        followers.push(task);
        ids.push(id);
    }
    for id in &ids {
        assert_eq!(rig.send(base, id, &prompt(directive)).await, 202);
    }
    fault.await;
    let mut feeds = Vec::new();
    for (id, follower) in ids.iter().zip(followers) {
        let feed = follower.await.unwrap();
        let expected = assert_exact(&feed.frames, id, 1, tokens, &format!("{id} (logs in {})", rig.logs.display()));
        let view = rig.settled(base, id, Duration::from_secs(30)).await;
        assert_eq!(view["status"], "idle", "{id}: {view}");
        assert_eq!(reply_text(&view, 1), expected, "{id}: the view");
        feeds.push(feed);
    }
    feeds
}

/// Which private service a restart test stops.
#[derive(Clone, Copy)]
enum Outage {
    Postgres,
    Redis,
}

/// A fresh rig with a `serve --no-worker` node and two workers (3 s lease).
async fn serve_and_two_workers(name: &str) -> (Rig, Process, [Process; 2]) {
    let rig = Rig::new(name).await;
    let serve = rig.process(&["serve", "--no-worker"], "serve", &[]).await;
    let workers = [("PD_JOB_LEASE_MS", "3000"), ("PD_WORKER_CONCURRENCY", "8")];
    let worker_a = rig.process(&["worker"], "worker-a", &workers).await;
    let worker_b = rig.process(&["worker"], "worker-b", &workers).await;
    (rig, serve, [worker_a, worker_b])
}

/// Ten 300-token turns streaming while `service` goes down one second in, for a second; returns
/// their checked feeds and how long the service was down. Fails unless the outage hit the streams:
/// some turn had streamed text before the service went down and ended only after it was back.
async fn ten_turns_through_an_outage(rig: &Rig, base: &str, service: Outage) -> (Vec<Feed>, Duration) {
    let mut outage = Duration::ZERO;
    let window = std::sync::Mutex::new(None::<(Instant, Instant)>);
    let feeds = turns_survive(rig, base, 10, "tokens=300 rate=100", 300, async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let down = Instant::now();
        match service {
            Outage::Postgres => rig.services.postgres.stop(),
            Outage::Redis => rig.services.redis.stop(),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        match service {
            Outage::Postgres => rig.services.postgres.start_again().await,
            Outage::Redis => rig.services.redis.start_again().await,
        }
        outage = down.elapsed();
        *window.lock().unwrap() = Some((down, Instant::now()));
    })
    .await;
    let (down, up) = window.lock().unwrap().expect("the outage ran");
    let hit = feeds.iter().filter(|feed| streamed_across(feed, down, up)).count();
    assert!(hit > 0, "the outage hit no stream: every turn had ended before the service went down or started after it returned");
    eprintln!("[faults] the outage cut across {hit} of {} streaming turns", feeds.len());
    (feeds, outage)
}

/// Whether the feed had text before `down` and its turn's end only after `up`.
fn streamed_across(feed: &Feed, down: Instant, up: Instant) -> bool {
    let before = feed.frames.iter().zip(&feed.arrived).any(|(f, at)| f.event == "TextAppended" && *at < down);
    let ended_after = feed.frames.iter().zip(&feed.arrived).any(|(f, at)| ends_turn(f, 1) && *at > up);
    before && ended_after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_postgres_mid_load_loses_and_repeats_no_token_and_later_turns_run() {
    let _serial = SERIAL.lock().await;
    let (rig, serve, _workers) = serve_and_two_workers("postgres-restart").await;
    let base = serve.address().to_string();
    let started = Instant::now();
    let (feeds, outage) = ten_turns_through_an_outage(&rig, &base, Outage::Postgres).await;
    let total = started.elapsed();
    let cuts: usize = feeds.iter().map(|f| f.cuts).sum();
    let retried = feeds.iter().filter(|f| attempts(&f.frames, 1) > 1).count();
    // A turn whose write hit the terminated connection is re-run once; a third attempt would mean
    // a retry of a retry (a heartbeat more than a lease late on an overloaded machine).
    assert!(feeds.iter().all(|f| attempts(&f.frames, 1) <= 3), "every turn within its attempts");
    // After the restart, new turns run on the same processes.
    let id = rig.create_conversation(&base).await;
    assert_eq!(rig.send(&base, &id, &prompt("tokens=20")).await, 202);
    assert_eq!(reply_text(&rig.settled(&base, &id, Duration::from_secs(30)).await, 1), mockllm::reply_text(20));
    eprintln!(
        "[faults] Postgres restart: 10 turns, Postgres down {} mid-stream; all exact {} after the start; {cuts} feed cuts resumed; {retried} turns re-run by a new attempt",
        secs(outage),
        secs(total)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_redis_mid_load_loses_and_repeats_no_token_and_later_turns_run() {
    let _serial = SERIAL.lock().await;
    let (rig, serve, _workers) = serve_and_two_workers("redis-restart").await;
    let base = serve.address().to_string();
    let started = Instant::now();
    let (feeds, outage) = ten_turns_through_an_outage(&rig, &base, Outage::Redis).await;
    let total = started.elapsed();
    let retried = feeds.iter().filter(|f| attempts(&f.frames, 1) > 1).count();
    assert!(feeds.iter().all(|f| attempts(&f.frames, 1) <= 2), "one restart costs at most one retry");
    // After the restart, new turns are queued and run: every Redis connection reconnected.
    let ids: Vec<String> = futures::future::join_all((0..3).map(|_| rig.create_conversation(&base))).await;
    for id in &ids {
        assert_eq!(rig.send(&base, id, &prompt("tokens=20")).await, 202, "queueing after the restart");
    }
    for id in &ids {
        let view = rig.settled(&base, id, Duration::from_secs(30)).await;
        assert_eq!(reply_text(&view, 1), mockllm::reply_text(20), "{id}: a turn queued after the restart");
    }
    eprintln!(
        "[faults] Redis restart: 10 turns, Redis down {} mid-stream; all exact {} after the start; {retried} turns re-run by a new attempt; 3 later turns queued and ran",
        secs(outage),
        secs(total)
    );
}

/// Polls `/health` until `check` accepts its answer; returns how long that took.
async fn health_until(client: &reqwest::Client, base: &str, within: Duration, check: impl Fn(u16, &Value) -> bool) -> (Duration, Value) {
    let started = Instant::now();
    loop {
        let last = match client.get(format!("{base}/health")).timeout(Duration::from_secs(5)).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                if check(status, &body) {
                    return (started.elapsed(), body);
                }
                format!("{status} {body}")
            }
            Err(error) => error.to_string(),
        };
        assert!(started.elapsed() < within, "/health did not change within {within:?}; last answer: {last}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_names_the_failing_service_and_the_server_recovers_by_itself_when_it_returns() {
    let _serial = SERIAL.lock().await;
    let rig = Rig::new("health").await;
    let mut serve = rig.process(&["serve"], "serve", &[("PD_JOB_LEASE_MS", "1000")]).await;
    let base = serve.address().to_string();
    let client = rig.client.clone();
    let healthy =
        |status: u16, body: &Value| status == 200 && *body == json!({"status": "ok", "postgres": {"ok": true}, "redis": {"ok": true}});
    health_until(&client, &base, Duration::from_secs(5), healthy).await;
    let mut figures = Vec::new();

    // Postgres goes away, then comes back.
    rig.services.postgres.stop();
    let (noticed, body) = health_until(&client, &base, Duration::from_secs(10), |status, body| {
        status == 503 && body["postgres"]["ok"] == false && body["redis"]["ok"] == true
    })
    .await;
    assert_eq!(body["status"], "degraded");
    assert!(body["postgres"]["error"].is_string(), "{body}");
    rig.services.postgres.start_again().await;
    let (recovered, _) = health_until(&client, &base, Duration::from_secs(30), healthy).await;
    figures.push(format!("Postgres: 503 after {}, 200 again {} after it restarted", secs(noticed), secs(recovered)));
    let id = rig.create_conversation(&base).await;
    assert_eq!(rig.send(&base, &id, &prompt("tokens=30")).await, 202);
    assert_eq!(reply_text(&rig.settled(&base, &id, Duration::from_secs(30)).await, 1), mockllm::reply_text(30));

    // Redis goes away: a prompt is refused with 503 (not lost: it shows as a failed turn); then Redis returns.
    rig.services.redis.stop();
    let (noticed, body) = health_until(&client, &base, Duration::from_secs(10), |status, body| {
        status == 503 && body["redis"]["ok"] == false && body["postgres"]["ok"] == true
    })
    .await;
    assert!(body["redis"]["error"].is_string(), "{body}");
    let refused = prompt("tokens=31 refused while Redis is down");
    assert_eq!(rig.send(&base, &id, &refused).await, 503, "queueing without Redis");
    // Not lost: the prompt is in the conversation, and its turn shows as failed with the reason.
    let view = rig.settled(&base, &id, Duration::from_secs(10)).await;
    assert_eq!(view["status"], "failed", "{view}");
    let user: Vec<&Value> = view["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "user").collect();
    assert_eq!(user.len(), 2, "{view}");
    assert_eq!(user[1]["turn"], 2);
    assert!(user[1].to_string().contains("refused while Redis is down"), "the refused prompt is kept: {view}");
    assert!(view.to_string().contains("could not be queued"), "the failure says why: {view}");
    rig.services.redis.start_again().await;
    let (recovered, _) = health_until(&client, &base, Duration::from_secs(30), healthy).await;
    figures.push(format!("Redis: 503 after {}, 200 again {} after it restarted", secs(noticed), secs(recovered)));
    let id = rig.create_conversation(&base).await;
    assert_eq!(rig.send(&base, &id, &prompt("tokens=30")).await, 202);
    assert_eq!(
        reply_text(&rig.settled(&base, &id, Duration::from_secs(30)).await, 1),
        mockllm::reply_text(30),
        "a turn after Redis returned"
    );
    assert!(serve.child.try_wait().unwrap().is_none(), "serve survived both outages");
    eprintln!("[faults] health: {}", figures.join("; "));
}

/// Two `serve` nodes behind the real nginx (two upstream servers), Basic Auth at the gateway.
async fn gateway(rig: &mut Rig, a: &Process, b: &Process) -> Nginx {
    let upstreams = format!("127.0.0.1:{} 127.0.0.1:{}", port_of(a), port_of(b));
    let nginx = Nginx::start(port_of(a), USER, PASSWORD, &[("PROXY_UPSTREAM", upstreams.as_str())]).await;
    rig.auth = Some(basic(USER, PASSWORD));
    nginx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_a_serve_node_and_a_worker_feeds_resume_on_the_other_node_and_running_turns_finish_without_a_retry() {
    let _serial = SERIAL.lock().await;
    let mut rig = Rig::new("sigterm").await;
    let node = [("PD_JOB_LEASE_MS", "3000"), ("PD_WORKER_CONCURRENCY", "4")];
    let mut a = rig.process(&["serve"], "serve-a", &node).await;
    let b = rig.process(&["serve", "--no-worker"], "serve-b", &node).await;
    let mut worker = rig.process(&["worker"], "worker", &node).await;
    let nginx = gateway(&mut rig, &a, &b).await;
    let base = nginx.address.clone();
    let expected = mockllm::reply_text(300);
    let a_pid = a.child.id().unwrap();
    // 8 turns of 3 s for 2 workers of 4 slots: A's embedded worker runs some of them.
    let mut followers = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..8 {
        let id = rig.create_conversation(&base).await;
        for _ in 0..2 {
            let (task, ready) = rig.follow(&base, &id, 1, Duration::from_secs(60));
            ready.await.expect("the follower connected");
            followers.push((id.clone(), task));
        }
        ids.push(id);
    }
    for id in &ids {
        assert_eq!(rig.send(&base, id, &prompt("tokens=300 rate=100")).await, 202);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Both nodes that run turns are stopped at once: A (serve + embedded worker) and the worker;
    // a new worker takes whatever they had not started yet (on a loaded machine, a job may still wait).
    let (a_exited, worker_exited) = tokio::join!(a.terminate(Duration::from_secs(40)), worker.terminate(Duration::from_secs(40)));
    let _next_worker = rig.process(&["worker"], "worker-2", &node).await;
    let exited_after = a_exited.expect("serve A exits after draining");
    let worker_exited_after = worker_exited.expect("the worker exits after draining");
    assert!(a.child.try_wait().unwrap().is_some_and(|status| status.success()), "serve A exits cleanly");
    assert!(worker.child.try_wait().unwrap().is_some_and(|status| status.success()), "the worker exits cleanly");
    let mut cuts = 0;
    let mut on_a = 0;
    for (id, follower) in followers {
        let feed = follower.await.unwrap();
        assert_eq!(assert_exact(&feed.frames, &id, 1, 300, &format!("{id} (logs in {})", rig.logs.display())), expected);
        assert_eq!(attempts(&feed.frames, 1), 1, "{id}: the turn finished in its first attempt (no reclaim)");
        cuts += feed.cuts;
        on_a += usize::from(feed.frames.iter().any(|f| {
            f.event == "AttemptStarted"
                && f.data["event"]["AttemptStarted"]["worker"].as_str().unwrap_or("").contains(&format!("-{a_pid}-"))
        }));
    }
    assert!(cuts > 0, "some feeds were on A and resumed on B");
    assert!(on_a > 0, "A's embedded worker ran turns when it was stopped");
    for id in &ids {
        let view = rig.settled(&base, id, Duration::from_secs(30)).await;
        assert_eq!(reply_text(&view, 1), expected, "{id}: the view");
    }
    // B still serves through nginx, and the new worker runs the next turn.
    assert_eq!(rig.send(&base, &ids[0], &prompt("tokens=20")).await, 202);
    assert_eq!(reply_text(&rig.settled(&base, &ids[0], Duration::from_secs(30)).await, 2), mockllm::reply_text(20));
    eprintln!(
        "[faults] SIGTERM: serve A exited {} and the worker {} after the signal, each having finished its running turns ({} of 8 on A); {cuts} feed cuts resumed on B; 8/8 turns exact, none retried",
        secs(exited_after),
        secs(worker_exited_after),
        on_a / 2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_and_two_worker_nodes_behind_nginx_deliver_every_event_of_50_concurrent_turns_to_every_subscriber_once() {
    let _serial = SERIAL.lock().await;
    let mut rig = Rig::new("scale-out").await;
    let a = rig.process(&["serve", "--no-worker"], "serve-a", &[]).await;
    let b = rig.process(&["serve", "--no-worker"], "serve-b", &[]).await;
    let workers = [("PD_WORKER_CONCURRENCY", "25")];
    let _worker_a = rig.process(&["worker"], "worker-a", &workers).await;
    let _worker_b = rig.process(&["worker"], "worker-b", &workers).await;
    let nginx = gateway(&mut rig, &a, &b).await;
    let base = nginx.address.clone();
    let expected = mockllm::reply_text(100);
    let started = Instant::now();
    let ids: Vec<String> = futures::future::join_all((0..50).map(|_| rig.create_conversation(&base))).await;
    let mut followers = Vec::new();
    for id in &ids {
        for _ in 0..2 {
            let (task, ready) = rig.follow(&base, id, 1, Duration::from_secs(60));
            followers.push((id.clone(), task, ready));
        }
    }
    let mut subscribed = Vec::new();
    for (id, task, ready) in followers {
        ready.await.expect("the follower connected");
        subscribed.push((id, task));
    }
    let sent_at = Instant::now();
    // A prompt of its own per conversation: the mock answers a request it has seen before with another variant.
    let texts: Vec<String> = ids.iter().map(|_| prompt("tokens=100 rate=50")).collect();
    let statuses = futures::future::join_all(ids.iter().zip(&texts).map(|(id, text)| rig.send(&base, id, text))).await;
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    let mut by_conversation: std::collections::HashMap<String, Vec<Vec<Frame>>> = Default::default();
    let mut frames = 0;
    let mut reconnects = 0;
    for (id, task) in subscribed {
        let feed = task.await.unwrap();
        reconnects += feed.cuts + feed.refused;
        assert_eq!(assert_exact(&feed.frames, &id, 1, 100, &format!("{id} (logs in {})", rig.logs.display())), expected);
        frames += feed.frames.len();
        by_conversation.entry(id).or_default().push(feed.frames);
    }
    let streamed = sent_at.elapsed();
    for (id, feeds) in &by_conversation {
        assert_eq!(feeds.len(), 2);
        assert_eq!(feeds[0], feeds[1], "{id}: both subscribers got the same frames");
    }
    // The gateway spread the feeds over both nodes (its access log names the upstream of each).
    let served = nginx.upstreams_of("/events");
    for node in [&a, &b] {
        let address = node.address().trim_start_matches("http://").to_string();
        let feeds = served.iter().filter(|upstream| upstream.contains(&address)).count();
        assert!(feeds >= 5, "node {address} served {feeds} of {} feeds: {served:?}", served.len());
    }
    for id in &ids {
        let view = rig.settled(&base, id, Duration::from_secs(30)).await;
        assert_eq!(reply_text(&view, 1), expected, "{id}: the view");
    }
    // Two tabs on different nodes post at the same moment: exactly one turn, and one 409.
    let short = prompt("tokens=5");
    for id in ids.iter().take(5) {
        let (on_a, on_b) = tokio::join!(rig.send(a.address(), id, &short), rig.send(b.address(), id, &short));
        let mut statuses = [on_a.as_u16(), on_b.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [202, 409], "{id}: two nodes, one winner");
    }
    for id in ids.iter().take(5) {
        let view = rig.settled(&base, id, Duration::from_secs(30)).await;
        assert_eq!(view["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "user").count(), 2, "{id}: one prompt per round");
        assert_eq!(reply_text(&view, 2), mockllm::reply_text(5), "{id}: the winner's turn");
    }
    eprintln!(
        "[faults] scale-out: 50 turns on 2 workers, 100 subscribers through nginx on 2 serve nodes: {frames} frames, each exactly once ({reconnects} reconnects); all turns done {} after sending ({} in all); 5 two-node double posts: one 202 and one 409 each",
        secs(streamed),
        secs(started.elapsed())
    );
}
