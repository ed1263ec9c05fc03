//! `AppState`: what every handler is given (the backend and the Leptos options).

use std::sync::Arc;

use axum::extract::FromRef;
use backend::Backend;
use leptos::config::LeptosOptions;

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub backend: Arc<Backend>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
