//! `Backend`: the wired-up application (pool, event store, projections, live feed, queue, providers).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::CqrsFramework;
use domain::{Conversation, ConversationCommand};
use providers::anthropic::{AnthropicConfig, AnthropicProvider};
use providers::claude_code::ClaudeCodeConfig;
use providers::openai::{OpenAiConfig, OpenAiProvider};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

use crate::aggregate::{ConversationAggregate, CONVERSATION};
use crate::catalog::Catalog;
use crate::error::BackendError;
use crate::event_log::EventLog;
use crate::live::LiveHub;
use crate::projection::{ProjectionQuery, Projector};
use crate::queue::JobQueue;
use crate::registry::ProviderRegistry;
use crate::settings::TurnDefaults;
use crate::store::SnapshottingStore;

/// What the backend needs to start.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub database_url: String,
    /// Postgres connections of this process (`connect_pool`).
    pub pool_size: u32,
    pub redis_url: String,
    /// The Redis stream holding jobs; tests use their own.
    pub job_stream: String,
    pub anthropic: AnthropicConfig,
    pub claude_code: ClaudeCodeConfig,
    /// OpenAI's Responses API.
    pub openai: OpenAiConfig,
    /// An OpenAI-compatible server (llama.cpp, vLLM, Ollama…) through Chat Completions.
    pub openai_compatible: OpenAiConfig,
    /// The OpenAI-compatible server's model, used when a conversation names none.
    pub openai_compatible_model: Option<String>,
    /// Its context window, for models the catalogue does not list exactly.
    pub openai_compatible_context_window: Option<u64>,
    /// Models, context windows and prices.
    pub catalog: Arc<Catalog>,
    /// Settings of new conversations that do not choose their own.
    pub defaults: TurnDefaults,
    /// Conversations' workspaces are folders directly under this root.
    pub workspace_root: PathBuf,
    pub worker: WorkerConfig,
    /// Encrypts API keys entered on the settings page; `None` disables storing them.
    pub secret_key: Option<crate::secrets::SecretKey>,
}

/// How workers run jobs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// A job whose worker has been silent this long is reclaimed by another.
    pub lease: Duration,
    /// Jobs run at once per worker process.
    pub concurrency: usize,
    /// A turn fails after this long without any provider output.
    pub silence_timeout: Duration,
    /// A turn no worker has started after this long is queued again.
    pub requeue_after: Duration,
    /// A tool approval nobody decides within this time is denied.
    pub approval_timeout: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(15),
            concurrency: 4,
            silence_timeout: Duration::from_secs(300),
            requeue_after: Duration::from_secs(60),
            approval_timeout: Duration::from_secs(600),
        }
    }
}

pub type Cqrs = CqrsFramework<ConversationAggregate, SnapshottingStore>;

/// The application: every use case hangs off this. Its parts are private to the backend: the
/// server and the app call use cases, and never hold a pool, a queue or a store.
pub struct Backend {
    pub(crate) config: BackendConfig,
    pub(crate) pool: PgPool,
    pub(crate) cqrs: Cqrs,
    /// The event store itself, for writers that keep their own aggregate (`appender`).
    pub(crate) store: SnapshottingStore,
    /// The same store without projections, for bulk writes (imports) that project once at the end.
    pub(crate) bulk_cqrs: Cqrs,
    pub(crate) log: Arc<EventLog>,
    pub(crate) projector: Arc<Projector>,
    pub(crate) queue: JobQueue,
    pub(crate) hub: Arc<LiveHub>,
    pub(crate) anthropic: AnthropicProvider,
    pub(crate) openai: OpenAiProvider,
    pub(crate) openai_compatible: OpenAiProvider,
    /// The providers as configured: availability, models, context windows.
    pub(crate) registry: ProviderRegistry,
    /// The encrypted API key store, when `config.secret_key` is set.
    pub(crate) secrets: Option<Arc<crate::secrets::Secrets>>,
    /// Flips to true once the process is shutting down (`drain`): live feeds end so their clients
    /// reconnect elsewhere, and workers take no new jobs but finish the ones they run.
    draining: tokio::sync::watch::Sender<bool>,
}

impl Backend {
    /// Connects to Postgres and Redis and wires everything. Does not migrate.
    #[tracing::instrument(name = "backend.connect", skip_all)]
    pub async fn connect(config: BackendConfig) -> Result<Arc<Self>, BackendError> {
        let pool = connect_pool(&config.database_url, config.pool_size).await?;
        let log = Arc::new(EventLog::new(pool.clone()));
        let projector = Arc::new(Projector::new(pool.clone(), log.clone()));
        let cqrs = CqrsFramework::new(SnapshottingStore::new(pool.clone()), vec![Box::new(ProjectionQuery(projector.clone()))], ());
        let bulk_cqrs = CqrsFramework::new(SnapshottingStore::new(pool.clone()), vec![], ());
        let store = SnapshottingStore::with_group_commit(pool.clone());
        let queue = JobQueue::connect(&config.redis_url, &config.job_stream).await?;
        let hub = LiveHub::start(pool.clone());
        let anthropic = AnthropicProvider::new(config.anthropic.clone());
        let openai = OpenAiProvider::new(config.openai.clone());
        let openai_compatible = OpenAiProvider::new(config.openai_compatible.clone());
        let registry = ProviderRegistry::new(
            config.catalog.clone(),
            config.anthropic.clone(),
            config.claude_code.bin.clone(),
            config.openai.clone(),
            config.openai_compatible.clone(),
            config.openai_compatible_model.clone(),
            config.openai_compatible_context_window,
        );
        let secrets = match &config.secret_key {
            Some(key) => Some(crate::secrets::Secrets::start(pool.clone(), key, environment_keys(&config), runtime_keys(&config)).await?),
            None => None,
        };
        let draining = tokio::sync::watch::Sender::new(false);
        Ok(Arc::new(Self {
            config,
            pool,
            cqrs,
            store,
            bulk_cqrs,
            log,
            projector,
            queue,
            hub,
            anthropic,
            openai,
            openai_compatible,
            registry,
            secrets,
            draining,
        }))
    }

    /// Starts the shutdown: see `draining`. Idempotent.
    pub fn drain(&self) {
        if !self.draining.send_replace(true) {
            tracing::info!("draining: live feeds close, workers take no new jobs");
        }
    }

    /// Watches the shutdown flag (`*receiver.borrow()` is true once draining).
    pub fn draining(&self) -> tokio::sync::watch::Receiver<bool> {
        self.draining.subscribe()
    }

    /// Runs a command, retrying when another writer got in first.
    pub async fn execute(&self, id: &str, command: ConversationCommand) -> Result<(), BackendError> {
        self.execute_with_metadata(id, command, HashMap::new()).await
    }

    #[tracing::instrument(name = "backend.execute", skip(self, command, metadata))]
    pub async fn execute_with_metadata(
        &self,
        id: &str,
        command: ConversationCommand,
        metadata: HashMap<String, String>,
    ) -> Result<(), BackendError> {
        let mut tries = 0;
        loop {
            match self.cqrs.execute_with_metadata(id, command.clone(), metadata.clone()).await.map_err(BackendError::from) {
                Err(BackendError::Conflict) if tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    /// Runs a command without projecting it; the caller runs `projector.catch_up` afterwards.
    pub async fn execute_bulk(&self, id: &str, command: ConversationCommand) -> Result<(), BackendError> {
        let mut tries = 0;
        loop {
            match self.bulk_cqrs.execute(id, command.clone()).await.map_err(BackendError::from) {
                Err(BackendError::Conflict) if tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    /// `SELECT 1` through the pool: whether Postgres answers (for `/health`).
    #[tracing::instrument(name = "backend.ping_postgres", skip(self))]
    pub async fn ping_postgres(&self) -> Result<(), BackendError> {
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// `PING` through the job queue's connection: whether Redis answers (for `/health`).
    pub async fn ping_redis(&self) -> Result<(), BackendError> {
        self.queue.ping().await
    }

    /// Whether the conversation exists (started, not deleted): its snapshot row, a few hundred bytes,
    /// not its view (opening a feed checks this).
    #[tracing::instrument(name = "backend.conversation_exists", skip(self))]
    pub async fn conversation_exists(&self, id: &str) -> Result<bool, BackendError> {
        let state = self.state(id).await?;
        Ok(state.started && !state.deleted)
    }

    /// `NotFound` unless the conversation exists.
    pub async fn ensure_conversation(&self, id: &str) -> Result<(), BackendError> {
        if self.conversation_exists(id).await? {
            Ok(())
        } else {
            Err(BackendError::NotFound)
        }
    }

    /// Rebuilds every projection from the event log; returns how many conversations and events.
    pub async fn replay(&self) -> Result<(usize, usize), BackendError> {
        self.projector.replay().await
    }

    /// Brings the conversation's projections up to its log now (imports and tests; commits do it themselves).
    pub async fn catch_up(&self, id: &str) -> Result<(), BackendError> {
        self.projector.catch_up(id).await
    }

    /// Projects every conversation whose view is behind its log; returns how many were.
    pub async fn catch_up_all(&self) -> Result<usize, BackendError> {
        self.projector.catch_up_all().await
    }

    /// The audit log of one conversation, a human line per event.
    pub async fn audit(&self, id: &str) -> Result<Vec<crate::event_log::AuditEntry>, BackendError> {
        self.ensure_conversation(id).await?;
        self.log.audit(id).await
    }

    /// The conversation's events after `after`, then live as they commit (see `LiveHub::follow`).
    pub fn follow(&self, id: String, after: u64) -> tokio::sync::mpsc::Receiver<Result<domain::LoggedEvent, BackendError>> {
        self.hub.follow(self.log.clone(), id, after)
    }

    /// The conversation list's changes, live (see `LiveHub::follow_list`).
    pub fn follow_list(&self) -> tokio::sync::mpsc::Receiver<Result<crate::live_list::ListChange, BackendError>> {
        self.hub.follow_list(self.pool.clone(), self.log.clone())
    }

    /// One page of the conversation list.
    pub async fn list_conversations(&self, query: &crate::views::ListQuery) -> Result<crate::views::ListPage, BackendError> {
        crate::views::list(&self.pool, query).await
    }

    /// The providers and whether each is available.
    pub fn providers(&self) -> Vec<crate::registry::ProviderInfo> {
        self.registry.providers()
    }

    /// The model catalogue: context windows and prices.
    pub fn catalog(&self) -> &Catalog {
        self.registry.catalog()
    }

    /// `WORKSPACE_ROOT`, resolved.
    pub fn workspaces_root(&self) -> &std::path::Path {
        &self.config.workspace_root
    }

    /// The Claude Code CLI's HOME (its `.claude` folder holds sessions, credentials, config).
    pub fn claude_home(&self) -> &std::path::Path {
        &self.config.claude_code.home
    }

    /// The aggregate's decision state, from its snapshot.
    pub async fn state(&self, id: &str) -> Result<Conversation, BackendError> {
        let row = sqlx::query("SELECT payload::text AS payload FROM snapshots WHERE aggregate_type = $1 AND aggregate_id = $2")
            .bind(CONVERSATION)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => serde_json::from_str(&row.try_get::<String, _>("payload")?)
                .map_err(|e| BackendError::Corrupt(format!("snapshot {id}: {e}"))),
            None => Ok(Conversation::default()),
        }
    }
}

/// The API keys the environment provides, which settings-page keys override.
fn environment_keys(config: &BackendConfig) -> HashMap<&'static str, String> {
    use crate::secrets::{ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENAI_COMPATIBLE_API_KEY};
    [
        (ANTHROPIC_API_KEY, &config.anthropic.api_key),
        (OPENAI_API_KEY, &config.openai.api_key),
        (OPENAI_COMPATIBLE_API_KEY, &config.openai_compatible.api_key),
    ]
    .into_iter()
    .filter_map(|(name, key)| key.clone().filter(|k| !k.trim().is_empty()).map(|key| (name, key)))
    .collect()
}

/// The providers' run-time keys, which the settings page sets.
fn runtime_keys(config: &BackendConfig) -> HashMap<&'static str, providers::RuntimeKey> {
    use crate::secrets::{ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENAI_COMPATIBLE_API_KEY};
    HashMap::from([
        (ANTHROPIC_API_KEY, config.anthropic.runtime_key.clone()),
        (OPENAI_API_KEY, config.openai.runtime_key.clone()),
        (OPENAI_COMPATIBLE_API_KEY, config.openai_compatible.runtime_key.clone()),
    ])
}

/// Connections per process unless configured (`PD_DB_POOL`): a web process plus its embedded worker.
pub const DEFAULT_POOL_SIZE: u32 = 32;

/// A pool of `size` connections (the server's `PD_DB_POOL`, default `DEFAULT_POOL_SIZE`).
/// Connections are not pinged before each use (sqlx's default): that doubled the round trips of
/// every streamed token. A connection that broke fails its query, which callers already treat as
/// the database being unavailable, and the pool replaces it.
pub async fn connect_pool(url: &str, size: u32) -> Result<PgPool, BackendError> {
    Ok(PgPoolOptions::new().max_connections(size).test_before_acquire(false).acquire_timeout(Duration::from_secs(10)).connect(url).await?)
}

/// Applies `migrations/`.
pub async fn migrate(pool: &PgPool) -> Result<(), BackendError> {
    sqlx::migrate!("../migrations").run(pool).await.map_err(|e| BackendError::Store(e.to_string()))
}

/// Applies `migrations/` to the database at `url` (`pocket-dev migrate`).
#[tracing::instrument(name = "backend.migrate", skip_all)]
pub async fn migrate_database(url: &str, pool_size: u32) -> Result<(), BackendError> {
    migrate(&connect_pool(url, pool_size).await?).await
}

/// Rebuilds every projection of the database at `url` from its event log (`pocket-dev replay`);
/// returns how many conversations and events were replayed.
#[tracing::instrument(name = "backend.replay", skip_all)]
pub async fn replay_database(url: &str, pool_size: u32) -> Result<(usize, usize), BackendError> {
    let pool = connect_pool(url, pool_size).await?;
    let log = Arc::new(EventLog::new(pool.clone()));
    Projector::new(pool, log).replay().await
}
