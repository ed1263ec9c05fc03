//! The event store: cqrs-es over postgres-es with a snapshot written on every commit.
//!
//! cqrs-es 0.5's own snapshot stores apply new events twice. `SnapshottingStore` instead
//! snapshots the aggregate exactly as `handle` left it, in the same transaction as the events.
//! A command therefore loads one snapshot row and no events, however long the conversation.
//! (A running attempt's streamed text is appended without moving the snapshot: see `appender`.)
//!
//! Commits are written here rather than by postgres-es's `persist`, which commits the events
//! before it checks the snapshot's optimistic lock: a lost race there leaves the events stored
//! while reporting a conflict, and the retry stores them twice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use cqrs_es::persist::{EventStoreAggregateContext, EventUpcaster, PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use domain::LoggedEvent;
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;

use crate::aggregate::ConversationAggregate;
use crate::event_log::format_time;
use crate::group_commit::{GroupCommit, Refusal};
use crate::upcasters::{upcast, upcasters};

type A = ConversationAggregate;

/// An `EventStore` that keeps a correct per-commit snapshot.
pub struct SnapshottingStore {
    pool: PgPool,
    repo: PostgresEventRepository,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    /// Where single events appended without a snapshot go, when this store has one.
    group: Option<GroupCommit>,
}

impl SnapshottingStore {
    pub fn new(pool: PgPool) -> Self {
        Self { repo: PostgresEventRepository::new(pool.clone()), pool, upcasters: upcasters(), group: None }
    }

    /// A store whose lone streamed events are group-committed with those of other conversations.
    pub fn with_group_commit(pool: PgPool) -> Self {
        Self { group: Some(GroupCommit::start(pool.clone())), ..Self::new(pool) }
    }

    fn deserialize(&self, events: Vec<SerializedEvent>) -> Result<Vec<EventEnvelope<A>>, PersistenceError> {
        events.into_iter().map(|event| EventEnvelope::<A>::try_from(upcast(&self.upcasters, event))).collect()
    }

    async fn replay_from_scratch(&self, aggregate_id: &str) -> Result<EventStoreAggregateContext<A>, PersistenceError> {
        let events = self.deserialize(self.repo.get_events::<A>(aggregate_id).await?)?;
        let mut aggregate = A::default();
        let current_sequence = events.last().map_or(0, |e| e.sequence);
        for envelope in events {
            aggregate.apply(envelope.payload);
        }
        Ok(EventStoreAggregateContext { aggregate_id: aggregate_id.to_string(), aggregate, current_sequence, current_snapshot: None })
    }
}

impl EventStore<A> for SnapshottingStore {
    type AC = EventStoreAggregateContext<A>;

    #[tracing::instrument(name = "store.load_events", skip(self))]
    async fn load_events(&self, aggregate_id: &str) -> Result<Vec<EventEnvelope<A>>, AggregateError<domain::ConversationError>> {
        Ok(self.deserialize(self.repo.get_events::<A>(aggregate_id).await?)?)
    }

    #[tracing::instrument(name = "store.load_aggregate", skip(self))]
    async fn load_aggregate(&self, aggregate_id: &str) -> Result<Self::AC, AggregateError<domain::ConversationError>> {
        let Some(snapshot) = self.repo.get_snapshot::<A>(aggregate_id).await? else {
            return Ok(self.replay_from_scratch(aggregate_id).await?);
        };
        let Ok(mut aggregate) = serde_json::from_value::<A>(snapshot.aggregate) else {
            tracing::warn!(aggregate_id, "snapshot no longer deserializes; replaying events");
            let mut context = self.replay_from_scratch(aggregate_id).await?;
            context.current_snapshot = Some(snapshot.current_snapshot);
            return Ok(context);
        };
        let later = self.repo.get_last_events::<A>(aggregate_id, snapshot.current_sequence).await?;
        let mut current_sequence = snapshot.current_sequence;
        for envelope in self.deserialize(later)? {
            current_sequence = envelope.sequence;
            aggregate.apply(envelope.payload);
        }
        Ok(EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            current_sequence,
            current_snapshot: Some(snapshot.current_snapshot),
        })
    }

    #[tracing::instrument(name = "store.commit", skip_all, fields(aggregate_id = %context.aggregate_id, events = events.len()))]
    async fn commit(
        &self,
        events: Vec<<A as Aggregate>::Event>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<domain::ConversationError>> {
        if events.is_empty() {
            return Ok(vec![]);
        }
        let envelopes = envelopes(&context.aggregate_id, context.current_sequence, events, &metadata);
        // `context.aggregate` already has the new events applied (EventSink::write applies them).
        let snapshot = Snapshot { aggregate: &context.aggregate, current: context.current_snapshot };
        self.append(&context.aggregate_id, &envelopes, Some(snapshot)).await?;
        Ok(envelopes)
    }
}

/// Events numbered on from `after`, ready to store.
pub fn envelopes(
    aggregate_id: &str,
    after: usize,
    events: impl IntoIterator<Item = <A as Aggregate>::Event>,
    metadata: &HashMap<String, String>,
) -> Vec<EventEnvelope<A>> {
    events
        .into_iter()
        .enumerate()
        .map(|(offset, payload)| EventEnvelope {
            aggregate_id: aggregate_id.to_string(),
            sequence: after + offset + 1,
            payload,
            metadata: metadata.clone(),
        })
        .collect()
}

/// The aggregate as a commit leaves it, and the snapshot version it was loaded at.
pub struct Snapshot<'a> {
    pub aggregate: &'a A,
    pub current: Option<usize>,
}

impl SnapshottingStore {
    /// Stores events already decided (their sequences follow the stored ones) and announces them.
    /// With a snapshot, the snapshot moves in the same transaction and a lost race on it rolls both
    /// back. Without one, the events go in alone, in one statement: the primary key on the
    /// sequence still refuses a writer that lost a race, and loads fold the events after the
    /// snapshot. Either way a conflict is `AggregateConflict` and nothing is stored.
    pub async fn append(
        &self,
        aggregate_id: &str,
        envelopes: &[EventEnvelope<A>],
        snapshot: Option<Snapshot<'_>>,
    ) -> Result<(), AggregateError<domain::ConversationError>> {
        let mut serialized = envelopes.iter().map(SerializedEvent::try_from).collect::<Result<Vec<_>, PersistenceError>>()?;
        if let (Some(group), None, [envelope]) = (&self.group, &snapshot, envelopes) {
            let event = serialized.pop().expect("one event");
            return group.append(aggregate_id, event, envelope.payload.0.clone()).await.map_err(|refusal| match refusal {
                Refusal::Conflict => AggregateError::AggregateConflict,
                Refusal::Failed(error) => AggregateError::DatabaseConnectionError(Box::new(error)),
            });
        }
        let recorded = match snapshot {
            Some(snapshot) => {
                let payload = serde_json::to_value(snapshot.aggregate).map_err(PersistenceError::from)?;
                persist(&self.pool, aggregate_id, &serialized, &payload, snapshot.current).await?
            }
            None => insert_events(&self.pool, aggregate_id, &serialized).await.map_err(database_error)?,
        };
        // The events as every reader of the log sees them, for the live feeds.
        let logged: Vec<LoggedEvent> = envelopes
            .iter()
            .zip(recorded)
            .map(|(envelope, at)| LoggedEvent { seq: envelope.sequence as u64, at: format_time(at), event: envelope.payload.0.clone() })
            .collect();
        crate::live::announce(&self.pool, aggregate_id, &logged).await;
        Ok(())
    }
}

/// Inserts the events; returns their `recorded_at`, in the order given.
async fn insert_events<'c, E: sqlx::PgExecutor<'c>>(
    executor: E,
    aggregate_id: &str,
    events: &[SerializedEvent],
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    let mut recorded: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT $1, $2, seq, kind, version, payload::json, metadata::json \
         FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS e(seq, kind, version, payload, metadata) \
         RETURNING sequence, recorded_at",
    )
    .bind(A::TYPE)
    .bind(aggregate_id)
    .bind(events.iter().map(|e| e.sequence as i64).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.event_version.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.payload.to_string()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.metadata.to_string()).collect::<Vec<_>>())
    .fetch_all(executor)
    .await?;
    recorded.sort_unstable_by_key(|(sequence, _)| *sequence);
    Ok(recorded.into_iter().map(|(_, at)| at).collect())
}

/// Appends events and moves the snapshot in one transaction; a lost race rolls both back.
async fn persist(
    pool: &PgPool,
    aggregate_id: &str,
    events: &[SerializedEvent],
    snapshot: &serde_json::Value,
    current_snapshot: Option<usize>,
) -> Result<Vec<DateTime<Utc>>, AggregateError<domain::ConversationError>> {
    let last_sequence = events.last().map_or(0, |e| e.sequence) as i64;
    let mut tx = pool.begin().await.map_err(database_error)?;
    let recorded = insert_events(&mut *tx, aggregate_id, events).await.map_err(database_error)?;
    let moved = match current_snapshot {
        None => sqlx::query(
            "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload) VALUES ($1, $2, $3, 1, $4::json)",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(last_sequence)
        .bind(snapshot.to_string())
        .execute(&mut *tx)
        .await
        .map_err(database_error)?,
        Some(current) => sqlx::query(
            "UPDATE snapshots SET last_sequence = $3, current_snapshot = $4 + 1, payload = $5::json \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND current_snapshot = $4",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(last_sequence)
        .bind(current as i64)
        .bind(snapshot.to_string())
        .execute(&mut *tx)
        .await
        .map_err(database_error)?,
    };
    if moved.rows_affected() != 1 {
        tx.rollback().await.map_err(database_error)?;
        return Err(AggregateError::AggregateConflict);
    }
    tx.commit().await.map_err(database_error)?;
    Ok(recorded)
}

fn database_error(error: sqlx::Error) -> AggregateError<domain::ConversationError> {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => AggregateError::AggregateConflict,
        _ => AggregateError::DatabaseConnectionError(Box::new(error)),
    }
}
