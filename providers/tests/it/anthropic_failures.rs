//! Anthropic failures: error events, cut connections, retries, HTTP errors and a missing key.

use std::time::{Duration, Instant};

use mockllm::reply_text;
use providers::anthropic::{AnthropicConfig, AnthropicProvider};
use providers::{BlockKind, ProviderError};

use crate::support::{mock, provider, request, run, Reply};

#[tokio::test]
async fn an_error_event_mid_stream_ends_with_a_stream_error_after_some_text() {
    let base = mock().await;
    let req = request("[[mock tokens=10 fail=error_event after=3]]");
    let reply = Reply::from_items(run(&provider(&base), req).await);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(3));
    assert_eq!(reply.error, Some(ProviderError::Stream { kind: "overloaded_error".into(), message: "Overloaded".into() }));
}

#[tokio::test]
async fn a_cut_connection_ends_with_a_transport_error() {
    let base = mock().await;
    let req = request("[[mock tokens=10 fail=cut after=4]]");
    let reply = Reply::from_items(run(&provider(&base), req).await);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(4));
    assert!(matches!(reply.error, Some(ProviderError::Transport(_))), "{:?}", reply.error);
}

#[tokio::test]
async fn an_overloaded_529_is_retried_after_retry_after_and_then_succeeds() {
    let base = mock().await;
    let started = Instant::now();
    let req = request("[[mock tokens=5 fail=http529 fail_times=1]]");
    let reply = Reply::from_items(run(&provider(&base), req).await);
    assert_eq!(reply.error, None);
    assert_eq!(reply.text_of(BlockKind::Text), reply_text(5));
    assert!(started.elapsed() >= Duration::from_secs(1), "retry-after: 1 was honoured");
}

#[tokio::test]
async fn a_401_is_an_http_error_without_retry() {
    let base = mock().await;
    // If the client retried, the second attempt would succeed.
    let req = request("[[mock fail=http401 fail_times=1]]");
    let items = run(&provider(&base), req).await;
    assert_eq!(items.len(), 1);
    match &items[0] {
        Err(ProviderError::Http { status: 401, message, .. }) => {
            assert_eq!(message, "invalid x-api-key")
        }
        other => panic!("expected HTTP 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_500_is_an_http_error_once_retries_run_out() {
    let base = mock().await;
    let provider = AnthropicProvider::new(AnthropicConfig {
        base_url: base,
        api_key: Some("k".into()),
        max_retries: 1,
        request_timeout: Duration::from_secs(5),
        ..AnthropicConfig::default()
    });
    let items = run(&provider, request("[[mock fail=http500 fail_times=5]]")).await;
    assert!(matches!(items.as_slice(), [Err(ProviderError::Http { status: 500, .. })]), "{items:?}");
}

#[tokio::test]
async fn a_missing_key_is_unavailable() {
    let provider = AnthropicProvider::new(AnthropicConfig { api_key: None, ..AnthropicConfig::default() });
    let items = run(&provider, request("hi")).await;
    assert_eq!(items, vec![Err(ProviderError::Unavailable("ANTHROPIC_API_KEY is not set".into()))]);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error_that_hides_the_key() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let provider = AnthropicProvider::new(AnthropicConfig {
        base_url: base,
        api_key: Some("sk-very-secret".into()),
        max_retries: 0,
        request_timeout: Duration::from_secs(2),
        ..AnthropicConfig::default()
    });
    let items = run(&provider, request("hi")).await;
    match items.as_slice() {
        [Err(e @ ProviderError::Transport(_))] => {
            assert!(!e.to_string().contains("sk-very-secret"))
        }
        other => panic!("expected one transport error, got {other:?}"),
    }
    assert!(!format!("{provider:?}").contains("sk-very-secret"));
}
