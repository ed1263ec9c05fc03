//! The server under test: a release `pocket-dev serve` child process (`PD_BIN`) with its embedded
//! worker, so its CPU and RSS are its own; and the CPU readings of it and of the bench's own Postgres.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::Connection;

use crate::common::{env, fresh_database};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A release `pocket-dev serve` child with its embedded worker, killed when dropped.
pub struct Serve {
    child: tokio::process::Child,
    pub url: String,
    pub port: u16,
}

impl Serve {
    /// Starts `PD_BIN serve` on `database`, its providers pointed at `mock`, and waits for `/health`.
    /// Panics (with the tail of its log) when it does not become healthy: a bench never measures nothing.
    pub async fn start(database: &str, mock: &str) -> Serve {
        Serve::start_with_home(database, mock, None).await
    }

    /// As `start`, with the Claude Code home (where CLI sessions are imported from) at `claude_home`
    /// instead of a fresh one in the server's scratch folder.
    pub async fn start_with_home(database: &str, mock: &str, claude_home: Option<&Path>) -> Serve {
        let port = free_port();
        let scratch = std::env::temp_dir().join(format!("pd-bench-serve-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&scratch).unwrap();
        let claude_home = claude_home.map_or_else(|| scratch.join("home"), Path::to_path_buf);
        let log_path = scratch.join("serve.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let claude = std::env::var("CLAUDE_BIN").unwrap_or_else(|_| root().join("tools/node_modules/.bin/claude").display().to_string());
        let mut child = tokio::process::Command::new(env("PD_BIN"))
            .arg("serve")
            .env_remove("BASIC_AUTH_USER")
            .env_remove("BASIC_AUTH_PASS")
            .env_remove("IP_WHITELIST")
            .env_remove("TRUSTED_PROXIES")
            .env("DATABASE_URL", database)
            .env("REDIS_URL", env("REDIS_URL"))
            .env("PD_JOB_STREAM", format!("pocketdev:bench:{}", uuid::Uuid::new_v4().simple()))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", root().join("target/site"))
            .env("WORKSPACE_ROOT", std::env::temp_dir().join("pd-bench-workspace"))
            .env("CLAUDE_HOME", &claude_home)
            .env("CLAUDE_BIN", claude)
            .env("PD_SECRET_KEY_FILE", scratch.join("secret.key"))
            .env("ANTHROPIC_BASE_URL", mock)
            .env("ANTHROPIC_API_KEY", "bench-key")
            .env("CLAUDE_CODE_MAX_RETRIES", "0")
            .env("PD_WORKER_CONCURRENCY", "128")
            // BENCH_SERVE_LOG="warn,backend=info" logs the backend's span timings (serve.log in the scratch folder).
            .env("RUST_LOG", std::env::var("BENCH_SERVE_LOG").unwrap_or_else(|_| "warn".into()))
            .env("PD_SPAN_TIMES", "1")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn PD_BIN serve");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if reqwest::get(format!("{url}/health")).await.is_ok_and(|r| r.status() == 200) {
                return Serve { child, url, port };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("PD_BIN serve exited ({status}) before answering /health: {}", tail(&log_path));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("PD_BIN serve did not answer /health within 30 s: {}", tail(&log_path));
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// Its resident memory now, in MB.
    pub fn rss_mb(&self) -> f64 {
        crate::common::proc_status_mb(self.pid(), "VmRSS:").unwrap_or(f64::NAN)
    }

    /// Its peak resident memory so far, in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        crate::common::proc_status_mb(self.pid(), "VmHWM:").unwrap_or(f64::NAN)
    }
}

/// Resident memory of an idle `pocket-dev serve` on a fresh database, in MB, 3 s after it first answers `/health`.
pub async fn idle_rss() -> f64 {
    let database = fresh_database().await;
    let serve = Serve::start(&database, "http://127.0.0.1:9").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    serve.rss_mb()
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Fields of /proc/<pid>/stat after the command name (field 3, the state, is index 0).
fn stat_fields(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    after.split_whitespace().map(str::to_string).collect()
}

fn ticks(fields: &[String], indexes: &[usize]) -> f64 {
    indexes.iter().filter_map(|i| fields.get(*i)?.parse::<f64>().ok()).sum::<f64>() / 100.0
}

/// utime + stime of a process, in seconds (USER_HZ = 100).
pub fn cpu_seconds(pid: u32) -> f64 {
    ticks(&stat_fields(pid), &[11, 12])
}

/// The Postgres cluster the bench talks to (`DATABASE_URL`), found through one of its backends, so
/// its CPU is that cluster's alone, not that of every `postgres` process on the machine.
pub struct PostgresCluster {
    postmaster: u32,
}

impl PostgresCluster {
    pub async fn of(database_url: &str) -> PostgresCluster {
        let mut connection = sqlx::PgConnection::connect(database_url).await.unwrap();
        let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut connection).await.unwrap();
        let postmaster = stat_fields(backend as u32).get(1).and_then(|ppid| ppid.parse().ok()).expect("the backend's parent");
        connection.close().await.unwrap();
        PostgresCluster { postmaster }
    }

    /// CPU seconds of the postmaster, every process it forked that still runs, and those it reaped
    /// (its cutime + cstime), so a backend that exits between two readings is still counted.
    pub fn cpu_seconds(&self) -> f64 {
        let own = ticks(&stat_fields(self.postmaster), &[11, 12, 13, 14]);
        let Ok(entries) = std::fs::read_dir("/proc") else { return f64::NAN };
        let children: f64 = entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .map(stat_fields)
            .filter(|fields| fields.get(1).and_then(|ppid| ppid.parse::<u32>().ok()) == Some(self.postmaster))
            .map(|fields| ticks(&fields, &[11, 12]))
            .sum();
        own + children
    }
}
