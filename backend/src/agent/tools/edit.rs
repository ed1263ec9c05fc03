//! `edit`: exact-string replacements in one file, applied in order, all or nothing; a missing or
//! ambiguous string fails the whole call and leaves the file as it was.

use std::os::unix::fs::PermissionsExt;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{input, write, Workspace};

pub const DESCRIPTION: &str = "Edit a text file in the workspace by replacing exact strings. Give `old_string` and \
`new_string` for one change, or `edits`, a list of them, for several changes to the same file, applied in order. \
Each `old_string` must occur exactly once in the file (include enough surrounding lines to make it unique), unless \
`replace_all` is true. If any edit fails, none is applied. Read the file first: whitespace and indentation must \
match exactly. Paths are relative to the workspace root.";

pub fn schema() -> Value {
    let change = json!({
        "old_string": {"type": "string", "description": "The exact text to replace."},
        "new_string": {"type": "string", "description": "The text to put in its place."},
        "replace_all": {"type": "boolean", "description": "Replace every occurrence, not just a unique one."}
    });
    let mut properties = json!({
        "path": {"type": "string", "description": "The file, relative to the workspace root."},
        "edits": {
            "type": "array",
            "minItems": 1,
            "description": "Several changes, applied in order.",
            "items": {"type": "object", "properties": change.clone(), "required": ["old_string", "new_string"], "additionalProperties": false}
        }
    });
    if let (Some(properties), Some(change)) = (properties.as_object_mut(), change.as_object()) {
        properties.extend(change.clone());
    }
    json!({"type": "object", "properties": properties, "required": ["path"], "additionalProperties": false})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    old_string: String,
    new_string: String,
    #[serde(default)]
    replace_all: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    path: String,
    edits: Option<Vec<Change>>,
    old_string: Option<String>,
    new_string: Option<String>,
    #[serde(default)]
    replace_all: bool,
}

impl Input {
    fn changes(self) -> Result<(String, Vec<Change>), String> {
        match (self.edits, self.old_string, self.new_string) {
            (Some(edits), None, None) if !edits.is_empty() => Ok((self.path, edits)),
            (None, Some(old_string), Some(new_string)) => {
                Ok((self.path, vec![Change { old_string, new_string, replace_all: self.replace_all }]))
            }
            _ => Err("invalid input for edit: give either `old_string` and `new_string`, or a non-empty `edits` list".to_string()),
        }
    }
}

pub fn run(value: &Value, workspace: &Workspace) -> Result<String, String> {
    let (path, changes) = input::parse::<Input>("edit", value)?.changes()?;
    let (file, meta, bytes) = input::existing_file(workspace, &path, "edit")?;
    let mut text = String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text; edit changes only text"))?;
    let mut replaced = 0;
    for (index, change) in changes.iter().enumerate() {
        let which = if changes.len() > 1 { format!("edit {}: ", index + 1) } else { String::new() };
        if change.old_string.is_empty() {
            return Err(format!("{which}old_string is empty; to create or replace a whole file use the write tool"));
        }
        if change.old_string == change.new_string {
            return Err(format!("{which}old_string and new_string are the same"));
        }
        let count = text.matches(&change.old_string).count();
        if count == 0 {
            return Err(format!(
                "{which}old_string was not found in {path} (nothing was changed); read the file and copy the text exactly"
            ));
        }
        if count > 1 && !change.replace_all {
            return Err(format!(
                "{which}old_string occurs {count} times in {path} (nothing was changed); include more surrounding text to make it unique, or set replace_all"
            ));
        }
        text = if change.replace_all {
            text.replace(&change.old_string, &change.new_string)
        } else {
            text.replacen(&change.old_string, &change.new_string, 1)
        };
        replaced += if change.replace_all { count } else { 1 };
    }
    write::place(workspace, &file, text.as_bytes(), meta.permissions().mode() & 0o7777, &path)?;
    let edits = if changes.len() == 1 { "1 edit".to_string() } else { format!("{} edits", changes.len()) };
    Ok(format!("edited {path}: {edits}, {replaced} replacement{}", if replaced == 1 { "" } else { "s" }))
}
