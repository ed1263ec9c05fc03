//! The event store: cqrs-es over postgres-es with a snapshot written on every commit.
//!
//! cqrs-es 0.5's own snapshot stores apply new events twice. `SnapshottingStore` instead
//! snapshots the aggregate exactly as `handle` left it, in the same transaction as the events.
//! A command therefore loads one snapshot row and no events, however long the conversation.
//!
//! Commits are written here rather than by postgres-es's `persist`, which commits the events
//! before it checks the snapshot's optimistic lock: a lost race there leaves the events stored
//! while reporting a conflict, and the retry stores them twice.

use std::collections::HashMap;

use cqrs_es::persist::{
    EventStoreAggregateContext, EventUpcaster, PersistedEventRepository, PersistenceError, SerializedEvent,
};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;

use crate::aggregate::ConversationAggregate;
use crate::upcasters::{upcast, upcasters};

type A = ConversationAggregate;

/// An `EventStore` that keeps a correct per-commit snapshot.
pub struct SnapshottingStore {
    pool: PgPool,
    repo: PostgresEventRepository,
    upcasters: Vec<Box<dyn EventUpcaster>>,
}

impl SnapshottingStore {
    pub fn new(pool: PgPool) -> Self {
        Self { repo: PostgresEventRepository::new(pool.clone()), pool, upcasters: upcasters() }
    }

    fn deserialize(&self, events: Vec<SerializedEvent>) -> Result<Vec<EventEnvelope<A>>, PersistenceError> {
        events
            .into_iter()
            .map(|event| EventEnvelope::<A>::try_from(upcast(&self.upcasters, event)))
            .collect()
    }

    async fn replay_from_scratch(&self, aggregate_id: &str) -> Result<EventStoreAggregateContext<A>, PersistenceError> {
        let events = self.deserialize(self.repo.get_events::<A>(aggregate_id).await?)?;
        let mut aggregate = A::default();
        let current_sequence = events.last().map_or(0, |e| e.sequence);
        for envelope in events {
            aggregate.apply(envelope.payload);
        }
        Ok(EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            current_sequence,
            current_snapshot: None,
        })
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
        let envelopes: Vec<EventEnvelope<A>> = events
            .into_iter()
            .enumerate()
            .map(|(offset, payload)| EventEnvelope {
                aggregate_id: context.aggregate_id.clone(),
                sequence: context.current_sequence + offset + 1,
                payload,
                metadata: metadata.clone(),
            })
            .collect();
        let serialized = envelopes
            .iter()
            .map(SerializedEvent::try_from)
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        // `context.aggregate` already has the new events applied (EventSink::write applies them).
        let snapshot = serde_json::to_value(&context.aggregate).map_err(PersistenceError::from)?;
        persist(&self.pool, &context.aggregate_id, &serialized, &snapshot, context.current_snapshot).await?;
        Ok(envelopes)
    }
}

/// Appends events and moves the snapshot in one transaction; a lost race rolls both back.
async fn persist(
    pool: &PgPool,
    aggregate_id: &str,
    events: &[SerializedEvent],
    snapshot: &serde_json::Value,
    current_snapshot: Option<usize>,
) -> Result<(), AggregateError<domain::ConversationError>> {
    let last_sequence = events.last().map_or(0, |e| e.sequence) as i64;
    let mut tx = pool.begin().await.map_err(database_error)?;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT $1, $2, seq, kind, version, payload::json, metadata::json \
         FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS e(seq, kind, version, payload, metadata)",
    )
    .bind(A::TYPE)
    .bind(aggregate_id)
    .bind(events.iter().map(|e| e.sequence as i64).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.event_version.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.payload.to_string()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.metadata.to_string()).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .map_err(database_error)?;
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
    Ok(())
}

fn database_error(error: sqlx::Error) -> AggregateError<domain::ConversationError> {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => AggregateError::AggregateConflict,
        _ => AggregateError::DatabaseConnectionError(Box::new(error)),
    }
}
