//! The `[[mock key=value ...]]` directive a turn's prompt (its last user message) may carry.
//!
//! A value may be double-quoted to hold spaces (`content="two words"`; `\"` inside is a
//! quote); in `content` and `cmd` the two characters `\n` stand for a newline. Parsing is
//! lenient: unknown keys and unparsable values are ignored.

/// A failure to inject into a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 529 `overloaded_error` with `retry-after` (`fail=http529` or `fail=overloaded`); the
    /// OpenAI formats answer 503 instead, as OpenAI does when it is overloaded.
    Http529,
    /// HTTP 429 `rate_limit_error` (OpenAI: `rate_limit_exceeded`) with `retry-after` and the
    /// rate-limit headers (`fail=http429` or `fail=rate_limit`).
    Http429,
    /// HTTP 500 `api_error`.
    Http500,
    /// HTTP 401 `authentication_error`.
    Http401,
    /// The connection is dropped after `after` reply tokens, without `message_stop`.
    Cut,
    /// An SSE `error` event (`overloaded_error`) after `after` reply tokens, then the stream ends.
    ErrorEvent,
}

impl Failure {
    fn parse(value: &str) -> Option<Failure> {
        match value.to_ascii_lowercase().as_str() {
            "overloaded" | "http529" | "529" => Some(Failure::Http529),
            "rate_limit" | "http429" | "429" => Some(Failure::Http429),
            "http500" | "500" => Some(Failure::Http500),
            "http401" | "401" => Some(Failure::Http401),
            "cut" => Some(Failure::Cut),
            "error_event" | "error" => Some(Failure::ErrorEvent),
            _ => None,
        }
    }

    /// Whether this failure happens instead of a response (not in the middle of a stream).
    pub fn is_http(self) -> bool {
        matches!(self, Failure::Http529 | Failure::Http429 | Failure::Http500 | Failure::Http401)
    }
}

/// The tool a reply calls (`tool=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// `tool=1`, `tool=read`: `Read {"file_path": file}` (default `README.md`).
    Read,
    /// `tool=write`: `Write {"file_path": file, "content": content}`.
    Write,
    /// `tool=bash`: `Bash {"command": cmd, "description": ...}`.
    Bash,
}

impl ToolKind {
    fn parse(value: &str) -> Option<ToolKind> {
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "read" => Some(ToolKind::Read),
            "write" => Some(ToolKind::Write),
            "bash" => Some(ToolKind::Bash),
            _ => None,
        }
    }
}

/// How a reply ends when it does not end with tool calls (`stop=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// `stop=max_tokens`: the reply ends as if it had reached the request's output limit.
    MaxTokens,
}

impl StopKind {
    fn parse(value: &str) -> Option<StopKind> {
        match value.to_ascii_lowercase().as_str() {
            "max_tokens" | "length" | "max_output_tokens" => Some(StopKind::MaxTokens),
            _ => None,
        }
    }
}

/// The per-request overrides found in a directive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directive {
    /// The directive's exact text (the key for `fail_times` counting).
    pub raw: String,
    pub tokens: Option<usize>,
    pub rate: Option<f64>,
    pub delay_ms: Option<u64>,
    pub thinking: Option<usize>,
    pub fail: Option<Failure>,
    pub after: Option<usize>,
    pub tool: Option<ToolKind>,
    /// Several tool calls in one reply, in order (`tools=read,write,bash`); wins over `tool`.
    pub tools: Vec<ToolKind>,
    pub fail_times: Option<usize>,
    /// Seconds in the `retry-after` of an `http429` or `http529` failure (default 1).
    pub retry_after: Option<u64>,
    /// `stop=max_tokens`.
    pub stop: Option<StopKind>,
    /// Prompt tokens reported as read from the cache (`cache_read=`).
    pub cache_read: Option<u64>,
    /// Prompt tokens reported as written to the cache (`cache_write=`; Anthropic only, as
    /// OpenAI reports no cache writes).
    pub cache_write: Option<u64>,
    /// The tool's file path (`file=`); a relative path is resolved against the request's
    /// working directory when the request names one.
    pub file: Option<String>,
    /// The content a `Write` writes (`content=`).
    pub content: Option<String>,
    /// The command a `Bash` runs (`cmd=`).
    pub cmd: Option<String>,
    /// The agent script: one `step=` per round of the tool loop, in order (see `agent`).
    pub steps: Vec<String>,
}

impl Directive {
    /// Finds the last `[[mock ...]]` in `text` and parses it; `None` if there is none.
    pub fn find(text: &str) -> Option<Directive> {
        let start = text.rfind("[[mock")?;
        let rest = &text[start..];
        let end = rest.find("]]")?;
        let raw = &rest[..end + 2];
        let mut d = Directive { raw: raw.to_string(), ..Directive::default() };
        for (key, value) in pairs(&raw[6..raw.len() - 2]) {
            let value = value.as_str();
            match key.to_ascii_lowercase().as_str() {
                "tokens" => d.tokens = value.parse().ok().or(d.tokens),
                "rate" => d.rate = value.parse().ok().filter(|r: &f64| r.is_finite()).or(d.rate),
                "delay_ms" => d.delay_ms = value.parse().ok().or(d.delay_ms),
                "thinking" => d.thinking = value.parse().ok().or(d.thinking),
                "fail" => d.fail = Failure::parse(value).or(d.fail),
                "after" => d.after = value.parse().ok().or(d.after),
                "tool" => d.tool = ToolKind::parse(value),
                "tools" => d.tools = value.split(',').filter_map(ToolKind::parse).collect(),
                "fail_times" => d.fail_times = value.parse().ok().or(d.fail_times),
                "retry_after" => d.retry_after = value.parse().ok().or(d.retry_after),
                "stop" => d.stop = StopKind::parse(value).or(d.stop),
                "cache_read" => d.cache_read = value.parse().ok().or(d.cache_read),
                "cache_write" => d.cache_write = value.parse().ok().or(d.cache_write),
                "file" => d.file = Some(value.to_string()),
                "content" => d.content = Some(value.replace("\\n", "\n")),
                "cmd" => d.cmd = Some(value.replace("\\n", "\n")),
                "step" => d.steps.push(value.replace("\\n", "\n")),
                _ => {}
            }
        }
        Some(d)
    }
}

/// The `key=value` pairs of a directive's inside; a value may be `"quoted"` to hold spaces.
/// Words without `=` are skipped.
fn pairs(inside: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = inside.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return out;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' if chars.next_if_eq(&'"').is_some() => value.push('"'),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                value.push(c);
            }
        }
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_directive_is_parsed() {
        let d =
            Directive::find("hi [[mock tokens=2000 rate=500 delay_ms=0 thinking=20 fail=cut after=50 tool=1 fail_times=2]] bye").unwrap();
        assert_eq!(d.tokens, Some(2000));
        assert_eq!(d.rate, Some(500.0));
        assert_eq!(d.delay_ms, Some(0));
        assert_eq!(d.thinking, Some(20));
        assert_eq!(d.fail, Some(Failure::Cut));
        assert_eq!(d.after, Some(50));
        assert_eq!(d.tool, Some(ToolKind::Read));
        assert_eq!(d.fail_times, Some(2));
        assert!(d.raw.starts_with("[[mock tokens=2000") && d.raw.ends_with("]]"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_ignored() {
        let d = Directive::find("[[mock colour=blue tokens=lots rate=5 junk]]").unwrap();
        assert_eq!(d.tokens, None);
        assert_eq!(d.rate, Some(5.0));
    }

    #[test]
    fn text_without_a_directive_has_none() {
        assert_eq!(Directive::find("just [[a question]]"), None);
        assert_eq!(Directive::find("[[mock tokens=3"), None);
    }

    #[test]
    fn the_last_directive_wins() {
        let d = Directive::find("[[mock tokens=1]] then [[mock tokens=2]]").unwrap();
        assert_eq!(d.tokens, Some(2));
    }

    #[test]
    fn overloaded_means_http_529() {
        let d = Directive::find("[[mock fail=overloaded]]").unwrap();
        assert_eq!(d.fail, Some(Failure::Http529));
        assert!(Failure::Http529.is_http() && !Failure::Cut.is_http());
    }

    #[test]
    fn a_write_directive_has_a_file_and_content() {
        let d = Directive::find("[[mock tool=write file=hello.txt content=hello-from-mock]]").unwrap();
        assert_eq!(d.tool, Some(ToolKind::Write));
        assert_eq!(d.file.as_deref(), Some("hello.txt"));
        assert_eq!(d.content.as_deref(), Some("hello-from-mock"));
    }

    #[test]
    fn quoted_values_keep_their_spaces_and_backslash_n_is_a_newline() {
        let d = Directive::find(r#"[[mock tool=bash cmd="echo \"a  b\"" content="one\ntwo" tokens=3]]"#).unwrap();
        assert_eq!(d.tool, Some(ToolKind::Bash));
        assert_eq!(d.cmd.as_deref(), Some(r#"echo "a  b""#));
        assert_eq!(d.content.as_deref(), Some("one\ntwo"));
        assert_eq!(d.tokens, Some(3));
    }

    #[test]
    fn the_realism_keys_are_parsed() {
        let d = Directive::find("[[mock fail=http429 retry_after=2 stop=max_tokens cache_read=7 cache_write=3 tools=read,write,bash]]")
            .unwrap();
        assert_eq!(d.fail, Some(Failure::Http429));
        assert!(Failure::Http429.is_http());
        assert_eq!(d.retry_after, Some(2));
        assert_eq!(d.stop, Some(StopKind::MaxTokens));
        assert_eq!((d.cache_read, d.cache_write), (Some(7), Some(3)));
        assert_eq!(d.tools, vec![ToolKind::Read, ToolKind::Write, ToolKind::Bash]);
        assert_eq!(Directive::find("[[mock fail=rate_limit]]").unwrap().fail, Some(Failure::Http429));
    }

    #[test]
    fn tool_values_are_read_write_bash_or_nothing() {
        for (value, kind) in [
            ("1", Some(ToolKind::Read)),
            ("READ", Some(ToolKind::Read)),
            ("write", Some(ToolKind::Write)),
            ("bash", Some(ToolKind::Bash)),
            ("0", None),
            ("paint", None),
        ] {
            let d = Directive::find(&format!("[[mock tool={value}]]")).unwrap();
            assert_eq!(d.tool, kind, "tool={value}");
        }
    }
}
