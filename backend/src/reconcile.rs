//! Re-queues turns whose job never reached a worker: Redis lost it (a restart without its
//! data), or the enqueue failed after the prompt was committed. Postgres is the source of
//! truth for which turns exist; a duplicate job is harmless because `BeginAttempt` without
//! takeover leaves a started turn alone.

use std::time::Duration;

use domain::Conversation;
use sqlx::Row;

use crate::error::BackendError;
use crate::queue::TurnJob;
use crate::state::Backend;

/// Queues again every turn that has waited longer than `older_than` without any attempt.
#[tracing::instrument(name = "reconcile.requeue_lost_turns", skip(backend))]
pub async fn requeue_lost_turns(backend: &Backend, older_than: Duration) -> Result<usize, BackendError> {
    let rows = sqlx::query(
        "SELECT s.aggregate_id, s.payload::text AS payload FROM snapshots s \
         JOIN events e ON e.aggregate_type = s.aggregate_type AND e.aggregate_id = s.aggregate_id AND e.sequence = s.last_sequence \
         WHERE s.aggregate_type = 'conversation' AND (s.payload::jsonb -> 'running' ->> 'attempt') = '0' \
         AND e.recorded_at < now() - make_interval(secs => $1)",
    )
    .bind(older_than.as_secs_f64())
    .fetch_all(&backend.pool)
    .await?;
    let mut requeued = 0;
    for row in rows {
        let id: String = row.try_get("aggregate_id")?;
        let state: Conversation = serde_json::from_str(&row.try_get::<String, _>("payload")?)
            .map_err(|e| BackendError::Corrupt(format!("snapshot {id}: {e}")))?;
        let Some(running) = state.running else { continue };
        tracing::warn!(conversation = %id, turn = running.turn, "re-queueing a turn no worker has started");
        backend.queue.enqueue(&TurnJob { conversation_id: id, turn: running.turn, job_id: running.job_id }).await?;
        requeued += 1;
    }
    Ok(requeued)
}
