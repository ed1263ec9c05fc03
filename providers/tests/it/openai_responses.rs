//! The OpenAI Responses client against mockllm: text, reasoning summaries, usage, errors, cuts.

use std::time::{Duration, Instant};

use mockllm::{reply_text, thinking_text};
use providers::openai::{OpenAiConfig, OpenAiProvider};
use providers::{BlockKind, ProviderError};

use crate::support::{mock, openai, request, run, Reply};

fn responses(base: &str) -> OpenAiProvider {
    openai(OpenAiConfig::responses(), base)
}

#[tokio::test]
async fn a_responses_text_reply_equals_the_mock_reply_and_reports_usage() {
    let base = mock().await;
    let reply = Reply::from_items(run(&responses(&base), request("one two three [[mock tokens=30]]")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(30));
    assert_eq!(reply.text_of(BlockKind::Thinking), "", "no reasoning was asked for");
    assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"));
    assert!(reply.blocks.values().all(|b| b.stopped));
    let usage = reply.usage.unwrap();
    // The mock counts words: the instructions (4) and the prompt (5).
    assert_eq!((usage.input_tokens, usage.output_tokens, usage.reasoning_tokens), (9, 30, 0));
}

#[tokio::test]
async fn reasoning_summaries_stream_as_a_thinking_block_before_the_text() {
    let base = mock().await;
    let mut req = request("[[mock tokens=8 thinking=6]]");
    req.reasoning_effort = Some("high".into());
    let reply = Reply::from_items(run(&responses(&base), req).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.blocks[&0].kind, Some(BlockKind::Thinking));
    assert_eq!(reply.blocks[&0].text, thinking_text(6));
    assert_eq!(reply.blocks[&1].kind, Some(BlockKind::Text));
    assert_eq!(reply.blocks[&1].text, reply_text(8));
    let usage = reply.usage.unwrap();
    assert_eq!((usage.output_tokens, usage.reasoning_tokens), (14, 6), "reasoning counts as output");
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_with_a_stream_error_after_some_text() {
    let base = mock().await;
    let reply = Reply::from_items(run(&responses(&base), request("[[mock tokens=10 fail=error_event after=3]]")).await);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(3));
    assert_eq!(reply.error, Some(ProviderError::Stream { kind: "server_error".into(), message: "Overloaded".into() }));
    assert_eq!(reply.stop_reason, None);
}

#[tokio::test]
async fn a_cut_connection_ends_with_a_transport_error() {
    let base = mock().await;
    let reply = Reply::from_items(run(&responses(&base), request("[[mock tokens=10 fail=cut after=4]]")).await);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(4));
    assert!(matches!(reply.error, Some(ProviderError::Transport(_))), "{:?}", reply.error);
}

#[tokio::test]
async fn an_overloaded_529_is_retried_after_retry_after_and_then_succeeds() {
    let base = mock().await;
    let started = Instant::now();
    let reply = Reply::from_items(run(&responses(&base), request("[[mock tokens=5 fail=http529 fail_times=1]]")).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(5));
    assert!(started.elapsed() >= Duration::from_secs(1), "retry-after: 1 was honoured");
}

#[tokio::test]
async fn a_401_is_an_http_error_without_retry() {
    let base = mock().await;
    let items = run(&responses(&base), request("[[mock fail=http401 fail_times=1]]")).await;
    match items.as_slice() {
        [Err(ProviderError::Http { status: 401, message, .. })] => assert_eq!(message, "Incorrect API key provided."),
        other => panic!("expected one HTTP 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_500_is_an_http_error_once_retries_run_out() {
    let base = mock().await;
    let provider = OpenAiProvider::new(OpenAiConfig { max_retries: 1, ..responses(&base).config().clone() });
    let items = run(&provider, request("[[mock fail=http500 fail_times=5]]")).await;
    assert!(matches!(items.as_slice(), [Err(ProviderError::Http { status: 500, .. })]), "{items:?}");
}

#[tokio::test]
async fn a_missing_key_is_unavailable_and_names_the_variable() {
    let provider = OpenAiProvider::new(OpenAiConfig::responses());
    let items = run(&provider, request("hi")).await;
    assert_eq!(items, vec![Err(ProviderError::Unavailable("OPENAI_API_KEY is not set".into()))]);
}
