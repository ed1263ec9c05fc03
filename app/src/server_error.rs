//! The one error policy of the server functions and server pages, mirroring the HTTP API's `ApiError`:
//! a page shows the caller's own mistakes in the backend's words, and never raw database or IO text
//! (those are logged, and the page gets a fixed sentence).

#[cfg(feature = "ssr")]
use leptos::prelude::ServerFnError;

/// What a page may say about `error`; logs the ones that are ours.
#[cfg(feature = "ssr")]
pub fn shown(error: &backend::BackendError) -> String {
    if error.class().is_logged() {
        tracing::error!(error = %error, error.debug = ?error, "page request failed");
    }
    error.public_message()
}

/// `error` as a server function's error (see `shown`).
#[cfg(feature = "ssr")]
pub fn page_error(error: backend::BackendError) -> ServerFnError {
    ServerFnError::new(shown(&error))
}
