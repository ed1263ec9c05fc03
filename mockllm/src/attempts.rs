//! `Attempts`: how often the mock has replied to each request (same path, same body), so a
//! retried turn gets the next variant of its reply. Bounded: the least recently seen requests
//! are forgotten first.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use hashlink::LruCache;

/// How many distinct requests are remembered.
pub(crate) const REMEMBERED: usize = 4096;

/// Reply counts by request, shared by the router's clones.
#[derive(Clone)]
pub(crate) struct Attempts(Arc<Mutex<LruCache<u64, usize>>>);

impl Default for Attempts {
    fn default() -> Self {
        Self::with_capacity(REMEMBERED)
    }
}

impl Attempts {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Arc::new(Mutex::new(LruCache::new(capacity))))
    }

    /// Counts one more reply to the request at `path` with `body`; returns its number (1 the
    /// first time this path and body are seen).
    pub fn next(&self, path: &str, body: &[u8]) -> usize {
        let mut hasher = DefaultHasher::new();
        (path, body).hash(&mut hasher);
        let key = hasher.finish();
        let mut seen = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = seen.get(&key).copied().unwrap_or(0) + 1;
        seen.insert(key, count);
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_path_and_body_count_up_and_others_start_at_one() {
        let attempts = Attempts::default();
        assert_eq!(attempts.next("/v1/messages", b"{}"), 1);
        assert_eq!(attempts.next("/v1/messages", b"{}"), 2);
        assert_eq!(attempts.next("/v1/responses", b"{}"), 1);
        assert_eq!(attempts.next("/v1/messages", b"{ }"), 1);
        assert_eq!(attempts.next("/v1/messages", b"{}"), 3);
    }

    #[test]
    fn the_least_recently_seen_request_is_forgotten_first() {
        let attempts = Attempts::with_capacity(2);
        attempts.next("/a", b"");
        attempts.next("/b", b"");
        attempts.next("/a", b"");
        attempts.next("/c", b"");
        assert_eq!(attempts.next("/a", b""), 3, "kept: seen recently");
        assert_eq!(attempts.next("/b", b""), 1, "forgotten");
    }
}
