//! Read side: conversation views (projection row plus the log tail) and the paginated list.

use domain::{ConversationSummary, ConversationView, Status};
use sqlx::{PgPool, Row};

use crate::error::BackendError;
use crate::event_log::{format_time, EventLog};

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchivedFilter {
    #[default]
    Active,
    Archived,
    All,
}

/// A page of the conversation list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListPage {
    pub items: Vec<ConversationSummary>,
    pub next: Option<String>,
}

/// A list request, already validated.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub archived: ArchivedFilter,
    pub search: Option<String>,
    pub limit: u32,
    pub before: Option<String>,
}

/// The conversation as of its last event, or as of event `at`.
#[tracing::instrument(name = "views.load", skip(pool, log))]
pub async fn load_view(pool: &PgPool, log: &EventLog, id: &str, at: Option<u64>) -> Result<ConversationView, BackendError> {
    let view = match at {
        Some(at) => ConversationView::fold(id, &log.range(id, 0, Some(at)).await?),
        None => {
            let row = sqlx::query("SELECT payload FROM conversation_views WHERE id = $1").bind(id).fetch_optional(pool).await?;
            let mut view = match row {
                Some(row) => {
                    let sqlx::types::Json(view): sqlx::types::Json<ConversationView> =
                        row.try_get("payload").map_err(|e| BackendError::Corrupt(format!("view {id}: {e}")))?;
                    view
                }
                None => ConversationView::new(id),
            };
            let rows = sqlx::query("SELECT payload FROM conversation_messages WHERE conversation_id = $1 ORDER BY turn, position")
                .bind(id)
                .fetch_all(pool)
                .await?;
            for row in rows {
                let sqlx::types::Json(message): sqlx::types::Json<domain::Message> =
                    row.try_get("payload").map_err(|e| BackendError::Corrupt(format!("view {id}: {e}")))?;
                view.messages.push(message);
            }
            for logged in log.range(id, view.seq, None).await? {
                view.apply(&logged);
            }
            view
        }
    };
    if view.created_at.is_empty() || view.deleted {
        return Err(BackendError::NotFound);
    }
    Ok(view)
}

/// A page of conversations, newest activity first.
#[tracing::instrument(name = "views.list", skip(pool))]
pub async fn list(pool: &PgPool, query: &ListQuery) -> Result<ListPage, BackendError> {
    let (before_time, before_id) = match &query.before {
        Some(cursor) => parse_cursor(cursor)?,
        None => (None, None),
    };
    let archived: Option<bool> = match query.archived {
        ArchivedFilter::Active => Some(false),
        ArchivedFilter::Archived => Some(true),
        ArchivedFilter::All => None,
    };
    let pattern = query.search.as_ref().map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let rows = sqlx::query(
        "SELECT id, title, status, provider, model, archived, updated_at FROM conversation_list \
         WHERE ($1::bool IS NULL OR archived = $1) AND ($2::text IS NULL OR title ILIKE $2) \
         AND ($3::timestamptz IS NULL OR (updated_at, id) < ($3, $4)) \
         ORDER BY updated_at DESC, id DESC LIMIT $5",
    )
    .bind(archived)
    .bind(pattern)
    .bind(before_time)
    .bind(before_id)
    .bind(i64::from(query.limit) + 1)
    .fetch_all(pool)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let status: String = row.try_get("status")?;
        items.push(ConversationSummary {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            status: Status::parse(&status),
            provider: row.try_get("provider")?,
            model: row.try_get("model")?,
            archived: row.try_get("archived")?,
            updated_at: format_time(row.try_get("updated_at")?),
        });
    }
    let next = if items.len() > query.limit as usize {
        items.truncate(query.limit as usize);
        items.last().map(|last| format!("{}~{}", last.updated_at, last.id))
    } else {
        None
    };
    Ok(ListPage { items, next })
}

fn parse_cursor(cursor: &str) -> Result<(Option<chrono::DateTime<chrono::Utc>>, Option<String>), BackendError> {
    let invalid = || BackendError::invalid("`before` is not a cursor returned by this API");
    let (time, id) = cursor.split_once('~').ok_or_else(invalid)?;
    let time = chrono::DateTime::parse_from_rfc3339(time).map_err(|_| invalid())?;
    Ok((Some(time.with_timezone(&chrono::Utc)), Some(id.to_string())))
}
