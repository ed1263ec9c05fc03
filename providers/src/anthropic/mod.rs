//! Anthropic Messages API streaming client: `AnthropicProvider::stream` turns a `ChatRequest`
//! into a `ProviderStream` of normalized events.
//!
//! Submodules: `wire` builds the request body, `connect` sends it (with retries), `sse`
//! splits the response into SSE events and `decode` maps each to a `ProviderEvent`.

mod connect;
pub(crate) mod decode;
mod sse;
mod wire;

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::{ChatRequest, ProviderError, ProviderStream};

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
        self.runtime_key.get().or_else(|| self.api_key.clone()).filter(|k| !k.trim().is_empty())
    }
}

/// A secret shared between clones and replaceable at run time. Its `Debug` never shows it.
#[derive(Clone, Default)]
pub struct RuntimeKey(Arc<RwLock<Option<String>>>);

impl RuntimeKey {
    pub fn get(&self) -> Option<String> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, key: Option<String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = key.filter(|k| !k.trim().is_empty());
    }
}

impl fmt::Debug for RuntimeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.get().is_some() { "<redacted>" } else { "<unset>" })
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
        let client = reqwest::Client::builder()
            .connect_timeout(cfg.request_timeout)
            .build()
            .map_err(|e| format!("HTTP client could not be built: {e}"));
        Self { cfg, client }
    }

    /// Streams one reply. Ends with `ProviderEvent::Stop` or exactly one error.
    pub fn stream(&self, req: ChatRequest) -> ProviderStream {
        let Some(api_key) = self.cfg.effective_key() else {
            return fail(ProviderError::Unavailable(
                "ANTHROPIC_API_KEY is not set".into(),
            ));
        };
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(why) => return fail(ProviderError::Unavailable(why.clone())),
        };
        let cfg = self.cfg.clone();
        let body = wire::body(&req);
        stream::once(async move { connect::connect(&client, &cfg, &api_key, &body).await })
            .flat_map(|connected| match connected {
                Ok(response) => sse::events(response.bytes_stream()).boxed(),
                Err(e) => stream::iter([Err(e)]).boxed(),
            })
            .boxed()
    }
}

fn fail(error: ProviderError) -> ProviderStream {
    stream::iter([Err(error)]).boxed()
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
}
