//! The agent script: `step=` directives, one per round of a tool loop, each naming the tool calls
//! (PocketDev's agent tools) that round's reply ends with.
//!
//! A step is calls separated by `||`; a call is `tool:arguments`:
//! `read:PATH`, `write:PATH:CONTENT`, `edit:PATH:OLD:NEW`, `bash:COMMAND`, `list` or `list:PATH`,
//! `glob:PATTERN`, `grep:PATTERN`, and `raw:NAME:ARGUMENTS`, which calls any name with the
//! arguments text sent verbatim (malformed JSON included). Round `k` of a turn (the k-th request
//! after its prompt that carries tool results, from 0) plays step `k`; after the last step the reply
//! is the turn's final text.

use serde_json::{json, Value};

/// A tool call a reply ends with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolCall {
    pub name: String,
    pub input: Value,
    /// The arguments text to send instead of `input`'s JSON (a `raw:` call).
    pub raw: Option<String>,
}

impl ToolCall {
    pub fn new(name: &str, input: Value) -> ToolCall {
        ToolCall { name: name.to_string(), input, raw: None }
    }

    /// The arguments as they are sent: the raw text of a `raw:` call, else the input's JSON.
    pub fn arguments(&self) -> String {
        self.raw.clone().unwrap_or_else(|| self.input.to_string())
    }

    /// The arguments in the pieces they stream as: an empty one first (as the real API does),
    /// then pieces of at most 12 characters.
    pub fn input_chunks(&self) -> Vec<String> {
        let chars: Vec<char> = self.arguments().chars().collect();
        let mut chunks = vec![String::new()];
        chunks.extend(chars.chunks(12).map(|c| c.iter().collect::<String>()));
        chunks
    }

    /// Whether the request must offer this tool (a `raw:` call may name one it does not).
    pub fn must_be_offered(&self) -> bool {
        self.raw.is_none()
    }
}

/// The calls of one step.
pub(crate) fn calls(step: &str) -> Vec<ToolCall> {
    step.split("||").map(str::trim).filter(|call| !call.is_empty()).map(call).collect()
}

fn call(text: &str) -> ToolCall {
    let (name, rest) = text.split_once(':').unwrap_or((text, ""));
    let parts = |n: usize| -> Vec<&str> { rest.splitn(n, ':').collect() };
    match name {
        "read" => ToolCall::new("read", json!({"path": rest})),
        "write" => {
            let p = parts(2);
            ToolCall::new("write", json!({"path": p[0], "content": p.get(1).copied().unwrap_or("")}))
        }
        "edit" => {
            let p = parts(3);
            let (old, new) = (p.get(1).copied().unwrap_or(""), p.get(2).copied().unwrap_or(""));
            ToolCall::new("edit", json!({"path": p[0], "old_string": old, "new_string": new}))
        }
        "bash" => ToolCall::new("bash", json!({"command": rest})),
        "list" if rest.is_empty() => ToolCall::new("list", json!({})),
        "list" => ToolCall::new("list", json!({"path": rest})),
        "glob" | "grep" => ToolCall::new(name, json!({"pattern": rest})),
        "raw" => {
            let (name, arguments) = rest.split_once(':').unwrap_or((rest, "{}"));
            let input = serde_json::from_str(arguments).unwrap_or(Value::Null);
            ToolCall { name: name.to_string(), input, raw: Some(arguments.to_string()) }
        }
        other => ToolCall::new(other, json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_names_its_calls_in_order_with_their_arguments() {
        let step = "read:calc.py || edit:calc.py:a - b:a + b || bash:python3 -m unittest -q || list || grep:def add";
        let calls = calls(step);
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["read", "edit", "bash", "list", "grep"]);
        assert_eq!(calls[0].input, json!({"path": "calc.py"}));
        assert_eq!(calls[1].input, json!({"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}));
        assert_eq!(calls[2].input, json!({"command": "python3 -m unittest -q"}));
        assert_eq!(calls[3].input, json!({}));
        assert_eq!(calls[4].input, json!({"pattern": "def add"}));
        assert_eq!(calls[1].input_chunks().concat(), calls[1].input.to_string());
    }

    #[test]
    fn a_raw_call_sends_its_arguments_verbatim_even_when_they_are_not_json() {
        let calls = calls("raw:read:{\"path\": || raw:no_such_tool:{}");
        assert_eq!((calls[0].name.as_str(), calls[0].arguments()), ("read", "{\"path\":".to_string()));
        assert_eq!(calls[0].input, Value::Null);
        assert_eq!(calls[1].name, "no_such_tool");
        assert!(!calls[1].must_be_offered());
        assert_eq!(calls[0].input_chunks().concat(), "{\"path\":");
    }
}
