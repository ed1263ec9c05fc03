//! The live feed: one Postgres LISTEN per process, fanned out to every SSE client in it.
//!
//! A trigger on `events` NOTIFYs the conversation id on every commit, from any process. Clients
//! re-read the log from their last sequence on each signal, so a lost or merged signal can delay
//! a frame but never lose or repeat one.

use std::sync::Arc;
use std::time::Duration;

use domain::LoggedEvent;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};

use crate::error::BackendError;
use crate::event_log::EventLog;

/// The channel the events trigger notifies.
pub const CHANNEL: &str = "pocketdev_events";
/// Sent to every subscriber when notifications may have been missed.
pub(crate) const EVERYONE: &str = "*";

/// Fans committed-event signals out to subscribers in this process.
pub struct LiveHub {
    sender: broadcast::Sender<Arc<str>>,
}

impl LiveHub {
    /// Starts listening. The task reconnects by itself and tells everyone to resync when it does.
    pub fn start(pool: PgPool) -> Arc<Self> {
        let (sender, _) = broadcast::channel(4096);
        let hub = Arc::new(Self { sender });
        let sender = hub.sender.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = listen(&pool, &sender).await {
                    tracing::warn!(%error, "live feed listener failed; reconnecting");
                }
                let _ = sender.send(Arc::from(EVERYONE));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.sender.subscribe()
    }

    /// Streams the events of `id` after `after`, then every later one as it is committed.
    pub fn follow(self: &Arc<Self>, log: Arc<EventLog>, id: String, after: u64) -> mpsc::Receiver<Result<LoggedEvent, BackendError>> {
        let (sender, receiver) = mpsc::channel(256);
        // Subscribe before the first read, so nothing committed in between is missed.
        let mut signals = self.subscribe();
        tokio::spawn(async move {
            let mut last = after;
            loop {
                match log.range(&id, last, None).await {
                    Ok(events) => {
                        for logged in events {
                            last = logged.seq;
                            if sender.send(Ok(logged)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(error) => {
                        let _ = sender.send(Err(error)).await;
                        return;
                    }
                }
                if !wait_for_signal(&mut signals, &id, &sender).await {
                    return;
                }
            }
        });
        receiver
    }
}

/// Waits until `id` (or everyone) is signalled. Returns false when the client went away.
async fn wait_for_signal<T>(signals: &mut broadcast::Receiver<Arc<str>>, id: &str, client: &mpsc::Sender<T>) -> bool {
    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Ok(signalled) if &*signalled == id || &*signalled == EVERYONE => return true,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => return false,
            },
            _ = client.closed() => return false,
        }
    }
}

async fn listen(pool: &PgPool, sender: &broadcast::Sender<Arc<str>>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Anything committed while we were not listening: everyone re-reads.
    let _ = sender.send(Arc::from(EVERYONE));
    loop {
        match listener.try_recv().await? {
            Some(notification) => {
                let _ = sender.send(Arc::from(notification.payload()));
            }
            None => {
                // The connection dropped and was re-established; signals may have been lost.
                let _ = sender.send(Arc::from(EVERYONE));
            }
        }
    }
}
