//! The conversation view and list projections: kept current by `Projector::catch_up`, rebuilt by `replay`.
//!
//! The projector is sequence-aware and takes a row lock, so any process may run it any number
//! of times, in any order, and rows still come out as the fold of the event log. Commits that
//! hold only streamed text leave the rows alone (reads fold that tail in), which keeps an append
//! O(1) however long the conversation.

use std::sync::Arc;

use async_trait::async_trait;
use cqrs_es::{EventEnvelope, Query};
use std::collections::BTreeSet;

use domain::ConversationView;
use sqlx::types::Json;
use sqlx::{PgPool, Row};

use crate::aggregate::ConversationAggregate;
use crate::error::BackendError;
use crate::event_log::EventLog;

mod list_row;
mod replay;
mod view_rows;

use list_row::write_list_row;
use view_rows::{load_turn, to_json, write_turns, write_view};

/// Events read per query while catching up.
const CATCH_UP_PAGE: usize = 100;
/// Rows written per statement during replay.
const REPLAY_BATCH: usize = 500;

/// Catch-ups running at once in a process. When many turns end together (each end rewrites its
/// turn's rows and renders its Markdown), the rest wait their turn instead of taking every CPU and
/// pooled connection from the turns still streaming: reads fold the log tail, so a projection that
/// waits changes no answer.
const CATCH_UPS_AT_ONCE: usize = 4;

/// Projects conversation events into `conversation_views` and `conversation_list`.
pub struct Projector {
    pool: PgPool,
    log: Arc<EventLog>,
    running: tokio::sync::Semaphore,
}

impl Projector {
    pub fn new(pool: PgPool, log: Arc<EventLog>) -> Self {
        Self { pool, log, running: tokio::sync::Semaphore::new(CATCH_UPS_AT_ONCE) }
    }

    /// Folds every event the rows have not seen yet into them.
    #[tracing::instrument(name = "projector.catch_up", skip(self))]
    pub async fn catch_up(&self, id: &str) -> Result<(), BackendError> {
        let _running = self.running.acquire().await.expect("the semaphore is never closed");
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO conversation_views (id, last_seq, payload) VALUES ($1, 0, $2::jsonb) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(to_json(&ConversationView::new(id)))
            .execute(&mut *tx)
            .await?;
        // Decoded straight from the row's bytes, and written back below without an intermediate string.
        let row = sqlx::query("SELECT payload FROM conversation_views WHERE id = $1 FOR UPDATE").bind(id).fetch_one(&mut *tx).await?;
        let Json(mut view): Json<ConversationView> =
            row.try_get("payload").map_err(|e| BackendError::Corrupt(format!("view {id}: {e}")))?;
        drop(row);
        // Read in pages on the transaction's own connection, so a long tail (a bulk import) is
        // folded without holding all its events and no connection is held while waiting for
        // another (with every pooled connection in a catch-up, that wait would never end). Only the
        // messages of the turns the new events touch are loaded and written back.
        let mut changed = false;
        let mut touched: BTreeSet<u32> = BTreeSet::new();
        let mut after = view.seq;
        loop {
            let page = self.log.page(&mut tx, id, after, CATCH_UP_PAGE).await?;
            let last_page = page.len() < CATCH_UP_PAGE;
            for logged in page {
                after = logged.seq;
                changed |= !logged.event.is_delta();
                if let Some(turn) = logged.event.message_turn() {
                    if touched.insert(turn) {
                        load_turn(&mut tx, &mut view, turn).await?;
                    }
                }
                view.apply(&logged);
            }
            if last_page {
                break;
            }
        }
        if !changed {
            tx.rollback().await?;
            return Ok(());
        }
        write_view(&mut tx, &mut view).await?;
        write_turns(&mut tx, &view, &touched).await?;
        write_list_row(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Catches up every conversation whose rows lag behind the log (e.g. after a crash between commit and projection).
    #[tracing::instrument(name = "projector.catch_up_all", skip(self))]
    pub async fn catch_up_all(&self) -> Result<usize, BackendError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT e.aggregate_id FROM (SELECT aggregate_id, max(sequence) AS last FROM events \
             WHERE aggregate_type = 'conversation' GROUP BY aggregate_id) e \
             LEFT JOIN conversation_views v ON v.id = e.aggregate_id \
             WHERE v.last_seq IS NULL OR v.last_seq < e.last",
        )
        .fetch_all(&self.pool)
        .await?;
        for id in &ids {
            self.catch_up(id).await?;
        }
        Ok(ids.len())
    }
}

/// Runs the projector after every commit that changes more than streamed text.
pub struct ProjectionQuery(pub Arc<Projector>);

#[async_trait]
impl Query<ConversationAggregate> for ProjectionQuery {
    async fn dispatch(&self, aggregate_id: &str, events: &[EventEnvelope<ConversationAggregate>]) {
        if events.iter().all(|envelope| envelope.payload.0.is_delta()) {
            return;
        }
        if let Err(error) = self.0.catch_up(aggregate_id).await {
            tracing::error!(aggregate_id, error = %error, "projection catch-up failed; reads fold the log tail");
        }
    }
}
