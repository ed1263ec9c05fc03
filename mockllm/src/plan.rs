//! `Plan`: what one request's reply looks like, from the config, its directive and the fail counters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::MockConfig;
use crate::directive::{Directive, Failure};

/// Thinking tokens used when a request asks for thinking but neither config nor directive sets a count.
pub(crate) const DEFAULT_REQUESTED_THINKING: usize = 12;

/// The name of the tool a `tool=1` reply calls.
pub(crate) const TOOL_NAME: &str = "Read";
/// The tool input `{"file_path":"README.md"}`, as streamed in pieces (the first one empty, as the real API does).
pub(crate) const TOOL_INPUT_CHUNKS: &[&str] = &["", "{\"file_path\"", ": \"READ", "ME.md\"}"];
/// The tool input as a JSON object: `{"file_path":"README.md"}`.
pub(crate) fn tool_input() -> serde_json::Value {
    serde_json::json!({"file_path": "README.md"})
}
/// Output tokens a tool call counts for.
pub(crate) const TOOL_OUTPUT_TOKENS: usize = 8;

/// Shared router state: the defaults plus how often each `fail_times` directive has failed.
#[derive(Clone)]
pub(crate) struct AppState {
    pub cfg: MockConfig,
    pub fail_counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl AppState {
    pub fn new(cfg: MockConfig) -> Self {
        Self {
            cfg,
            fail_counts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Resolves the plan for a request whose last user message is `last_user_text`.
    pub fn plan(&self, last_user_text: &str, thinking_requested: bool) -> Plan {
        let d = Directive::find(last_user_text).unwrap_or_default();
        let rate = d.rate.unwrap_or(self.cfg.tokens_per_sec);
        let tokens = d.tokens.unwrap_or(self.cfg.tokens);
        let mut thinking = d.thinking.unwrap_or(self.cfg.thinking_tokens);
        if thinking == 0 && thinking_requested && d.thinking.is_none() {
            thinking = DEFAULT_REQUESTED_THINKING;
        }
        Plan {
            tokens,
            thinking,
            first_delay: d
                .delay_ms
                .map(Duration::from_millis)
                .unwrap_or(self.cfg.first_token_delay),
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            fail: d.fail.filter(|_| self.should_fail(&d)),
            after: d.after.unwrap_or(tokens / 2).min(tokens),
            tool: d.tool,
        }
    }

    fn should_fail(&self, d: &Directive) -> bool {
        let Some(limit) = d.fail_times else {
            return true;
        };
        let mut counts = match self.fail_counts.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let seen = counts.entry(d.raw.clone()).or_insert(0);
        if *seen < limit {
            *seen += 1;
            true
        } else {
            false
        }
    }
}

/// The resolved shape of one reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub tokens: usize,
    pub thinking: usize,
    pub first_delay: Duration,
    /// Time between tokens; `None` = unlimited.
    pub interval: Option<Duration>,
    pub fail: Option<Failure>,
    /// Reply tokens sent before a `Cut` or `ErrorEvent` failure.
    pub after: usize,
    pub tool: bool,
}

impl Plan {
    /// The in-stream failure to inject, if any.
    pub fn stream_failure(&self) -> Option<Failure> {
        self.fail.filter(|f| !f.is_http())
    }

    /// The HTTP failure to answer with instead of a reply, if any.
    pub fn http_failure(&self) -> Option<Failure> {
        self.fail.filter(|f| f.is_http())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_directive_the_config_applies() {
        let state = AppState::new(MockConfig {
            tokens_per_sec: 10.0,
            tokens: 5,
            ..MockConfig::default()
        });
        let plan = state.plan("hello", false);
        assert_eq!(plan.tokens, 5);
        assert_eq!(plan.interval, Some(Duration::from_millis(100)));
        assert_eq!(plan.fail, None);
        assert_eq!(plan.thinking, 0);
    }

    #[test]
    fn fail_times_fails_only_the_first_requests_with_that_directive() {
        let state = AppState::new(MockConfig::default());
        let text = "[[mock fail=http529 fail_times=2]]";
        assert_eq!(state.plan(text, false).fail, Some(Failure::Http529));
        assert_eq!(state.plan(text, false).fail, Some(Failure::Http529));
        assert_eq!(state.plan(text, false).fail, None);
        let other = "[[mock fail=http529 fail_times=1 tokens=3]]";
        assert_eq!(state.plan(other, false).fail, Some(Failure::Http529));
    }

    #[test]
    fn requested_thinking_gets_a_default_count() {
        let state = AppState::new(MockConfig::default());
        assert_eq!(state.plan("hi", true).thinking, DEFAULT_REQUESTED_THINKING);
        assert_eq!(state.plan("[[mock thinking=0]]", true).thinking, 0);
    }

    #[test]
    fn after_is_clamped_to_the_reply_length() {
        let state = AppState::new(MockConfig::default());
        assert_eq!(
            state
                .plan("[[mock tokens=4 fail=cut after=99]]", false)
                .after,
            4
        );
        assert_eq!(state.plan("[[mock tokens=10 fail=cut]]", false).after, 5);
    }
}
