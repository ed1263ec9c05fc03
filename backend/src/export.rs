//! A conversation as a Markdown document (`GET /api/conversations/{id}/export.md`).

use domain::{BlockType, ConversationView, Message, Role};

use crate::error::BackendError;
use crate::state::Backend;

impl Backend {
    /// The conversation as a Markdown document: `(file name, body)`.
    pub async fn export_markdown(&self, id: &str) -> Result<(String, String), BackendError> {
        let view = self.view(id, None).await?;
        Ok((file_name(&view.title), markdown(&view)))
    }
}

/// The whole conversation: its title, then `## You` / `## Assistant` per message, thinking in a
/// `<details>` block, tool calls and results as fenced JSON, errors and interruptions marked.
pub fn markdown(view: &ConversationView) -> String {
    let mut out = String::new();
    let title = if view.title.trim().is_empty() { "Untitled conversation" } else { view.title.trim() };
    out.push_str(&format!("# {}\n\n", one_line(title)));
    out.push_str(&format!("_{} · {} · started {}_\n", view.provider, view.model, view.created_at));
    for message in &view.messages {
        write_message(&mut out, message);
    }
    out
}

fn write_message(out: &mut String, message: &Message) {
    let who = match message.role {
        Role::User => "You",
        Role::Assistant => "Assistant",
    };
    out.push_str(&format!("\n## {who}\n\n"));
    for block in &message.blocks {
        let text = block.text.as_deref().unwrap_or("");
        match block.kind {
            BlockType::Text => {
                out.push_str(text.trim_end());
                out.push_str("\n\n");
            }
            BlockType::Thinking => {
                out.push_str("<details><summary>Thinking</summary>\n\n");
                out.push_str(text.trim_end());
                out.push_str("\n\n</details>\n\n");
            }
            BlockType::ToolUse => {
                let name = block.name.as_deref().unwrap_or("tool");
                let input =
                    block.input.as_ref().map(|i| serde_json::to_string_pretty(i).unwrap_or_default()).unwrap_or_else(|| text.to_string());
                out.push_str(&format!("**Tool: {}**\n\n", one_line(name)));
                out.push_str(&fenced("json", &input));
            }
            BlockType::ToolResult => {
                let label = if block.is_error == Some(true) { "Tool error" } else { "Tool result" };
                out.push_str(&format!("**{label}**\n\n"));
                let body = match (&block.input, block.text.as_deref()) {
                    (_, Some(text)) if !text.is_empty() => text.to_string(),
                    (Some(value), _) => serde_json::to_string_pretty(value).unwrap_or_default(),
                    _ => String::new(),
                };
                out.push_str(&fenced("json", &body));
            }
            BlockType::Error => out.push_str(&format!("> **Error:** {}\n\n", one_line(text))),
        }
    }
    if message.stop_reason.as_deref() == Some(domain::ABORTED) {
        out.push_str("> _Interrupted_\n\n");
    }
}

/// A fenced block whose fence is longer than any backtick run inside.
fn fenced(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{}\n{fence}\n\n", body.trim_end())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A file name for the export: the title's letters and digits joined by `-`, at most 60 characters.
pub fn file_name(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    format!("{}.md", if slug.is_empty() { "conversation" } else { slug })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_slugs() {
        assert_eq!(file_name("Hello, World: \"quotes\"/..\\"), "hello-world-quotes.md");
        assert_eq!(file_name("   "), "conversation.md");
    }

    #[test]
    fn fences_outgrow_backticks_inside() {
        assert!(fenced("json", "```x```").starts_with("````json"));
    }
}
