//! The subcommands of `pocket-dev`: serve, worker, migrate, replay, mock-llm.

use std::process::ExitCode;
use std::sync::Arc;

use backend::worker::{consumer_name, run_worker};
use backend::Backend;

use crate::config::{self, ConfigError};
use crate::startup;

const USAGE: &str = "usage: pocket-dev <serve [--no-worker] | worker | migrate | replay | mock-llm [--first-token-ms N] [--tokens-per-sec F] [--tokens N] [--thinking-tokens N]>";

/// Runs the command line; returns the process exit code.
pub async fn run(args: Vec<String>) -> ExitCode {
    let command = args.first().map(String::as_str).unwrap_or("");
    let rest = &args[args.len().min(1)..];
    let outcome = match command {
        "serve" => match rest {
            [] => serve(true).await,
            [flag] if flag == "--no-worker" => serve(false).await,
            _ => return usage(),
        },
        "worker" if rest.is_empty() => worker().await,
        "migrate" if rest.is_empty() => migrate().await,
        "replay" if rest.is_empty() => replay().await,
        "mock-llm" => mock_llm(rest).await,
        _ => return usage(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(error)) => {
            eprintln!("pocket-dev: configuration error: {error}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(message)) => {
            eprintln!("pocket-dev: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

enum Failure {
    Config(ConfigError),
    Runtime(String),
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::Config(error)
    }
}

impl From<backend::BackendError> for Failure {
    fn from(error: backend::BackendError) -> Self {
        Failure::Runtime(error.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Runtime(error.to_string())
    }
}

async fn serve(with_worker: bool) -> Result<(), Failure> {
    let addr = config::site_addr()?;
    let security = crate::security::Security::new(config::security(addr)?);
    let drain_timeout = config::drain_timeout()?;
    let backend = Backend::connect(config::backend()?).await?;
    let caught_up = backend.catch_up_all().await?;
    if caught_up > 0 {
        tracing::info!(caught_up, "projections caught up with the event log");
    }
    let worker = with_worker.then(|| spawn_worker(backend.clone()));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| Failure::Runtime(format!("cannot listen on {addr}: {e}")))?;
    tracing::info!(%addr, with_worker, "serving PocketDev");
    let router = startup::secured_router(backend.clone(), startup::leptos_options(addr), security);
    // SIGTERM: stop accepting, end the live feeds (their clients reconnect elsewhere), let the
    // embedded worker finish its running turns; whatever outlasts PD_DRAIN_TIMEOUT_S is cut off
    // (an unfinished turn is reclaimed by another worker after its lease).
    let (signalled, deadline) = (Arc::new(tokio::sync::Notify::new()), Arc::new(std::sync::OnceLock::new()));
    let shutdown = {
        let (backend, signalled, deadline) = (backend.clone(), signalled.clone(), deadline.clone());
        async move {
            startup::shutdown_signal().await;
            tracing::info!("shutdown signal: draining");
            let _ = deadline.set(tokio::time::Instant::now() + drain_timeout);
            backend.drain();
            signalled.notify_one();
        }
    };
    let drain_deadline = || deadline.get().copied().unwrap_or_else(|| tokio::time::Instant::now() + drain_timeout);
    let cut_off = async {
        signalled.notified().await;
        tokio::time::sleep_until(drain_deadline()).await;
    };
    tokio::select! {
        served = startup::serve_until(listener, router, shutdown) => served?,
        _ = cut_off => {
            tracing::warn!(timeout_s = drain_timeout.as_secs(), "requests still open after the drain timeout; exiting");
            return Ok(());
        }
    }
    if let Some(worker) = worker {
        if tokio::time::timeout_at(drain_deadline(), worker).await.is_err() {
            tracing::warn!(
                timeout_s = drain_timeout.as_secs(),
                "turns still running after the drain timeout; another worker takes them over"
            );
        }
    }
    tracing::info!("stopped");
    Ok(())
}

fn spawn_worker(backend: Arc<Backend>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(error) = run_worker(backend, consumer_name()).await {
            tracing::error!(%error, "embedded worker stopped");
        }
    })
}

/// A worker process. SIGTERM: no new jobs; the running turns finish within PD_DRAIN_TIMEOUT_S,
/// or are reclaimed by another worker after their lease.
async fn worker() -> Result<(), Failure> {
    let drain_timeout = config::drain_timeout()?;
    let backend = Backend::connect(config::backend()?).await?;
    let running = run_worker(backend.clone(), consumer_name());
    tokio::pin!(running);
    tokio::select! {
        result = &mut running => return Ok(result?),
        _ = startup::shutdown_signal() => {
            tracing::info!("shutdown signal: the worker takes no new jobs");
            backend.drain();
        }
    }
    match tokio::time::timeout(drain_timeout, running).await {
        Ok(result) => result?,
        Err(_) => tracing::warn!(
            timeout_s = drain_timeout.as_secs(),
            "turns still running after the drain timeout; another worker takes them over"
        ),
    }
    tracing::info!("worker stopped");
    Ok(())
}

async fn migrate() -> Result<(), Failure> {
    backend::migrate_database(&config::database_url()?, config::pool_size()?).await?;
    println!("migrations applied");
    Ok(())
}

async fn replay() -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let (conversations, events) = backend::replay_database(&config::database_url()?, config::pool_size()?).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "replayed {events} events into {conversations} conversations in {seconds:.3} s ({:.0} events/s)",
        events as f64 / seconds.max(1e-9)
    );
    Ok(())
}

async fn mock_llm(args: &[String]) -> Result<(), Failure> {
    let mut mock = mockllm::MockConfig::from_args(args).map_err(|problem| Failure::Runtime(format!("mock-llm: {problem}")))?;
    // MOCK_LLM_API_KEYS: comma-separated keys the mock accepts (others get the API's 401); unset: any key.
    mock.api_keys = std::env::var("MOCK_LLM_API_KEYS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map(str::to_string)
        .collect();
    let addr = std::env::var("MOCK_LLM_ADDR").unwrap_or_else(|_| "127.0.0.1:3900".into());
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| Failure::Config(ConfigError { variable: "MOCK_LLM_ADDR", problem: format!("`{addr}` is not an address") }))?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| Failure::Runtime(format!("cannot listen on {addr}: {e}")))?;
    println!("mock LLM listening on http://{addr}");
    tokio::select! {
        result = mockllm::serve(listener, mock) => result?,
        _ = startup::shutdown_signal() => {}
    }
    Ok(())
}
