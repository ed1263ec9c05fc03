//! Data-driven tests of the CLI line parser.

use super::*;

fn events(parser: &mut LineParser, line: &str) -> Vec<ProviderEvent> {
    match parser.parse(line) {
        Line::Events(events) => events,
        other => panic!("expected events, got {other:?}"),
    }
}

#[test]
fn the_init_message_gives_the_session_id() {
    let line = r#"{"type":"system","subtype":"init","session_id":"abc-123","tools":[],"model":"m"}"#;
    assert_eq!(events(&mut LineParser::default(), line), vec![ProviderEvent::SessionStarted { session_id: "abc-123".into() }]);
}

#[test]
fn block_indices_stay_unique_across_the_api_calls_of_a_turn() {
    let mut parser = LineParser::default();
    let stream = |event: &str| format!(r#"{{"type":"stream_event","event":{event},"parent_tool_use_id":null}}"#);
    events(&mut parser, &stream(r#"{"type":"message_start","message":{"usage":{"input_tokens":3}}}"#));
    let first = events(
        &mut parser,
        &stream(r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"Write"}}"#),
    );
    assert!(matches!(first[0], ProviderEvent::BlockStart { index: 0, .. }));
    events(&mut parser, &stream(r#"{"type":"content_block_stop","index":0}"#));
    let results = events(
        &mut parser,
        r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok","is_error":false}]}}"#,
    );
    assert_eq!(results, vec![ProviderEvent::ToolResult { index: 1, tool_use_id: "t1".into(), content: "ok".into(), is_error: false }]);
    events(&mut parser, &stream(r#"{"type":"message_start","message":{"usage":{"input_tokens":3}}}"#));
    let second = events(&mut parser, &stream(r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#));
    assert!(matches!(second[0], ProviderEvent::BlockStart { index: 2, .. }), "{second:?}");
    let delta = events(&mut parser, &stream(r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hé"}}"#));
    assert_eq!(delta, vec![ProviderEvent::BlockDelta { index: 2, text: "hé".into() }]);
}

#[test]
fn a_permission_request_carries_the_tool_and_its_input() {
    let line = r#"{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Write","input":{"file_path":"/w/hello.txt"}}}"#;
    let parsed = events(&mut LineParser::default(), line);
    assert_eq!(
        parsed,
        vec![ProviderEvent::PermissionRequested {
            request_id: "r1".into(),
            tool: "Write".into(),
            input: serde_json::json!({"file_path": "/w/hello.txt"})
        }]
    );
}

#[test]
fn the_result_gives_usage_cost_and_duration() {
    let line = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":1234,"total_cost_usd":0.0123,"usage":{"input_tokens":10,"output_tokens":20}}"#;
    let Line::Result(Ok(ProviderEvent::Finished { usage, cost_usd, duration_ms })) = parse_line(line) else { panic!() };
    assert_eq!((usage.input_tokens, usage.output_tokens, duration_ms), (10, 20, 1234));
    assert!((cost_usd - 0.0123).abs() < 1e-12);
}

#[test]
fn an_error_result_is_an_error_with_the_cli_text() {
    let line = r#"{"type":"result","subtype":"error_during_execution","is_error":true,"result":"API Error: 500"}"#;
    let Line::Result(Err(message)) = parse_line(line) else { panic!() };
    assert!(message.contains("API Error: 500"), "{message}");
}

#[test]
fn unknown_messages_are_kept_raw_and_garbage_is_malformed() {
    let raw = r#"{"type":"something_new","x":1}"#;
    assert_eq!(events(&mut LineParser::default(), raw), vec![ProviderEvent::Raw(serde_json::json!({"type": "something_new", "x": 1}))]);
    assert_eq!(parse_line("not json {"), Line::Malformed("not json {".into()));
}

#[test]
fn a_block_index_started_twice_opens_a_new_block_instead_of_reusing_the_first() {
    let mut parser = LineParser::default();
    let stream = |event: &str| format!(r#"{{"type":"stream_event","event":{event},"parent_tool_use_id":null}}"#);
    events(&mut parser, &stream(r#"{"type":"message_start","message":{"usage":{"input_tokens":3}}}"#));
    let start = stream(r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#);
    let first = events(&mut parser, &start);
    let second = events(&mut parser, &start);
    assert!(matches!(first.as_slice(), [ProviderEvent::BlockStart { index: 0, .. }]), "{first:?}");
    assert!(matches!(second.as_slice(), [ProviderEvent::BlockStart { index: 1, .. }]), "{second:?}");
}
