//! providers integration tests: the Anthropic and OpenAI clients against mockllm and hand-written SSE servers.

mod anthropic_failures;
mod anthropic_replies;
mod anthropic_wire;
mod openai_chat;
mod openai_responses;
mod openai_wire;
mod support;
