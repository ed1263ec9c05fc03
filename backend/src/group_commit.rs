//! Group commit across conversations: the single text events of every turn streaming in this
//! process reach Postgres together, in one INSERT and one announcement per round.
//!
//! A streamed token is usually one `TextAppended` per commit, and with a hundred turns streaming
//! that is thousands of tiny transactions a second, each waiting for its own WAL flush and its own
//! round trips. Here one task takes whatever requests are waiting, inserts them in one statement
//! (`ON CONFLICT DO NOTHING`: a request whose sequence someone else took is refused alone, and as a
//! request is one event, nothing is ever half stored), announces the inserted ones, then answers
//! each writer. An idle process sends a lone event at once; under load a round gathers what
//! arrived during the previous one.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::persist::SerializedEvent;
use domain::{ConversationEvent, LoggedEvent};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::aggregate::CONVERSATION;
use crate::event_log::format_time;
use crate::live;

/// Requests taken into one round at most.
const MAX_ROUND: usize = 512;

/// Why an event was not stored.
#[derive(Debug)]
pub enum Refusal {
    /// Another writer stored that sequence first.
    Conflict,
    /// The round's statement failed (shared by every request in it).
    Failed(SharedError),
}

/// A database error shared by the requests of one round; its source is the `sqlx::Error`.
#[derive(Debug, Clone)]
pub struct SharedError(pub Arc<sqlx::Error>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

struct Request {
    aggregate_id: String,
    serialized: SerializedEvent,
    event: ConversationEvent,
    reply: oneshot::Sender<Result<(), Refusal>>,
}

/// The process's group committer.
pub struct GroupCommit {
    requests: mpsc::UnboundedSender<Request>,
}

impl GroupCommit {
    pub fn start(pool: PgPool) -> Self {
        let (requests, mut waiting) = mpsc::unbounded_channel::<Request>();
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut round = vec![first];
                while round.len() < MAX_ROUND {
                    match waiting.try_recv() {
                        Ok(request) => round.push(request),
                        Err(_) => break,
                    }
                }
                commit_round(&pool, round).await;
            }
        });
        Self { requests }
    }

    /// Stores one event of `aggregate_id` (its sequence already chosen) and announces it.
    pub async fn append(&self, aggregate_id: &str, serialized: SerializedEvent, event: ConversationEvent) -> Result<(), Refusal> {
        let (reply, answer) = oneshot::channel();
        let request = Request { aggregate_id: aggregate_id.to_string(), serialized, event, reply };
        let closed = || Refusal::Failed(SharedError(Arc::new(sqlx::Error::PoolClosed)));
        self.requests.send(request).map_err(|_| closed())?;
        answer.await.unwrap_or_else(|_| Err(closed()))
    }
}

#[tracing::instrument(name = "group_commit.round", skip_all, fields(requests = round.len()))]
async fn commit_round(pool: &PgPool, mut round: Vec<Request>) {
    // Two writers claiming one sequence in the same round: the first keeps it. (Inside one
    // statement the second row would be skipped silently and look stored.)
    let mut claimed = std::collections::HashSet::new();
    let (round_kept, lost): (Vec<Request>, Vec<Request>) =
        round.drain(..).partition(|r| claimed.insert((r.aggregate_id.clone(), r.serialized.sequence)));
    for request in lost {
        let _ = request.reply.send(Err(Refusal::Conflict));
    }
    let round = round_kept;
    let inserted: Result<Vec<(String, i64, DateTime<Utc>)>, sqlx::Error> = sqlx::query_as(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT $1, id, seq, kind, version, payload::json, metadata::json \
         FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) \
              AS e(id, seq, kind, version, payload, metadata) \
         ON CONFLICT DO NOTHING RETURNING aggregate_id, sequence, recorded_at",
    )
    .bind(CONVERSATION)
    .bind(round.iter().map(|r| r.aggregate_id.as_str()).collect::<Vec<_>>())
    .bind(round.iter().map(|r| r.serialized.sequence as i64).collect::<Vec<_>>())
    .bind(round.iter().map(|r| r.serialized.event_type.as_str()).collect::<Vec<_>>())
    .bind(round.iter().map(|r| r.serialized.event_version.as_str()).collect::<Vec<_>>())
    .bind(round.iter().map(|r| r.serialized.payload.to_string()).collect::<Vec<_>>())
    .bind(round.iter().map(|r| r.serialized.metadata.to_string()).collect::<Vec<_>>())
    .fetch_all(pool)
    .await;
    let recorded: HashMap<(String, i64), DateTime<Utc>> = match inserted {
        Ok(rows) => rows.into_iter().map(|(id, sequence, at)| ((id, sequence), at)).collect(),
        Err(error) => {
            let shared = SharedError(Arc::new(error));
            for request in round {
                let _ = request.reply.send(Err(Refusal::Failed(shared.clone())));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(round.len());
    let mut payloads = Vec::new();
    for request in round {
        let key = (request.aggregate_id, request.serialized.sequence as i64);
        match recorded.get(&key) {
            Some(at) => {
                let logged = LoggedEvent { seq: key.1 as u64, at: format_time(*at), event: request.event };
                payloads.push(live::payload(&key.0, std::slice::from_ref(&logged)));
                answers.push((request.reply, Ok(())));
            }
            None => answers.push((request.reply, Err(Refusal::Conflict))),
        }
    }
    if !payloads.is_empty() {
        live::announce_all(pool, &payloads).await;
    }
    for (reply, answer) in answers {
        let _ = reply.send(answer);
    }
}
