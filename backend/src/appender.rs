//! A running attempt's own copy of its conversation's aggregate, so its output commits without re-loading it.
//!
//! cqrs-es loads the aggregate (the snapshot and the events after it) before every command. While
//! a turn streams, its output writer is the conversation's only frequent writer, so it keeps the
//! aggregate as its last commit left it and decides the next command against that copy. When
//! someone else wrote in between (an abort, an approval), the store refuses the commit on the
//! sequence's primary key; the appender then loads afresh and decides again, so the rules always
//! see the stored state. A refusal by the copy is checked against a fresh load the same way.
//!
//! Commits that leave the aggregate as it was (streamed text, block starts and ends, usage: the
//! aggregate holds no text) do not move the snapshot: one INSERT instead of a transaction of four,
//! group-committed with other turns' events when it is a single event. Every other commit moves
//! it, and so does every `SNAPSHOT_EVERY`th event, which bounds what another command's load has
//! to fold. Commits that change more than text are projected in the background (`project_later`).

use std::collections::HashMap;

use cqrs_es::persist::EventStoreAggregateContext;
use cqrs_es::{AggregateError, EventStore};
use domain::ConversationCommand;
use tokio::sync::mpsc;

use crate::aggregate::{ConversationAggregate, StoredEvent};
use crate::error::BackendError;
use crate::state::Backend;
use crate::store::{envelopes, Snapshot};

/// Events appended without moving the snapshot before it is moved anyway.
const SNAPSHOT_EVERY: usize = 256;
/// Lost races retried before giving up (like `Backend::execute`).
const RETRIES: usize = 5;

/// A writer's cached aggregate for one conversation.
pub struct Appender {
    id: String,
    cached: Option<Cached>,
    /// Asks this writer's projection task to catch the rows up (a full channel: already asked).
    project: Option<mpsc::Sender<()>>,
}

struct Cached {
    aggregate: ConversationAggregate,
    sequence: usize,
    snapshot: Option<usize>,
    /// Events stored since the snapshot last moved (as far as this writer knows).
    unsnapshotted: usize,
}

impl From<EventStoreAggregateContext<ConversationAggregate>> for Cached {
    fn from(context: EventStoreAggregateContext<ConversationAggregate>) -> Self {
        Self { aggregate: context.aggregate, sequence: context.current_sequence, snapshot: context.current_snapshot, unsnapshotted: 0 }
    }
}

impl Appender {
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), cached: None, project: None }
    }

    /// The conversation this writer appends to.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Catches the projection up in the background, so the next token need not wait for it.
    /// The projector is idempotent and sequence-aware, and reads fold the log tail after the
    /// projected rows, so a projection that lags changes no answer; requests made while one runs
    /// are merged into one more run. The task ends with the appender.
    fn project_later(&mut self, backend: &Backend) {
        let sender = self.project.get_or_insert_with(|| {
            let (sender, mut asked) = mpsc::channel::<()>(1);
            let (projector, id) = (backend.projector.clone(), self.id.clone());
            tokio::spawn(async move {
                while asked.recv().await.is_some() {
                    if let Err(error) = projector.catch_up(&id).await {
                        tracing::error!(aggregate_id = id, %error, "projection catch-up failed; reads fold the log tail");
                    }
                }
            });
            sender
        });
        let _ = sender.try_send(());
    }

    /// Decides `command` and commits its events, then projects them unless they are only streamed text.
    #[tracing::instrument(name = "appender.execute", skip_all, fields(conversation = %self.id))]
    pub async fn execute(&mut self, backend: &Backend, command: ConversationCommand) -> Result<(), BackendError> {
        let mut races = 0;
        loop {
            let (mut cached, fresh) = match self.cached.take() {
                Some(cached) => (cached, false),
                None => (Cached::from(backend.store.load_aggregate(&self.id).await.map_err(BackendError::from)?), true),
            };
            let events = match cached.aggregate.0.decide(command.clone()) {
                Ok(events) => events,
                Err(_) if !fresh => continue,
                Err(rule) => return Err(BackendError::from(AggregateError::UserError(rule))),
            };
            if events.is_empty() {
                self.cached = Some(cached);
                return Ok(());
            }
            let envelopes = envelopes(&self.id, cached.sequence, events.iter().cloned().map(StoredEvent), &HashMap::new());
            let before = cached.aggregate.clone();
            for event in &events {
                cached.aggregate.0.apply(event);
            }
            let text_only = events.iter().all(|event| event.is_delta());
            let unsnapshotted = cached.unsnapshotted + events.len();
            let move_snapshot = cached.aggregate != before || cached.snapshot.is_none() || unsnapshotted >= SNAPSHOT_EVERY;
            let snapshot = move_snapshot.then_some(Snapshot { aggregate: &cached.aggregate, current: cached.snapshot });
            match backend.store.append(&self.id, &envelopes, snapshot).await.map_err(BackendError::from) {
                Ok(()) => {
                    cached.sequence += events.len();
                    (cached.snapshot, cached.unsnapshotted) = match move_snapshot {
                        true => (Some(cached.snapshot.map_or(1, |current| current + 1)), 0),
                        false => (cached.snapshot, unsnapshotted),
                    };
                    self.cached = Some(cached);
                    if !text_only {
                        self.project_later(backend);
                    }
                    return Ok(());
                }
                // Someone else wrote first: load what they wrote and decide again.
                Err(BackendError::Conflict) if races < RETRIES => races += 1,
                // The copy is dropped either way; the next command loads afresh.
                Err(error) => return Err(error),
            }
        }
    }
}
