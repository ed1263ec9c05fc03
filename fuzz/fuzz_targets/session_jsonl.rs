//! Fuzzes the `.jsonl` session importer's line reader: output only after a prompt, block
//! indices strictly increasing within a turn, every started block finished.
#![no_main]

use backend::claude::{SessionLines, Step};
use domain::OutputItem;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut session = SessionLines::default();
    let mut next_block = 0u32;
    for raw in text.lines() {
        let Ok(line) = serde_json::from_str::<serde_json::Value>(raw) else { continue };
        match session.step(&line) {
            Step::Prompt(prompt) => {
                assert!(!prompt.trim().is_empty(), "an empty prompt started a turn");
                next_block = 0;
            }
            Step::Output(items) => {
                assert!(session.turns() > 0, "output before the first prompt");
                let mut open = None;
                for item in items {
                    match item {
                        OutputItem::BlockStarted { block, .. } => {
                            assert!(open.is_none() && block == next_block, "block {block} out of order");
                            open = Some(block);
                            next_block += 1;
                        }
                        OutputItem::TextAppended { block, .. } => assert_eq!(open, Some(block)),
                        OutputItem::BlockFinished { block, .. } => {
                            assert_eq!(open.take(), Some(block));
                        }
                        _ => {}
                    }
                }
                assert!(open.is_none(), "a block was left open");
            }
            Step::Title(title) => assert!(!title.trim().is_empty() && title.chars().count() <= 200),
            Step::Ignored | Step::Skipped => {}
        }
    }
});
