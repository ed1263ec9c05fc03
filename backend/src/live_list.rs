//! The live conversation list: a `ConversationSummary` whenever a conversation's list row
//! changes (title, status, archive, delete, activity), from any process, built on `LiveHub`.
//!
//! Signals are coalesced for a moment, then each signalled conversation's header is re-read (the
//! projected header plus the events after it that are not streamed text) and sent only when it
//! differs from what this client was last sent. Nothing holds a connection between signals.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use domain::{ConversationSummary, Status};
use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};

use crate::error::BackendError;
use crate::event_log::EventLog;
use crate::live::{LiveHub, EVERYONE};
use crate::views::load_header;

/// How long signals are gathered before the rows are re-read.
const COALESCE: Duration = Duration::from_millis(150);

/// One change of the list: the summary, and whether the conversation was deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListChange {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

type Key = (String, Status, bool, String, bool);

fn key(change: &ListChange) -> Key {
    let s = &change.summary;
    (s.title.clone(), s.status, s.archived, s.updated_at.clone(), change.deleted)
}

impl LiveHub {
    /// Streams list changes from now on until the receiver is dropped.
    pub fn follow_list(self: &Arc<Self>, pool: PgPool, log: Arc<EventLog>) -> mpsc::Receiver<Result<ListChange, BackendError>> {
        let (sender, receiver) = mpsc::channel(64);
        let mut signals = self.subscribe();
        tokio::spawn(async move {
            let mut sent: HashMap<String, Key> = HashMap::new();
            let mut since = chrono::Utc::now();
            loop {
                let Some((mut ids, everyone)) = gather(&mut signals, &sender).await else { return };
                let checked_at = chrono::Utc::now();
                if everyone {
                    let recent: Result<Vec<String>, sqlx::Error> =
                        sqlx::query_scalar("SELECT id FROM conversation_list WHERE updated_at > $1")
                            .bind(since - chrono::Duration::seconds(10))
                            .fetch_all(&pool)
                            .await;
                    match recent {
                        Ok(recent) => ids.extend(recent),
                        Err(error) => {
                            let _ = sender.send(Err(error.into())).await;
                            return;
                        }
                    }
                }
                since = checked_at;
                for id in ids {
                    match list_change(&pool, &log, &id).await {
                        Ok(Some(change)) => {
                            let key = key(&change);
                            if sent.get(&id) == Some(&key) {
                                continue;
                            }
                            sent.insert(id, key);
                            if sender.send(Ok(change)).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(error) => {
                            let _ = sender.send(Err(error)).await;
                            return;
                        }
                    }
                }
            }
        });
        receiver
    }
}

/// Waits for a signal, then gathers more for `COALESCE`. `None` when the client went away.
async fn gather<T>(signals: &mut broadcast::Receiver<Arc<str>>, client: &mpsc::Sender<T>) -> Option<(HashSet<String>, bool)> {
    let mut ids = HashSet::new();
    let mut everyone = false;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let wait = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = signals.recv() => {
                match signal {
                    Ok(id) if &*id == EVERYONE => everyone = true,
                    Ok(id) => { ids.insert(id.to_string()); }
                    Err(broadcast::error::RecvError::Lagged(_)) => everyone = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
                deadline.get_or_insert_with(|| tokio::time::Instant::now() + COALESCE);
            }
            _ = wait => return Some((ids, everyone)),
            _ = client.closed() => return None,
        }
    }
}

/// The conversation's list entry now: its projected header with later non-text events folded in.
/// `None` when it does not exist (yet).
#[tracing::instrument(name = "live_list.change", skip(pool, log))]
pub async fn list_change(pool: &PgPool, log: &EventLog, id: &str) -> Result<Option<ListChange>, BackendError> {
    let mut view = load_header(pool, id).await?;
    for logged in log.header_range(id, view.seq).await? {
        view.apply(&logged);
    }
    if view.created_at.is_empty() {
        return Ok(None);
    }
    view.messages.clear();
    Ok(Some(ListChange { summary: view.summary(), deleted: view.deleted }))
}
