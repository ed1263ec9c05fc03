//! Sends a request and waits for a 2xx response, retrying overloads and transient failures.
//!
//! Shared by every HTTP provider. Retries happen only here, before any byte of the stream
//! reached the caller.

use std::error::Error as StdError;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};
use serde::Deserialize;

use crate::ProviderError;

/// The longest we wait between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// The first default backoff; it doubles with each retry.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// How much of a non-JSON error body ends up in the error message.
const MAX_ERROR_BODY: usize = 500;

/// Where one streamed request goes, and how hard to try.
pub(crate) struct Endpoint {
    /// The provider's name, for logs.
    pub name: &'static str,
    pub url: String,
    /// Every header but `content-type` (added here); secrets marked sensitive.
    pub headers: HeaderMap,
    /// Retries for 429/5xx/529 and connection failures.
    pub max_retries: u32,
    /// Limit for connecting and receiving the response headers (not the whole stream).
    pub timeout: Duration,
}

/// An attempt's failure, and whether (and after how long) it may be retried.
struct Failed {
    error: ProviderError,
    retry: bool,
    retry_after: Option<Duration>,
}

/// POSTs `body` as JSON to the endpoint until a 2xx response arrives or retries run out.
pub(crate) async fn connect(client: &Client, endpoint: &Endpoint, body: &serde_json::Value) -> Result<Response, ProviderError> {
    let mut headers = endpoint.headers.clone();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut attempt: u32 = 0;
    loop {
        let failed = match attempt_once(client, &endpoint.url, &headers, body, endpoint.timeout).await {
            Ok(response) => return Ok(response),
            Err(failed) => failed,
        };
        if !failed.retry || attempt >= endpoint.max_retries {
            return Err(failed.error);
        }
        let wait = backoff(attempt, failed.retry_after);
        tracing::warn!(provider = endpoint.name, attempt, ?wait, error = %failed.error, "provider request failed; retrying");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

async fn attempt_once(
    client: &Client,
    url: &str,
    headers: &HeaderMap,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<Response, Failed> {
    let send = client.post(url).headers(headers.clone()).json(body).send();
    let response = match tokio::time::timeout(timeout, send).await {
        Err(_) => {
            return Err(Failed {
                error: ProviderError::Transport(format!("no response headers within {} ms", timeout.as_millis())),
                retry: true,
                retry_after: None,
            })
        }
        Ok(Err(e)) => return Err(Failed { retry: !e.is_builder(), error: ProviderError::Transport(describe(&e)), retry_after: None }),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers());
    let message = error_message(response, status, timeout).await;
    Err(Failed { error: ProviderError::Http { status: status.as_u16(), message, retry_after }, retry: is_retryable(status), retry_after })
}

/// A secret header value, marked sensitive so it never shows in `Debug` output.
pub(crate) fn secret_header(value: &str, variable: &str) -> Result<HeaderValue, ProviderError> {
    let mut value =
        HeaderValue::from_str(value).map_err(|_| ProviderError::Unavailable(format!("{variable} contains invalid characters")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// 429, 500, 502, 503, 504 and 529 are worth another try.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504 | 529)
}

/// The wait before retry number `attempt + 1`: `retry-after` if given, else 500 ms · 2^attempt; at most 30 s.
pub(crate) fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let default = BASE_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.min(16)));
    retry_after.unwrap_or(default).min(MAX_WAIT)
}

/// `retry-after` in whole or fractional seconds (HTTP dates are not supported).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e6)))
}

/// `error.message` from an Anthropic or OpenAI error body (or `error` when it is a string, as
/// Ollama sends), else the (shortened) body text, else the status.
async fn error_message(response: Response, status: StatusCode, timeout: Duration) -> String {
    let text = match tokio::time::timeout(timeout, response.text()).await {
        Ok(Ok(text)) => text,
        _ => String::new(),
    };
    message_of(&text).unwrap_or_else(|| shorten(&text, status))
}

/// The message of a JSON error body: `{"error":{"message":…}}` or `{"error":"…"}`.
pub(crate) fn message_of(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Inner {
        Object { message: String },
        Text(String),
    }
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    match serde_json::from_str::<Body>(text).ok()?.error {
        Inner::Object { message } | Inner::Text(message) => Some(message),
    }
}

fn shorten(text: &str, status: StatusCode) -> String {
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no error message").to_string();
    }
    match text.char_indices().nth(MAX_ERROR_BODY) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// An error and its sources, joined by ": ".
pub(crate) fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_and_is_capped() {
        assert_eq!(backoff(0, None), Duration::from_millis(500));
        assert_eq!(backoff(2, None), Duration::from_secs(2));
        assert_eq!(backoff(10, None), MAX_WAIT);
        assert_eq!(backoff(10, Some(Duration::from_secs(90))), MAX_WAIT);
    }

    #[test]
    fn retry_after_wins_over_the_default_backoff() {
        assert_eq!(backoff(3, Some(Duration::from_secs(1))), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_seconds_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn only_overload_and_server_statuses_are_retryable() {
        for code in [429, 500, 502, 503, 504, 529] {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 404, 413] {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn error_messages_come_from_anthropic_openai_and_ollama_bodies() {
        assert_eq!(message_of(r#"{"type":"error","error":{"type":"x","message":"bad key"}}"#).as_deref(), Some("bad key"));
        assert_eq!(message_of(r#"{"error":{"message":"quota","type":"insufficient_quota","code":null}}"#).as_deref(), Some("quota"));
        assert_eq!(message_of(r#"{"error":"model not found"}"#).as_deref(), Some("model not found"));
        assert_eq!(message_of("<html>502</html>"), None);
        assert_eq!(shorten("", StatusCode::BAD_GATEWAY), "Bad Gateway");
    }

    #[test]
    fn a_secret_header_is_marked_sensitive() {
        let value = secret_header("sk-secret", "KEY").unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("sk-secret"));
        assert!(matches!(secret_header("bad\nkey", "KEY"), Err(ProviderError::Unavailable(m)) if m.contains("KEY")));
    }
}
