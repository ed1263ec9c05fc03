//! Event upcasters: how stored payloads of older event versions are brought to the current shape.
//!
//! Every read path (the aggregate store, the event log, replay) applies them, oldest first.
//! - `ConversationStarted` 1.0 → 2.0 added `workspace` (none) and `permission_mode` ("ask").
//! - `AttemptStarted` 1.0 → 2.0 added `resume_blocks` (none: every earlier attempt's output is void,
//!   as it was before attempts could resume).

use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster, SerializedEvent};
use serde_json::{json, Value};

/// The upcasters applied to every event read from the store, oldest version first.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![
        Box::new(SemanticVersionEventUpcaster::new("ConversationStarted", "2.0", Box::new(conversation_started_v2))),
        Box::new(SemanticVersionEventUpcaster::new("AttemptStarted", "2.0", Box::new(attempt_started_v2))),
    ]
}

fn attempt_started_v2(mut payload: Value) -> Value {
    if let Some(body) = payload.get_mut("AttemptStarted").and_then(Value::as_object_mut) {
        body.entry("resume_blocks").or_insert(Value::Null);
    }
    payload
}

fn conversation_started_v2(mut payload: Value) -> Value {
    if let Some(body) = payload.get_mut("ConversationStarted").and_then(Value::as_object_mut) {
        body.entry("workspace").or_insert(Value::Null);
        body.entry("permission_mode").or_insert(json!("ask"));
    }
    payload
}

/// Applies every upcaster that accepts the event's type and version.
pub fn upcast(upcasters: &[Box<dyn EventUpcaster>], event: SerializedEvent) -> SerializedEvent {
    upcasters.iter().fold(
        event,
        |event, upcaster| {
            if upcaster.can_upcast(&event.event_type, &event.event_version) {
                upcaster.upcast(event)
            } else {
                event
            }
        },
    )
}

/// True when some upcaster would rewrite events of this type and version.
pub fn needs_upcast(upcasters: &[Box<dyn EventUpcaster>], event_type: &str, event_version: &str) -> bool {
    upcasters.iter().any(|upcaster| upcaster.can_upcast(event_type, event_version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_conversation_started_event_reads_as_version_2() {
        let stored = SerializedEvent::new(
            "c".into(),
            1,
            "conversation".into(),
            "ConversationStarted".into(),
            "1.0".into(),
            json!({"ConversationStarted": {"provider": "anthropic", "model": "m", "title": ""}}),
            json!({}),
        );
        let upcast = upcast(&upcasters(), stored);
        assert!(!needs_upcast(&upcasters(), "ConversationStarted", &upcast.event_version), "stamped as 2.x: {}", upcast.event_version);
        let event: domain::ConversationEvent = serde_json::from_value(upcast.payload).unwrap();
        let domain::ConversationEvent::ConversationStarted { workspace, permission_mode, .. } = event else { panic!() };
        assert_eq!((workspace, permission_mode), (None, domain::PermissionMode::Ask));
    }

    #[test]
    fn a_version_1_attempt_started_event_reads_as_one_that_keeps_nothing() {
        let stored = SerializedEvent::new(
            "c".into(),
            3,
            "conversation".into(),
            "AttemptStarted".into(),
            "1.0".into(),
            json!({"AttemptStarted": {"turn": 1, "attempt": 2, "attempt_id": "a2", "worker": "w"}}),
            json!({}),
        );
        let upcast = upcast(&upcasters(), stored);
        assert!(!needs_upcast(&upcasters(), "AttemptStarted", &upcast.event_version), "stamped as 2.x: {}", upcast.event_version);
        let event: domain::ConversationEvent = serde_json::from_value(upcast.payload).unwrap();
        assert!(matches!(event, domain::ConversationEvent::AttemptStarted { attempt: 2, resume_blocks: None, .. }), "{event:?}");
    }

    #[test]
    fn a_current_event_is_left_alone() {
        assert!(!needs_upcast(&upcasters(), "ConversationStarted", "2.0"));
        assert!(!needs_upcast(&upcasters(), "AttemptStarted", "2.0"));
        assert!(!needs_upcast(&upcasters(), "TextAppended", "1.0"));
    }
}
