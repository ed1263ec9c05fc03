//! Anthropic Messages API streaming client: `AnthropicProvider::stream` turns a `ChatRequest`
//! into a `ProviderStream` of normalized events.
//!
//! Submodules: `wire` builds the request body and `decode` maps each SSE event to a
//! `ProviderEvent`; sending (with retries) and SSE parsing are shared (`crate::transport`).

pub(crate) mod decode;
mod wire;

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

pub use crate::transport::RuntimeKey;
use crate::transport::{self, connect::Endpoint};
use crate::{ChatRequest, ProviderError, ProviderStream};

/// The `anthropic-version` header value.
const API_VERSION: &str = "2023-06-01";

/// Where and how to reach the Anthropic API.
#[derive(Clone)]
pub struct AnthropicConfig {
    /// e.g. `https://api.anthropic.com` (no trailing `/v1`).
    pub base_url: String,
    /// `None` makes every stream fail with `ProviderError::Unavailable`.
    pub api_key: Option<String>,
    /// Retries for 429/5xx/529 and connection failures, before any event was yielded.
    pub max_retries: u32,
    /// Limit for connecting and receiving the response headers (not the whole stream).
    pub request_timeout: Duration,
    /// A key set at run time (the settings page). When set it wins over `api_key`.
    /// Clones share it, so the provider sees a change at its next request.
    pub runtime_key: RuntimeKey,
}

impl AnthropicConfig {
    /// The key requests use: the runtime key if set, else `api_key`; never empty.
    pub fn effective_key(&self) -> Option<String> {
        self.runtime_key.or(self.api_key.as_ref())
    }
}

impl Default for AnthropicConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.anthropic.com".into(),
            api_key: None,
            max_retries: 2,
            request_timeout: Duration::from_secs(60),
            runtime_key: RuntimeKey::default(),
        }
    }
}

/// Debug output never shows the API key.
impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("max_retries", &self.max_retries)
            .field("request_timeout", &self.request_timeout)
            .field("runtime_key", &self.runtime_key)
            .finish()
    }
}

/// A streaming client for the Anthropic Messages API. Cheap to share; holds one HTTP client.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    cfg: AnthropicConfig,
    /// The HTTP client, or why it could not be built.
    client: Result<reqwest::Client, String>,
}

impl AnthropicProvider {
    pub fn new(cfg: AnthropicConfig) -> Self {
        let client = transport::client(cfg.request_timeout);
        Self { cfg, client }
    }

    /// Streams one reply. Ends with `ProviderEvent::Stop` or exactly one error.
    pub fn stream(&self, req: ChatRequest) -> ProviderStream {
        let Some(api_key) = self.cfg.effective_key() else {
            return transport::fail(ProviderError::Unavailable("ANTHROPIC_API_KEY is not set".into()));
        };
        let headers = match headers(&api_key) {
            Ok(headers) => headers,
            Err(e) => return transport::fail(e),
        };
        let endpoint = Endpoint {
            name: "anthropic",
            url: transport::join(&self.cfg.base_url, "/v1/messages"),
            headers,
            max_retries: self.cfg.max_retries,
            timeout: self.cfg.request_timeout,
        };
        transport::stream(&self.client, endpoint, wire::body(&req), decode::Decoder::default())
    }
}

fn headers(api_key: &str) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", transport::connect::secret_header(api_key, "ANTHROPIC_API_KEY")?);
    headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_key_wins_over_the_configured_one_and_is_shared_by_clones() {
        let cfg = AnthropicConfig { api_key: Some("from-env".into()), ..AnthropicConfig::default() };
        let clone = cfg.clone();
        assert_eq!(cfg.effective_key().as_deref(), Some("from-env"));
        cfg.runtime_key.set(Some("from-settings".into()));
        assert_eq!(clone.effective_key().as_deref(), Some("from-settings"));
        cfg.runtime_key.set(None);
        assert_eq!(clone.effective_key().as_deref(), Some("from-env"));
        cfg.runtime_key.set(Some("sk-hidden".into()));
        assert!(!format!("{cfg:?}").contains("sk-hidden"));
    }

    #[test]
    fn the_api_key_header_is_marked_sensitive() {
        let h = headers("sk-secret").unwrap();
        assert!(h["x-api-key"].is_sensitive());
        assert!(!format!("{h:?}").contains("sk-secret"));
    }
}
