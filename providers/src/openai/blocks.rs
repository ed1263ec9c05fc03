//! Content-block bookkeeping for the OpenAI decoders: OpenAI streams text deltas without
//! explicit block starts, so a text block is opened at its first non-empty delta; a tool call
//! is opened when its name and id arrive. Blocks are numbered in opening order.

use crate::{BlockKind, ProviderEvent};

/// The open blocks of one reply, each under a key chosen by the decoder.
#[derive(Debug, Default)]
pub(super) struct Blocks {
    next: u32,
    /// (key, index, kind), in opening order.
    open: Vec<(u64, u32, BlockKind)>,
}

impl Blocks {
    /// The events that append `text` to the block under `key`, opening it first when needed.
    /// With `exclusive`, opening a block closes every other open block first (Chat Completions
    /// streams one block at a time). Empty text yields nothing.
    pub fn delta(&mut self, key: u64, kind: BlockKind, text: &str, exclusive: bool) -> Vec<ProviderEvent> {
        if text.is_empty() {
            return vec![];
        }
        let mut events = Vec::new();
        let index = match self.open.iter().find(|(k, _, open_kind)| *k == key && *open_kind == kind) {
            Some((_, index, _)) => *index,
            None => {
                if exclusive {
                    events.extend(self.close_all());
                }
                let index = self.next;
                self.next += 1;
                self.open.push((key, index, kind));
                events.push(ProviderEvent::BlockStart { index, kind, name: None, id: None });
                index
            }
        };
        events.push(ProviderEvent::BlockDelta { index, text: text.to_string() });
        events
    }

    /// Opens a tool-use block named `name` under `key` (with `exclusive`, closing every other
    /// open block first); nothing when one is open there already.
    pub fn open_tool(&mut self, key: u64, name: Option<String>, id: Option<String>, exclusive: bool) -> Vec<ProviderEvent> {
        if self.open.iter().any(|(k, _, kind)| *k == key && *kind == BlockKind::ToolUse) {
            return vec![];
        }
        let mut events = if exclusive { self.close_all() } else { vec![] };
        let index = self.next;
        self.next += 1;
        self.open.push((key, index, BlockKind::ToolUse));
        events.push(ProviderEvent::BlockStart { index, kind: BlockKind::ToolUse, name, id });
        events
    }

    /// Whether a block is open under `key`.
    pub fn is_open(&self, key: u64) -> bool {
        self.open.iter().any(|(k, _, _)| *k == key)
    }

    /// Closes the blocks under `key`.
    pub fn close(&mut self, key: u64) -> Vec<ProviderEvent> {
        let (closing, open) = std::mem::take(&mut self.open).into_iter().partition(|(k, _, _)| *k == key);
        self.open = open;
        stops(closing)
    }

    /// Closes every open block, in opening order.
    pub fn close_all(&mut self) -> Vec<ProviderEvent> {
        stops(std::mem::take(&mut self.open))
    }
}

fn stops(blocks: Vec<(u64, u32, BlockKind)>) -> Vec<ProviderEvent> {
    blocks.into_iter().map(|(_, index, _)| ProviderEvent::BlockStop { index }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(index: u32, kind: BlockKind) -> ProviderEvent {
        ProviderEvent::BlockStart { index, kind, name: None, id: None }
    }

    fn delta(index: u32, text: &str) -> ProviderEvent {
        ProviderEvent::BlockDelta { index, text: text.into() }
    }

    #[test]
    fn an_exclusive_delta_of_another_kind_closes_the_open_block() {
        let mut b = Blocks::default();
        assert_eq!(b.delta(0, BlockKind::Thinking, "", true), vec![]);
        assert_eq!(b.delta(0, BlockKind::Thinking, "hm", true), vec![start(0, BlockKind::Thinking), delta(0, "hm")]);
        assert_eq!(b.delta(0, BlockKind::Thinking, "m", true), vec![delta(0, "m")]);
        assert_eq!(
            b.delta(1, BlockKind::Text, "Hi", true),
            vec![ProviderEvent::BlockStop { index: 0 }, start(1, BlockKind::Text), delta(1, "Hi")]
        );
        assert_eq!(b.close_all(), vec![ProviderEvent::BlockStop { index: 1 }]);
        assert_eq!(b.close_all(), vec![]);
    }

    #[test]
    fn a_tool_block_opens_once_with_its_name_and_takes_its_argument_deltas() {
        let mut b = Blocks::default();
        b.delta(0, BlockKind::Text, "Hi", true);
        let tool = |index| ProviderEvent::BlockStart { index, kind: BlockKind::ToolUse, name: Some("Read".into()), id: Some("c1".into()) };
        assert_eq!(b.open_tool(5, Some("Read".into()), Some("c1".into()), true), vec![ProviderEvent::BlockStop { index: 0 }, tool(1)]);
        assert_eq!(b.open_tool(5, None, None, true), vec![]);
        assert_eq!(b.delta(5, BlockKind::ToolUse, "{}", true), vec![delta(1, "{}")]);
    }

    #[test]
    fn keyed_blocks_stay_open_until_their_key_closes() {
        let mut b = Blocks::default();
        b.delta(0, BlockKind::Thinking, "a", false);
        b.delta(1, BlockKind::Text, "b", false);
        assert!(b.is_open(0) && b.is_open(1));
        assert_eq!(b.close(0), vec![ProviderEvent::BlockStop { index: 0 }]);
        assert_eq!(b.close(0), vec![]);
        assert_eq!(b.close_all(), vec![ProviderEvent::BlockStop { index: 1 }]);
    }
}
