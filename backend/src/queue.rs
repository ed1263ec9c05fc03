//! The job queue: a Redis stream with one consumer group (XADD, XREADGROUP, XACK, XAUTOCLAIM).
//!
//! Postgres stays the source of truth: a job is only a pointer to a `PromptSubmitted` event,
//! and running it twice is safe because each attempt is fenced by the aggregate.
//!
//! Every connection is a `Reconnecting` one: a call that finds its connection dead (Redis restarted,
//! the network dropped) connects again and is sent once more, so an outage lasts as long as Redis is down.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamClaimOptions, StreamId, StreamMaxlen, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncConnectionConfig, Client};
use serde::{Deserialize, Serialize};

use crate::error::BackendError;

const GROUP: &str = "workers";
const FIELD: &str = "job";

/// Run one turn of one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnJob {
    pub conversation_id: String,
    pub turn: u32,
    pub job_id: String,
}

/// A job handed to this consumer, with its stream entry id.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub entry_id: String,
    pub job: Option<TurnJob>,
    /// Taken over from a silent consumer rather than read fresh.
    pub reclaimed: bool,
}

/// A multiplexed connection that is replaced once it has failed with an IO error.
/// (A `MultiplexedConnection` whose socket died fails every later call.)
#[derive(Clone)]
struct Reconnecting {
    client: Client,
    config: AsyncConnectionConfig,
    current: Arc<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
}

impl Reconnecting {
    async fn connect(client: Client, config: AsyncConnectionConfig) -> Result<Self, redis::RedisError> {
        let connection = client.get_multiplexed_async_connection_with_config(&config).await?;
        Ok(Self { client, config, current: Arc::new(tokio::sync::Mutex::new(Some(connection))) })
    }

    /// The live connection, connecting again when the last one failed.
    async fn get(&self) -> Result<MultiplexedConnection, redis::RedisError> {
        let mut current = self.current.lock().await;
        if let Some(connection) = current.as_ref() {
            return Ok(connection.clone());
        }
        let connection = self.client.get_multiplexed_async_connection_with_config(&self.config).await.inspect_err(|error| {
            tracing::debug!(%error, "redis still unreachable");
        })?;
        tracing::info!("reconnected to redis");
        *current = Some(connection.clone());
        Ok(connection)
    }

    /// Runs `command`. A call that finds the connection dead (Redis restarted since the last one)
    /// is sent once more on a new connection: every command here may run twice harmlessly (a job
    /// twice is fenced; claims, acks and reads are idempotent or reclaimed).
    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, redis::RedisError> {
        let mut connection = self.get().await?;
        match command.query_async(&mut connection).await {
            Err(error) if is_connection_lost(&error) => {
                self.drop_connection(&error).await;
                let mut connection = self.get().await?;
                let again = command.query_async(&mut connection).await;
                if let Err(error) = &again {
                    if is_connection_lost(error) {
                        self.drop_connection(error).await;
                    }
                }
                again
            }
            other => other,
        }
    }

    async fn drop_connection(&self, error: &redis::RedisError) {
        if self.current.lock().await.take().is_some() {
            tracing::warn!(%error, "redis connection lost; reconnecting");
        }
    }
}

fn is_connection_lost(error: &redis::RedisError) -> bool {
    error.is_unrecoverable_error() || error.is_io_error() || error.is_connection_dropped()
}

/// The producer side, and a factory for consumers.
#[derive(Clone)]
pub struct JobQueue {
    client: Client,
    connection: Reconnecting,
    stream: String,
}

impl JobQueue {
    /// Connects and makes sure the stream and its consumer group exist.
    #[tracing::instrument(name = "queue.connect", skip(url))]
    pub async fn connect(url: &str, stream: &str) -> Result<Self, BackendError> {
        let client = Client::open(url)?;
        let connection = Reconnecting::connect(client.clone(), AsyncConnectionConfig::new()).await?;
        let queue = Self { client, connection, stream: stream.to_string() };
        queue.ensure_group().await?;
        Ok(queue)
    }

    async fn ensure_group(&self) -> Result<(), BackendError> {
        let created: Result<(), redis::RedisError> =
            self.connection.query(&redis::Cmd::xgroup_create_mkstream(&self.stream, GROUP, "0")).await;
        match created {
            Err(error) if error.code() != Some("BUSYGROUP") => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// Appends a job to the stream.
    #[tracing::instrument(name = "queue.enqueue", skip(self))]
    pub async fn enqueue(&self, job: &TurnJob) -> Result<String, BackendError> {
        let body = serde_json::to_string(job).expect("a job always serializes");
        let add = redis::Cmd::xadd_maxlen(&self.stream, StreamMaxlen::Approx(100_000), "*", &[(FIELD, body)]);
        Ok(self.connection.query(&add).await?)
    }

    /// A consumer with its own blocking connection: redis 1.x times out async calls after
    /// 500 ms by default, which would break `XREADGROUP BLOCK`.
    pub async fn consumer(&self, name: &str) -> Result<Consumer, BackendError> {
        let config = AsyncConnectionConfig::new().set_response_timeout(None);
        let blocking = Reconnecting::connect(self.client.clone(), config).await?;
        Ok(Consumer { queue: self.clone(), blocking, name: name.to_string() })
    }

    /// How many entries are delivered but not yet acknowledged.
    pub async fn pending(&self) -> Result<usize, BackendError> {
        let reply: redis::streams::StreamPendingReply = self.connection.query(&redis::Cmd::xpending(&self.stream, GROUP)).await?;
        Ok(reply.count())
    }

    /// `PING`: whether Redis answers (for `/health`).
    #[tracing::instrument(name = "queue.ping", skip(self))]
    pub async fn ping(&self) -> Result<(), BackendError> {
        let _pong: String = self.connection.query(&redis::cmd("PING")).await?;
        Ok(())
    }
}

/// One named member of the consumer group.
pub struct Consumer {
    queue: JobQueue,
    blocking: Reconnecting,
    name: String,
}

impl Consumer {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits up to `block` for a new job.
    pub async fn read(&mut self, block: Duration) -> Result<Option<Delivery>, BackendError> {
        let options = StreamReadOptions::default().group(GROUP, &self.name).count(1).block(block.as_millis() as usize);
        let read = redis::Cmd::xread_options(&[&self.queue.stream], &[">"], &options);
        let reply: Option<StreamReadReply> = match self.blocking.query(&read).await {
            Err(error) if error.code() == Some("NOGROUP") => {
                // The stream was lost (e.g. Redis restarted without its data): recreate it.
                tracing::warn!("job stream or group missing; recreating it");
                self.queue.ensure_group().await?;
                return Ok(None);
            }
            other => other?,
        };
        Ok(reply.and_then(|reply| reply.keys.into_iter().flat_map(|key| key.ids).next()).map(|entry| delivery(entry, false)))
    }

    /// Takes over up to `count` jobs whose consumer has been silent for `lease` (a dead worker).
    #[tracing::instrument(name = "queue.claim_stale", skip(self), fields(consumer = %self.name))]
    pub async fn claim_stale(&self, lease: Duration, count: usize) -> Result<Vec<Delivery>, BackendError> {
        if count == 0 {
            return Ok(vec![]);
        }
        let options = StreamAutoClaimOptions::default().count(count);
        let claim = redis::Cmd::xautoclaim_options(&self.queue.stream, GROUP, &self.name, lease.as_millis() as usize, "0-0", options);
        let reply: StreamAutoClaimReply = match self.queue.connection.query(&claim).await {
            Err(error) if error.code() == Some("NOGROUP") => {
                self.queue.ensure_group().await?;
                return Ok(vec![]);
            }
            other => other?,
        };
        for id in &reply.deleted_ids {
            tracing::warn!(entry = %id, "a pending job was trimmed from the stream before it ran");
        }
        Ok(reply.claimed.into_iter().map(|entry| delivery(entry, true)).collect())
    }

    /// Resets the idle time of a job we are running, so nobody reclaims it.
    pub async fn heartbeat(&self, entry_id: &str) -> Result<(), BackendError> {
        let options = StreamClaimOptions::default().with_justid();
        let _: redis::Value = self
            .queue
            .connection
            .query(&redis::Cmd::xclaim_options(&self.queue.stream, GROUP, &self.name, 0, &[entry_id], options))
            .await?;
        Ok(())
    }

    pub async fn ack(&self, entry_id: &str) -> Result<(), BackendError> {
        let _: usize = self.queue.connection.query(&redis::Cmd::xack(&self.queue.stream, GROUP, &[entry_id])).await?;
        Ok(())
    }
}

fn delivery(entry: StreamId, reclaimed: bool) -> Delivery {
    let job = entry
        .get::<String>(FIELD)
        .and_then(|body| serde_json::from_str(&body).map_err(|error| tracing::error!(%error, "unreadable job")).ok());
    Delivery { entry_id: entry.id, job, reclaimed }
}
