//! The list projection's row: one line of `conversation_list` per conversation that is listed.

use domain::ConversationView;
use sqlx::{Postgres, Transaction};

use crate::error::BackendError;

pub(super) fn listed(view: &ConversationView) -> bool {
    !view.deleted && !view.created_at.is_empty()
}

pub(super) async fn write_list_row(tx: &mut Transaction<'_, Postgres>, view: &ConversationView) -> Result<(), BackendError> {
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
