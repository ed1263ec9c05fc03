//! Successful Anthropic replies from mockllm: text, thinking, tool use and usage.

use mockllm::{reply_text, thinking_text};
use providers::BlockKind;
use serde_json::{json, Value};

use crate::support::{mock, provider, request, run, Reply};

#[tokio::test]
async fn a_text_reply_equals_the_mock_reply_text_exactly() {
    let base = mock().await;
    let reply = Reply::from_items(run(&provider(&base), request("hello [[mock tokens=120]]")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(120));
    assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"));
    assert!(reply.blocks.values().all(|b| b.stopped));
}

#[tokio::test]
async fn thinking_streams_before_the_text_with_a_signature() {
    let base = mock().await;
    let mut req = request("[[mock tokens=8 thinking=6]]");
    req.thinking_budget = Some(1024);
    let reply = Reply::from_items(run(&provider(&base), req).await);
    let thinking = &reply.blocks[&0];
    assert_eq!(thinking.kind, Some(BlockKind::Thinking));
    assert_eq!(thinking.text, thinking_text(6));
    assert!(thinking.signature.as_deref().is_some_and(|s| !s.is_empty()));
    assert_eq!(reply.blocks[&1].kind, Some(BlockKind::Text));
    assert_eq!(reply.blocks[&1].text, reply_text(8));
}

#[tokio::test]
async fn tool_use_input_json_assembles_to_the_expected_object() {
    let base = mock().await;
    let reply = Reply::from_items(run(&provider(&base), request("[[mock tokens=3 tool=1]]")).await);
    let tool = reply.blocks.values().last().unwrap();
    assert_eq!(tool.kind, Some(BlockKind::ToolUse));
    assert_eq!(tool.name.as_deref(), Some("Read"));
    assert!(tool.id.as_deref().is_some_and(|id| id.starts_with("toolu_")));
    let input: Value = serde_json::from_str(&tool.text).unwrap();
    assert_eq!(input, json!({"file_path": "README.md"}));
    assert_eq!(reply.stop_reason.as_deref(), Some("tool_use"));
}

#[tokio::test]
async fn the_final_usage_keeps_input_tokens_and_takes_output_tokens_from_message_delta() {
    let base = mock().await;
    let reply = Reply::from_items(run(&provider(&base), request("one two three [[mock tokens=9]]")).await);
    let usage = reply.usage.unwrap();
    assert!(usage.input_tokens >= 4, "{usage:?}");
    assert_eq!(usage.output_tokens, 9);
}
