//! `Script`: a pre-computed, paced sequence of body chunks turned into a streaming HTTP body.
//!
//! Each SSE event is one body chunk, so it is flushed as soon as it is due. Token chunks are
//! scheduled against the start of the response (first after `first_delay`, then one per
//! `interval`), so pacing does not drift. A `Cut` ends the body with an error, which makes
//! hyper abort the connection without the final chunk.

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures::stream;
use serde_json::Value;
use tokio::time::Instant;

use crate::plan::Plan;

/// How long a cut waits so that the chunks before it reach the client.
const CUT_GRACE: Duration = Duration::from_millis(20);

enum Step {
    Chunk(Bytes),
    /// Wait until this offset from the start of the body.
    At(Duration),
    Cut,
}

/// A paced list of body chunks.
pub(crate) struct Script {
    steps: Vec<Step>,
    clock: Duration,
    first_delay: Duration,
    interval: Option<Duration>,
    tokens_sent: usize,
}

impl Script {
    pub fn new(plan: &Plan) -> Self {
        Self { steps: Vec::new(), clock: Duration::ZERO, first_delay: plan.first_delay, interval: plan.interval, tokens_sent: 0 }
    }

    /// An unpaced chunk, sent right after the previous one.
    pub fn chunk(&mut self, bytes: impl Into<Bytes>) {
        self.steps.push(Step::Chunk(bytes.into()));
    }

    /// A paced token chunk.
    pub fn token(&mut self, bytes: impl Into<Bytes>) {
        let wait = if self.tokens_sent == 0 { self.first_delay } else { self.interval.unwrap_or(Duration::ZERO) };
        self.tokens_sent += 1;
        if !wait.is_zero() {
            self.clock += wait;
            self.steps.push(Step::At(self.clock));
        }
        self.chunk(bytes);
    }

    /// Drops the connection here.
    pub fn cut(&mut self) {
        self.steps.push(Step::Cut);
    }

    /// The streaming body that plays the script.
    pub fn into_body(self) -> Body {
        let init = (self.steps.into_iter(), None::<Instant>);
        let s = stream::unfold(init, |(mut steps, start)| async move {
            let start = start.unwrap_or_else(Instant::now);
            loop {
                match steps.next()? {
                    Step::At(offset) => tokio::time::sleep_until(start + offset).await,
                    Step::Chunk(bytes) => return Some((Ok(bytes), (steps, Some(start)))),
                    Step::Cut => {
                        // Let hyper flush what was sent so far (headers included) first.
                        tokio::time::sleep(CUT_GRACE).await;
                        let err = std::io::Error::other("mockllm: connection cut on purpose");
                        return Some((Err(err), (Vec::new().into_iter(), Some(start))));
                    }
                }
            }
        });
        Body::from_stream(s)
    }
}

/// An SSE event named `name` whose data is `fields` with `"type": name` put first.
pub(crate) fn typed_sse(name: &str, fields: &Value) -> Bytes {
    let rest = fields.to_string();
    let body = match rest.strip_prefix('{') {
        Some("}") | None => format!("{{\"type\":{}}}", Value::from(name)),
        Some(tail) => format!("{{\"type\":{},{tail}", Value::from(name)),
    };
    Bytes::from(format!("event: {name}\ndata: {body}\n\n"))
}

/// One unnamed SSE data line: `data: {payload}\n\n`.
pub(crate) fn sse_data(payload: &str) -> Bytes {
    Bytes::from(format!("data: {payload}\n\n"))
}

/// Rough token count of a request: its whitespace-separated words.
pub(crate) fn count_words(texts: &[&str]) -> u64 {
    texts.iter().map(|t| t.split_whitespace().count() as u64).sum()
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A fresh id like `msg_mock_000000000001` (unique within the process).
pub(crate) fn next_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}_mock_{:012}", NEXT.fetch_add(1, Ordering::Relaxed))
}
