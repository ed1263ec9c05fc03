//! mockllm integration tests: each test starts the mock on 127.0.0.1:0 and talks HTTP to it.

mod agent_script;
mod anthropic;
mod attempts;
mod claude_code;
mod failures;
mod openai;
mod support;
