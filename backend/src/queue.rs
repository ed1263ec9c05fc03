//! The job queue: a Redis stream with one consumer group (XADD, XREADGROUP, XACK, XAUTOCLAIM).
//!
//! Postgres stays the source of truth: a job is only a pointer to a `PromptSubmitted` event,
//! and running it twice is safe because each attempt is fenced by the aggregate.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamClaimOptions, StreamId, StreamMaxlen, StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, AsyncConnectionConfig, Client};
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

/// The producer side, and a factory for consumers.
#[derive(Clone)]
pub struct JobQueue {
    client: Client,
    connection: MultiplexedConnection,
    stream: String,
}

impl JobQueue {
    /// Connects and makes sure the stream and its consumer group exist.
    #[tracing::instrument(name = "queue.connect", skip(url))]
    pub async fn connect(url: &str, stream: &str) -> Result<Self, BackendError> {
        let client = Client::open(url)?;
        let connection = client.get_multiplexed_async_connection().await?;
        let queue = Self { client, connection, stream: stream.to_string() };
        queue.ensure_group().await?;
        Ok(queue)
    }

    async fn ensure_group(&self) -> Result<(), BackendError> {
        let mut connection = self.connection.clone();
        let created: Result<(), redis::RedisError> = connection.xgroup_create_mkstream(&self.stream, GROUP, "0").await;
        match created {
            Err(error) if error.code() != Some("BUSYGROUP") => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// Appends a job to the stream.
    #[tracing::instrument(name = "queue.enqueue", skip(self))]
    pub async fn enqueue(&self, job: &TurnJob) -> Result<String, BackendError> {
        let mut connection = self.connection.clone();
        let body = serde_json::to_string(job).expect("a job always serializes");
        let id: String = connection.xadd_maxlen(&self.stream, StreamMaxlen::Approx(100_000), "*", &[(FIELD, body)]).await?;
        Ok(id)
    }

    /// A consumer with its own blocking connection: redis 1.x times out async calls after
    /// 500 ms by default, which would break `XREADGROUP BLOCK`.
    pub async fn consumer(&self, name: &str) -> Result<Consumer, BackendError> {
        let config = AsyncConnectionConfig::new().set_response_timeout(None);
        let blocking = self.client.get_multiplexed_async_connection_with_config(&config).await?;
        Ok(Consumer { queue: self.clone(), blocking, name: name.to_string() })
    }

    /// How many entries are delivered but not yet acknowledged.
    pub async fn pending(&self) -> Result<usize, BackendError> {
        let mut connection = self.connection.clone();
        let reply: redis::streams::StreamPendingReply = connection.xpending(&self.stream, GROUP).await?;
        Ok(reply.count())
    }
}

/// One named member of the consumer group.
pub struct Consumer {
    queue: JobQueue,
    blocking: MultiplexedConnection,
    name: String,
}

impl Consumer {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits up to `block` for a new job.
    pub async fn read(&mut self, block: Duration) -> Result<Option<Delivery>, BackendError> {
        let options = StreamReadOptions::default().group(GROUP, &self.name).count(1).block(block.as_millis() as usize);
        let reply: Option<StreamReadReply> = match self.blocking.xread_options(&[&self.queue.stream], &[">"], &options).await {
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
        let mut connection = self.queue.connection.clone();
        let options = StreamAutoClaimOptions::default().count(count);
        let reply: StreamAutoClaimReply = match connection
            .xautoclaim_options(&self.queue.stream, GROUP, &self.name, lease.as_millis() as usize, "0-0", options)
            .await
        {
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
        let mut connection = self.queue.connection.clone();
        let options = StreamClaimOptions::default().with_justid();
        let _: redis::Value = connection.xclaim_options(&self.queue.stream, GROUP, &self.name, 0, &[entry_id], options).await?;
        Ok(())
    }

    pub async fn ack(&self, entry_id: &str) -> Result<(), BackendError> {
        let mut connection = self.queue.connection.clone();
        let _: usize = connection.xack(&self.queue.stream, GROUP, &[entry_id]).await?;
        Ok(())
    }
}

fn delivery(entry: StreamId, reclaimed: bool) -> Delivery {
    let job = entry
        .get::<String>(FIELD)
        .and_then(|body| serde_json::from_str(&body).map_err(|error| tracing::error!(%error, "unreadable job")).ok());
    Delivery { entry_id: entry.id, job, reclaimed }
}
