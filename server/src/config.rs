//! Process configuration from the environment. A missing or invalid value is one clear line and exit status 2.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use backend::WorkerConfig;

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn error(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { variable, problem: problem.into() }
}

fn optional(variable: &'static str) -> Option<String> {
    std::env::var(variable).ok().filter(|v| !v.trim().is_empty())
}

fn required(variable: &'static str) -> Result<String, ConfigError> {
    optional(variable).ok_or_else(|| error(variable, "is not set"))
}

fn url(variable: &'static str, value: String, schemes: &[&str]) -> Result<String, ConfigError> {
    let scheme_ok = schemes.iter().any(|scheme| value.starts_with(&format!("{scheme}://")));
    let rest_ok = value.split_once("://").is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if !(scheme_ok && rest_ok) {
        return Err(error(variable, format!("is not a valid URL (expected {}://…)", schemes.join("://… or "))));
    }
    Ok(value)
}

fn number<T: std::str::FromStr>(variable: &'static str, default: T) -> Result<T, ConfigError> {
    match optional(variable) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| error(variable, format!("`{value}` is not a valid number"))),
    }
}

pub fn database_url() -> Result<String, ConfigError> {
    url("DATABASE_URL", required("DATABASE_URL")?, &["postgres", "postgresql"])
}

pub fn redis_url() -> Result<String, ConfigError> {
    url("REDIS_URL", required("REDIS_URL")?, &["redis", "rediss", "unix", "redis+unix"])
}

pub fn site_addr() -> Result<SocketAddr, ConfigError> {
    let value = optional("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
    value.parse().map_err(|_| error("LEPTOS_SITE_ADDR", format!("`{value}` is not an address like 127.0.0.1:3000")))
}

pub fn anthropic() -> Result<providers::anthropic::AnthropicConfig, ConfigError> {
    let base_url = match optional("ANTHROPIC_BASE_URL") {
        Some(value) => url("ANTHROPIC_BASE_URL", value, &["http", "https"])?,
        None => "https://api.anthropic.com".into(),
    };
    Ok(providers::anthropic::AnthropicConfig {
        base_url: base_url.trim_end_matches('/').to_string(),
        api_key: optional("ANTHROPIC_API_KEY"),
        max_retries: number("PD_PROVIDER_RETRIES", 3)?,
        request_timeout: Duration::from_secs(number("PD_PROVIDER_TIMEOUT_S", 60)?),
        runtime_key: Default::default(),
    })
}

/// OpenAI's Responses API: `OPENAI_BASE_URL` (default `https://api.openai.com`; a trailing `/v1` is fine) and `OPENAI_API_KEY`.
pub fn openai() -> Result<providers::openai::OpenAiConfig, ConfigError> {
    let base_url = match optional("OPENAI_BASE_URL") {
        Some(value) => url("OPENAI_BASE_URL", value, &["http", "https"])?,
        None => "https://api.openai.com".into(),
    };
    Ok(providers::openai::OpenAiConfig {
        base_url,
        api_key: optional("OPENAI_API_KEY"),
        max_retries: number("PD_PROVIDER_RETRIES", 3)?,
        request_timeout: Duration::from_secs(number("PD_PROVIDER_TIMEOUT_S", 60)?),
        ..providers::openai::OpenAiConfig::responses()
    })
}

/// An OpenAI-compatible server (llama.cpp, vLLM, Ollama…): `OPENAI_COMPATIBLE_BASE_URL` (unset:
/// the provider is unavailable), the optional `OPENAI_COMPATIBLE_API_KEY`, and the default model
/// and context window `OPENAI_COMPATIBLE_MODEL`, `OPENAI_COMPATIBLE_CONTEXT_WINDOW`.
pub fn openai_compatible() -> Result<(providers::openai::OpenAiConfig, Option<String>, Option<u64>), ConfigError> {
    let base_url = optional("OPENAI_COMPATIBLE_BASE_URL")
        .map(|value| url("OPENAI_COMPATIBLE_BASE_URL", value, &["http", "https"]))
        .transpose()?
        .unwrap_or_default();
    let window = match optional("OPENAI_COMPATIBLE_CONTEXT_WINDOW") {
        None => None,
        Some(value) => match value.trim().parse::<u64>() {
            Ok(tokens) if tokens > 0 => Some(tokens),
            _ => return Err(error("OPENAI_COMPATIBLE_CONTEXT_WINDOW", format!("`{value}` is not a positive number of tokens"))),
        },
    };
    let config = providers::openai::OpenAiConfig {
        base_url,
        api_key: optional("OPENAI_COMPATIBLE_API_KEY"),
        max_retries: number("PD_PROVIDER_RETRIES", 3)?,
        request_timeout: Duration::from_secs(number("PD_PROVIDER_TIMEOUT_S", 60)?),
        ..providers::openai::OpenAiConfig::chat_completions()
    };
    Ok((config, optional("OPENAI_COMPATIBLE_MODEL").map(|m| m.trim().to_string()), window))
}

/// The model catalogue: the file `PD_MODELS_FILE` names, else the built-in `config/models.json`.
pub fn catalog() -> Result<backend::catalog::Catalog, ConfigError> {
    match optional("PD_MODELS_FILE") {
        Some(path) => backend::catalog::Catalog::load(std::path::Path::new(&path)).map_err(|problem| error("PD_MODELS_FILE", problem)),
        None => Ok(backend::catalog::Catalog::shipped()),
    }
}

/// Settings of new conversations that choose none: `PD_MAX_TOKENS` (default 8192),
/// `PD_THINKING_BUDGET` (default 0: no extended thinking) and `PD_REASONING_EFFORT` (default `medium`).
pub fn turn_defaults() -> Result<backend::settings::TurnDefaults, ConfigError> {
    let defaults = backend::settings::TurnDefaults::default();
    let max_tokens: u32 = number("PD_MAX_TOKENS", defaults.max_tokens)?;
    if !(1..=domain::MAX_SETTING_TOKENS).contains(&max_tokens) {
        return Err(error("PD_MAX_TOKENS", format!("must be 1 to {}", domain::MAX_SETTING_TOKENS)));
    }
    let budget: u32 = number("PD_THINKING_BUDGET", 0)?;
    if budget != 0 && !(domain::MIN_THINKING_BUDGET..=domain::MAX_SETTING_TOKENS).contains(&budget) {
        return Err(error(
            "PD_THINKING_BUDGET",
            format!("must be 0 (off) or {} to {}", domain::MIN_THINKING_BUDGET, domain::MAX_SETTING_TOKENS),
        ));
    }
    let effort = match optional("PD_REASONING_EFFORT") {
        None => defaults.reasoning_effort,
        Some(effort) if domain::REASONING_EFFORTS.contains(&effort.trim()) => Some(effort.trim().to_string()),
        Some(effort) => {
            return Err(error("PD_REASONING_EFFORT", format!("`{effort}` is not one of {}", domain::REASONING_EFFORTS.join(", "))))
        }
    };
    Ok(backend::settings::TurnDefaults { max_tokens, thinking_budget: (budget > 0).then_some(budget), reasoning_effort: effort })
}

pub fn workspace_root() -> Result<PathBuf, ConfigError> {
    let root = PathBuf::from(optional("WORKSPACE_ROOT").unwrap_or_else(|| "workspace".into()));
    std::fs::create_dir_all(&root).map_err(|e| error("WORKSPACE_ROOT", format!("cannot create {}: {e}", root.display())))?;
    let resolved =
        backend::guard::Root::open(&root).map_err(|e| error("WORKSPACE_ROOT", format!("cannot resolve {}: {e}", root.display())))?;
    Ok(resolved.path().to_path_buf())
}

/// How to run the Claude Code CLI: the binary, its HOME, and what to pass through.
pub fn claude_code() -> Result<providers::claude_code::ClaudeCodeConfig, ConfigError> {
    let home = optional("CLAUDE_HOME").or_else(|| optional("HOME")).ok_or_else(|| error("HOME", "is not set"))?;
    // The adapter itself turns off the CLI's telemetry and other traffic; these are passed through.
    let mut env = Vec::new();
    for variable in ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "IS_SANDBOX", "CLAUDE_CODE_MAX_RETRIES"] {
        if let Some(value) = optional(variable) {
            env.push((variable.to_string(), value));
        }
    }
    Ok(providers::claude_code::ClaudeCodeConfig {
        bin: optional("CLAUDE_BIN").unwrap_or_else(|| "claude".into()),
        env,
        home: PathBuf::from(home),
    })
}

pub fn worker() -> Result<WorkerConfig, ConfigError> {
    let defaults = WorkerConfig::default();
    Ok(WorkerConfig {
        lease: Duration::from_millis(number("PD_JOB_LEASE_MS", defaults.lease.as_millis() as u64)?),
        concurrency: number("PD_WORKER_CONCURRENCY", defaults.concurrency)?.max(1),
        silence_timeout: Duration::from_secs(number("PD_SILENCE_TIMEOUT_S", defaults.silence_timeout.as_secs())?),
        requeue_after: Duration::from_secs(number("PD_REQUEUE_AFTER_S", defaults.requeue_after.as_secs())?),
        approval_timeout: Duration::from_secs(number("PD_APPROVAL_TIMEOUT_S", defaults.approval_timeout.as_secs())?),
    })
}

/// How long a stopping `serve` or `worker` waits for open requests and running turns (`PD_DRAIN_TIMEOUT_S`).
pub fn drain_timeout() -> Result<Duration, ConfigError> {
    Ok(Duration::from_secs(number("PD_DRAIN_TIMEOUT_S", 30)?))
}

/// Postgres connections per process (`PD_DB_POOL`): at least 1.
pub fn pool_size() -> Result<u32, ConfigError> {
    match number("PD_DB_POOL", backend::DEFAULT_POOL_SIZE)? {
        0 => Err(error("PD_DB_POOL", "must be at least 1")),
        size => Ok(size),
    }
}

pub fn job_stream() -> String {
    optional("PD_JOB_STREAM").unwrap_or_else(|| "pocketdev:jobs".into())
}

/// Everything `serve` and `worker` need.
pub fn backend() -> Result<backend::BackendConfig, ConfigError> {
    let (openai_compatible, openai_compatible_model, openai_compatible_context_window) = openai_compatible()?;
    Ok(backend::BackendConfig {
        database_url: database_url()?,
        pool_size: pool_size()?,
        redis_url: redis_url()?,
        job_stream: job_stream(),
        anthropic: anthropic()?,
        claude_code: claude_code()?,
        openai: openai()?,
        openai_compatible,
        openai_compatible_model,
        openai_compatible_context_window,
        catalog: std::sync::Arc::new(catalog()?),
        defaults: turn_defaults()?,
        workspace_root: workspace_root()?,
        worker: worker()?,
        secret_key: Some(secret_key()?),
    })
}

/// The placeholder password of `.env.example`, refused everywhere.
pub const PLACEHOLDER_PASSWORD: &str = "change-me";

/// The in-app security gateway. Without `BASIC_AUTH_USER`/`BASIC_AUTH_PASS` the server runs open
/// only on a loopback address (with a warning); on any other address it refuses to start.
pub fn security(addr: SocketAddr) -> Result<crate::security::SecurityConfig, ConfigError> {
    use crate::security::{IpList, Origin, SecurityConfig};
    let credentials = match (optional("BASIC_AUTH_USER"), std::env::var("BASIC_AUTH_PASS").ok().filter(|p| !p.is_empty())) {
        (Some(user), Some(password)) => {
            if password == PLACEHOLDER_PASSWORD {
                return Err(error("BASIC_AUTH_PASS", "is still the placeholder `change-me` from .env.example; choose a real password"));
            }
            if user.contains(':') {
                return Err(error("BASIC_AUTH_USER", "may not contain `:`"));
            }
            Some(crate::security::Credentials::new(user, password))
        }
        (Some(_), None) => return Err(error("BASIC_AUTH_PASS", "is not set, but BASIC_AUTH_USER is; set both")),
        (None, Some(_)) => return Err(error("BASIC_AUTH_USER", "is not set, but BASIC_AUTH_PASS is; set both")),
        (None, None) if crate::security::is_loopback(&addr) => {
            tracing::warn!(%addr, "BASIC_AUTH_USER/BASIC_AUTH_PASS are not set: running WITHOUT authentication, reachable from this machine only");
            None
        }
        (None, None) => {
            return Err(error(
                "BASIC_AUTH_USER",
                format!("BASIC_AUTH_USER and BASIC_AUTH_PASS must be set when listening on {addr}, which is not a loopback address"),
            ))
        }
    };
    let list = |variable: &'static str| IpList::parse(&optional(variable).unwrap_or_default()).map_err(|problem| error(variable, problem));
    let allowed_origins = optional("PD_ALLOWED_ORIGINS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| Origin::parse(o).ok_or_else(|| error("PD_ALLOWED_ORIGINS", format!("`{o}` is not an origin like https://host[:port]"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SecurityConfig {
        credentials,
        whitelist: list("IP_WHITELIST")?,
        trusted_proxies: list("TRUSTED_PROXIES")?,
        allowed_origins,
        upload_max_bytes: number("PD_UPLOAD_MAX_BYTES", crate::security::DEFAULT_UPLOAD_MAX_BYTES)?.max(1),
    })
}

/// The key that encrypts API keys at rest: `POCKET_DEV_SECRET_KEY` (64 hex digits or base64 of 32
/// bytes), else the key file `PD_SECRET_KEY_FILE` (default `$HOME/.pocket-dev/secret.key`),
/// created with mode 0600 on first run.
pub fn secret_key() -> Result<backend::secrets::SecretKey, ConfigError> {
    use backend::secrets::SecretKey;
    if let Some(text) = optional("POCKET_DEV_SECRET_KEY") {
        return SecretKey::parse(&text).map_err(|problem| error("POCKET_DEV_SECRET_KEY", problem));
    }
    let path = match optional("PD_SECRET_KEY_FILE") {
        Some(path) => PathBuf::from(path),
        None => {
            let home = optional("HOME").ok_or_else(|| error("PD_SECRET_KEY_FILE", "is not set and neither is HOME"))?;
            PathBuf::from(home).join(".pocket-dev").join("secret.key")
        }
    };
    SecretKey::load_or_create(&path).map_err(|problem| error("PD_SECRET_KEY_FILE", problem))
}
