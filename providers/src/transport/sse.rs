//! Turns a byte stream of SSE into `ProviderEvent`s through a provider's `Decode`, ending at
//! the first `Stop` or the first error.
//!
//! `eventsource-stream` buffers bytes until they are valid UTF-8, so a multi-byte character
//! split across network chunks is decoded correctly.

use std::collections::VecDeque;
use std::error::Error as StdError;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::stream::{self, BoxStream, Stream, StreamExt};

use super::connect::describe;
use crate::{ProviderError, ProviderEvent};

pub(crate) type Item = Result<ProviderEvent, ProviderError>;

/// A provider's wire format: SSE events in, normalized events out.
pub(crate) trait Decode: Send + 'static {
    /// Decodes one SSE event (its `event:` name, possibly empty, and its `data:`) into zero or
    /// more provider events. A `Stop` among them ends the stream; an error ends it too.
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<ProviderEvent>, ProviderError>;

    /// The body ended without a `Stop`: the events that still end the reply normally, or
    /// (usually) the `Transport` error of a cut connection.
    fn end_of_body(&mut self) -> Result<Vec<ProviderEvent>, ProviderError>;
}

struct State<D> {
    events: BoxStream<'static, Result<eventsource_stream::Event, ProviderError>>,
    decoder: D,
    pending: VecDeque<ProviderEvent>,
    body_ended: bool,
    finished: bool,
}

/// Decodes `bytes` (an HTTP body) into provider events. The stream always ends with `Stop`
/// or exactly one error.
pub(crate) fn events<S, B, E, D>(bytes: S, decoder: D) -> impl Stream<Item = Item> + Send + 'static
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
    E: StdError + Send + 'static,
    D: Decode,
{
    let events = bytes.eventsource().map(|r| r.map_err(map_error)).boxed();
    let state = State { events, decoder, pending: VecDeque::new(), body_ended: false, finished: false };
    stream::unfold(state, |mut st| async move {
        loop {
            if st.finished {
                return None;
            }
            if let Some(event) = st.pending.pop_front() {
                st.finished = matches!(event, ProviderEvent::Stop { .. });
                return Some((Ok(event), st));
            }
            if st.body_ended {
                st.finished = true;
                let error = ProviderError::Protocol("the reply ended without a stop".into());
                return Some((Err(error), st));
            }
            let decoded = match st.events.next().await {
                None => {
                    st.body_ended = true;
                    st.decoder.end_of_body()
                }
                Some(Err(e)) => Err(e),
                Some(Ok(event)) => st.decoder.decode(&event.event, &event.data),
            };
            match decoded {
                Ok(events) => st.pending.extend(events),
                Err(e) => {
                    st.finished = true;
                    return Some((Err(e), st));
                }
            }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Feeds `parts` (network chunks) through `decoder` and collects everything.
    pub(crate) async fn collect<D: Decode>(parts: Vec<Vec<u8>>, decoder: D) -> Vec<Item> {
        let chunks = stream::iter(parts.into_iter().map(Ok::<_, std::io::Error>));
        events(chunks, decoder).collect().await
    }

    /// Echoes each data line as a text delta; `stop` stops; the body's end is a cut.
    struct Echo;

    impl Decode for Echo {
        fn decode(&mut self, _event: &str, data: &str) -> Result<Vec<ProviderEvent>, ProviderError> {
            Ok(match data {
                "stop" => vec![ProviderEvent::Stop { stop_reason: "end_turn".into() }],
                "two" => vec![ProviderEvent::BlockStop { index: 0 }, ProviderEvent::BlockStop { index: 1 }],
                "bad" => return Err(ProviderError::Protocol("bad".into())),
                text => vec![ProviderEvent::BlockDelta { index: 0, text: text.into() }],
            })
        }

        fn end_of_body(&mut self) -> Result<Vec<ProviderEvent>, ProviderError> {
            Err(ProviderError::Transport("cut".into()))
        }
    }

    #[tokio::test]
    async fn several_events_from_one_sse_event_come_in_order_and_stop_ends_the_stream() {
        let out = collect(vec![b"data: two\n\ndata: stop\n\ndata: after\n\n".to_vec()], Echo).await;
        assert_eq!(
            out,
            vec![
                Ok(ProviderEvent::BlockStop { index: 0 }),
                Ok(ProviderEvent::BlockStop { index: 1 }),
                Ok(ProviderEvent::Stop { stop_reason: "end_turn".into() }),
            ]
        );
    }

    #[tokio::test]
    async fn nothing_follows_an_error_and_a_cut_body_is_the_decoders_error() {
        let out = collect(vec![b"data: bad\n\ndata: x\n\n".to_vec()], Echo).await;
        assert_eq!(out, vec![Err(ProviderError::Protocol("bad".into()))]);
        let out = collect(vec![b"data: x\n\n".to_vec()], Echo).await;
        assert_eq!(out.len(), 2);
        assert_eq!(out[1], Err(ProviderError::Transport("cut".into())));
    }

    #[tokio::test]
    async fn a_multi_byte_character_split_across_chunks_is_decoded() {
        let bytes = "data: caf\u{e9}\n\ndata: stop\n\n".as_bytes().to_vec();
        let split = bytes.iter().position(|b| *b == 0xC3).unwrap() + 1;
        let out = collect(vec![bytes[..split].to_vec(), bytes[split..].to_vec()], Echo).await;
        assert_eq!(out[0], Ok(ProviderEvent::BlockDelta { index: 0, text: "café".into() }));
    }
}
