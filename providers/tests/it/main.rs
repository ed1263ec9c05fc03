//! providers integration tests: the Anthropic and OpenAI clients against mockllm and hand-written SSE servers.

mod anthropic_failures;
mod anthropic_replies;
mod anthropic_wire;
mod cache_usage;
mod openai_chat;
mod openai_responses;
mod openai_wire;
mod rate_limits;
mod stops;
mod support;
mod tool_calls;
