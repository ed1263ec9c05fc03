//! `Plan`: what one request's reply looks like, from the config, its directive, the fail
//! counters and how often the same request was answered before.
//!
//! The reply is decided from the request alone (a [`Turn`]: its prompt, whether its last
//! message carries tool results, the tools it offers, its working directory, its output
//! limit), except for two counters: `fail_times` and the reply variant of a retried request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};

pub(crate) use crate::agent::ToolCall;
use crate::attempts::Attempts;
use crate::config::MockConfig;
use crate::directive::{Directive, Failure, StopKind, ToolKind};
use crate::tokens::reply_tokens_variant;

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

/// The `retry-after` of an HTTP 429 or 529 failure when the directive sets none, in seconds.
pub(crate) const DEFAULT_RETRY_AFTER: u64 = 1;

/// The Claude Code tool call of `kind` with the directive's arguments; a relative `file` is
/// joined to `cwd` when it is known.
fn claude_code_call(kind: ToolKind, d: &Directive, cwd: Option<&str>) -> ToolCall {
    let path = |default: &str| {
        let file = d.file.as_deref().unwrap_or(default);
        match cwd {
            Some(dir) if !file.starts_with('/') => {
                format!("{}/{}", dir.trim_end_matches('/'), file)
            }
            _ => file.to_string(),
        }
    };
    match kind {
        ToolKind::Read => ToolCall::new("Read", json!({"file_path": path("README.md")})),
        ToolKind::Write => ToolCall::new(
            "Write",
            json!({
                "file_path": path(DEFAULT_WRITE_FILE),
                "content": d.content.as_deref().unwrap_or(DEFAULT_WRITE_CONTENT),
            }),
        ),
        ToolKind::Bash => ToolCall::new(
            "Bash",
            json!({
                "command": d.cmd.as_deref().unwrap_or(DEFAULT_BASH_COMMAND),
                "description": "Run the mock command",
            }),
        ),
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
    /// The request's limit on output tokens (`max_tokens`, `max_output_tokens`), if any.
    pub max_tokens: Option<usize>,
    /// How many replies of this turn ended with tool calls before this request (the agent
    /// script's step to play).
    pub round: usize,
}

/// Shared router state: the defaults, how often each `fail_times` directive has failed and
/// how often each request was answered.
#[derive(Clone)]
pub(crate) struct AppState {
    pub keys: crate::keys::Keys,
    pub cfg: MockConfig,
    pub fail_counts: Arc<Mutex<HashMap<String, usize>>>,
    pub attempts: Attempts,
}

impl AppState {
    pub fn new(cfg: MockConfig) -> Self {
        Self {
            keys: crate::keys::Keys::new(&cfg.api_keys),
            cfg,
            fail_counts: Arc::new(Mutex::new(HashMap::new())),
            attempts: Attempts::default(),
        }
    }

    /// Resolves the plan for a request whose last user message is `last_user_text`.
    #[cfg(test)]
    pub fn plan(&self, last_user_text: &str, thinking_requested: bool) -> Plan {
        self.plan_turn(&Turn { prompt: last_user_text.to_string(), thinking_requested, ..Turn::default() })
    }

    /// Resolves the plan for a request's turn as a first attempt, counting nothing but `fail_times`.
    #[cfg(test)]
    pub fn plan_turn(&self, turn: &Turn) -> Plan {
        let d = Directive::find(&turn.prompt).unwrap_or_default();
        let fail = d.fail.filter(|_| self.should_fail(&d));
        self.resolve(&d, turn, fail, 1)
    }

    /// Resolves the plan for the request at `path` with `body`, whose turn is `turn`. A reply
    /// (not an HTTP failure, which sends no reply) counts as an attempt: the k-th reply to the
    /// same path and body is variant k of the reply text.
    pub fn plan_request(&self, path: &str, body: &[u8], turn: &Turn) -> Plan {
        let d = Directive::find(&turn.prompt).unwrap_or_default();
        let fail = d.fail.filter(|_| self.should_fail(&d));
        let attempt = if fail.is_some_and(Failure::is_http) { 1 } else { self.attempts.next(path, body) };
        self.resolve(&d, turn, fail, attempt)
    }

    fn resolve(&self, d: &Directive, turn: &Turn, fail: Option<Failure>, attempt: usize) -> Plan {
        let rate = d.rate.unwrap_or(self.cfg.tokens_per_sec);
        let tokens = d.tokens.unwrap_or(self.cfg.tokens);
        let mut thinking = d.thinking.unwrap_or(self.cfg.thinking_tokens);
        if thinking == 0 && turn.thinking_requested && d.thinking.is_none() {
            thinking = DEFAULT_REQUESTED_THINKING;
        }
        let kinds: Vec<ToolKind> = if d.tools.is_empty() { d.tool.into_iter().collect() } else { d.tools.clone() };
        let scripted = !d.steps.is_empty();
        let mut tools: Vec<ToolCall> = match (scripted, turn.tool_results) {
            (true, _) => d.steps.get(turn.round).map(|step| crate::agent::calls(step)).unwrap_or_default(),
            (false, Some(_)) => Vec::new(),
            (false, None) => kinds
                .into_iter()
                .map(|kind| claude_code_call(kind, d, turn.cwd.as_deref()))
                .filter(|call| turn.offered_tools.as_ref().is_none_or(|names| names.contains(&call.name)))
                .collect(),
        };
        let mut reply: Vec<String> = match &turn.schema {
            Some(schema) => vec![json_for_schema(schema, tokens, attempt).to_string()],
            None => reply_tokens_variant(tokens, attempt),
        };
        match turn.tool_results {
            _ if !tools.is_empty() => {}
            Some(false) => reply.insert(0, DONE_PREFIX.to_string()),
            Some(true) => reply.insert(0, FAILED_PREFIX.to_string()),
            None => {}
        }
        let mut stop = match d.stop {
            Some(StopKind::MaxTokens) => Stop::MaxTokens,
            None if tools.is_empty() => Stop::EndTurn,
            None => Stop::ToolUse,
        };
        let wanted = thinking + reply.len() + tools.len() * TOOL_OUTPUT_TOKENS;
        if let Some(limit) = turn.max_tokens.filter(|limit| wanted > *limit) {
            thinking = thinking.min(limit);
            reply.truncate(limit - thinking);
            stop = Stop::MaxTokens;
        }
        if stop == Stop::MaxTokens {
            tools.clear();
        }
        let len = reply.len();
        Plan {
            tokens: len,
            reply,
            thinking,
            first_delay: d.delay_ms.map(Duration::from_millis).unwrap_or(self.cfg.first_token_delay),
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            fail,
            after: d.after.unwrap_or(len / 2).min(len),
            tools,
            stop,
            cache_read: d.cache_read.unwrap_or(0),
            cache_write: d.cache_write.unwrap_or(0),
            retry_after: d.retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
            attempt,
            scripted,
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

/// The mock's own check of a request an agent script answers: a scripted call (other than a
/// `raw:` one) of a tool the request does not offer means the client sent no schema for it.
pub(crate) fn unoffered(plan: &Plan, offered: Option<&[String]>) -> Option<String> {
    if !plan.scripted {
        return None;
    }
    let offered = offered.unwrap_or_default();
    let missing: Vec<&str> =
        plan.tools.iter().filter(|call| call.must_be_offered() && !offered.contains(&call.name)).map(|call| call.name.as_str()).collect();
    (!missing.is_empty()).then(|| format!("mockllm: the script calls tools the request does not offer: {}", missing.join(", ")))
}

/// How a reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The model finished (`end_turn`, `stop`, `completed`).
    EndTurn,
    /// The reply ends with tool calls (`tool_use`, `tool_calls`).
    ToolUse,
    /// The reply reached the request's output limit (`max_tokens`, `length`, `max_output_tokens`).
    MaxTokens,
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
    /// The tool calls the reply ends with, in order.
    pub tools: Vec<ToolCall>,
    pub stop: Stop,
    /// Prompt tokens read from the cache.
    pub cache_read: u64,
    /// Prompt tokens written to the cache.
    pub cache_write: u64,
    /// Seconds in the `retry-after` of an HTTP 429 or 529 failure.
    pub retry_after: u64,
    /// Which reply to this request this is (1: the first); its text is that variant.
    pub attempt: usize,
    /// Whether an agent script (`step=`) decided the tool calls.
    pub scripted: bool,
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

    /// Output tokens the reply counts for: thinking, text and the tool calls.
    pub fn output_tokens(&self) -> usize {
        self.thinking + self.tokens + self.tools.len() * TOOL_OUTPUT_TOKENS
    }
}

/// A value that follows `schema` (structured outputs): strings are the first few reply words,
/// numbers 1, booleans true, arrays empty, objects filled property by property.
fn json_for_schema(schema: &Value, tokens: usize, attempt: usize) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = Map::new();
            if let Some(Value::Object(props)) = schema.get("properties") {
                for (name, prop) in props {
                    object.insert(name.clone(), json_for_schema(prop, tokens, attempt));
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
            let words: Vec<String> = reply_tokens_variant(tokens.clamp(1, 6), attempt).iter().map(|t| t.trim().to_string()).collect();
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
        let tool = &plan.tools[0];
        assert_eq!(tool.name, "Write");
        assert_eq!(tool.input, json!({"file_path": "/work/ws/hello.txt", "content": "hi"}));
        assert_eq!(tool.input_chunks()[0], "");
        assert_eq!(tool.input_chunks().concat(), tool.input.to_string());
    }

    #[test]
    fn an_absolute_file_is_kept_and_without_a_directory_a_relative_one_too() {
        let state = AppState::new(MockConfig::default());
        let mut turn = Turn { prompt: "[[mock tool=read file=/etc/hostname]]".into(), cwd: Some("/w".into()), ..Turn::default() };
        assert_eq!(state.plan_turn(&turn).tools[0].input["file_path"], "/etc/hostname");
        turn.prompt = "[[mock tool=1]]".into();
        turn.cwd = None;
        assert_eq!(state.plan_turn(&turn).tools[0].input, json!({"file_path": "README.md"}));
    }

    #[test]
    fn after_tool_results_the_reply_is_final_text_with_a_verdict() {
        let state = AppState::new(MockConfig::default());
        let mut turn = Turn { prompt: "[[mock tool=write tokens=3]]".into(), tool_results: Some(false), ..Turn::default() };
        let plan = state.plan_turn(&turn);
        assert_eq!(plan.tools, vec![]);
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
        assert_eq!(state.plan_turn(&turn).tools, vec![]);
        turn.offered_tools = Some(vec!["Read".into(), "Bash".into()]);
        let tools = state.plan_turn(&turn).tools;
        assert_eq!(tools[0].input["command"], DEFAULT_BASH_COMMAND);
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
    fn an_agent_script_plays_one_step_per_round_then_answers() {
        let state = AppState::new(MockConfig::default());
        let prompt = r#"[[mock tokens=2 step="read:a.py" step="edit:a.py:x:y || bash:python3 t.py"]]"#;
        let mut turn = Turn { prompt: prompt.into(), ..Turn::default() };
        let first = state.plan_turn(&turn);
        assert_eq!((first.stop, first.tools.len(), first.tools[0].name.as_str()), (Stop::ToolUse, 1, "read"));
        assert_eq!(first.reply_text(), crate::reply_text(2));
        turn.round = 1;
        turn.tool_results = Some(false);
        let second = state.plan_turn(&turn);
        let names: Vec<&str> = second.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!((second.stop, names), (Stop::ToolUse, vec!["edit", "bash"]));
        turn.round = 2;
        turn.tool_results = Some(true);
        let last = state.plan_turn(&turn);
        assert_eq!((last.stop, last.tools.len()), (Stop::EndTurn, 0));
        assert!(last.reply_text().starts_with(FAILED_PREFIX), "{}", last.reply_text());
    }

    #[test]
    fn after_is_clamped_to_the_reply_length() {
        let state = AppState::new(MockConfig::default());
        assert_eq!(state.plan("[[mock tokens=4 fail=cut after=99]]", false).after, 4);
        assert_eq!(state.plan("[[mock tokens=10 fail=cut]]", false).after, 5);
    }

    #[test]
    fn several_tools_are_called_in_order_and_only_the_offered_ones() {
        let state = AppState::new(MockConfig::default());
        let mut turn = Turn { prompt: "[[mock tools=read,write,bash tool=bash tokens=2]]".into(), ..Turn::default() };
        let plan = state.plan_turn(&turn);
        let names: Vec<&str> = plan.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Read", "Write", "Bash"]);
        assert_eq!((plan.stop, plan.output_tokens()), (Stop::ToolUse, 2 + 3 * TOOL_OUTPUT_TOKENS));
        turn.offered_tools = Some(vec!["Bash".into(), "Read".into()]);
        let tools = state.plan_turn(&turn).tools;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Read", "Bash"]);
    }

    #[test]
    fn a_reply_longer_than_the_requests_limit_stops_at_it_without_tools() {
        let state = AppState::new(MockConfig::default());
        let turn = Turn { prompt: "[[mock tokens=10 thinking=3 tool=1]]".into(), max_tokens: Some(8), ..Turn::default() };
        let plan = state.plan_turn(&turn);
        assert_eq!((plan.thinking, plan.tokens, plan.stop), (3, 5, Stop::MaxTokens));
        assert_eq!(plan.reply_text(), crate::reply_text(5));
        assert_eq!((plan.tools.len(), plan.output_tokens()), (0, 8));
        let fits = Turn { prompt: "[[mock tokens=10]]".into(), max_tokens: Some(10), ..Turn::default() };
        assert_eq!(state.plan_turn(&fits).stop, Stop::EndTurn);
    }

    #[test]
    fn stop_max_tokens_ends_the_whole_reply_with_that_stop() {
        let state = AppState::new(MockConfig::default());
        let plan = state.plan("[[mock tokens=4 stop=max_tokens tool=1]]", false);
        assert_eq!((plan.tokens, plan.stop, plan.tools.len()), (4, Stop::MaxTokens, 0));
    }

    #[test]
    fn the_same_request_gets_the_next_variant_but_an_http_failure_counts_for_none() {
        let state = AppState::new(MockConfig::default());
        let turn = Turn { prompt: "[[mock tokens=6 fail=http429 fail_times=1]]".into(), ..Turn::default() };
        let failed = state.plan_request("/v1/messages", b"{}", &turn);
        assert_eq!(failed.http_failure(), Some(Failure::Http429));
        let first = state.plan_request("/v1/messages", b"{}", &turn);
        assert_eq!((first.attempt, first.reply_text()), (1, crate::reply_text(6)));
        let second = state.plan_request("/v1/messages", b"{}", &turn);
        assert_eq!((second.attempt, second.reply_text()), (2, crate::reply_text_variant(6, 2)));
        assert_eq!(state.plan_request("/v1/responses", b"{}", &turn).attempt, 1);
    }
}
