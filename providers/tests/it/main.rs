//! providers integration tests: the Anthropic client against mockllm and hand-written SSE servers.

mod anthropic_failures;
mod anthropic_replies;
mod anthropic_wire;
mod support;
