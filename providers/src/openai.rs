//! OpenAI streaming clients: the Responses API (`POST /v1/responses`, OpenAI itself) and Chat
//! Completions (`POST /v1/chat/completions`, for OpenAI-compatible servers such as llama.cpp,
//! vLLM and Ollama). `OpenAiProvider::stream` turns a `ChatRequest` into the same
//! `ProviderStream` of normalized events as the Anthropic adapter.
//!
//! Submodules: `responses` and `chat` build each API's body and decode its SSE events;
//! `blocks` numbers the content blocks both decoders open. Sending (with retries) and SSE
//! parsing are shared with the Anthropic adapter (`crate::transport`).
//!
//! Tools offered go as function tools; the calls a server sends (several in one reply) become
//! tool-use blocks in order, as the Anthropic adapter yields them.

mod blocks;
pub(crate) mod chat;
pub(crate) mod responses;

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION};

use crate::transport::{self, connect::Endpoint, RuntimeKey};
use crate::{ChatRequest, ProviderError, ProviderStream, Usage};

/// A tool result as both OpenAI APIs take it: text only, so a failure says so in words.
fn tool_output(output: &str, is_error: bool) -> String {
    if is_error {
        format!("Error: {output}")
    } else {
        output.to_string()
    }
}

/// Which OpenAI API a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAiApi {
    /// `POST /v1/responses`: typed events, reasoning summaries. The key is required.
    Responses,
    /// `POST /v1/chat/completions`: chunks ending in `[DONE]`, `reasoning_content` deltas. The key is optional.
    ChatCompletions,
}

impl OpenAiApi {
    /// The environment variables this API's base URL and key come from (for messages).
    pub fn variables(self) -> (&'static str, &'static str) {
        match self {
            OpenAiApi::Responses => ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
            OpenAiApi::ChatCompletions => ("OPENAI_COMPATIBLE_BASE_URL", "OPENAI_COMPATIBLE_API_KEY"),
        }
    }

    fn path(self) -> &'static str {
        match self {
            OpenAiApi::Responses => "/v1/responses",
            OpenAiApi::ChatCompletions => "/v1/chat/completions",
        }
    }
}

/// Where and how to reach an OpenAI(-compatible) API.
#[derive(Clone)]
pub struct OpenAiConfig {
    pub api: OpenAiApi,
    /// e.g. `https://api.openai.com` or `http://127.0.0.1:8080` (a trailing `/v1` is fine).
    /// Empty means "not configured": every stream fails with `Unavailable`.
    pub base_url: String,
    /// Required for `Responses`; optional for `ChatCompletions` (no `Authorization` header without it).
    pub api_key: Option<String>,
    /// Retries for 429/5xx and connection failures, before any event was yielded.
    pub max_retries: u32,
    /// Limit for connecting and receiving the response headers (not the whole stream).
    pub request_timeout: Duration,
    /// A key set at run time (the settings page); wins over `api_key`. Shared by clones.
    pub runtime_key: RuntimeKey,
}

impl OpenAiConfig {
    /// OpenAI's Responses API at `https://api.openai.com`, without a key.
    pub fn responses() -> Self {
        Self {
            api: OpenAiApi::Responses,
            base_url: "https://api.openai.com".into(),
            api_key: None,
            max_retries: 2,
            request_timeout: Duration::from_secs(60),
            runtime_key: RuntimeKey::default(),
        }
    }

    /// Chat Completions at no base URL yet (unconfigured), without a key.
    pub fn chat_completions() -> Self {
        Self { api: OpenAiApi::ChatCompletions, base_url: String::new(), ..Self::responses() }
    }

    /// The key requests use: the runtime key if set, else `api_key`; never empty.
    pub fn effective_key(&self) -> Option<String> {
        self.runtime_key.or(self.api_key.as_ref())
    }

    /// Why this provider cannot be used, if it cannot: no base URL, or no key where one is required.
    pub fn unavailable_reason(&self) -> Option<String> {
        let (url_variable, key_variable) = self.api.variables();
        if self.base_url.trim().is_empty() {
            return Some(format!("{url_variable} is not set"));
        }
        (self.api == OpenAiApi::Responses && self.effective_key().is_none()).then(|| format!("{key_variable} is not set"))
    }
}

/// Debug output never shows the API key.
impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("api", &self.api)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("max_retries", &self.max_retries)
            .field("request_timeout", &self.request_timeout)
            .field("runtime_key", &self.runtime_key)
            .finish()
    }
}

/// A streaming client for one OpenAI API. Cheap to share; holds one HTTP client.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    cfg: OpenAiConfig,
    client: Result<reqwest::Client, String>,
}

impl OpenAiProvider {
    pub fn new(cfg: OpenAiConfig) -> Self {
        let client = transport::client(cfg.request_timeout);
        Self { cfg, client }
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.cfg
    }

    /// Streams one reply. Ends with `ProviderEvent::Stop` or exactly one error.
    pub fn stream(&self, req: ChatRequest) -> ProviderStream {
        if let Some(reason) = self.cfg.unavailable_reason() {
            return transport::fail(ProviderError::Unavailable(reason));
        }
        let headers = match headers(self.cfg.effective_key().as_deref(), self.cfg.api.variables().1) {
            Ok(headers) => headers,
            Err(e) => return transport::fail(e),
        };
        let endpoint = Endpoint {
            name: match self.cfg.api {
                OpenAiApi::Responses => "openai",
                OpenAiApi::ChatCompletions => "openai_compatible",
            },
            url: transport::join(&self.cfg.base_url, self.cfg.api.path()),
            headers,
            max_retries: self.cfg.max_retries,
            timeout: self.cfg.request_timeout,
        };
        match self.cfg.api {
            OpenAiApi::Responses => transport::stream(&self.client, endpoint, responses::body(&req), responses::Decoder::default()),
            OpenAiApi::ChatCompletions => transport::stream(&self.client, endpoint, chat::body(&req), chat::Decoder::default()),
        }
    }
}

/// `Authorization: Bearer <key>` (sensitive) when there is a key.
fn headers(key: Option<&str>, variable: &str) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        headers.insert(AUTHORIZATION, transport::connect::secret_header(&format!("Bearer {key}"), variable)?);
    }
    Ok(headers)
}

/// Normalized usage from OpenAI's counts, where prompt and output totals include cached and
/// reasoning tokens.
fn usage(prompt: u64, cached: u64, output: u64, reasoning: u64) -> Usage {
    let cached = cached.min(prompt);
    Usage {
        input_tokens: prompt - cached,
        output_tokens: output,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: cached,
        reasoning_tokens: reasoning,
    }
}

/// The `kind` of a stream error: its `code` or `type`, whichever is a non-empty string (or number).
fn error_kind(error: &serde_json::Value) -> String {
    ["code", "type"]
        .iter()
        .filter_map(|field| match error.get(*field) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .next()
        .unwrap_or_else(|| "error".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_needs_a_base_url_and_for_responses_a_key() {
        let mut cfg = OpenAiConfig::responses();
        assert_eq!(cfg.unavailable_reason().as_deref(), Some("OPENAI_API_KEY is not set"));
        cfg.runtime_key.set(Some("sk-from-settings".into()));
        assert_eq!(cfg.unavailable_reason(), None);
        cfg.base_url = String::new();
        assert_eq!(cfg.unavailable_reason().as_deref(), Some("OPENAI_BASE_URL is not set"));
        let mut local = OpenAiConfig::chat_completions();
        assert_eq!(local.unavailable_reason().as_deref(), Some("OPENAI_COMPATIBLE_BASE_URL is not set"));
        local.base_url = "http://127.0.0.1:8080/v1".into();
        assert_eq!(local.unavailable_reason(), None, "the key is optional");
    }

    #[test]
    fn the_bearer_header_is_sensitive_and_absent_without_a_key() {
        let h = headers(Some("sk-secret"), "OPENAI_API_KEY").unwrap();
        assert!(h[AUTHORIZATION].is_sensitive());
        assert!(!format!("{h:?}").contains("sk-secret"));
        assert!(headers(None, "X").unwrap().is_empty());
        let cfg = OpenAiConfig { api_key: Some("sk-hidden".into()), ..OpenAiConfig::responses() };
        assert!(!format!("{cfg:?}").contains("sk-hidden"));
    }

    #[test]
    fn cached_tokens_are_moved_out_of_the_input() {
        let u = usage(100, 30, 50, 20);
        assert_eq!((u.input_tokens, u.cache_read_input_tokens, u.output_tokens, u.reasoning_tokens), (70, 30, 50, 20));
        assert_eq!(u.prompt_tokens(), 100);
        assert_eq!(usage(5, 9, 0, 0).input_tokens, 0);
    }
}
