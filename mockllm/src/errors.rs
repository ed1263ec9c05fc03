//! Error responses in the Anthropic and OpenAI JSON shapes, and the injected HTTP failures.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::directive::Failure;

/// `{"type":"error","error":{"type":kind,"message":message}}` with `status`.
pub(crate) fn anthropic(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (status, Json(body)).into_response()
}

/// `{"error":{"message","type","param":null,"code"}}` with `status`.
pub(crate) fn openai(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, Json(body)).into_response()
}

/// The response for an injected HTTP failure, in the Anthropic shape.
pub(crate) fn anthropic_failure(failure: Failure) -> Response {
    match failure {
        Failure::Http401 => anthropic(StatusCode::UNAUTHORIZED, "authentication_error", "invalid x-api-key"),
        Failure::Http500 => anthropic(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "Internal server error"),
        _ => with_retry_after(anthropic(overloaded(), "overloaded_error", "Overloaded")),
    }
}

/// The response for an injected HTTP failure, in the OpenAI shape.
pub(crate) fn openai_failure(failure: Failure) -> Response {
    match failure {
        Failure::Http401 => {
            openai(StatusCode::UNAUTHORIZED, "invalid_request_error", Some("invalid_api_key"), "Incorrect API key provided.")
        }
        Failure::Http500 => {
            openai(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None, "The server had an error while processing your request.")
        }
        _ => with_retry_after(openai(overloaded(), "server_error", None, "Overloaded")),
    }
}

/// The 401 for a missing or empty `x-api-key`.
pub(crate) fn anthropic_missing_key() -> Response {
    anthropic(StatusCode::UNAUTHORIZED, "authentication_error", "x-api-key header is required")
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

fn with_retry_after(mut response: Response) -> Response {
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
