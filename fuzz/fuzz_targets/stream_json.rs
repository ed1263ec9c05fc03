//! Fuzzes the Claude Code stream-json line parser: every line of the input through one parser
//! (state carries across lines, as with a real CLI process); block indices must never repeat.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use providers::claude_code::{Line, LineParser};
use providers::ProviderEvent;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parser = LineParser::default();
    let mut started = HashSet::new();
    for line in text.lines() {
        if let Line::Events(events) = parser.parse(line) {
            for event in events {
                if let ProviderEvent::BlockStart { index, .. } = event {
                    assert!(started.insert(index), "block {index} started twice in one turn");
                }
            }
        }
    }
});
