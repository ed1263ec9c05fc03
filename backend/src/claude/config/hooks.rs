//! The `hooks` object of a scope's `settings.json`: read it, or replace it keeping the other keys.

use serde_json::{Map, Value};

use super::files::{read, write};
use super::{ConfigRoots, Scope};
use crate::error::BackendError;

/// The `hooks` object of the scope's `settings.json` (`{}` when none).
#[tracing::instrument(name = "claude_config.hooks", skip(roots))]
pub fn hooks(roots: &ConfigRoots, scope: &Scope) -> Result<Value, BackendError> {
    let settings = read(roots, scope, "settings.json")?;
    if !settings.exists || settings.content.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let parsed = parse_settings(&settings.content)?;
    Ok(parsed.get("hooks").cloned().unwrap_or_else(|| Value::Object(Map::new())))
}

/// Replaces the `hooks` object of `settings.json`, keeping its other keys. Each hook event must
/// map to an array.
#[tracing::instrument(name = "claude_config.set_hooks", skip(roots, hooks))]
pub fn set_hooks(roots: &ConfigRoots, scope: &Scope, hooks: Value) -> Result<Value, BackendError> {
    let Value::Object(events) = &hooks else {
        return Err(BackendError::invalid("`hooks` must be an object mapping hook events to arrays"));
    };
    if let Some((event, _)) = events.iter().find(|(_, value)| !value.is_array()) {
        return Err(BackendError::invalid(format!("`hooks.{event}` must be an array")));
    }
    let current = read(roots, scope, "settings.json")?;
    let mut settings = if current.exists && !current.content.trim().is_empty() { parse_settings(&current.content)? } else { Map::new() };
    settings.insert("hooks".into(), hooks.clone());
    let mut text = serde_json::to_string_pretty(&Value::Object(settings)).expect("JSON always serializes");
    text.push('\n');
    write(roots, scope, "settings.json", &text)?;
    Ok(hooks)
}

pub(super) fn parse_settings(content: &str) -> Result<Map<String, Value>, BackendError> {
    match serde_json::from_str::<Value>(content) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(BackendError::invalid("settings.json must be a JSON object")),
        Err(e) => Err(BackendError::invalid(format!("settings.json is not valid JSON: line {}, column {}: {e}", e.line(), e.column()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_settings_name_the_line_and_column() {
        let Err(BackendError::Invalid(message)) = parse_settings("{\n  \"a\": ,\n}") else { panic!("accepted") };
        assert!(message.contains("line 2, column"), "{message}");
    }
}
