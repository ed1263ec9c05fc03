//! What every HTTP provider shares: the retrying connect, the SSE driver, the HTTP client and
//! the run-time API key.

pub(crate) mod connect;
pub(crate) mod sse;

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::{ProviderError, ProviderStream};
use connect::Endpoint;
use sse::Decode;

/// A secret shared between clones and replaceable at run time (a key set on the settings page).
/// Its `Debug` never shows it.
#[derive(Clone, Default)]
pub struct RuntimeKey(Arc<RwLock<Option<String>>>);

impl RuntimeKey {
    pub fn get(&self) -> Option<String> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, key: Option<String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = key.filter(|k| !k.trim().is_empty());
    }

    /// The run-time key if set, else `configured`; never empty.
    pub fn or(&self, configured: Option<&String>) -> Option<String> {
        self.get().or_else(|| configured.cloned()).filter(|k| !k.trim().is_empty())
    }
}

impl fmt::Debug for RuntimeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.get().is_some() { "<redacted>" } else { "<unset>" })
    }
}

/// An HTTP client whose connect timeout is `timeout`, or why it could not be built.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder().connect_timeout(timeout).build().map_err(|e| format!("HTTP client could not be built: {e}"))
}

/// POSTs `body` (with retries), then decodes the SSE reply with `decoder`.
pub(crate) fn stream<D: Decode>(
    client: &Result<reqwest::Client, String>,
    endpoint: Endpoint,
    body: serde_json::Value,
    decoder: D,
) -> ProviderStream {
    let client = match client {
        Ok(client) => client.clone(),
        Err(why) => return fail(ProviderError::Unavailable(why.clone())),
    };
    stream::once(async move {
        match connect::connect(&client, &endpoint, &body).await {
            Ok(response) => sse::events(response.bytes_stream(), decoder).boxed(),
            Err(e) => stream::iter([Err(e)]).boxed(),
        }
    })
    .flatten()
    .boxed()
}

/// A stream of exactly one error.
pub(crate) fn fail(error: ProviderError) -> ProviderStream {
    stream::iter([Err(error)]).boxed()
}

/// `base` without trailing slashes and without a trailing `/v1`, so `https://host` and
/// `https://host/v1` (the OpenAI SDKs' convention) both work; `path` starts with `/v1/`.
pub(crate) fn join(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/v1").unwrap_or(base);
    format!("{base}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_key_wins_over_the_configured_one_and_is_shared_by_clones() {
        let key = RuntimeKey::default();
        let clone = key.clone();
        let configured = Some("from-env".to_string());
        assert_eq!(key.or(configured.as_ref()).as_deref(), Some("from-env"));
        key.set(Some("from-settings".into()));
        assert_eq!(clone.or(configured.as_ref()).as_deref(), Some("from-settings"));
        key.set(Some("  ".into()));
        assert_eq!(clone.or(None), None);
        key.set(Some("sk-hidden".into()));
        assert!(!format!("{key:?}").contains("sk-hidden"));
    }

    #[test]
    fn a_base_url_may_end_in_v1_or_a_slash() {
        for base in ["http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/"] {
            assert_eq!(join(base, "/v1/responses"), "http://h:1/v1/responses", "{base}");
        }
        assert_eq!(join("http://h/proxy", "/v1/chat/completions"), "http://h/proxy/v1/chat/completions");
    }
}
