//! The Chat Completions client (OpenAI-compatible servers) against mockllm: text,
//! `reasoning_content`, usage, errors, cuts, the optional key.

use mockllm::{reply_text, thinking_text};
use providers::openai::{OpenAiConfig, OpenAiProvider};
use providers::{BlockKind, ProviderError};

use crate::support::{mock, openai, request, run, Reply};

fn chat(base: &str) -> OpenAiProvider {
    openai(OpenAiConfig::chat_completions(), base)
}

#[tokio::test]
async fn a_chat_text_reply_equals_the_mock_reply_and_reports_usage() {
    let base = mock().await;
    let reply = Reply::from_items(run(&chat(&base), request("one two three [[mock tokens=25]]")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(25));
    assert_eq!(reply.blocks.len(), 1);
    assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"));
    assert!(reply.blocks.values().all(|b| b.stopped));
    let usage = reply.usage.unwrap();
    // The mock counts words: the system message (4) and the prompt (5).
    assert_eq!((usage.input_tokens, usage.output_tokens), (9, 25));
}

#[tokio::test]
async fn reasoning_content_streams_as_a_thinking_block_before_the_text() {
    let base = mock().await;
    let mut req = request("[[mock tokens=7 thinking=5]]");
    req.reasoning_effort = Some("low".into());
    let reply = Reply::from_items(run(&chat(&base), req).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.blocks[&0].kind, Some(BlockKind::Thinking));
    assert_eq!(reply.blocks[&0].text, thinking_text(5));
    assert!(reply.blocks[&0].stopped);
    assert_eq!(reply.blocks[&1].kind, Some(BlockKind::Text));
    assert_eq!(reply.blocks[&1].text, reply_text(7));
    let usage = reply.usage.unwrap();
    assert_eq!((usage.output_tokens, usage.reasoning_tokens), (12, 5));
}

#[tokio::test]
async fn an_error_chunk_mid_stream_ends_with_a_stream_error_after_some_text() {
    let base = mock().await;
    let reply = Reply::from_items(run(&chat(&base), request("[[mock tokens=10 fail=error_event after=6]]")).await);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(6));
    assert_eq!(reply.error, Some(ProviderError::Stream { kind: "server_error".into(), message: "Overloaded".into() }));
}

#[tokio::test]
async fn a_cut_connection_ends_with_a_transport_error() {
    let base = mock().await;
    let reply = Reply::from_items(run(&chat(&base), request("[[mock tokens=10 fail=cut after=2]]")).await);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(2));
    assert!(matches!(reply.error, Some(ProviderError::Transport(_))), "{:?}", reply.error);
}

#[tokio::test]
async fn a_503_style_overload_is_retried_and_a_500_fails_once_retries_run_out() {
    let base = mock().await;
    let reply = Reply::from_items(run(&chat(&base), request("[[mock tokens=4 fail=http529 fail_times=2]]")).await);
    assert_eq!(reply.error, None, "two retries cover two failures");
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(4));
    let items = run(&chat(&base), request("[[mock fail=http500 fail_times=3]]")).await;
    assert!(matches!(items.as_slice(), [Err(ProviderError::Http { status: 500, .. })]), "{items:?}");
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent() {
    let base = mock().await;
    // The mock insists on a bearer token, so a keyless request shows as its 401.
    let provider = OpenAiProvider::new(OpenAiConfig { api_key: None, ..chat(&base).config().clone() });
    let items = run(&provider, request("hi")).await;
    match items.as_slice() {
        [Err(ProviderError::Http { status: 401, message, .. })] => assert!(message.contains("didn't provide an API key"), "{message}"),
        other => panic!("expected one HTTP 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_base_url_is_unavailable_and_names_the_variable() {
    let provider = OpenAiProvider::new(OpenAiConfig::chat_completions());
    let items = run(&provider, request("hi")).await;
    assert_eq!(items, vec![Err(ProviderError::Unavailable("OPENAI_COMPATIBLE_BASE_URL is not set".into()))]);
}
