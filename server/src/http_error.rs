//! The HTTP edge's error type: maps backend errors to statuses with a JSON `{"error": …}` body.
//! "Your fault" is 4xx with a message; "our fault" is a logged 500 with an opaque body.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::BackendError;
use domain::ConversationError;

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
        use ConversationError as R;
        let status = match &error {
            BackendError::NotFound | BackendError::Domain(R::NotFound | R::ApprovalNotFound) => StatusCode::NOT_FOUND,
            BackendError::Invalid(_) => StatusCode::BAD_REQUEST,
            BackendError::Domain(R::EmptyPrompt | R::PromptTooLarge | R::InvalidTitle | R::InvalidSettings(_)) => StatusCode::BAD_REQUEST,
            BackendError::Domain(_) | BackendError::Conflict => StatusCode::CONFLICT,
            BackendError::Redis(_) | BackendError::Busy | BackendError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            unavailable if unavailable.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %error, error.debug = ?error, "request failed");
            let message = match &error {
                BackendError::Busy => "the server is busy; try again",
                BackendError::Unavailable(_) | BackendError::Database(_) => "the database is unavailable; try again",
                BackendError::Redis(_) => "the job queue is unavailable; try again",
                _ => "internal error",
            };
            return Self::new(status, message);
        }
        Self::new(status, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

/// `Json<T>` whose rejections are 400s with a message saying what was wrong.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {}", rejection.body_text()))),
        }
    }
}
