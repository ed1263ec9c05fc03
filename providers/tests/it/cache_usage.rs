//! Prompt caching in the usage every API provider reports: cache writes and reads apart from
//! the uncached input, and Anthropic's cumulative `message_delta` usage counted once.

use providers::Usage;

use crate::support::{every_api, mock, request, run, Reply};

#[tokio::test]
async fn anthropic_usage_has_cache_writes_and_reads_and_message_delta_counts_once() {
    let base = mock().await;
    let (_, anthropic) = every_api(&base).remove(0);
    // The mock counts words: the system prompt (4) and the prompt (7).
    let reply = Reply::from_items(run(&anthropic, request("one two three [[mock tokens=7 cache_read=300 cache_write=20]]")).await);
    assert_eq!(
        reply.usage,
        Some(Usage {
            input_tokens: 11,
            output_tokens: 7,
            cache_creation_input_tokens: 20,
            cache_read_input_tokens: 300,
            reasoning_tokens: 0
        })
    );
    assert_eq!(reply.usage.unwrap().prompt_tokens(), 331);
}

#[tokio::test]
async fn openai_cached_tokens_are_reads_taken_out_of_the_input() {
    let base = mock().await;
    for (api, provider) in every_api(&base).into_iter().skip(1) {
        let reply = Reply::from_items(run(&provider, request("one two three [[mock tokens=7 cache_read=40 cache_write=20]]")).await);
        let usage = reply.usage.unwrap();
        assert_eq!((usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens), (11, 40, 7), "{api}");
        assert_eq!(usage.cache_creation_input_tokens, 0, "{api}: OpenAI reports no cache writes");
    }
}
