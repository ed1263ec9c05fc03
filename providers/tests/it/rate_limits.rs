//! HTTP 429 from every API provider: retried after the `retry-after` wait, and a clear error
//! once retries run out.

use std::time::{Duration, Instant};

use mockllm::reply_text;
use providers::{BlockKind, ProviderError};

use crate::support::{every_api, mock, request, run, Reply};

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_and_then_succeeds() {
    let base = mock().await;
    for (api, provider) in every_api(&base) {
        let started = Instant::now();
        // fail_times counts by directive text: `api=` (an unknown key) makes each API's its own.
        let prompt = format!("[[mock api={api} tokens=5 fail=http429 retry_after=1 fail_times=1]]");
        let reply = Reply::from_items(run(&provider, request(&prompt)).await);
        let waited = started.elapsed();
        assert_eq!(reply.error, None, "{api}");
        assert_eq!(reply.text_of(BlockKind::Text), reply_text(5), "{api}: the first reply, as the 429 sent none");
        // Without retry-after the first backoff is 500 ms.
        assert!(waited >= Duration::from_secs(1), "{api}: retry-after: 1 was honoured, waited {waited:?}");
    }
}

#[tokio::test]
async fn a_429_that_outlasts_the_retries_is_an_http_429_naming_the_rate_limit() {
    let base = mock().await;
    for (api, provider) in every_api(&base) {
        let started = Instant::now();
        let prompt = format!("[[mock api={api} fail=http429 retry_after=1 fail_times=5]]");
        let items = run(&provider, request(&prompt)).await;
        match items.as_slice() {
            [Err(error @ ProviderError::Http { status: 429, message, retry_after })] => {
                assert!(message.to_lowercase().contains("rate limit"), "{api}: {message}");
                assert_eq!(*retry_after, Some(Duration::from_secs(1)), "{api}");
                assert!(error.to_string().starts_with("provider returned HTTP 429: "), "{api}: {error}");
            }
            other => panic!("{api}: expected one HTTP 429, got {other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_secs(2), "{api}: two retries, each after retry-after: 1");
    }
}
