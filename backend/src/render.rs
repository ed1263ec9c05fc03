//! Read-side rendering: Markdown to sanitized HTML (pulldown-cmark, ammonia), code highlighted with
//! syntect CSS classes, workspace paths in inline code marked for the file preview.
//!
//! Rendering happens when a view or a page of messages is served, never during the fold or in the
//! stored projections: the HTML can change with this module without a replay.

use std::sync::OnceLock;

use domain::{BlockType, ConversationView, Message};
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

/// The light theme `highlight_css` is generated from.
const THEME: &str = "InspiredGitHub";
/// Files (and code blocks) larger than this are shown escaped but not highlighted.
pub const HIGHLIGHT_MAX_BYTES: usize = 256 * 1024;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static CLEAN: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEAN.get_or_init(|| {
        let mut builder = ammonia::Builder::default();
        builder
            .add_tags(["input"])
            .add_tag_attributes("code", ["class", "data-path"])
            .add_tag_attributes("span", ["class"])
            .add_tag_attributes("pre", ["class"])
            .add_tag_attributes("input", ["type", "checked", "disabled"])
            .set_tag_attribute_value("input", "disabled", "")
            .link_rel(Some("noopener noreferrer"));
        builder
    })
}

/// Markdown (tables, strikethrough, task lists) as sanitized HTML: no scripts, event handlers,
/// styles or `javascript:` links; fenced code highlighted with CSS classes; inline code that looks
/// like a relative workspace path becomes `<code class="path" data-path="…">`.
pub fn markdown(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut code: Option<(String, String)> = None;
    for event in Parser::new_ext(text, options) {
        match (&mut code, event) {
            (None, Event::Start(Tag::CodeBlock(kind))) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or("").to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            (Some((_, body)), Event::Text(chunk)) => body.push_str(&chunk),
            (Some(_), Event::End(TagEnd::CodeBlock)) => {
                let (lang, body) = code.take().unwrap_or_default();
                events.push(Event::Html(CowStr::from(code_block(&lang, &body))));
            }
            (Some(_), _) => {}
            (None, Event::Code(inline)) if is_workspace_path(&inline) => {
                let escaped = escape(&inline);
                events.push(Event::Html(CowStr::from(format!("<code class=\"path\" data-path=\"{escaped}\">{escaped}</code>"))));
            }
            (None, event) => events.push(event),
        }
    }
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    sanitizer().clean(&html).to_string()
}

/// A fenced code block, highlighted when its language is known.
fn code_block(lang: &str, body: &str) -> String {
    let syntax = (!lang.is_empty()).then(|| syntaxes().find_syntax_by_token(lang)).flatten();
    let class = if lang.is_empty() { String::new() } else { format!(" class=\"language-{}\"", escape(lang)) };
    let inner = match syntax {
        Some(syntax) if body.len() <= HIGHLIGHT_MAX_BYTES => highlight_with(syntax, body).unwrap_or_else(|| escape(body)),
        _ => escape(body),
    };
    format!("<pre class=\"code\"><code{class}>{inner}</code></pre>")
}

fn highlight_with(syntax: &SyntaxReference, text: &str) -> Option<String> {
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes(), ClassStyle::Spaced);
    for line in LinesWithEndings::from(text) {
        generator.parse_html_for_line_which_includes_newline(line).ok()?;
    }
    Some(generator.finalize())
}

/// A file's text highlighted by its name's extension: `(language, html)`. Unknown kinds, and files
/// over `HIGHLIGHT_MAX_BYTES`, come back escaped with no language.
pub fn highlight_file(name: &str, text: &str) -> (Option<String>, String) {
    let set = syntaxes();
    let file_name = name.rsplit('/').next().unwrap_or(name);
    let extension = file_name.rsplit_once('.').map(|(_, ext)| ext).unwrap_or(file_name);
    let syntax = set.find_syntax_by_extension(extension).or_else(|| set.find_syntax_by_extension(file_name));
    match syntax {
        Some(syntax) if syntax.name != "Plain Text" => {
            let html = if text.len() <= HIGHLIGHT_MAX_BYTES { highlight_with(syntax, text) } else { None };
            (Some(syntax.name.clone()), html.unwrap_or_else(|| escape(text)))
        }
        _ => (None, escape(text)),
    }
}

/// The stylesheet for the highlighting classes (a light theme), served at `/highlight.css`.
pub fn highlight_css() -> String {
    let themes = syntect::highlighting::ThemeSet::load_defaults();
    themes
        .themes
        .get(THEME)
        .and_then(|theme| syntect::html::css_for_theme_with_class_style(theme, ClassStyle::Spaced).ok())
        .unwrap_or_default()
}

/// True for inline code such as `src/main.rs` or `README.md`: relative, no spaces, no `..`, with a
/// `/` or an extension.
pub fn is_workspace_path(code: &str) -> bool {
    let plain = code.len() <= 300
        && !code.is_empty()
        && !code.starts_with(['/', '~', '-', '.'])
        && !code.contains("..")
        && !code.contains("://")
        && code.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | '@'));
    if !plain {
        return false;
    }
    let last = code.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let has_extension = last
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty() && ext.len() <= 10 && ext.chars().any(|c| c.is_ascii_alphabetic()));
    has_extension || code.contains('/')
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills `html` on the text blocks of these messages (user prompts and assistant replies).
pub fn render_messages(messages: &mut [Message]) {
    for message in messages {
        for block in message.blocks.iter_mut().filter(|b| b.kind == BlockType::Text) {
            if let Some(text) = &block.text {
                block.html = Some(markdown(text));
            }
        }
    }
}

/// Fills `html` on every text block of a view.
pub fn render_view(view: &mut ConversationView) {
    render_messages(&mut view.messages);
}

/// True when fenced code in this language (`rust`, `py`, …) is highlighted.
pub fn knows_language(token: &str) -> bool {
    syntaxes().find_syntax_by_token(token).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_event_handlers_and_javascript_links_are_removed() {
        let html = markdown(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) <a href=\"javascript:alert(2)\" style=\"color:red\">x</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("style="), "{html}");
    }

    #[test]
    fn links_get_rel_noopener() {
        let html = markdown("[site](https://example.com)");
        assert!(html.contains("rel=\"noopener noreferrer\""), "{html}");
    }

    #[test]
    fn fenced_code_is_highlighted_with_classes() {
        let html = markdown("```rust\nfn main() { let x = 1; }\n```");
        assert!(html.contains("<pre class=\"code\"><code class=\"language-rust\">"), "{html}");
        assert!(html.contains("<span class=\""), "{html}");
        assert!(knows_language("rust"));
    }

    #[test]
    fn workspace_paths_in_inline_code_are_marked() {
        let html = markdown("Edit `src/main.rs` and `README.md`, not `cargo build` or `../etc/passwd`.");
        assert!(html.contains("<code class=\"path\" data-path=\"src/main.rs\">src/main.rs</code>"), "{html}");
        assert!(html.contains("data-path=\"README.md\""), "{html}");
        assert!(!html.contains("data-path=\"cargo build\""), "{html}");
        assert!(!html.contains("data-path=\"../etc/passwd\""), "{html}");
    }

    #[test]
    fn paths_are_recognised_by_a_slash_or_an_extension() {
        for yes in ["src/main.rs", "README.md", "app/src", "Cargo.toml", "a/b/c.test.ts"] {
            assert!(is_workspace_path(yes), "{yes}");
        }
        for no in ["cargo build", "../x.rs", "/etc/passwd", "x", "1.5", "https://example.com/a.js", "~/.bashrc", ".env"] {
            assert!(!is_workspace_path(no), "{no}");
        }
    }

    #[test]
    fn tables_strikethrough_and_task_lists_render() {
        let html = markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n\n- [x] done\n- [ ] todo");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(html.contains("type=\"checkbox\""), "{html}");
    }

    #[test]
    fn files_are_highlighted_by_extension_and_unknown_ones_escaped() {
        let (language, html) = highlight_file("src/main.rs", "fn main() {}\n");
        assert_eq!(language.as_deref(), Some("Rust"));
        assert!(html.contains("<span class="), "{html}");
        let (language, html) = highlight_file("notes.unknownext", "<b>hi</b>");
        assert_eq!(language, None);
        assert_eq!(html, "&lt;b&gt;hi&lt;/b&gt;");
    }

    #[test]
    fn the_highlight_stylesheet_has_rules() {
        assert!(highlight_css().contains('{'));
    }
}
