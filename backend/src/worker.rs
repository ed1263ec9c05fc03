//! The job consumer: reads turns from the stream, heartbeats while running them, reclaims the
//! jobs of dead workers after their lease, and acknowledges a job only once it has ended.
//! Once the backend drains (`Backend::drain`), it takes no new jobs and returns when the running
//! ones have ended; a job cut off by the process exiting is reclaimed by another worker.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::error::BackendError;
use crate::jobs::run_turn;
use crate::queue::{Consumer, Delivery};
use crate::state::Backend;

/// How long one `XREADGROUP` blocks.
const BLOCK: Duration = Duration::from_secs(5);

/// A unique consumer name for this process.
pub fn consumer_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{}", std::process::id(), &Uuid::new_v4().to_string()[..8])
}

/// Runs jobs until the task is dropped, or until the backend drains and the running jobs have ended.
#[tracing::instrument(name = "worker", skip(backend))]
pub async fn run_worker(backend: Arc<Backend>, name: String) -> Result<(), BackendError> {
    let config = backend.config.worker.clone();
    let slots = Arc::new(Semaphore::new(config.concurrency));
    let mut consumer = backend.queue.consumer(&name).await?;
    let janitor = backend.queue.consumer(&name).await?;
    let mut draining = backend.draining();
    tracing::info!(consumer = %name, "worker started");
    let reclaim = {
        let backend = backend.clone();
        let slots = slots.clone();
        let mut draining = draining.clone();
        tokio::spawn(async move {
            let janitor = Arc::new(janitor);
            let mut last_reconcile = std::time::Instant::now() - config.requeue_after;
            while !*draining.borrow() {
                if last_reconcile.elapsed() >= config.requeue_after / 2 {
                    last_reconcile = std::time::Instant::now();
                    if let Err(error) = crate::reconcile::requeue_lost_turns(&backend, config.requeue_after).await {
                        tracing::warn!(%error, "re-queueing lost turns failed");
                    }
                }
                // Slots first, then claims: a claimed job that waited for a slot would send no
                // heartbeat, and another worker would take it over once more after the lease.
                let mut free: Vec<_> = std::iter::from_fn(|| slots.clone().try_acquire_owned().ok()).collect();
                match janitor.claim_stale(config.lease, free.len()).await {
                    Ok(deliveries) => {
                        for delivery in deliveries {
                            tracing::warn!(entry = %delivery.entry_id, "reclaimed a job from a silent worker");
                            let permit = free.pop().expect("no more claims than free slots");
                            spawn_job(backend.clone(), janitor.clone(), delivery, permit);
                        }
                    }
                    Err(error) => tracing::warn!(%error, "reclaiming stale jobs failed"),
                }
                drop(free);
                tokio::select! {
                    _ = tokio::time::sleep((config.lease / 3).max(Duration::from_millis(200))) => {}
                    _ = draining.wait_for(|draining| *draining) => {}
                }
            }
        })
    };
    let mut reclaim = AbortOnDrop(reclaim);
    let reader = Arc::new(backend.queue.consumer(&name).await?);
    while !*draining.borrow() {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("semaphore never closes"),
            _ = draining.wait_for(|draining| *draining) => break,
        };
        // Not cancelled by the drain: a job it delivers is run (and waited for) rather than left
        // to wait for a reclaim.
        let read = consumer.read(BLOCK).await;
        match read {
            Ok(Some(delivery)) => spawn_job(backend.clone(), reader.clone(), delivery, permit),
            Ok(None) => drop(permit),
            Err(error) => {
                tracing::warn!(%error, "reading jobs failed; retrying");
                drop(permit);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    // Draining: the janitor stops after its current round; then wait for the running jobs.
    let _ = (&mut reclaim.0).await;
    let running = config.concurrency - slots.available_permits();
    tracing::info!(consumer = %name, running, "worker draining: no new jobs; waiting for the running ones");
    let _all = slots.acquire_many(config.concurrency as u32).await.expect("semaphore never closes");
    tracing::info!(consumer = %name, "worker drained");
    Ok(())
}

fn spawn_job(backend: Arc<Backend>, consumer: Arc<Consumer>, delivery: Delivery, permit: tokio::sync::OwnedSemaphorePermit) {
    tokio::spawn(async move {
        let _permit = permit;
        let lease = backend.config.worker.lease;
        let heartbeat = {
            let consumer = consumer.clone();
            let entry = delivery.entry_id.clone();
            AbortOnDrop(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    if let Err(error) = consumer.heartbeat(&entry).await {
                        tracing::warn!(%error, "job heartbeat failed");
                    }
                }
            }))
        };
        let outcome = match &delivery.job {
            Some(job) => run_turn(&backend, job, consumer.name(), delivery.reclaimed).await,
            None => Ok(()),
        };
        drop(heartbeat);
        match outcome {
            Ok(()) => {
                if let Err(error) = consumer.ack(&delivery.entry_id).await {
                    tracing::error!(%error, "could not acknowledge a finished job");
                }
            }
            // Not acknowledged: after the lease another worker (or this one) reclaims it.
            Err(error) => tracing::error!(%error, entry = %delivery.entry_id, "job failed; left for reclaim"),
        }
    });
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
