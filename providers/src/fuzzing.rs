//! Entry points for the fuzz targets in `fuzz/`: each wire format's whole SSE pipeline, fed
//! arbitrary bytes cut into arbitrary network chunks. Not part of the adapters' API.

use futures::stream::{self, StreamExt};

use crate::transport::sse::{self, Decode};
use crate::{ProviderError, ProviderEvent};

/// The streaming formats a provider speaks.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    Anthropic,
    OpenAiResponses,
    OpenAiChat,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Anthropic, Format::OpenAiResponses, Format::OpenAiChat];
}

/// Decodes `body`, delivered in chunks that end at the offsets in `cuts`, as a provider's reply.
pub fn decode_sse(format: Format, body: &[u8], cuts: &[usize]) -> Vec<Result<ProviderEvent, ProviderError>> {
    match format {
        Format::Anthropic => run(body, cuts, crate::anthropic::decode::Decoder::default()),
        Format::OpenAiResponses => run(body, cuts, crate::openai::responses::Decoder::default()),
        Format::OpenAiChat => run(body, cuts, crate::openai::chat::Decoder::default()),
    }
}

/// Checks what every decoded reply must look like: events, then exactly one end — a `Stop` or
/// an error — and nothing after it. Returns what is wrong, if anything.
pub fn check_reply(items: &[Result<ProviderEvent, ProviderError>]) -> Result<(), String> {
    let Some((last, events)) = items.split_last() else { return Err("the stream ended with no stop and no error".into()) };
    if let Some(position) = events.iter().position(|item| !matches!(item, Ok(event) if !matches!(event, ProviderEvent::Stop { .. }))) {
        return Err(format!("item {position} of {} ends the reply early: {:?}", items.len(), events[position]));
    }
    match last {
        Ok(ProviderEvent::Stop { .. }) | Err(_) => Ok(()),
        Ok(other) => Err(format!("the stream ended on {other:?}, neither a stop nor an error")),
    }
}

fn run<D: Decode>(body: &[u8], cuts: &[usize], decoder: D) -> Vec<Result<ProviderEvent, ProviderError>> {
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts {
        let end = cut.clamp(start, body.len());
        chunks.push(bytes::Bytes::copy_from_slice(&body[start..end]));
        start = end;
    }
    chunks.push(bytes::Bytes::copy_from_slice(&body[start..]));
    let chunks = stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    futures::executor::block_on(sse::events(chunks, decoder).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_reply_cut_anywhere_decodes_to_events_and_one_stop() {
        let body = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"h\xc3\xa9\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        for cut in 0..body.len() {
            let items = decode_sse(Format::Anthropic, body, &[cut]);
            check_reply(&items).unwrap();
            assert!(matches!(items.last(), Some(Ok(ProviderEvent::Stop { .. }))), "cut at {cut}: {items:?}");
        }
    }

    #[test]
    fn garbage_ends_every_format_with_exactly_one_error_or_stop() {
        for format in Format::ALL {
            for body in [&b""[..], b"data: {", b"data: [DONE]\n\n", b"\xff\xfe\n\n", b"event: x\ndata: null\n\n"] {
                check_reply(&decode_sse(format, body, &[1, 3])).unwrap();
            }
        }
    }
}
