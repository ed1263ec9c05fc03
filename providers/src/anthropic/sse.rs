//! Turns a byte stream of Anthropic SSE into `ProviderEvent`s, ending at `message_stop` or the first error.
//!
//! `eventsource-stream` buffers bytes until they are valid UTF-8, so a multi-byte character
//! split across network chunks is decoded correctly.

use std::error::Error as StdError;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::stream::{self, BoxStream, Stream, StreamExt};

use super::connect::describe;
use super::decode::Decoder;
use crate::{ProviderError, ProviderEvent};

type Item = Result<ProviderEvent, ProviderError>;

struct State {
    events: BoxStream<'static, Result<eventsource_stream::Event, ProviderError>>,
    decoder: Decoder,
    finished: bool,
}

/// Decodes `bytes` (an HTTP body) into provider events. The stream always ends with
/// `Stop` or exactly one error; a body that ends before `message_stop` is a `Transport` error.
pub(super) fn events<S, B, E>(bytes: S) -> impl Stream<Item = Item> + Send + 'static
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
    E: StdError + Send + 'static,
{
    let events = bytes.eventsource().map(|r| r.map_err(map_error)).boxed();
    let state = State {
        events,
        decoder: Decoder::default(),
        finished: false,
    };
    stream::unfold(state, |mut st| async move {
        if st.finished {
            return None;
        }
        loop {
            let item = match st.events.next().await {
                None => Err(ProviderError::Transport(
                    "stream ended before message_stop".into(),
                )),
                Some(Err(e)) => Err(e),
                Some(Ok(event)) => match st.decoder.decode(&event.event, &event.data) {
                    Ok(None) => continue,
                    Ok(Some(event)) => Ok(event),
                    Err(e) => Err(e),
                },
            };
            st.finished = matches!(item, Err(_) | Ok(ProviderEvent::Stop { .. }));
            return Some((item, st));
        }
    })
}

fn map_error<E: StdError + 'static>(e: EventStreamError<E>) -> ProviderError {
    match e {
        EventStreamError::Transport(e) => ProviderError::Transport(describe(&e)),
        EventStreamError::Utf8(e) => ProviderError::Protocol(format!("stream is not UTF-8: {e}")),
        EventStreamError::Parser(e) => ProviderError::Protocol(format!("malformed SSE: {e}")),
    }
}
