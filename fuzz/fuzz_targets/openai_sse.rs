//! Fuzzes both OpenAI SSE pipelines (Responses and Chat Completions) with the same input: events
//! and exactly one end (a stop or an error), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use providers::fuzzing::{check_reply, decode_sse, Format};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else { return };
    let mut cuts: Vec<usize> = (0..(first % 8) as usize).map(|i| (usize::from(first) * (i + 3) * 17) % (body.len() + 1)).collect();
    cuts.sort_unstable();
    for format in [Format::OpenAiResponses, Format::OpenAiChat] {
        let items = decode_sse(format, body, &cuts);
        if let Err(problem) = check_reply(&items) {
            panic!("{format:?}: {problem}");
        }
    }
});
