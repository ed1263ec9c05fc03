//! HTTP Basic credentials, compared in constant time, and the per-client backoff after failed logins.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

/// The one user allowed in. `Debug` never shows the password.
#[derive(Clone)]
pub struct Credentials {
    user: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"<redacted>").finish()
    }
}

/// What a request's `Authorization` header amounts to.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// No Basic credentials at all: ask for them (not a failed attempt).
    Missing,
    Wrong,
    Right,
}

impl Credentials {
    pub fn new(user: String, password: String) -> Self {
        Self { user, password }
    }

    pub fn check(&self, headers: &HeaderMap) -> Verdict {
        use base64::Engine as _;
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else { return Verdict::Missing };
        let Some((scheme, encoded)) = value.to_str().ok().and_then(|v| v.trim().split_once(' ')) else { return Verdict::Wrong };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Verdict::Missing;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else { return Verdict::Wrong };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else { return Verdict::Wrong };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        // Both halves are always compared, so the time taken does not tell which one was wrong.
        let user_ok = user.ct_eq(self.user.as_bytes());
        let password_ok = password.ct_eq(self.password.as_bytes());
        if bool::from(user_ok & password_ok) {
            Verdict::Right
        } else {
            Verdict::Wrong
        }
    }
}

/// Failed logins per client address, with exponential backoff.
///
/// The first `free` failures cost nothing. Each later one blocks the address for `base · 2^k`
/// (k = 0, 1, 2, …), at most `max`; while blocked, every request with credentials answers 429.
/// A success clears the address; an address quiet for `forget` is forgotten.
pub struct LoginLimiter {
    free: u32,
    base: Duration,
    max: Duration,
    forget: Duration,
    clients: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// Addresses tracked at most; beyond it the oldest entries go first.
const MAX_TRACKED: usize = 10_000;

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(1), Duration::from_secs(15 * 60))
    }
}

impl LoginLimiter {
    pub fn new(free: u32, base: Duration, max: Duration) -> Self {
        Self { free, base, max, forget: Duration::from_secs(3600).max(max * 2), clients: Mutex::default() }
    }

    /// How long `ip` must still wait, if it is blocked.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let until = clients.get(&ip)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Records a failure; returns the block it starts, if any.
    pub fn fail(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= MAX_TRACKED {
            clients.retain(|_, f| now.duration_since(f.last) < self.forget);
            if clients.len() >= MAX_TRACKED {
                if let Some(oldest) = clients.iter().min_by_key(|(_, f)| f.last).map(|(ip, _)| *ip) {
                    clients.remove(&oldest);
                }
            }
        }
        let entry = clients.entry(ip).or_insert(Failures { count: 0, last: now, blocked_until: None });
        if now.duration_since(entry.last) >= self.forget {
            *entry = Failures { count: 0, last: now, blocked_until: None };
        }
        entry.count += 1;
        entry.last = now;
        if entry.count <= self.free {
            return None;
        }
        let exponent = (entry.count - self.free - 1).min(20);
        let wait = self.base.saturating_mul(1 << exponent).min(self.max);
        entry.blocked_until = Some(now + wait);
        Some(wait)
    }

    pub fn succeed(&self, ip: IpAddr) {
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert("authorization", format!("Basic {token}").parse().unwrap());
        headers
    }

    #[test]
    fn only_the_exact_user_and_password_pass() {
        let creds = Credentials::new("alice".into(), "s3cret:with:colons".into());
        assert_eq!(creds.check(&basic("alice", "s3cret:with:colons")), Verdict::Right);
        assert_eq!(creds.check(&basic("alice", "s3cret")), Verdict::Wrong);
        assert_eq!(creds.check(&basic("Alice", "s3cret:with:colons")), Verdict::Wrong);
        assert_eq!(creds.check(&basic("", "")), Verdict::Wrong);
        assert_eq!(creds.check(&HeaderMap::new()), Verdict::Missing);
        let mut garbage = HeaderMap::new();
        garbage.insert("authorization", "Basic !!!".parse().unwrap());
        assert_eq!(creds.check(&garbage), Verdict::Wrong);
        assert!(!format!("{creds:?}").contains("s3cret"));
    }

    #[test]
    fn failures_beyond_the_free_ones_block_for_doubling_times() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(1), Duration::from_secs(5));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!((0..3).filter_map(|_| limiter.fail(ip)).count(), 0);
        assert_eq!(limiter.fail(ip), Some(Duration::from_secs(1)));
        assert_eq!(limiter.fail(ip), Some(Duration::from_secs(2)));
        assert_eq!(limiter.fail(ip), Some(Duration::from_secs(4)));
        assert_eq!(limiter.fail(ip), Some(Duration::from_secs(5)));
        assert!(limiter.blocked(ip).is_some());
        assert!(limiter.blocked(other).is_none());
        limiter.succeed(ip);
        assert!(limiter.blocked(ip).is_none());
    }
}
