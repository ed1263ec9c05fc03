//! `GET /api/conversations/live`: the conversation list's changes as SSE (`backend::live_list`).
//!
//! Event `summary`, data a `ConversationSummary` plus `"deleted": true` for deletions; keep-alive
//! comments every 15 s. No deltas, no resume: a reconnecting client re-reads the list.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use crate::app_state::AppState;

pub async fn stream(State(state): State<AppState>) -> impl IntoResponse {
    let changes = state.backend.follow_list();
    let frames = ReceiverStream::new(changes).map_while(|item| match item {
        Ok(change) => Some(Ok::<_, Infallible>(Event::default().event("summary").json_data(&change).expect("summaries always serialize"))),
        Err(error) => {
            tracing::warn!(%error, "live list read failed; closing the stream so the client reconnects");
            None
        }
    });
    let mut response = Sse::new(frames).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.headers_mut().insert("cache-control", HeaderValue::from_static("no-cache"));
    response
}
