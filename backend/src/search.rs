//! Full-text search over messages (`conversation_messages.search`, a GIN-indexed tsvector).

use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::error::BackendError;

/// One message that matches a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub conversation_id: String,
    pub title: String,
    pub turn: u32,
    pub role: String,
    /// Plain text around the match, the matched words between « and ». Not HTML: escape it.
    pub snippet: String,
}

/// The answer of `GET /api/search`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
}

/// The most hits one search returns.
pub const MAX_HITS: u32 = 100;

/// Messages matching `query` (web-search syntax: words, "phrases", -not, or), in conversations
/// that are not deleted, newest activity first.
#[tracing::instrument(name = "search.messages", skip(pool))]
pub async fn search(pool: &PgPool, query: &str, limit: u32) -> Result<SearchResults, BackendError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(BackendError::invalid("`q` must not be empty"));
    }
    if query.len() > 500 {
        return Err(BackendError::invalid("`q` must be at most 500 characters"));
    }
    let limit = limit.clamp(1, MAX_HITS);
    let rows = sqlx::query(
        "SELECT m.conversation_id, l.title, m.turn, m.payload ->> 'role' AS role, \
         ts_headline('simple', coalesce((SELECT string_agg(b ->> 'text', ' ') FROM jsonb_array_elements(m.payload -> 'blocks') AS b \
           WHERE b ->> 'type' IN ('text', 'thinking')), ''), q, 'StartSel=«, StopSel=», MaxWords=24, MinWords=8, MaxFragments=1') AS snippet \
         FROM websearch_to_tsquery('simple', $1) AS q, conversation_messages m \
         JOIN conversation_list l ON l.id = m.conversation_id \
         WHERE m.search @@ q \
         ORDER BY l.updated_at DESC, m.conversation_id, m.turn DESC, m.position DESC LIMIT $2",
    )
    .bind(query)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let snippet: String = row.try_get("snippet")?;
        hits.push(SearchHit {
            conversation_id: row.try_get("conversation_id")?,
            title: row.try_get("title")?,
            turn: row.try_get::<i32, _>("turn")?.max(0) as u32,
            role: row.try_get::<Option<String>, _>("role")?.unwrap_or_default(),
            snippet: snippet.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    Ok(SearchResults { hits })
}

impl crate::state::Backend {
    /// Full-text search over messages: see [`search`].
    pub async fn search(&self, query: &str, limit: u32) -> Result<SearchResults, BackendError> {
        search(&self.pool, query, limit).await
    }
}
