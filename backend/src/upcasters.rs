//! Event upcasters: how stored payloads of older event versions are brought to the current shape.
//!
//! Every event type is at version "1.0", so the list is empty. When a payload changes, bump
//! `ConversationEvent::event_version`, and add a `SemanticVersionEventUpcaster` here.

use cqrs_es::persist::{EventUpcaster, SerializedEvent};

/// The upcasters applied to every event read from the store, oldest version first.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    Vec::new()
}

/// Applies every upcaster that accepts the event's type and version.
pub fn upcast(upcasters: &[Box<dyn EventUpcaster>], event: SerializedEvent) -> SerializedEvent {
    upcasters.iter().fold(event, |event, upcaster| {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            upcaster.upcast(event)
        } else {
            event
        }
    })
}

/// True when some upcaster would rewrite events of this type and version.
pub fn needs_upcast(upcasters: &[Box<dyn EventUpcaster>], event_type: &str, event_version: &str) -> bool {
    upcasters.iter().any(|upcaster| upcaster.can_upcast(event_type, event_version))
}
