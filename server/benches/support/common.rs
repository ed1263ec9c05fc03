//! Helpers shared by the bench targets: environment, fresh databases, backend configuration,
//! the mock's text deltas, percentiles and /proc readings.

#![allow(dead_code)]

use std::time::Duration;

use backend::{BackendConfig, WorkerConfig};
use sqlx::Connection;

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set: run scripts/bench.sh"))
}

/// A new, migrated database on the bench server. Returns its URL.
pub async fn fresh_database() -> String {
    let admin_url = env("DATABASE_URL");
    let name = format!("pd_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let pool = backend::connect_pool(&url, backend::DEFAULT_POOL_SIZE).await.unwrap();
    backend::migrate(&pool).await.unwrap();
    url
}

/// The text deltas in a chunk of the mock's Anthropic SSE body.
pub fn text_deltas(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<serde_json::Value>(data).ok())
        .filter(|v| v["type"] == "content_block_delta" && v["delta"]["type"] == "text_delta")
        .filter_map(|v| v["delta"]["text"].as_str().map(str::to_string))
        .collect()
}

/// A backend configuration for in-process benches, with its providers pointed at `mock_url`.
pub fn config(database_url: &str, mock_url: &str) -> BackendConfig {
    BackendConfig {
        database_url: database_url.into(),
        pool_size: backend::DEFAULT_POOL_SIZE,
        redis_url: env("REDIS_URL"),
        job_stream: format!("pocketdev:bench:{}", uuid::Uuid::new_v4().simple()),
        anthropic: providers::anthropic::AnthropicConfig {
            base_url: mock_url.into(),
            api_key: Some("bench".into()),
            max_retries: 0,
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
        openai: providers::openai::OpenAiConfig::responses(),
        openai_compatible: providers::openai::OpenAiConfig::chat_completions(),
        openai_compatible_model: None,
        openai_compatible_context_window: None,
        catalog: std::sync::Arc::new(backend::catalog::Catalog::shipped()),
        defaults: Default::default(),
        workspace_root: std::env::temp_dir().join("pd-test-workspaces"),
        worker: WorkerConfig::default(),
        secret_key: None,
    }
}

/// `values` in ascending order.
pub fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// The `p` quantile of sorted samples (NaN when there are none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A field of /proc/<pid>/status (e.g. `VmRSS:`), in MB.
pub fn proc_status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
