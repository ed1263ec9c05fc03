//! The view projection's rows: a conversation's header in `conversation_views` and each message in
//! `conversation_messages` (with its search text), loaded and rewritten a turn at a time.

use std::collections::BTreeSet;

use domain::{BlockType, ConversationView, Message, Role};
use sqlx::types::Json;
use sqlx::{Postgres, Row, Transaction};

use crate::error::BackendError;

pub(super) fn to_json(view: &ConversationView) -> String {
    serde_json::to_string(view).expect("a view always serializes")
}

/// The header row's JSON: the view without its messages, which have their own rows.
pub(super) fn header_json(view: &mut ConversationView) -> String {
    let messages = std::mem::take(&mut view.messages);
    let json = to_json(view);
    view.messages = messages;
    json
}

/// Where a message sits within its turn.
pub(super) fn position(message: &Message) -> i16 {
    if message.role == Role::User {
        0
    } else {
        1
    }
}

/// Adds the stored messages of `turn` to a (partial) view, in conversation order.
pub(super) async fn load_turn(tx: &mut Transaction<'_, Postgres>, view: &mut ConversationView, turn: u32) -> Result<(), BackendError> {
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
pub(super) async fn write_turns(
    tx: &mut Transaction<'_, Postgres>,
    view: &ConversationView,
    touched: &BTreeSet<u32>,
) -> Result<(), BackendError> {
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

pub(super) async fn insert_messages(tx: &mut Transaction<'_, Postgres>, id: &str, messages: &[&Message]) -> Result<(), BackendError> {
    insert_message_rows(tx, &messages.iter().map(|m| (id, *m)).collect::<Vec<_>>()).await
}

/// Inserts message rows a chunk at a time, so a catch-up that touched every turn (an import) holds
/// the JSON and search text of one chunk, not of the whole conversation, beside its view.
pub(super) async fn insert_message_rows(tx: &mut Transaction<'_, Postgres>, rows: &[(&str, &Message)]) -> Result<(), BackendError> {
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
pub(super) const MESSAGE_ROWS_PER_INSERT: usize = 100;

/// What full-text search indexes of a message: its text and thinking blocks.
pub(super) fn searchable_text(message: &Message) -> String {
    let parts: Vec<&str> = message
        .blocks
        .iter()
        .filter(|b| matches!(b.kind, BlockType::Text | BlockType::Thinking))
        .filter_map(|b| b.text.as_deref())
        .collect();
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
pub(super) const SEARCH_MAX_BYTES: usize = 256 * 1024;

pub(super) async fn write_view(tx: &mut Transaction<'_, Postgres>, view: &mut ConversationView) -> Result<(), BackendError> {
    sqlx::query("UPDATE conversation_views SET last_seq = $2, payload = $3::jsonb WHERE id = $1")
        .bind(view.id.clone())
        .bind(view.seq as i64)
        .bind(header_json(view))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
