//! Fuzzes the Anthropic Messages SSE pipeline: arbitrary bytes, cut into arbitrary chunks, must
//! decode to events and exactly one end (a stop or an error), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use providers::fuzzing::{check_reply, decode_sse, Format};

fuzz_target!(|data: &[u8]| {
    let (cuts, body) = split(data);
    let items = decode_sse(Format::Anthropic, body, &cuts);
    if let Err(problem) = check_reply(&items) {
        panic!("{problem}");
    }
});

/// The first byte picks up to 8 cut points spread over the rest of the input.
fn split(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&first, body)) = data.split_first() else { return (vec![], data) };
    let cuts = (0..(first % 8) as usize).map(|i| (usize::from(first) * (i + 7) * 31) % (body.len() + 1)).collect::<Vec<_>>();
    let mut cuts = cuts;
    cuts.sort_unstable();
    (cuts, body)
}
