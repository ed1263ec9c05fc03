//! `Projector::replay`: both projections rebuilt from the whole event log, in one transaction.

use domain::{ConversationView, Message};
use futures::StreamExt;
use sqlx::{Postgres, Transaction};

use super::list_row::listed;
use super::view_rows::{header_json, insert_message_rows};
use super::{Projector, REPLAY_BATCH};
use crate::error::BackendError;

impl Projector {
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
