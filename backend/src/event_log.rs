//! Reads conversation events straight from the event table, in order, for views, SSE and audit.

use chrono::{DateTime, SecondsFormat, Utc};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use domain::{ConversationEvent, LoggedEvent};
use futures::{Stream, StreamExt};
use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::aggregate::CONVERSATION;
use crate::error::BackendError;
use crate::upcasters::{needs_upcast, upcast, upcasters};

mod summary;
pub use summary::summarize;

/// One row of the audit log: `GET /api/conversations/{id}/log`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub seq: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: String,
    pub at: String,
    pub data: serde_json::Value,
    /// One human line, e.g. "Turn 3 completed (end_turn)".
    pub summary: String,
}

/// Read access to the event table.
pub struct EventLog {
    pool: PgPool,
    upcasters: Vec<Box<dyn EventUpcaster>>,
}

const COLUMNS: &str = "aggregate_id, sequence, event_type, event_version, payload::text AS payload, recorded_at";

pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl EventLog {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, upcasters: upcasters() }
    }

    /// Events of a conversation with `after < seq <= until`, in order.
    #[tracing::instrument(name = "event_log.range", skip(self))]
    pub async fn range(&self, id: &str, after: u64, until: Option<u64>) -> Result<Vec<LoggedEvent>, BackendError> {
        self.fetch(&self.pool, id, after, until, None).await
    }

    /// Events after `after`, in order, read on `connection`: inside a reader's snapshot
    /// transaction the tail agrees with the projected rows read in that same transaction.
    #[tracing::instrument(name = "event_log.tail", skip(self, connection))]
    pub async fn tail(&self, connection: &mut sqlx::PgConnection, id: &str, after: u64) -> Result<Vec<LoggedEvent>, BackendError> {
        self.fetch(connection, id, after, None, None).await
    }

    /// At most `limit` events of a conversation after `after`, in order, read on `connection`
    /// (a caller holding a transaction must not wait for a second connection from the pool).
    #[tracing::instrument(name = "event_log.page", skip(self, connection))]
    pub async fn page(
        &self,
        connection: &mut sqlx::PgConnection,
        id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, BackendError> {
        self.fetch(connection, id, after, None, Some(limit)).await
    }

    async fn fetch<'c, E: sqlx::PgExecutor<'c>>(
        &self,
        executor: E,
        id: &str,
        after: u64,
        until: Option<u64>,
        limit: Option<usize>,
    ) -> Result<Vec<LoggedEvent>, BackendError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
             AND sequence > $3 AND sequence <= $4 ORDER BY sequence LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(CONVERSATION)
            .bind(id)
            .bind(after as i64)
            .bind(until.map_or(i64::MAX, |u| u as i64))
            .bind(limit.map_or(i64::MAX, |l| l as i64))
            .fetch_all(executor)
            .await?;
        rows.iter().map(|row| self.decode(row).map(|(_, event)| event)).collect()
    }

    /// Events of a conversation after `after` except streamed text (`TextAppended`): what changes
    /// its header and list row.
    #[tracing::instrument(name = "event_log.header_range", skip(self))]
    pub async fn header_range(&self, id: &str, after: u64) -> Result<Vec<LoggedEvent>, BackendError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
             AND sequence > $3 AND event_type <> 'TextAppended' ORDER BY sequence"
        );
        let rows = sqlx::query(&sql).bind(CONVERSATION).bind(id).bind(after as i64).fetch_all(&self.pool).await?;
        rows.iter().map(|row| self.decode(row).map(|(_, event)| event)).collect()
    }

    /// The full audit log of a conversation, with raw payloads.
    #[tracing::instrument(name = "event_log.audit", skip(self))]
    pub async fn audit(&self, id: &str) -> Result<Vec<AuditEntry>, BackendError> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence");
        let rows = sqlx::query(&sql).bind(CONVERSATION).bind(id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get("payload")?;
                let summary = summarize(&self.decode(row)?.1.event);
                Ok(AuditEntry {
                    seq: row.try_get::<i64, _>("sequence")? as u64,
                    event_type: row.try_get("event_type")?,
                    version: row.try_get("event_version")?,
                    at: format_time(row.try_get("recorded_at")?),
                    data: serde_json::from_str(&payload).map_err(|e| BackendError::Corrupt(e.to_string()))?,
                    summary,
                })
            })
            .collect()
    }

    /// Every conversation event, grouped by conversation and in sequence order, for replay.
    pub fn stream_all(&self) -> impl Stream<Item = Result<(String, LoggedEvent), BackendError>> + '_ {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE aggregate_type = $1 ORDER BY aggregate_id, sequence");
        let pool = self.pool.clone();
        stream_rows(pool, sql, CONVERSATION).map(move |row| row.and_then(|row| self.decode(&row)))
    }

    fn decode(&self, row: &sqlx::postgres::PgRow) -> Result<(String, LoggedEvent), BackendError> {
        let aggregate_id: String = row.try_get("aggregate_id")?;
        let seq = row.try_get::<i64, _>("sequence")? as u64;
        let event_type: String = row.try_get("event_type")?;
        let event_version: String = row.try_get("event_version")?;
        let payload: String = row.try_get("payload")?;
        let at = format_time(row.try_get("recorded_at")?);
        let corrupt = |e: serde_json::Error| BackendError::Corrupt(format!("{aggregate_id}#{seq}: {e}"));
        let event: ConversationEvent = if needs_upcast(&self.upcasters, &event_type, &event_version) {
            let value = serde_json::from_str(&payload).map_err(corrupt)?;
            let serialized = SerializedEvent::new(
                aggregate_id.clone(),
                seq as usize,
                CONVERSATION.into(),
                event_type,
                event_version,
                value,
                serde_json::Value::Null,
            );
            serde_json::from_value(upcast(&self.upcasters, serialized).payload).map_err(corrupt)?
        } else {
            serde_json::from_str(&payload).map_err(corrupt)?
        };
        Ok((aggregate_id, LoggedEvent { seq, at, event }))
    }
}

/// Streams the rows of `sql` (its one parameter `bind`) through a bounded channel.
fn stream_rows(pool: PgPool, sql: String, bind: &'static str) -> impl Stream<Item = Result<sqlx::postgres::PgRow, BackendError>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    tokio::spawn(async move {
        let mut rows = sqlx::query(&sql).bind(bind).fetch(&pool);
        while let Some(row) = rows.next().await {
            let failed = row.is_err();
            if sender.send(row.map_err(BackendError::from)).await.is_err() || failed {
                break;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receiver)
}
