//! `GET /api/conversations/{id}/events`: the conversation's events as SSE, resumable by id.
//!
//! The frame id is the event's sequence number in the conversation: totally ordered, and the
//! same in every process and after restarts, so `Last-Event-ID` (or `?after=`) resumes exactly.
//! When the process drains (SIGTERM), every stream ends at once, so that its client reconnects,
//! to another node behind the proxy, with the last id it got.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use serde::Deserialize;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::conversations::conversation_id;
use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiPath as Path, ApiQuery as Query};

#[derive(Deserialize)]
pub struct Params {
    after: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let id = conversation_id(&id)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or(params.after)
        .filter(|raw| !raw.is_empty());
    let after = match resume {
        None => 0,
        Some(raw) => {
            raw.trim().parse::<u64>().map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the resume id is not one this server sent"))?
        }
    };
    state.backend.ensure_conversation(&id).await?;
    let events = state.backend.follow(id, after);
    let mut draining = state.backend.draining();
    let drained = async move {
        let _ = draining.wait_for(|draining| *draining).await;
    };
    let frames = futures::StreamExt::take_until(ReceiverStream::new(events), drained).map_while(|item| match item {
        Ok(logged) => {
            let frame = Event::default()
                .id(logged.seq.to_string())
                .event(logged.event.event_type())
                .json_data(&logged)
                .expect("events always serialize");
            Some(Ok::<_, Infallible>(frame))
        }
        Err(error) => {
            tracing::warn!(%error, "live feed read failed; closing the stream so the client resumes");
            None
        }
    });
    let sse = Sse::new(frames).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)));
    let mut response = sse.into_response();
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.headers_mut().insert("cache-control", HeaderValue::from_static("no-cache"));
    Ok(response)
}
