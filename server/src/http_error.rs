//! The HTTP edge's error type: maps backend errors to statuses with a JSON `{"error": …}` body.
//! "Your fault" is 4xx with a message; "our fault" is a logged 500 with an opaque body.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::error::ErrorClass;
use backend::BackendError;
use serde::de::DeserializeOwned;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "conversation not found")
    }
}

impl From<BackendError> for ApiError {
    fn from(error: BackendError) -> Self {
        let status = match error.class() {
            ErrorClass::NotFound => StatusCode::NOT_FOUND,
            ErrorClass::Invalid => StatusCode::BAD_REQUEST,
            ErrorClass::Forbidden => StatusCode::FORBIDDEN,
            ErrorClass::Conflict => StatusCode::CONFLICT,
            ErrorClass::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorClass::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorClass::NoSpace => StatusCode::INSUFFICIENT_STORAGE,
            ErrorClass::Unavailable | ErrorClass::Unconfigured => StatusCode::SERVICE_UNAVAILABLE,
            ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if error.class().is_logged() {
            tracing::error!(error = %error, error.debug = ?error, "request failed");
        }
        Self::new(status, error.public_message())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

/// `Json<T>` whose rejections are 400s with a message saying what was wrong. The body must be a JSON
/// object, and strings holding NUL are refused: Postgres can store them neither in `text` nor in `jsonb`.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match Json::<serde_json::Value>::from_request(request, state).await {
            Ok(Json(value)) => value,
            Err(rejection) => return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {}", rejection.body_text()))),
        };
        // serde reads a struct from an array too (`[null, null]`): every body of this API is an object.
        if !value.is_object() {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid JSON body: expected an object"));
        }
        if has_nul(&value) {
            return Err(nul_refused());
        }
        serde_json::from_value(value)
            .map(Self)
            .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {error}")))
    }
}

/// Whether a string (or an object key) anywhere in `value` holds a NUL character.
fn has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(key, child)| key.contains('\0') || has_nul(child)),
        _ => false,
    }
}

fn nul_refused() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "text may not contain NUL characters (\\u0000)")
}

/// `Query<T>` whose rejections (a duplicated or malformed parameter) are JSON 400s, not axum's plain text.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            if pairs.iter().any(|(name, value)| name.contains('\0') || value.contains('\0')) {
                return Err(nul_refused());
            }
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(StatusCode::BAD_REQUEST, format!("invalid query string: {}", rejection.body_text()))),
        }
    }
}

/// `Path<T>` whose rejections (a segment that is not UTF-8 once decoded) are JSON 400s.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(StatusCode::BAD_REQUEST, format!("invalid path: {}", rejection.body_text()))),
        }
    }
}
