//! `spawn_app()` and friends: a fresh database and job stream per test, the mock LLM, the app on port 0.

use std::process::Stdio;
use std::time::{Duration, Instant};

use backend::{Backend, BackendConfig, WorkerConfig};
use futures::StreamExt;
use serde_json::{json, Value};
use sqlx::Connection;

/// One running test instance of PocketDev.
pub struct TestApp {
    pub address: String,
    pub mock_requests: Recorded,
    pub workspace_root: std::path::PathBuf,
    pub claude_home: std::path::PathBuf,
    pub job_stream: String,
    pub backend: std::sync::Arc<Backend>,
    /// The app's database, for tests that read or plant rows the API does not show.
    pub pool: sqlx::PgPool,
    /// Its event log, read directly.
    pub log: std::sync::Arc<backend::event_log::EventLog>,
    pub client: reqwest::Client,
    _tasks: Vec<AbortOnDrop>,
}

pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set: run the tests through ./test"))
}

/// A test database older than this belongs to an earlier run; the next run drops it.
const STALE_DATABASE_SECS: u64 = 3600;

/// A new, migrated database on the test server, named `pd_test_<unix seconds>_<uuid>`. Returns its URL.
/// The first call of a run also drops the stale test databases of earlier runs.
pub async fn fresh_database() -> String {
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let admin_url = env("DATABASE_URL");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let name = format!("pd_test_{now}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to the test Postgres");
    if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        drop_stale_databases(&mut admin, now).await;
    }
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
    let (base, _) = admin_url.rsplit_once('/').expect("DATABASE_URL has a database name");
    let url = format!("{base}/{name}");
    let pool = backend::connect_pool(&url, backend::DEFAULT_POOL_SIZE).await.expect("connect to the new database");
    backend::migrate(&pool).await.expect("migrate");
    pool.close().await;
    url
}

/// Drops the test databases created more than `STALE_DATABASE_SECS` before `now`, and those named
/// before names carried their creation time. A database that cannot be dropped is reported and kept.
async fn drop_stale_databases(admin: &mut sqlx::PgConnection, now: u64) {
    let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'pd\\_test\\_%'")
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
    for name in names {
        let created = name.strip_prefix("pd_test_").and_then(|rest| rest.split_once('_')).and_then(|(secs, _)| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| now.saturating_sub(secs) < STALE_DATABASE_SECS) {
            continue;
        }
        if let Err(error) = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut *admin).await {
            eprintln!("could not drop the stale test database {name}: {error}");
        }
    }
}

/// Starts the mock LLM on a free port; returns its base URL.
pub async fn spawn_mock() -> (String, AbortOnDrop) {
    let (url, _, task) = spawn_recording_mock().await;
    (url, task)
}

/// Request bodies the mock LLM received, in order.
pub type Recorded = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;

/// The mock LLM, recording the JSON body of every request it gets.
pub async fn spawn_recording_mock() -> (String, Recorded, AbortOnDrop) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let recorded: Recorded = Default::default();
    let sink = recorded.clone();
    let router =
        mockllm::router(mockllm::MockConfig::default()).layer(axum::middleware::map_request(move |request: axum::extract::Request| {
            let sink = sink.clone();
            async move {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
                if let Ok(json) = serde_json::from_slice::<Value>(&bytes) {
                    sink.lock().unwrap().push(json);
                }
                axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))
            }
        }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, recorded, AbortOnDrop(task))
}

pub fn backend_config(database_url: &str, mock_url: &str, job_stream: &str) -> BackendConfig {
    BackendConfig {
        database_url: database_url.to_string(),
        pool_size: backend::DEFAULT_POOL_SIZE,
        redis_url: env("REDIS_URL"),
        job_stream: job_stream.to_string(),
        anthropic: providers::anthropic::AnthropicConfig {
            base_url: mock_url.to_string(),
            api_key: Some("test-key".into()),
            max_retries: 2,
            request_timeout: Duration::from_secs(10),
            runtime_key: Default::default(),
        },
        claude_code: providers::claude_code::ClaudeCodeConfig {
            bin: std::env::var("CLAUDE_BIN").unwrap_or_else(|_| "claude".into()),
            env: vec![
                ("ANTHROPIC_BASE_URL".into(), mock_url.to_string()),
                ("ANTHROPIC_API_KEY".into(), "test-key".into()),
                ("CLAUDE_CODE_MAX_RETRIES".into(), "0".into()),
            ],
            home: std::env::temp_dir().join(format!("pd-claude-home-{}", uuid::Uuid::new_v4().simple())),
        },
        openai: providers::openai::OpenAiConfig {
            base_url: mock_url.to_string(),
            api_key: Some("test-openai-key".into()),
            max_retries: 2,
            request_timeout: Duration::from_secs(10),
            ..providers::openai::OpenAiConfig::responses()
        },
        openai_compatible: providers::openai::OpenAiConfig {
            base_url: format!("{mock_url}/v1"),
            api_key: Some("test-local-key".into()),
            max_retries: 2,
            request_timeout: Duration::from_secs(10),
            ..providers::openai::OpenAiConfig::chat_completions()
        },
        openai_compatible_model: Some("local-mock".into()),
        openai_compatible_context_window: Some(4096),
        catalog: std::sync::Arc::new(backend::catalog::Catalog::shipped()),
        defaults: Default::default(),
        workspace_root: {
            let root = std::env::temp_dir().join("pd-test-workspaces");
            std::fs::create_dir_all(&root).unwrap();
            root.canonicalize().unwrap()
        },
        worker: WorkerConfig {
            lease: Duration::from_secs(3),
            concurrency: 4,
            silence_timeout: Duration::from_secs(30),
            requeue_after: Duration::from_secs(2),
            approval_timeout: Duration::from_secs(600),
        },
        secret_key: Some(backend::secrets::SecretKey::generate()),
    }
}

/// PocketDev in this process: API on a free port with an embedded worker.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, true).await
}

/// PocketDev in this process with no worker yet: queued turns wait.
pub async fn spawn_app_without_worker() -> TestApp {
    spawn_app_with(|_| {}, false).await
}

/// PocketDev in this process with a changed configuration.
pub async fn spawn_app_with(configure: impl FnOnce(&mut BackendConfig), worker: bool) -> TestApp {
    let database_url = fresh_database().await;
    let (mock_url, mock_requests, mock) = spawn_recording_mock().await;
    let job_stream = format!("pocketdev:test:{}", uuid::Uuid::new_v4().simple());
    let mut config = backend_config(&database_url, &mock_url, &job_stream);
    configure(&mut config);
    let workspace_root = config.workspace_root.clone();
    let claude_home = config.claude_code.home.clone();
    let backend = Backend::connect(config).await.expect("backend connects");
    let pool = sqlx::PgPool::connect(&database_url).await.expect("the test's own pool connects");
    let log = std::sync::Arc::new(backend::event_log::EventLog::new(pool.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server::startup::router(backend.clone(), server::startup::leptos_options(addr));
    let http = tokio::spawn(async move {
        let _ = server::startup::serve(listener, router).await;
    });
    let mut app = TestApp {
        address: format!("http://{addr}"),
        mock_requests,
        workspace_root,
        claude_home,
        job_stream,
        backend,
        pool,
        log,
        client: reqwest::Client::new(),
        _tasks: vec![mock, AbortOnDrop(http)],
    };
    if worker {
        app.start_worker();
    }
    app
}

/// A prompt carrying a mock directive, and a nonce the mock ignores: the mock answers a request it
/// has seen before with another variant of its reply, so two conversations sending the same prompt
/// must not look like one retried turn.
pub fn prompt(directive: &str) -> String {
    format!("Tell me something. [[mock {directive} nonce={}]]", uuid::Uuid::new_v4().simple())
}

/// The variant (1 for a first attempt) of the mock's `tokens`-token reply that `text` is, if it is
/// exactly one of the first `attempts`: a reply spliced from two attempts is none of them.
pub fn reply_variant(text: &str, tokens: usize, attempts: usize) -> Option<usize> {
    (1..=attempts.max(1)).find(|k| mockllm::reply_text_variant(tokens, *k) == text)
}

impl TestApp {
    pub fn start_worker(&mut self) {
        let backend = self.backend.clone();
        let worker = tokio::spawn(async move {
            let _ = backend::worker::run_worker(backend, backend::worker::consumer_name()).await;
        });
        self._tasks.push(AbortOnDrop(worker));
    }

    pub async fn create_conversation(&self) -> String {
        create_conversation(&self.client, &self.address).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.address)).json(&body).send().await.unwrap()
    }

    /// The `SystemPromptUsed` payloads of a conversation's log, in order.
    pub async fn system_prompts_used(&self, id: &str) -> Vec<Value> {
        sqlx::query_scalar(
            "SELECT payload::jsonb -> 'SystemPromptUsed' FROM events WHERE aggregate_id = $1 AND event_type = 'SystemPromptUsed' \
             ORDER BY sequence",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    pub async fn view(&self, id: &str) -> Value {
        get_view(&self.client, &self.address, id).await
    }

    pub async fn wait_until_settled(&self, id: &str, within: Duration) -> Value {
        wait_until_settled(&self.client, &self.address, id, within).await
    }
}

pub async fn create_conversation(client: &reqwest::Client, address: &str) -> String {
    let response = client.post(format!("{address}/api/conversations")).json(&json!({"provider": "anthropic"})).send().await.unwrap();
    assert_eq!(response.status(), 201, "creating a conversation");
    let view: Value = response.json().await.unwrap();
    view["id"].as_str().unwrap().to_string()
}

pub async fn send_message(client: &reqwest::Client, address: &str, id: &str, text: &str) {
    let response = client.post(format!("{address}/api/conversations/{id}/messages")).json(&json!({"text": text})).send().await.unwrap();
    assert_eq!(response.status(), 202, "sending a message: {}", response.text().await.unwrap_or_default());
}

pub async fn get_view(client: &reqwest::Client, address: &str, id: &str) -> Value {
    let response = client.get(format!("{address}/api/conversations/{id}")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Polls the view until its status is no longer `running` (test-side only; the app never polls).
pub async fn wait_until_settled(client: &reqwest::Client, address: &str, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let view = get_view(client, address, id).await;
        if view["status"] != "running" && view["status"] != "awaiting_approval" {
            return view;
        }
        assert!(Instant::now() < deadline, "the turn did not end within {within:?}: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of the assistant's reply to `turn` in a view.
pub fn reply_text(view: &Value, turn: u64) -> String {
    blocks_text(view, turn, "text")
}

/// The concatenated text of the assistant's `kind` blocks (`text`, `thinking`, `error`, …) in `turn`.
pub fn blocks_text(view: &Value, turn: u64, kind: &str) -> String {
    view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant" && m["turn"] == turn)
        .flat_map(|m| m["blocks"].as_array().unwrap().iter())
        .filter(|b| b["type"] == kind)
        .map(|b| b["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// One SSE frame as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub id: String,
    pub event: String,
    pub data: Value,
}

/// Reads frames from the conversation's SSE feed until `stop` says so (inclusive), or `within` passes.
pub async fn read_frames(
    client: &reqwest::Client,
    address: &str,
    id: &str,
    last_event_id: Option<&str>,
    within: Duration,
    mut stop: impl FnMut(&Frame, usize) -> bool,
) -> Vec<Frame> {
    let mut request = client.get(format!("{address}/api/conversations/{id}/events"));
    if let Some(last) = last_event_id {
        request = request.header("Last-Event-ID", last);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut events = eventsource_stream::EventStream::new(response.bytes_stream());
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let next = tokio::time::timeout_at(deadline, events.next()).await;
        let Ok(Some(Ok(event))) = next else { break };
        let frame = Frame { id: event.id, event: event.event, data: serde_json::from_str(&event.data).unwrap() };
        frames.push(frame);
        if stop(frames.last().unwrap(), frames.len()) {
            break;
        }
    }
    frames
}

pub fn is_turn_end(frame: &Frame) -> bool {
    matches!(frame.event.as_str(), "TurnCompleted" | "TurnFailed" | "TurnAborted")
}

/// The streamed text carried by frames.
pub fn frames_text(frames: &[Frame]) -> String {
    frames
        .iter()
        .filter(|f| f.event == "TextAppended")
        .map(|f| f.data["event"]["TextAppended"]["text"].as_str().unwrap().to_string())
        .collect()
}

/// A `pocket-dev` child process, killed when dropped.
pub struct Process {
    pub child: tokio::process::Child,
    pub address: Option<String>,
}

impl Process {
    /// Starts `pocket-dev <args>` with the test's configuration; waits for `/health` when serving.
    pub async fn start(args: &[&str], database_url: &str, mock_url: &str, job_stream: &str) -> Process {
        Process::start_with(args, database_url, mock_url, job_stream, &[], None).await
    }

    /// `start` with more (or overriding) environment variables, and its output (logs) into `log` when given.
    pub async fn start_with(
        args: &[&str],
        database_url: &str,
        mock_url: &str,
        job_stream: &str,
        extra: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Process {
        let port = free_port();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pocket-dev"));
        command
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("REDIS_URL", env("REDIS_URL"))
            .env("PD_JOB_STREAM", job_stream)
            .env("PD_JOB_LEASE_MS", "3000")
            .env("ANTHROPIC_BASE_URL", mock_url)
            .env("ANTHROPIC_API_KEY", "test-key")
            .env("WORKSPACE_ROOT", std::env::temp_dir().join("pd-test-workspace"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env("PD_SECRET_KEY_FILE", std::env::temp_dir().join("pd-test-secret.key"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in extra {
            command.env(name, value);
        }
        if let Some(log) = log {
            let file = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("open the process log");
            command.stdout(file.try_clone().expect("clone the log handle")).stderr(file);
        }
        let child = command.spawn().expect("spawn pocket-dev");
        let serving = args.first() == Some(&"serve");
        let address = serving.then(|| format!("http://127.0.0.1:{port}"));
        if let Some(address) = &address {
            wait_for_health(address).await;
        }
        Process { child, address }
    }

    pub fn address(&self) -> &str {
        self.address.as_deref().expect("a serving process")
    }

    /// SIGTERM, as a process manager stops it; returns how long it took to exit (at most `within`).
    pub async fn terminate(&mut self, within: Duration) -> Option<Duration> {
        let started = Instant::now();
        let pid = self.child.id()?.to_string();
        let _ = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await;
        tokio::time::timeout(within, self.child.wait()).await.ok().map(|_| started.elapsed())
    }

    /// SIGKILL, as `kill -9` does.
    pub async fn kill_hard(&mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_for_health(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(format!("{address}/health")).await {
            if response.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{address} did not become healthy");
}
