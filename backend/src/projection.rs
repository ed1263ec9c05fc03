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

use domain::{ConversationView, Message};
use futures::StreamExt;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::aggregate::ConversationAggregate;
use crate::error::BackendError;
use crate::event_log::EventLog;

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

    /// Rebuilds both projections from the whole event log in one transaction. Returns (conversations, events).
    #[tracing::instrument(name = "projector.replay", skip(self))]
    pub async fn replay(&self) -> Result<(usize, usize), BackendError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("LOCK TABLE conversation_views, conversation_list, conversation_messages IN EXCLUSIVE MODE").execute(&mut *tx).await?;
        sqlx::query("TRUNCATE conversation_views, conversation_list, conversation_messages").execute(&mut *tx).await?;
        let mut events = std::pin::pin!(self.log.stream_all());
        let mut batch: Vec<ConversationView> = Vec::with_capacity(REPLAY_BATCH);
        let mut current: Option<ConversationView> = None;
        let (mut conversations, mut count) = (0, 0);
        while let Some(item) = events.next().await {
            let (id, logged) = item?;
            count += 1;
            if current.as_ref().is_some_and(|view| view.id != id) {
                batch.extend(current.take());
                conversations += 1;
                if batch.len() >= REPLAY_BATCH {
                    insert_batch(&mut tx, &mut batch).await?;
                }
            }
            current.get_or_insert_with(|| ConversationView::new(&id)).apply(&logged);
        }
        if let Some(view) = current {
            batch.push(view);
            conversations += 1;
        }
        insert_batch(&mut tx, &mut batch).await?;
        tx.commit().await?;
        Ok((conversations, count))
    }
}

fn to_json(view: &ConversationView) -> String {
    serde_json::to_string(view).expect("a view always serializes")
}

/// The header row's JSON: the view without its messages, which have their own rows.
fn header_json(view: &mut ConversationView) -> String {
    let messages = std::mem::take(&mut view.messages);
    let json = to_json(view);
    view.messages = messages;
    json
}

/// Where a message sits within its turn.
fn position(message: &Message) -> i16 {
    if message.role == "user" {
        0
    } else {
        1
    }
}

/// Adds the stored messages of `turn` to a (partial) view, in conversation order.
async fn load_turn(tx: &mut Transaction<'_, Postgres>, view: &mut ConversationView, turn: u32) -> Result<(), BackendError> {
    let rows = sqlx::query("SELECT payload FROM conversation_messages WHERE conversation_id = $1 AND turn = $2 ORDER BY position")
        .bind(&view.id)
        .bind(turn as i32)
        .fetch_all(&mut **tx)
        .await?;
    for row in rows {
        let Json(message): Json<Message> = row.try_get("payload").map_err(|e| BackendError::Corrupt(format!("message: {e}")))?;
        view.messages.push(message);
    }
    view.messages.sort_by_key(|m| (m.turn, position(m)));
    Ok(())
}

/// Replaces the stored messages of the touched turns with the view's.
async fn write_turns(tx: &mut Transaction<'_, Postgres>, view: &ConversationView, touched: &BTreeSet<u32>) -> Result<(), BackendError> {
    if touched.is_empty() {
        return Ok(());
    }
    let turns: Vec<i32> = touched.iter().map(|t| *t as i32).collect();
    sqlx::query("DELETE FROM conversation_messages WHERE conversation_id = $1 AND turn = ANY($2)")
        .bind(&view.id)
        .bind(&turns)
        .execute(&mut **tx)
        .await?;
    let messages: Vec<&Message> = view.messages.iter().filter(|m| touched.contains(&m.turn)).collect();
    insert_messages(tx, &view.id, &messages).await
}

async fn insert_messages(tx: &mut Transaction<'_, Postgres>, id: &str, messages: &[&Message]) -> Result<(), BackendError> {
    insert_message_rows(tx, &messages.iter().map(|m| (id, *m)).collect::<Vec<_>>()).await
}

/// Inserts message rows a chunk at a time, so a catch-up that touched every turn (an import) holds
/// the JSON and search text of one chunk, not of the whole conversation, beside its view.
async fn insert_message_rows(tx: &mut Transaction<'_, Postgres>, rows: &[(&str, &Message)]) -> Result<(), BackendError> {
    for chunk in rows.chunks(MESSAGE_ROWS_PER_INSERT) {
        sqlx::query(
            "INSERT INTO conversation_messages (conversation_id, turn, position, payload, search) \
             SELECT id, turn, position, payload::jsonb, to_tsvector('simple', search) \
             FROM UNNEST($1::text[], $2::int[], $3::smallint[], $4::text[], $5::text[]) AS t(id, turn, position, payload, search)",
        )
        .bind(chunk.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, m)| m.turn as i32).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, m)| position(m)).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, m)| serde_json::to_string(m).expect("a message always serializes")).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, m)| searchable_text(m)).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Message rows per INSERT statement.
const MESSAGE_ROWS_PER_INSERT: usize = 100;

/// What full-text search indexes of a message: its text and thinking blocks.
fn searchable_text(message: &Message) -> String {
    let parts: Vec<&str> =
        message.blocks.iter().filter(|b| b.kind == "text" || b.kind == "thinking").filter_map(|b| b.text.as_deref()).collect();
    let mut text = parts.join(" ");
    // A tsvector holds at most 1 MB; a longer reply is searchable by its beginning.
    if text.len() > SEARCH_MAX_BYTES {
        let mut cut = SEARCH_MAX_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// The most text of one message full-text search indexes.
const SEARCH_MAX_BYTES: usize = 256 * 1024;

fn listed(view: &ConversationView) -> bool {
    !view.deleted && !view.created_at.is_empty()
}

async fn write_view(tx: &mut Transaction<'_, Postgres>, view: &mut ConversationView) -> Result<(), BackendError> {
    sqlx::query("UPDATE conversation_views SET last_seq = $2, payload = $3::jsonb WHERE id = $1")
        .bind(view.id.clone())
        .bind(view.seq as i64)
        .bind(header_json(view))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_list_row(tx: &mut Transaction<'_, Postgres>, view: &ConversationView) -> Result<(), BackendError> {
    if !listed(view) {
        sqlx::query("DELETE FROM conversation_list WHERE id = $1").bind(&view.id).execute(&mut **tx).await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO conversation_list (id, title, status, provider, model, archived, updated_at, last_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8) \
         ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, status = EXCLUDED.status, provider = EXCLUDED.provider, \
         model = EXCLUDED.model, archived = EXCLUDED.archived, updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq",
    )
    .bind(&view.id)
    .bind(&view.title)
    .bind(view.status.as_str())
    .bind(&view.provider)
    .bind(&view.model)
    .bind(view.archived)
    .bind(&view.updated_at)
    .bind(view.seq as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_batch(tx: &mut Transaction<'_, Postgres>, batch: &mut Vec<ConversationView>) -> Result<(), BackendError> {
    if batch.is_empty() {
        return Ok(());
    }
    let payloads: Vec<String> = batch.iter_mut().map(header_json).collect();
    let ids: Vec<&str> = batch.iter().map(|v| v.id.as_str()).collect();
    let seqs: Vec<i64> = batch.iter().map(|v| v.seq as i64).collect();
    let messages: Vec<(&str, &Message)> = batch.iter().flat_map(|v| v.messages.iter().map(move |m| (v.id.as_str(), m))).collect();
    insert_message_rows(tx, &messages).await?;
    sqlx::query(
        "INSERT INTO conversation_views (id, last_seq, payload) \
         SELECT id, seq, payload::jsonb FROM UNNEST($1::text[], $2::bigint[], $3::text[]) AS t(id, seq, payload)",
    )
    .bind(&ids)
    .bind(&seqs)
    .bind(&payloads)
    .execute(&mut **tx)
    .await?;
    let rows: Vec<&ConversationView> = batch.iter().filter(|v| listed(v)).collect();
    sqlx::query(
        "INSERT INTO conversation_list (id, title, status, provider, model, archived, updated_at, last_seq) \
         SELECT id, title, status, provider, model, archived, updated_at::timestamptz, seq \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::bigint[]) \
         AS t(id, title, status, provider, model, archived, updated_at, seq)",
    )
    .bind(rows.iter().map(|v| v.id.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|v| v.title.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|v| v.status.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|v| v.provider.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|v| v.model.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|v| v.archived).collect::<Vec<_>>())
    .bind(rows.iter().map(|v| v.updated_at.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|v| v.seq as i64).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    batch.clear();
    Ok(())
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
