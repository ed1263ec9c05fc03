//! The live feed: one Postgres LISTEN per process, fanned out to the subscribers in it.
//!
//! Every commit, from any process, is announced on `CHANNEL` right after it lands (`announce`),
//! with its events when they fit in a notification. Each conversation has a `Topic` here, so a
//! commit wakes only the feeds of its own conversation; commits that hold only streamed text are
//! marked, so watchers of state (a turn's driver, the conversation list) sleep through the tokens.
//! A feed sends the announced events when they follow its last sequence exactly, and otherwise
//! (a gap, events too large to carry, a lag, a reconnect) re-reads the log after that sequence, so
//! a lost or merged announcement can delay a frame but never lose or repeat one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use domain::LoggedEvent;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc, watch};

use crate::error::BackendError;
use crate::event_log::EventLog;

/// The channel commits are announced on.
pub const CHANNEL: &str = "pocketdev_events";
/// Sent to every subscriber when notifications may have been missed.
pub(crate) const EVERYONE: &str = "*";
/// Appended to the announcement of a commit that holds only streamed text.
const TEXT_ONLY: &str = " text";
/// Notifications must stay under Postgres's 8,000-byte limit; larger commits are announced without their events.
const MAX_PAYLOAD: usize = 7900;

/// What a feed learns of one commit.
#[derive(Debug)]
pub struct Announcement {
    /// The committed events, when they were carried; `None` means "re-read the log".
    pub events: Option<Vec<LoggedEvent>>,
}

/// Announces a commit of `id` to every process. It runs after the commit, in a transaction of its
/// own that does not wait for the disk: a NOTIFY inside the writing transaction would hold
/// Postgres's one notification lock across the WAL flush and so serialize every commit in the
/// cluster (about 1,000 commits/s here instead of several thousand). A process dying between the
/// commit and this call delays the frames until the conversation's next commit; it loses none.
#[tracing::instrument(name = "live.announce", skip(pool, events))]
pub async fn announce(pool: &PgPool, id: &str, events: &[LoggedEvent]) {
    announce_all(pool, &[payload(id, events)]).await;
}

/// The notification announcing a commit of `id`: the id, marked when the commit holds only
/// streamed text, then the events on the next line when they fit.
pub(crate) fn payload(id: &str, events: &[LoggedEvent]) -> String {
    let text_only = events.iter().all(|logged| logged.event.is_delta());
    let mut payload = if text_only { format!("{id}{TEXT_ONLY}") } else { id.to_string() };
    // Serialized into a buffer that refuses to grow past what fits: a commit of large events (an
    // imported tool result) is never serialized whole just to be left out.
    let mut body = Capped { bytes: Vec::new(), room: MAX_PAYLOAD.saturating_sub(payload.len() + 1) };
    if serde_json::to_writer(&mut body, events).is_ok() {
        payload.push('\n');
        payload.push_str(std::str::from_utf8(&body.bytes).expect("serde_json writes UTF-8"));
    }
    payload
}

/// A byte buffer that fails a write that would take it past `room` bytes.
struct Capped {
    bytes: Vec<u8>,
    room: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.room {
            return Err(std::io::Error::other("the announcement is full"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends notifications in one statement (and one transaction, which keeps their order).
pub(crate) async fn announce_all(pool: &PgPool, payloads: &[String]) {
    for attempt in 0..2 {
        let sent = sqlx::query(
            "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, payload) FROM UNNEST($2::text[]) AS p(payload)",
        )
        .bind(CHANNEL)
        .bind(payloads)
        .execute(pool)
        .await;
        match sent {
            Ok(_) => return,
            Err(error) if attempt == 0 => tracing::debug!(%error, "announcing commits failed; once more"),
            // The listeners lose their connection too and re-read everything when it returns.
            Err(error) => tracing::warn!(%error, "announcing commits failed; feeds catch up on the next one"),
        }
    }
}

/// One conversation's signals in this process.
pub struct Topic {
    /// Every commit of the conversation. A subscriber that lags re-reads the log.
    events: broadcast::Sender<Arc<Announcement>>,
    /// Bumped on commits that change more than streamed text (approvals, aborts, endings…).
    state: watch::Sender<u64>,
}

impl Topic {
    fn new() -> Self {
        Self { events: broadcast::channel(256).0, state: watch::Sender::new(0) }
    }

    fn publish(&self, text_only: bool, announcement: Arc<Announcement>) {
        let _ = self.events.send(announcement);
        if !text_only {
            self.state.send_modify(|n| *n += 1);
        }
    }

    /// Every commit after this call.
    pub fn events(&self) -> broadcast::Receiver<Arc<Announcement>> {
        self.events.subscribe()
    }

    /// Wakes on every commit after this call that changes more than streamed text.
    pub fn state(&self) -> watch::Receiver<u64> {
        self.state.subscribe()
    }
}

/// Fans committed-event signals out to subscribers in this process.
pub struct LiveHub {
    /// Commits that change more than streamed text, and `EVERYONE`: for feeds that watch every conversation.
    sender: broadcast::Sender<Arc<str>>,
    topics: Mutex<Topics>,
}

#[derive(Default)]
struct Topics {
    by_id: HashMap<Arc<str>, Weak<Topic>>,
    /// Entries whose subscribers all left are dropped when the map grows past this.
    sweep_at: usize,
}

impl LiveHub {
    /// Starts listening. The task reconnects by itself and tells everyone to resync when it does.
    pub fn start(pool: PgPool) -> Arc<Self> {
        let (sender, _) = broadcast::channel(4096);
        let hub = Arc::new(Self { sender, topics: Mutex::new(Topics { by_id: HashMap::new(), sweep_at: 64 }) });
        let listening = Arc::downgrade(&hub);
        tokio::spawn(async move {
            loop {
                if let Err(error) = listen(&pool, &listening).await {
                    tracing::warn!(%error, "live feed listener failed; reconnecting");
                }
                let Some(hub) = listening.upgrade() else { return };
                hub.signal_everyone();
                drop(hub);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        hub
    }

    /// Signals of every conversation's state changes (not its streamed text), and `EVERYONE`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.sender.subscribe()
    }

    /// The signals of one conversation; they flow while the returned `Topic` is held.
    pub fn topic(&self, id: &str) -> Arc<Topic> {
        let mut topics = self.topics.lock().expect("live topics lock");
        if let Some(topic) = topics.by_id.get(id).and_then(Weak::upgrade) {
            return topic;
        }
        let topic = Arc::new(Topic::new());
        topics.by_id.insert(Arc::from(id), Arc::downgrade(&topic));
        if topics.by_id.len() >= topics.sweep_at {
            topics.by_id.retain(|_, topic| topic.strong_count() > 0);
            topics.sweep_at = (topics.by_id.len() * 2).max(64);
        }
        topic
    }

    /// Passes on an announcement (the payload of a notification).
    fn signal(&self, payload: &str) {
        let (header, body) = payload.split_once('\n').unwrap_or((payload, ""));
        let (id, text_only) = match header.strip_suffix(TEXT_ONLY) {
            Some(id) => (id, true),
            None => (header, false),
        };
        let topic = self.topics.lock().expect("live topics lock").by_id.get(id).and_then(Weak::upgrade);
        if let Some(topic) = topic {
            let events = serde_json::from_str::<Vec<LoggedEvent>>(body).ok().filter(|events| !events.is_empty());
            topic.publish(text_only, Arc::new(Announcement { events }));
        }
        if !text_only {
            let _ = self.sender.send(Arc::from(id));
        }
    }

    /// Tells every subscriber to re-read: notifications may have been missed.
    fn signal_everyone(&self) {
        let topics: Vec<Arc<Topic>> = self.topics.lock().expect("live topics lock").by_id.values().filter_map(Weak::upgrade).collect();
        let reread = Arc::new(Announcement { events: None });
        for topic in topics {
            topic.publish(false, reread.clone());
        }
        let _ = self.sender.send(Arc::from(EVERYONE));
    }

    /// Streams the events of `id` after `after`, then every later one as it is committed.
    pub fn follow(self: &Arc<Self>, log: Arc<EventLog>, id: String, after: u64) -> mpsc::Receiver<Result<LoggedEvent, BackendError>> {
        let (sender, receiver) = mpsc::channel(256);
        // Subscribe before the first read, so nothing committed in between is missed.
        let topic = self.topic(&id);
        let mut signals = topic.events();
        tokio::spawn(async move {
            let _topic = topic;
            let mut last = after;
            let mut carried: Option<Vec<LoggedEvent>> = None;
            loop {
                let events = match carried.take() {
                    Some(events) => events,
                    None => match log.range(&id, last, None).await {
                        Ok(events) => events,
                        Err(error) => {
                            let _ = sender.send(Err(error)).await;
                            return;
                        }
                    },
                };
                for logged in events {
                    last = logged.seq;
                    if sender.send(Ok(logged)).await.is_err() {
                        return;
                    }
                }
                // Wait for a commit this feed has not sent yet.
                loop {
                    let announcement = tokio::select! {
                        announcement = signals.recv() => announcement,
                        _ = sender.closed() => return,
                    };
                    match announcement {
                        Ok(announcement) => match &announcement.events {
                            Some(events) if events.last().is_some_and(|logged| logged.seq <= last) => continue,
                            Some(events) if events.first().is_some_and(|logged| logged.seq == last + 1) => {
                                carried = Some(events.clone());
                                break;
                            }
                            // A gap (a commit announced out of order, or missed) or nothing carried.
                            _ => break,
                        },
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            }
        });
        receiver
    }
}

async fn listen(pool: &PgPool, hub: &Weak<LiveHub>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Anything committed while we were not listening: everyone re-reads.
    let Some(live) = hub.upgrade() else { return Ok(()) };
    live.signal_everyone();
    drop(live);
    loop {
        let notification = listener.try_recv().await?;
        let Some(hub) = hub.upgrade() else { return Ok(()) };
        match notification {
            Some(notification) => hub.signal(notification.payload()),
            // The connection dropped and was re-established; signals may have been lost.
            None => hub.signal_everyone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ConversationEvent;

    fn text(seq: u64, text: String) -> LoggedEvent {
        LoggedEvent { seq, at: "2026-11-26T00:00:00Z".into(), event: ConversationEvent::TextAppended { turn: 1, block: 0, text } }
    }

    #[test]
    fn a_small_commit_is_announced_with_its_events_and_a_large_one_by_its_id_alone() {
        let small = payload("c1", &[text(1, "hello".into())]);
        let (head, body) = small.split_once('\n').expect("the events follow the id");
        assert_eq!(head, format!("c1{TEXT_ONLY}"));
        let events: Vec<LoggedEvent> = serde_json::from_str(body).unwrap();
        assert_eq!(events, vec![text(1, "hello".into())]);

        let large = payload("c1", &[text(1, "x".repeat(MAX_PAYLOAD)), text(2, "y".into())]);
        assert_eq!(large, format!("c1{TEXT_ONLY}"));
        let fits = payload("c1", &[text(1, "x".repeat(MAX_PAYLOAD - 200))]);
        assert!(fits.len() <= MAX_PAYLOAD && fits.contains('\n'), "an announcement that fits carries its events");
    }
}
