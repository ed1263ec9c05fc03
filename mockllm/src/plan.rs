//! `Plan`: what one request's reply looks like, from the config, its directive and the fail counters.
//!
//! The mock is stateless: a request's [`Turn`] (its prompt, whether its last message carries
//! tool results, the tools it offers, its working directory) decides the whole reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::config::MockConfig;
use crate::directive::{Directive, Failure, ToolKind};
use crate::tokens::reply_tokens;

/// Thinking tokens used when a request asks for thinking but neither config nor directive sets a count.
pub(crate) const DEFAULT_REQUESTED_THINKING: usize = 12;

/// Output tokens a tool call counts for.
pub(crate) const TOOL_OUTPUT_TOKENS: usize = 8;
/// The file a `tool=write` without `file=` writes.
pub(crate) const DEFAULT_WRITE_FILE: &str = "mock-output.txt";
/// The content a `tool=write` without `content=` writes.
pub(crate) const DEFAULT_WRITE_CONTENT: &str = "hello from mockllm\n";
/// The command a `tool=bash` without `cmd=` runs.
pub(crate) const DEFAULT_BASH_COMMAND: &str = "echo hello-from-mock";
/// The first reply token after a request whose last message carries successful tool results.
pub(crate) const DONE_PREFIX: &str = "Done: ";
/// The first reply token after a request whose last message carries a failed (or denied) tool result.
pub(crate) const FAILED_PREFIX: &str = "Tool failed: ";

/// A tool call a reply ends with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolCall {
    pub name: &'static str,
    pub input: Value,
}

impl ToolCall {
    /// The call a directive asks for; a relative `file` is joined to `cwd` when it is known.
    fn from_directive(d: &Directive, cwd: Option<&str>) -> Option<ToolCall> {
        let path = |default: &str| {
            let file = d.file.as_deref().unwrap_or(default);
            match cwd {
                Some(dir) if !file.starts_with('/') => {
                    format!("{}/{}", dir.trim_end_matches('/'), file)
                }
                _ => file.to_string(),
            }
        };
        let (name, input) = match d.tool? {
            ToolKind::Read => ("Read", json!({"file_path": path("README.md")})),
            ToolKind::Write => (
                "Write",
                json!({
                    "file_path": path(DEFAULT_WRITE_FILE),
                    "content": d.content.as_deref().unwrap_or(DEFAULT_WRITE_CONTENT),
                }),
            ),
            ToolKind::Bash => (
                "Bash",
                json!({
                    "command": d.cmd.as_deref().unwrap_or(DEFAULT_BASH_COMMAND),
                    "description": "Run the mock command",
                }),
            ),
        };
        Some(ToolCall { name, input })
    }

    /// The input's JSON text in the pieces it streams as: an empty one first (as the real
    /// API does), then pieces of at most 12 characters.
    pub fn input_chunks(&self) -> Vec<String> {
        let text = self.input.to_string();
        let chars: Vec<char> = text.chars().collect();
        let mut chunks = vec![String::new()];
        chunks.extend(chars.chunks(12).map(|c| c.iter().collect::<String>()));
        chunks
    }
}

/// What the plan depends on in one request, besides its directive's text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Turn {
    /// The text of the turn's prompt: the last user message that carries no tool result.
    pub prompt: String,
    /// Whether the request asks for extended thinking.
    pub thinking_requested: bool,
    /// `Some(failed)` when the request's last message carries tool results (`failed`: any of
    /// them is an error): the reply is then the turn's final text, never another tool call.
    pub tool_results: Option<bool>,
    /// The names of the tools the request offers; `None` when it has no `tools` field.
    pub offered_tools: Option<Vec<String>>,
    /// The working directory the request names (Claude Code's "Primary working directory").
    pub cwd: Option<String>,
    /// The JSON schema the reply must follow (structured outputs), if any.
    pub schema: Option<Value>,
}

/// Shared router state: the defaults plus how often each `fail_times` directive has failed.
#[derive(Clone)]
pub(crate) struct AppState {
    pub cfg: MockConfig,
    pub fail_counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl AppState {
    pub fn new(cfg: MockConfig) -> Self {
        Self { cfg, fail_counts: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Resolves the plan for a request whose last user message is `last_user_text`.
    #[cfg(test)]
    pub fn plan(&self, last_user_text: &str, thinking_requested: bool) -> Plan {
        self.plan_turn(&Turn { prompt: last_user_text.to_string(), thinking_requested, ..Turn::default() })
    }

    /// Resolves the plan for a request's turn.
    pub fn plan_turn(&self, turn: &Turn) -> Plan {
        let d = Directive::find(&turn.prompt).unwrap_or_default();
        let rate = d.rate.unwrap_or(self.cfg.tokens_per_sec);
        let tokens = d.tokens.unwrap_or(self.cfg.tokens);
        let mut thinking = d.thinking.unwrap_or(self.cfg.thinking_tokens);
        if thinking == 0 && turn.thinking_requested && d.thinking.is_none() {
            thinking = DEFAULT_REQUESTED_THINKING;
        }
        let tool = match turn.tool_results {
            Some(_) => None,
            None => ToolCall::from_directive(&d, turn.cwd.as_deref())
                .filter(|call| turn.offered_tools.as_ref().is_none_or(|names| names.iter().any(|n| n == call.name))),
        };
        let mut reply: Vec<String> = match &turn.schema {
            Some(schema) => vec![json_for_schema(schema, tokens).to_string()],
            None => reply_tokens(tokens),
        };
        match turn.tool_results {
            Some(false) => reply.insert(0, DONE_PREFIX.to_string()),
            Some(true) => reply.insert(0, FAILED_PREFIX.to_string()),
            None => {}
        }
        let len = reply.len();
        Plan {
            tokens: len,
            reply,
            thinking,
            first_delay: d.delay_ms.map(Duration::from_millis).unwrap_or(self.cfg.first_token_delay),
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            fail: d.fail.filter(|_| self.should_fail(&d)),
            after: d.after.unwrap_or(len / 2).min(len),
            tool,
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
    /// The number of reply tokens: `reply.len()`.
    pub tokens: usize,
    /// The reply text's tokens.
    pub reply: Vec<String>,
    pub thinking: usize,
    pub first_delay: Duration,
    /// Time between tokens; `None` = unlimited.
    pub interval: Option<Duration>,
    pub fail: Option<Failure>,
    /// Reply tokens sent before a `Cut` or `ErrorEvent` failure.
    pub after: usize,
    /// The tool call the reply ends with, if any.
    pub tool: Option<ToolCall>,
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

    /// The whole reply text.
    pub fn reply_text(&self) -> String {
        self.reply.concat()
    }

    /// Output tokens the reply counts for: thinking, text and the tool call.
    pub fn output_tokens(&self) -> usize {
        self.thinking + self.tokens + if self.tool.is_some() { TOOL_OUTPUT_TOKENS } else { 0 }
    }
}

/// A value that follows `schema` (structured outputs): strings are the first few reply words,
/// numbers 1, booleans true, arrays empty, objects filled property by property.
fn json_for_schema(schema: &Value, tokens: usize) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = Map::new();
            if let Some(Value::Object(props)) = schema.get("properties") {
                for (name, prop) in props {
                    object.insert(name.clone(), json_for_schema(prop, tokens));
                }
            }
            Value::Object(object)
        }
        Some("object") => json!({}),
        Some("array") => json!([]),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(true),
        Some("null") => Value::Null,
        _ => {
            let words: Vec<String> = reply_tokens(tokens.clamp(1, 6)).iter().map(|t| t.trim().to_string()).collect();
            Value::String(words.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_directive_the_config_applies() {
        let state = AppState::new(MockConfig { tokens_per_sec: 10.0, tokens: 5, ..MockConfig::default() });
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
    fn a_write_tool_gets_an_absolute_path_from_the_working_directory() {
        let state = AppState::new(MockConfig::default());
        let plan = state.plan_turn(&Turn {
            prompt: "[[mock tool=write file=hello.txt content=hi]]".into(),
            cwd: Some("/work/ws/".into()),
            ..Turn::default()
        });
        let tool = plan.tool.unwrap();
        assert_eq!(tool.name, "Write");
        assert_eq!(tool.input, json!({"file_path": "/work/ws/hello.txt", "content": "hi"}));
        assert_eq!(tool.input_chunks()[0], "");
        assert_eq!(tool.input_chunks().concat(), tool.input.to_string());
    }

    #[test]
    fn an_absolute_file_is_kept_and_without_a_directory_a_relative_one_too() {
        let state = AppState::new(MockConfig::default());
        let mut turn = Turn { prompt: "[[mock tool=read file=/etc/hostname]]".into(), cwd: Some("/w".into()), ..Turn::default() };
        assert_eq!(state.plan_turn(&turn).tool.unwrap().input["file_path"], "/etc/hostname");
        turn.prompt = "[[mock tool=1]]".into();
        turn.cwd = None;
        assert_eq!(state.plan_turn(&turn).tool.unwrap().input, json!({"file_path": "README.md"}));
    }

    #[test]
    fn after_tool_results_the_reply_is_final_text_with_a_verdict() {
        let state = AppState::new(MockConfig::default());
        let mut turn = Turn { prompt: "[[mock tool=write tokens=3]]".into(), tool_results: Some(false), ..Turn::default() };
        let plan = state.plan_turn(&turn);
        assert_eq!(plan.tool, None);
        assert_eq!(plan.reply_text(), format!("Done: {}", crate::reply_text(3)));
        assert_eq!(plan.tokens, 4);
        turn.tool_results = Some(true);
        let plan = state.plan_turn(&turn);
        assert!(plan.reply_text().starts_with("Tool failed: "));
    }

    #[test]
    fn a_tool_the_request_does_not_offer_is_not_called() {
        let state = AppState::new(MockConfig::default());
        let mut turn = Turn { prompt: "[[mock tool=bash]]".into(), offered_tools: Some(vec![]), ..Turn::default() };
        assert_eq!(state.plan_turn(&turn).tool, None);
        turn.offered_tools = Some(vec!["Read".into(), "Bash".into()]);
        let tool = state.plan_turn(&turn).tool.unwrap();
        assert_eq!(tool.input["command"], DEFAULT_BASH_COMMAND);
    }

    #[test]
    fn a_schema_gets_a_json_reply() {
        let state = AppState::new(MockConfig::default());
        let plan = state.plan_turn(&Turn {
            prompt: "[[mock tokens=3]]".into(),
            schema: Some(json!({"type": "object", "properties": {"title": {"type": "string"}, "n": {"type": "integer"}}})),
            ..Turn::default()
        });
        let value: Value = serde_json::from_str(&plan.reply_text()).unwrap();
        assert_eq!(value["n"], 1);
        assert_eq!(value["title"], crate::reply_text(3).split_whitespace().collect::<Vec<_>>().join(" "));
    }

    #[test]
    fn after_is_clamped_to_the_reply_length() {
        let state = AppState::new(MockConfig::default());
        assert_eq!(state.plan("[[mock tokens=4 fail=cut after=99]]", false).after, 4);
        assert_eq!(state.plan("[[mock tokens=10 fail=cut]]", false).after, 5);
    }
}
