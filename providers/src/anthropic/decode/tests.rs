//! Unit tests for the Anthropic event mapping.

use super::*;

fn decode_all(events: &[(&str, &str)]) -> Vec<Result<Option<ProviderEvent>, ProviderError>> {
    let mut d = Decoder::default();
    events.iter().map(|(name, data)| d.decode_event(name, data)).collect()
}

#[test]
fn message_delta_usage_keeps_the_input_tokens_from_message_start() {
    let out = decode_all(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":42,"output_tokens":1,"cache_creation_input_tokens":5,"cache_read_input_tokens":7}}}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":99}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ]);
    let expected =
        Usage { input_tokens: 42, output_tokens: 99, cache_creation_input_tokens: 5, cache_read_input_tokens: 7, reasoning_tokens: 0 };
    assert_eq!(out[1], Ok(Some(ProviderEvent::Usage(expected))));
    assert_eq!(out[2], Ok(Some(ProviderEvent::Stop { stop_reason: "max_tokens".into() })));
}

#[test]
fn message_stop_without_a_stop_reason_means_end_turn() {
    let out = decode_all(&[("message_stop", r#"{"type":"message_stop"}"#)]);
    assert_eq!(out[0], Ok(Some(ProviderEvent::Stop { stop_reason: "end_turn".into() })));
}

#[test]
fn blocks_and_deltas_map_to_block_events() {
    let out = decode_all(&[
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
        ),
        ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}"#),
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"Read","input":{}}}"#,
        ),
        ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#),
    ]);
    assert_eq!(out[0], Ok(Some(ProviderEvent::BlockStart { index: 0, kind: BlockKind::Thinking, name: None, id: None })));
    assert_eq!(out[1], Ok(Some(ProviderEvent::BlockDelta { index: 0, text: "hm".into() })));
    assert_eq!(out[2], Ok(Some(ProviderEvent::Signature { index: 0, signature: "sig".into() })));
    assert_eq!(out[3], Ok(Some(ProviderEvent::BlockStop { index: 0 })));
    assert_eq!(
        out[4],
        Ok(Some(ProviderEvent::BlockStart { index: 1, kind: BlockKind::ToolUse, name: Some("Read".into()), id: Some("toolu_1".into()) }))
    );
    assert_eq!(out[5], Ok(Some(ProviderEvent::BlockDelta { index: 1, text: "{\"a\"".into() })));
}

#[test]
fn unsupported_blocks_and_their_deltas_are_skipped() {
    let out = decode_all(&[
        ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"x"}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#),
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
    ]);
    assert_eq!(out, vec![Ok(None), Ok(None), Ok(None)]);
}

#[test]
fn ping_and_unknown_events_yield_nothing() {
    let out = decode_all(&[("ping", r#"{"type":"ping"}"#), ("some_future_event", r#"{"type":"some_future_event","x":1}"#)]);
    assert_eq!(out, vec![Ok(None), Ok(None)]);
}

#[test]
fn an_error_event_becomes_a_stream_error() {
    let out = decode_all(&[("error", r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)]);
    assert_eq!(out[0], Err(ProviderError::Stream { kind: "overloaded_error".into(), message: "Overloaded".into() }));
}

#[test]
fn an_unnamed_event_is_dispatched_by_its_data_type() {
    let out = decode_all(&[("message", r#"{"type":"message_stop"}"#)]);
    assert_eq!(out[0], Ok(Some(ProviderEvent::Stop { stop_reason: "end_turn".into() })));
}

#[test]
fn malformed_json_is_a_protocol_error() {
    let out = decode_all(&[("content_block_delta", "{not json")]);
    assert!(matches!(out[0], Err(ProviderError::Protocol(_))), "{:?}", out[0]);
}

mod stream {
    //! The decoder behind the shared SSE driver: chunking, a cut body, an error event, CRLF.
    use super::*;
    use crate::transport::sse::tests::collect;

    const START: &str = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    const STOP: &str = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    #[tokio::test]
    async fn a_multi_byte_character_split_across_chunks_is_decoded() {
        let delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"caf\u{e9}\"}}\n\n";
        let bytes = [START, delta, STOP].concat().into_bytes();
        let split = bytes.iter().position(|b| *b == 0xC3).unwrap() + 1;
        let out = collect(vec![bytes[..split].to_vec(), bytes[split..].to_vec()], Decoder::default()).await;
        assert_eq!(out[1], Ok(ProviderEvent::BlockDelta { index: 0, text: "café".into() }));
        assert_eq!(out[2], Ok(ProviderEvent::Stop { stop_reason: "end_turn".into() }));
    }

    #[tokio::test]
    async fn a_body_ending_before_message_stop_is_a_transport_error() {
        let out = collect(vec![START.as_bytes().to_vec()], Decoder::default()).await;
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[1], Err(ProviderError::Transport(m)) if m.contains("message_stop")));
    }

    #[tokio::test]
    async fn nothing_is_yielded_after_an_error_event() {
        let error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n";
        let out = collect(vec![[START, error, STOP].concat().into_bytes()], Decoder::default()).await;
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[1], Err(ProviderError::Stream { kind, .. }) if kind == "api_error"));
    }

    #[tokio::test]
    async fn a_crlf_stream_is_parsed_like_lf() {
        let out = collect(vec![[START, STOP].concat().replace('\n', "\r\n").into_bytes()], Decoder::default()).await;
        assert_eq!(out.len(), 2);
        assert!(matches!(out[1], Ok(ProviderEvent::Stop { .. })));
    }
}
