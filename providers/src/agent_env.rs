//! The minimal environment every agent process starts with (the Claude Code CLI, the agent's `bash`):
//! a home, a search path and a UTF-8 locale, and nothing of the server's own environment, so no
//! database or Redis URL and no key reaches a program the model steers.

use std::ffi::OsString;
use std::path::Path;

/// `HOME` (the agent's own home folder), the server's `PATH`, and `LANG=C.UTF-8`. Callers clear the
/// environment first (`Command::env_clear`) and add only what they must on top.
pub fn minimal_environment(home: &Path) -> [(&'static str, OsString); 3] {
    [("HOME", home.as_os_str().to_os_string()), ("PATH", std::env::var_os("PATH").unwrap_or_default()), ("LANG", OsString::from("C.UTF-8"))]
}
