//! The mock OpenAI APIs: shared auth, content extraction and body parsing for chat and responses.

pub(crate) mod chat;
pub(crate) mod responses;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::errors;
use crate::keys::{Api, Keys};

/// Checks the bearer token and parses the JSON body, or returns the error response.
fn accept<T: DeserializeOwned>(keys: &Keys, headers: &HeaderMap, body: &[u8]) -> Result<T, Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        return Err(Box::new(errors::openai_missing_key()));
    }
    if !keys.check(Api::OpenAi, token) {
        return Err(Box::new(errors::openai_invalid_key()));
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(errors::openai(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            &format!("We could not parse the JSON body of your request: {e}"),
        ))
    })
}

/// The text of an OpenAI content value: a string, or the `text` of its text-like parts.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| matches!(p.get("type").and_then(Value::as_str), Some("text" | "input_text" | "output_text")))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The `text/event-stream` headers.
const SSE_HEADERS: [(header::HeaderName, &str); 2] =
    [(header::CONTENT_TYPE, "text/event-stream; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")];
