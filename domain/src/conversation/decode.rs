//! Reading an event from its JSON (`serde_json::Value`) by hand, for the browser's live feed.
//!
//! The server reads and writes events with serde's derive; this accepts the same JSON (every
//! variant in the shape the derive writes it, with the derive's rules: missing `Option` fields
//! are `None`, other fields are required, unknown fields are ignored). It exists because the
//! derived `Deserialize` of 19 struct variants is about 30 KB of WebAssembly, and the browser
//! already carries a `Value` parser. `tests::every_event_reads_back_as_the_derive_wrote_it` keeps
//! the two in step.

use serde_json::{Map, Value};

use super::events::{BlockKind, ConversationEvent, ConversationSettings, Decision, PermissionMode};

impl ConversationEvent {
    /// The event serde's derive wrote as `json`, or `None` when it is not one.
    pub fn from_json(json: &Value) -> Option<ConversationEvent> {
        use ConversationEvent as E;
        let (kind, fields) = match json {
            Value::String(kind) => (kind.as_str(), None),
            Value::Object(map) if map.len() == 1 => {
                let (kind, fields) = map.iter().next()?;
                (kind.as_str(), Some(fields))
            }
            _ => return None,
        };
        let unit = |event: ConversationEvent| fields.is_none_or(Value::is_null).then_some(event);
        let event = match kind {
            "ConversationArchived" => return unit(E::ConversationArchived),
            "ConversationUnarchived" => return unit(E::ConversationUnarchived),
            "ConversationDeleted" => return unit(E::ConversationDeleted),
            _ => {
                let f = Fields(fields?.as_object()?);
                match kind {
                    "ConversationStarted" => E::ConversationStarted {
                        provider: f.text("provider")?,
                        model: f.text("model")?,
                        title: f.text("title")?,
                        workspace: f.maybe_text("workspace")?,
                        permission_mode: match f.text("permission_mode")?.as_str() {
                            "ask" => PermissionMode::Ask,
                            "accept_edits" => PermissionMode::AcceptEdits,
                            "bypass" => PermissionMode::Bypass,
                            _ => return None,
                        },
                    },
                    "ConversationConfigured" => E::ConversationConfigured(ConversationSettings {
                        max_tokens: f.number("max_tokens")?,
                        thinking_budget: f.maybe_number("thinking_budget")?,
                        reasoning_effort: f.maybe_text("reasoning_effort")?,
                        context_window: f.big("context_window")?,
                    }),
                    "ConversationRetitled" => E::ConversationRetitled { title: f.text("title")? },
                    "PromptSubmitted" => E::PromptSubmitted { turn: f.number("turn")?, text: f.text("text")?, job_id: f.text("job_id")? },
                    "AttemptStarted" => E::AttemptStarted {
                        turn: f.number("turn")?,
                        attempt: f.number("attempt")?,
                        attempt_id: f.text("attempt_id")?,
                        worker: f.text("worker")?,
                        resume_blocks: f.maybe_number("resume_blocks")?,
                    },
                    "BlockStarted" => E::BlockStarted {
                        turn: f.number("turn")?,
                        block: f.number("block")?,
                        kind: match f.text("kind")?.as_str() {
                            "text" => BlockKind::Text,
                            "thinking" => BlockKind::Thinking,
                            "tool_use" => BlockKind::ToolUse,
                            "tool_result" => BlockKind::ToolResult,
                            _ => return None,
                        },
                        name: f.maybe_text("name")?,
                        tool_use_id: f.maybe_text("tool_use_id")?,
                    },
                    "TextAppended" => E::TextAppended { turn: f.number("turn")?, block: f.number("block")?, text: f.text("text")? },
                    "BlockFinished" => E::BlockFinished {
                        turn: f.number("turn")?,
                        block: f.number("block")?,
                        input: f.maybe("input").cloned(),
                        signature: f.maybe_text("signature")?,
                        is_error: match f.maybe("is_error") {
                            None => None,
                            Some(flag) => Some(flag.as_bool()?),
                        },
                    },
                    "UsageRecorded" => E::UsageRecorded {
                        turn: f.number("turn")?,
                        input_tokens: f.big("input_tokens")?,
                        output_tokens: f.big("output_tokens")?,
                        cost_usd: f.0.get("cost_usd")?.as_f64()?,
                    },
                    "TurnCompleted" => E::TurnCompleted { turn: f.number("turn")?, stop_reason: f.text("stop_reason")? },
                    "CliSessionStarted" => E::CliSessionStarted { turn: f.number("turn")?, session_id: f.text("session_id")? },
                    "CliMessageRecorded" => E::CliMessageRecorded { turn: f.number("turn")?, raw: f.0.get("raw")?.clone() },
                    "SystemPromptUsed" => E::SystemPromptUsed { turn: f.number("turn")?, sha256: f.text("sha256")?, text: f.text("text")? },
                    "ApprovalRequested" => E::ApprovalRequested {
                        turn: f.number("turn")?,
                        approval_id: f.text("approval_id")?,
                        tool: f.text("tool")?,
                        input: f.0.get("input")?.clone(),
                    },
                    "ApprovalDecided" => E::ApprovalDecided {
                        approval_id: f.text("approval_id")?,
                        tool: f.text("tool")?,
                        decision: match f.text("decision")?.as_str() {
                            "allow" => Decision::Allow,
                            "deny" => Decision::Deny,
                            "always" => Decision::Always,
                            _ => return None,
                        },
                        reason: f.maybe_text("reason")?,
                    },
                    "TurnFailed" => E::TurnFailed { turn: f.number("turn")?, reason: f.text("reason")? },
                    "TurnAborted" => E::TurnAborted { turn: f.number("turn")? },
                    _ => return None,
                }
            }
        };
        Some(event)
    }
}

/// The fields of a struct variant.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    /// A field that is present and not `null`.
    fn maybe(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.0.get(name)?.as_str().map(str::to_string)
    }

    /// `Some(None)` when missing or `null`, `None` when not a string.
    fn maybe_text(&self, name: &str) -> Option<Option<String>> {
        match self.maybe(name) {
            None => Some(None),
            Some(value) => value.as_str().map(|text| Some(text.to_string())),
        }
    }

    fn number(&self, name: &str) -> Option<u32> {
        self.big(name)?.try_into().ok()
    }

    fn maybe_number(&self, name: &str) -> Option<Option<u32>> {
        match self.maybe(name) {
            None => Some(None),
            Some(value) => value.as_u64()?.try_into().ok().map(Some),
        }
    }

    fn big(&self, name: &str) -> Option<u64> {
        self.0.get(name)?.as_u64()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn every_event() -> Vec<ConversationEvent> {
        use ConversationEvent as E;
        vec![
            E::ConversationStarted {
                provider: "anthropic".into(),
                model: "m".into(),
                title: "t".into(),
                workspace: Some("ws".into()),
                permission_mode: PermissionMode::AcceptEdits,
            },
            E::ConversationStarted {
                provider: "p".into(),
                model: String::new(),
                title: String::new(),
                workspace: None,
                permission_mode: PermissionMode::Bypass,
            },
            E::ConversationConfigured(ConversationSettings {
                max_tokens: 4096,
                thinking_budget: Some(2048),
                reasoning_effort: Some("low".into()),
                context_window: 200_000,
            }),
            E::ConversationConfigured(ConversationSettings::default()),
            E::ConversationRetitled { title: "Plans".into() },
            E::PromptSubmitted { turn: 1, text: "hi".into(), job_id: "job".into() },
            E::AttemptStarted { turn: 1, attempt: 2, attempt_id: "a".into(), worker: "w".into(), resume_blocks: Some(3) },
            E::AttemptStarted { turn: 1, attempt: 2, attempt_id: "a".into(), worker: "w".into(), resume_blocks: None },
            E::BlockStarted { turn: 1, block: 0, kind: BlockKind::ToolUse, name: Some("Read".into()), tool_use_id: Some("tu".into()) },
            E::BlockStarted { turn: 1, block: 1, kind: BlockKind::Thinking, name: None, tool_use_id: None },
            E::BlockStarted { turn: 1, block: 2, kind: BlockKind::ToolResult, name: None, tool_use_id: None },
            E::BlockStarted { turn: 1, block: 3, kind: BlockKind::Text, name: None, tool_use_id: None },
            E::TextAppended { turn: 1, block: 0, text: "héllo \"x\"".into() },
            E::BlockFinished {
                turn: 1,
                block: 0,
                input: Some(json!({"path": "a.rs"})),
                signature: Some("sig".into()),
                is_error: Some(true),
            },
            E::BlockFinished { turn: 1, block: 1, input: None, signature: None, is_error: None },
            E::UsageRecorded { turn: 1, input_tokens: 12_000_000_000, output_tokens: 34, cost_usd: 0.0125 },
            E::UsageRecorded { turn: 2, input_tokens: 0, output_tokens: 0, cost_usd: 0.0 },
            E::TurnCompleted { turn: 1, stop_reason: "end_turn".into() },
            E::CliSessionStarted { turn: 1, session_id: "s".into() },
            E::CliMessageRecorded { turn: 1, raw: json!({"type": "system", "n": [1, 2]}) },
            E::SystemPromptUsed { turn: 1, sha256: "ab".repeat(32), text: "You are PocketDev's coding agent.".into() },
            E::ApprovalRequested { turn: 1, approval_id: "ap".into(), tool: "Bash".into(), input: json!({"command": "ls"}) },
            E::ApprovalDecided { approval_id: "ap".into(), tool: "Bash".into(), decision: Decision::Always, reason: Some("ok".into()) },
            E::ApprovalDecided { approval_id: "ap".into(), tool: "Bash".into(), decision: Decision::Deny, reason: None },
            E::ApprovalDecided { approval_id: "ap".into(), tool: "Bash".into(), decision: Decision::Allow, reason: None },
            E::TurnFailed { turn: 1, reason: "boom".into() },
            E::TurnAborted { turn: 1 },
            E::ConversationArchived,
            E::ConversationUnarchived,
            E::ConversationDeleted,
        ]
    }

    /// The variant name serde's derive wrote: the one key of `{"Name": fields}`, or the string of a unit variant.
    fn derived_name(json: &Value) -> &str {
        match json {
            Value::String(name) => name,
            Value::Object(map) if map.len() == 1 => map.keys().next().unwrap(),
            other => panic!("not an event as the derive writes it: {other}"),
        }
    }

    #[test]
    fn every_event_reads_back_as_the_derive_wrote_it() {
        use std::collections::BTreeSet;
        let events = every_event();
        // The names, not their count: every name of TYPES (each once) is the type of an event above.
        let types: BTreeSet<&str> = ConversationEvent::TYPES.into_iter().collect();
        assert_eq!(types.len(), ConversationEvent::TYPES.len(), "TYPES names a type twice: {:?}", ConversationEvent::TYPES);
        let covered: BTreeSet<&str> = events.iter().map(ConversationEvent::event_type).collect();
        assert_eq!(covered, types, "every_event() covers exactly the types of TYPES");
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            // event_type() is the name the derive writes (the name the log stores and the feed sends).
            assert_eq!(derived_name(&json), event.event_type(), "{json}");
            let derived: ConversationEvent = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(derived, event, "the derive reads back what it wrote: {json}");
            assert_eq!(ConversationEvent::from_json(&json), Some(derived), "from_json reads what the derive reads: {json}");
        }
    }

    #[test]
    fn it_accepts_and_refuses_what_the_derive_does() {
        let read = |json: Value| (ConversationEvent::from_json(&json), serde_json::from_value::<ConversationEvent>(json).ok());
        for json in [
            // Optional fields may be left out; unknown fields are ignored.
            json!({"BlockStarted": {"turn": 1, "block": 0, "kind": "text", "extra": 1}}),
            json!({"ConversationArchived": null}),
            // Required fields, wrong types, unknown names and out-of-range numbers are refused.
            json!({"PromptSubmitted": {"turn": 1, "text": "hi"}}),
            json!({"TurnAborted": {"turn": "1"}}),
            json!({"TurnAborted": {"turn": 4_294_967_296u64}}),
            json!({"TurnAborted": {"turn": -1}}),
            json!({"BlockStarted": {"turn": 1, "block": 0, "kind": "image"}}),
            json!({"ApprovalRequested": {"turn": 1, "approval_id": "a", "tool": "t"}}),
            json!({"Nope": {}}),
            json!("Nope"),
            json!({"TurnAborted": {"turn": 1}, "TurnFailed": {"turn": 1, "reason": "x"}}),
            json!(7),
        ] {
            let (ours, derived) = read(json.clone());
            assert_eq!(ours, derived, "{json}");
        }
    }
}
