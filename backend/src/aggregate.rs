//! Adapts the pure domain aggregate to cqrs-es: `ConversationAggregate` and `StoredEvent`.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::{Conversation, ConversationCommand, ConversationError, ConversationEvent};
use serde::{Deserialize, Serialize};

/// The cqrs-es aggregate: a thin wrapper that delegates rules to `domain::Conversation`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationAggregate(pub Conversation);

/// A stored conversation event: the domain event under the cqrs-es `DomainEvent` trait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoredEvent(pub ConversationEvent);

impl DomainEvent for StoredEvent {
    fn event_type(&self) -> String {
        self.0.event_type().to_string()
    }

    fn event_version(&self) -> String {
        self.0.event_version().to_string()
    }
}

/// The aggregate type stored in `events.aggregate_type`. Frozen.
pub const CONVERSATION: &str = "conversation";

impl Aggregate for ConversationAggregate {
    const TYPE: &'static str = CONVERSATION;
    type Command = ConversationCommand;
    type Event = StoredEvent;
    type Error = ConversationError;
    type Services = ();

    async fn handle(&mut self, command: Self::Command, _services: &Self::Services, sink: &EventSink<Self>) -> Result<(), Self::Error> {
        for event in self.0.decide(command)? {
            sink.write(StoredEvent(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.0.apply(&event.0);
    }
}
