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

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: Vec<Vec<u8>>) -> impl Stream<Item = Result<Vec<u8>, std::io::Error>> {
        stream::iter(parts.into_iter().map(Ok))
    }

    async fn collect(parts: Vec<Vec<u8>>) -> Vec<Item> {
        events(chunks(parts)).collect().await
    }

    const START: &str = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    const STOP: &str = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    #[tokio::test]
    async fn a_multi_byte_character_split_across_chunks_is_decoded() {
        let delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"caf\u{e9}\"}}\n\n";
        let bytes = [START, delta, STOP].concat().into_bytes();
        let split = bytes.iter().position(|b| *b == 0xC3).unwrap() + 1;
        let out = collect(vec![bytes[..split].to_vec(), bytes[split..].to_vec()]).await;
        assert_eq!(
            out[1],
            Ok(ProviderEvent::BlockDelta {
                index: 0,
                text: "café".into()
            })
        );
        assert_eq!(
            out[2],
            Ok(ProviderEvent::Stop {
                stop_reason: "end_turn".into()
            })
        );
    }

    #[tokio::test]
    async fn a_body_ending_before_message_stop_is_a_transport_error() {
        let out = collect(vec![START.as_bytes().to_vec()]).await;
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[1], Err(ProviderError::Transport(m)) if m.contains("message_stop")));
    }

    #[tokio::test]
    async fn nothing_is_yielded_after_an_error_event() {
        let error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n";
        let out = collect(vec![[START, error, STOP].concat().into_bytes()]).await;
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[1], Err(ProviderError::Stream { kind, .. }) if kind == "api_error"));
    }

    #[tokio::test]
    async fn a_crlf_stream_is_parsed_like_lf() {
        let out = collect(vec![[START, STOP]
            .concat()
            .replace('\n', "\r\n")
            .into_bytes()])
        .await;
        assert_eq!(out.len(), 2);
        assert!(matches!(out[1], Ok(ProviderEvent::Stop { .. })));
    }
}
