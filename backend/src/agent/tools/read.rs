//! `read`: a window of a text file's lines, numbered; binaries, folders and credentials are refused.

use serde::Deserialize;
use serde_json::{json, Value};

use super::limits::{cap, OUTPUT_CAP_BYTES, READ_DEFAULT_LINES, READ_LINE_CHARS};
use super::{input, Workspace};

pub const DESCRIPTION: &str = "Read a text file in the workspace. Lines come numbered (`number<TAB>text`); \
by default the first 2000 lines, longer lines cut at 2000 characters. Use `offset` (the first line to show, from 1) \
and `limit` to read a long file in parts. Binary files and credentials files (.env, private keys) are refused. \
Paths are relative to the workspace root.";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "The file, relative to the workspace root."},
            "offset": {"type": "integer", "minimum": 1, "description": "The first line to show (1 is the first line)."},
            "limit": {"type": "integer", "minimum": 1, "description": "How many lines to show."}
        },
        "required": ["path"],
        "additionalProperties": false
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    path: String,
    offset: Option<usize>,
    limit: Option<usize>,
}

pub fn run(value: &Value, workspace: &Workspace) -> Result<String, String> {
    let Input { path, offset, limit } = input::parse("read", value)?;
    let (_, _, bytes) = input::existing_file(workspace, &path, "read")?;
    if bytes.contains(&0) {
        return Err(format!("{path} is a binary file; read shows only text"));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text; read shows only text"))?;
    if text.is_empty() {
        return Ok(format!("{path} is empty"));
    }
    let total = text.lines().count();
    let first = offset.unwrap_or(1).max(1);
    if first > total {
        return Err(format!("{path} has {total} lines; offset {first} is past its end"));
    }
    let limit = limit.unwrap_or(READ_DEFAULT_LINES).max(1);
    let mut out = String::new();
    let mut last = first - 1;
    for (index, line) in text.lines().enumerate().skip(first - 1).take(limit) {
        let shown: String = line.chars().take(READ_LINE_CHARS).collect();
        let cut = if shown.len() < line.len() { " [line cut]" } else { "" };
        let row = format!("{:>6}\t{shown}{cut}\n", index + 1);
        if out.len() + row.len() > OUTPUT_CAP_BYTES {
            break;
        }
        out.push_str(&row);
        last = index + 1;
    }
    if first > 1 || last < total {
        out.push_str(&format!("[lines {first}-{last} of {total}; use offset and limit to read others]"));
    }
    Ok(cap(out, OUTPUT_CAP_BYTES + 200))
}
