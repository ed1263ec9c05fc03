//! Error responses in the Anthropic and OpenAI JSON shapes, and the injected HTTP failures with
//! the headers the real APIs send with them (`retry-after`, the rate-limit headers).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::directive::Failure;
use crate::script::next_id;

/// The request limit the rate-limit headers announce.
const REQUESTS_LIMIT: u64 = 50;
/// The token limit the rate-limit headers announce.
const TOKENS_LIMIT: u64 = 40_000;

/// `{"type":"error","error":{"type":kind,"message":message},"request_id":…}` with `status` and
/// the `request-id` header, as the Anthropic API sends errors.
pub(crate) fn anthropic(status: StatusCode, kind: &str, message: &str) -> Response {
    let request_id = next_id("req");
    let body = json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id});
    let mut response = (status, Json(body)).into_response();
    set(&mut response, "request-id", &request_id);
    response
}

/// `{"error":{"message","type","param":null,"code"}}` with `status`.
pub(crate) fn openai(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, Json(body)).into_response()
}

/// The response for an injected HTTP failure, in the Anthropic shape; 429 and 529 carry
/// `retry-after: retry_after`, and 429 the `anthropic-ratelimit-*` headers (resets in RFC 3339).
pub(crate) fn anthropic_failure(failure: Failure, retry_after: u64) -> Response {
    match failure {
        Failure::Http401 => anthropic(StatusCode::UNAUTHORIZED, "authentication_error", "invalid x-api-key"),
        Failure::Http500 => anthropic(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "Internal server error"),
        Failure::Http429 => {
            let message = format!(
                "This request would exceed the rate limit for your organization of {REQUESTS_LIMIT} requests per minute. \
                 For details, refer to: https://docs.claude.com/en/api/rate-limits."
            );
            let mut response = with_retry_after(anthropic(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", &message), retry_after);
            let reset =
                (chrono::Utc::now() + chrono::Duration::seconds(retry_after as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            for (kind, limit, remaining) in [("requests", REQUESTS_LIMIT, 0), ("tokens", TOKENS_LIMIT, TOKENS_LIMIT)] {
                set(&mut response, &format!("anthropic-ratelimit-{kind}-limit"), &limit.to_string());
                set(&mut response, &format!("anthropic-ratelimit-{kind}-remaining"), &remaining.to_string());
                set(&mut response, &format!("anthropic-ratelimit-{kind}-reset"), &reset);
            }
            response
        }
        _ => with_retry_after(anthropic(overloaded(), "overloaded_error", "Overloaded"), retry_after),
    }
}

/// The response for an injected HTTP failure, in the OpenAI shape. OpenAI sends no 529: an
/// overload is a 503; 429 and 503 carry `retry-after: retry_after`, and 429 the
/// `x-ratelimit-*` headers (resets as durations like `1s`).
pub(crate) fn openai_failure(failure: Failure, retry_after: u64, model: &str) -> Response {
    match failure {
        Failure::Http401 => {
            openai(StatusCode::UNAUTHORIZED, "invalid_request_error", Some("invalid_api_key"), "Incorrect API key provided.")
        }
        Failure::Http500 => {
            openai(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None, "The server had an error while processing your request.")
        }
        Failure::Http429 => {
            let message = format!(
                "Rate limit reached for {model} in organization org-mock on requests per min (RPM): Limit {REQUESTS_LIMIT}, \
                 Used {REQUESTS_LIMIT}, Requested 1. Please try again in {retry_after}s. \
                 Visit https://platform.openai.com/account/rate-limits to learn more."
            );
            let response = openai(StatusCode::TOO_MANY_REQUESTS, "requests", Some("rate_limit_exceeded"), &message);
            let mut response = with_retry_after(response, retry_after);
            for (kind, limit, remaining, reset) in
                [("requests", REQUESTS_LIMIT, 0, format!("{retry_after}s")), ("tokens", TOKENS_LIMIT, TOKENS_LIMIT, "0s".to_string())]
            {
                set(&mut response, &format!("x-ratelimit-limit-{kind}"), &limit.to_string());
                set(&mut response, &format!("x-ratelimit-remaining-{kind}"), &remaining.to_string());
                set(&mut response, &format!("x-ratelimit-reset-{kind}"), &reset);
            }
            response
        }
        _ => {
            let message = "The server is overloaded. Please try again later.";
            let response = openai(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable_error", Some("server_is_overloaded"), message);
            with_retry_after(response, retry_after)
        }
    }
}

/// The 401 for a missing or empty `x-api-key`.
pub(crate) fn anthropic_missing_key() -> Response {
    anthropic(StatusCode::UNAUTHORIZED, "authentication_error", "x-api-key header is required")
}

/// The 401 for a key the mock does not accept (as the real API answers a revoked or mistyped key).
pub(crate) fn anthropic_invalid_key() -> Response {
    anthropic(StatusCode::UNAUTHORIZED, "authentication_error", "invalid x-api-key")
}

/// The 401 for a bearer token the mock does not accept.
pub(crate) fn openai_invalid_key() -> Response {
    openai(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        Some("invalid_api_key"),
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
    )
}

/// The 401 for a missing or empty bearer token.
pub(crate) fn openai_missing_key() -> Response {
    openai(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        None,
        "You didn't provide an API key. Use the Authorization header with a Bearer token.",
    )
}

fn overloaded() -> StatusCode {
    StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    set(&mut response, "retry-after", &seconds.to_string());
    response
}

/// Sets a header whose name and value are known to be valid.
fn set(response: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        response.headers_mut().insert(name, value);
    }
}
