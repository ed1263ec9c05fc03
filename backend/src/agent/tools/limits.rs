//! The tools' limits: how much a call may read, list or print, and how long a command may run.

use std::time::Duration;

/// Most text a tool result carries; the rest is cut with a note saying so.
pub const OUTPUT_CAP_BYTES: usize = 30 * 1024;
/// Lines `read` shows when the model names no limit.
pub const READ_DEFAULT_LINES: usize = 2000;
/// Characters of one line `read` shows; a longer line is cut.
pub const READ_LINE_CHARS: usize = 2000;
/// Largest file `read`, `edit` and `write` handle.
pub const FILE_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Most entries `list` and `glob` return, and most matching lines `grep` does.
pub const MAX_ENTRIES: usize = 1000;
/// How long `bash` lets a command run when the model names no timeout.
pub const BASH_DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest timeout the model may ask for.
pub const BASH_MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Bytes of each of stdout and stderr that `bash` keeps.
pub const BASH_STREAM_CAP_BYTES: usize = 15 * 1024;

/// `text` cut to at most `cap` bytes on a character boundary, with a note of what was left out.
pub fn cap(text: String, cap: usize) -> String {
    if text.len() <= cap {
        return text;
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[output cut: {} of {} bytes shown]", &text[..end], end, text.len())
}
