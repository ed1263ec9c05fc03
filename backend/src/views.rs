//! Read side: conversation views (projection row plus the log tail) and the paginated list.

use domain::{ConversationSummary, ConversationView, Role, Status};
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

/// Which turns of a conversation a view carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub struct PageRequest {
    /// Only the newest N turns (`None`: every turn).
    pub turns: Option<u32>,
    /// Open at this turn: the page holds turn T-1 to the newest (and at least the newest `turns`).
    pub from_turn: Option<u32>,
}

impl PageRequest {
    /// Every turn: the whole view.
    pub const ALL: PageRequest = PageRequest { turns: None, from_turn: None };

    /// The first turn of the page when the newest turn is `latest`; 0 for the whole view.
    fn start(&self, latest: u32) -> u32 {
        let newest = self.turns.map(|n| latest.saturating_sub(n.max(1)) + 1);
        let from = self.from_turn.map(|t| t.saturating_sub(1).max(1));
        match (newest, from) {
            (None, None) => 0,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => a.min(b),
        }
    }
}

/// Older messages of a conversation: `GET /api/conversations/{id}/messages?before_turn=T&limit=N`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessagesPage {
    pub messages: Vec<domain::Message>,
    /// True when turns before this page exist.
    pub has_older: bool,
}

/// The conversation as of its last event, or as of event `at`.
#[tracing::instrument(name = "views.load", skip(pool, log))]
pub async fn load_view(pool: &PgPool, log: &EventLog, id: &str, at: Option<u64>) -> Result<ConversationView, BackendError> {
    load_page(pool, log, id, at, PageRequest::ALL).await
}

/// The conversation (as of event `at`, if given) with only the turns `page` asks for; `has_older`
/// says whether earlier turns exist. Reads the turn range through the messages' primary key.
#[tracing::instrument(name = "views.load_page", skip(pool, log))]
pub async fn load_page(
    pool: &PgPool,
    log: &EventLog,
    id: &str,
    at: Option<u64>,
    page: PageRequest,
) -> Result<ConversationView, BackendError> {
    let mut view = match at {
        Some(at) => {
            let mut view = ConversationView::fold(id, &log.range(id, 0, Some(at)).await?);
            let latest = view.messages.iter().map(|m| m.turn).max().unwrap_or(0);
            let start = page.start(latest);
            view.has_older = view.messages.iter().any(|m| m.turn < start);
            view.messages.retain(|m| m.turn >= start);
            view
        }
        None => {
            // Header, message rows and log tail from one snapshot: the projector writes header and
            // rows in one transaction, so rows newer than the header (and a tail folded onto them
            // twice) cannot be seen.
            let mut tx = snapshot(pool).await?;
            let mut view = load_header(&mut *tx, id).await?;
            let tail = log.tail(&mut tx, id, view.seq).await?;
            let tail_turns = tail.iter().filter_map(|logged| logged.event.message_turn());
            let tail_min = tail_turns.clone().min();
            let tail_max = tail_turns.max().unwrap_or(0);
            let start = if page == PageRequest::ALL {
                0
            } else {
                let stored_max: Option<i32> = sqlx::query_scalar("SELECT max(turn) FROM conversation_messages WHERE conversation_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                let latest = (stored_max.unwrap_or(0).max(0) as u32).max(tail_max);
                // A tail event touching an older turn needs that turn's stored messages to fold onto.
                page.start(latest).min(tail_min.unwrap_or(u32::MAX))
            };
            view.messages = load_messages(&mut tx, id, start, u32::MAX).await?;
            for logged in &tail {
                view.apply(logged);
            }
            view.has_older = start > 1 && has_turns_before(&mut tx, id, start).await?;
            tx.commit().await?;
            view
        }
    };
    if view.created_at.is_empty() || view.deleted {
        return Err(BackendError::NotFound);
    }
    view.messages.sort_by_key(|m| (m.turn, m.role == Role::Assistant));
    Ok(view)
}

/// Up to `limit` turns before `before_turn`, oldest first, with the log tail folded in.
#[tracing::instrument(name = "views.messages_before", skip(pool, log))]
pub async fn messages_before(pool: &PgPool, log: &EventLog, id: &str, before_turn: u32, limit: u32) -> Result<MessagesPage, BackendError> {
    let mut tx = snapshot(pool).await?;
    let mut view = load_header(&mut *tx, id).await?;
    if view.created_at.is_empty() || view.deleted {
        return Err(BackendError::NotFound);
    }
    let end = before_turn.saturating_sub(1);
    let start = before_turn.saturating_sub(limit.max(1)).max(1);
    if end < start {
        return Ok(MessagesPage::default());
    }
    view.messages = load_messages(&mut tx, id, start, end).await?;
    for logged in log.tail(&mut tx, id, view.seq).await? {
        view.apply(&logged);
    }
    view.messages.retain(|m| (start..=end).contains(&m.turn));
    view.messages.sort_by_key(|m| (m.turn, m.role == Role::Assistant));
    let has_older = start > 1 && has_turns_before(&mut tx, id, start).await?;
    tx.commit().await?;
    Ok(MessagesPage { messages: view.messages, has_older })
}

/// A read-only transaction whose statements all see one snapshot.
async fn snapshot(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, BackendError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    Ok(tx)
}

/// The projected header row (messages empty), or an empty view when there is none yet.
pub(crate) async fn load_header<'c>(executor: impl sqlx::PgExecutor<'c>, id: &str) -> Result<ConversationView, BackendError> {
    let row = sqlx::query("SELECT payload FROM conversation_views WHERE id = $1").bind(id).fetch_optional(executor).await?;
    Ok(match row {
        Some(row) => {
            let sqlx::types::Json(view): sqlx::types::Json<ConversationView> =
                row.try_get("payload").map_err(|e| BackendError::Corrupt(format!("view {id}: {e}")))?;
            view
        }
        None => ConversationView::new(id),
    })
}

/// The stored messages of turns `start..=end`, in conversation order.
async fn load_messages(connection: &mut sqlx::PgConnection, id: &str, start: u32, end: u32) -> Result<Vec<domain::Message>, BackendError> {
    let rows = sqlx::query(
        "SELECT payload FROM conversation_messages WHERE conversation_id = $1 AND turn >= $2 AND turn <= $3 ORDER BY turn, position",
    )
    .bind(id)
    .bind(start.min(i32::MAX as u32) as i32)
    .bind(end.min(i32::MAX as u32) as i32)
    .fetch_all(connection)
    .await?;
    rows.into_iter()
        .map(|row| {
            let sqlx::types::Json(message): sqlx::types::Json<domain::Message> =
                row.try_get("payload").map_err(|e| BackendError::Corrupt(format!("view {id}: {e}")))?;
            Ok(message)
        })
        .collect()
}

async fn has_turns_before(connection: &mut sqlx::PgConnection, id: &str, turn: u32) -> Result<bool, BackendError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM conversation_messages WHERE conversation_id = $1 AND turn < $2)")
        .bind(id)
        .bind(turn.min(i32::MAX as u32) as i32)
        .fetch_one(connection)
        .await?)
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
