//! `list`, `glob` and `grep`: the workspace walked with the ripgrep family of crates (`ignore`,
//! `globset`, `grep-searcher`), gitignore-aware, never following a link and never entering `.git`.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use grep_regex::RegexMatcherBuilder;
use grep_searcher::{sinks, BinaryDetection, SearcherBuilder};
use ignore::{DirEntry, WalkBuilder};
use serde::Deserialize;
use serde_json::{json, Value};

use super::limits::{cap, MAX_ENTRIES, OUTPUT_CAP_BYTES};
use super::{input, Workspace};
use crate::workspace_files::is_credentials_file;

pub const LIST_DESCRIPTION: &str = "List a folder of the workspace: its folders (ending in /) first, then its files \
with their sizes. Files the workspace's .gitignore ignores are left out. `path` defaults to the workspace root.";
pub const GLOB_DESCRIPTION: &str = "Find files by glob pattern, such as `**/*.rs` or `src/**/test_*.py`. A pattern \
without a / matches file names at any depth (`*.toml`). Ignored files (.gitignore) are left out; paths come sorted, \
relative to the workspace root.";
pub const GREP_DESCRIPTION: &str = "Search file contents with a regular expression (Rust regex syntax, like ripgrep). \
Answers `path:line:text` for each matching line. Limit the search with `path` (a folder or file) and `glob` (a file \
pattern); set `case_insensitive` to ignore case. Ignored, binary and credentials files are skipped.";

fn path_property() -> Value {
    json!({"type": "string", "description": "A folder (or, for grep, a file) relative to the workspace root; the root by default."})
}

pub fn list_schema() -> Value {
    json!({"type": "object", "properties": {"path": path_property()}, "additionalProperties": false})
}

pub fn glob_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"pattern": {"type": "string", "description": "The glob pattern."}, "path": path_property()},
        "required": ["pattern"],
        "additionalProperties": false
    })
}

pub fn grep_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "The regular expression."},
            "path": path_property(),
            "glob": {"type": "string", "description": "Only files matching this glob pattern."},
            "case_insensitive": {"type": "boolean"}
        },
        "required": ["pattern"],
        "additionalProperties": false
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListInput {
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GlobInput {
    pattern: String,
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrepInput {
    pattern: String,
    path: Option<String>,
    glob: Option<String>,
    #[serde(default)]
    case_insensitive: bool,
}

pub fn list(value: &Value, workspace: &Workspace) -> Result<String, String> {
    let ListInput { path } = input::parse("list", value)?;
    let named = path.unwrap_or_else(|| ".".to_string());
    let folder = input::existing(workspace, &named)?;
    if !folder.is_dir() {
        return Err(format!("{named} is a file; use the read tool to see it"));
    }
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for entry in walk(&folder, Some(1)).filter(|entry| entry.depth() == 1) {
        let name = entry.file_name().to_string_lossy().into_owned();
        match entry.file_type() {
            Some(kind) if kind.is_dir() => folders.push(format!("{name}/")),
            Some(kind) if kind.is_symlink() => files.push(format!("{name} (link)")),
            _ => files.push(format!("{name} ({} bytes)", entry.metadata().map(|meta| meta.len()).unwrap_or(0))),
        }
    }
    let total = folders.len() + files.len();
    if total == 0 {
        return Ok(format!("{named} is empty"));
    }
    let mut lines: Vec<String> = folders.into_iter().chain(files).take(MAX_ENTRIES).collect();
    if total > MAX_ENTRIES {
        lines.push(format!("[{MAX_ENTRIES} of {total} entries shown]"));
    }
    Ok(cap(lines.join("\n"), OUTPUT_CAP_BYTES))
}

pub fn glob(value: &Value, workspace: &Workspace) -> Result<String, String> {
    let GlobInput { pattern, path } = input::parse("glob", value)?;
    let matcher = glob_matcher(&pattern)?;
    let base = input::existing(workspace, path.as_deref().unwrap_or("."))?;
    let mut found = Vec::new();
    let mut total = 0;
    for entry in walk(&base, None).filter(|entry| entry.depth() > 0) {
        if entry.file_type().is_some_and(|kind| kind.is_dir()) {
            continue;
        }
        if matches(&matcher, &pattern, entry.path(), &base) {
            total += 1;
            if found.len() < MAX_ENTRIES {
                found.push(workspace.relative(entry.path()));
            }
        }
    }
    if found.is_empty() {
        return Ok(format!("no files match {pattern}"));
    }
    found.sort();
    if total > MAX_ENTRIES {
        found.push(format!("[{MAX_ENTRIES} of {total} files shown; narrow the pattern]"));
    }
    Ok(cap(found.join("\n"), OUTPUT_CAP_BYTES))
}

pub fn grep(value: &Value, workspace: &Workspace) -> Result<String, String> {
    let GrepInput { pattern, path, glob, case_insensitive } = input::parse("grep", value)?;
    let matcher = RegexMatcherBuilder::new()
        .case_insensitive(case_insensitive)
        .build(&pattern)
        .map_err(|error| format!("invalid regular expression: {error}"))?;
    let only = glob.as_deref().map(glob_matcher).transpose()?;
    let base = input::existing(workspace, path.as_deref().unwrap_or("."))?;
    let mut searcher = SearcherBuilder::new().binary_detection(BinaryDetection::quit(0)).line_number(true).build();
    let mut lines = Vec::new();
    let mut bytes = 0;
    let mut full = false;
    for entry in walk(&base, None) {
        if full {
            break;
        }
        if !entry.file_type().is_some_and(|kind| kind.is_file()) || is_credentials_file(&entry.file_name().to_string_lossy()) {
            continue;
        }
        if let (Some(only), Some(glob)) = (&only, &glob) {
            if !matches(only, glob, entry.path(), &base) {
                continue;
            }
        }
        let shown = workspace.relative(entry.path());
        let sink = sinks::Lossy(|number, line| {
            let line: String = line.trim_end_matches(['\n', '\r']).chars().take(500).collect();
            let row = format!("{shown}:{number}:{line}");
            bytes += row.len() + 1;
            lines.push(row);
            full = lines.len() >= MAX_ENTRIES || bytes >= OUTPUT_CAP_BYTES;
            Ok(!full)
        });
        // A file that cannot be read (gone meanwhile, no permission) is skipped, like ripgrep does.
        let _ = searcher.search_path(&matcher, entry.path(), sink);
    }
    if lines.is_empty() {
        return Ok(format!("no matches for {pattern}"));
    }
    if full {
        lines.push("[results cut; narrow the search with path or glob]".to_string());
    }
    Ok(cap(lines.join("\n"), OUTPUT_CAP_BYTES + 100))
}

/// Everything under `base` that is not ignored, in name order, without following links or entering `.git`.
fn walk(base: &Path, depth: Option<usize>) -> impl Iterator<Item = DirEntry> {
    WalkBuilder::new(base)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .max_depth(depth)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| entry.file_name() != ".git")
        .build()
        .filter_map(Result::ok)
}

fn glob_matcher(pattern: &str) -> Result<GlobMatcher, String> {
    let glob = GlobBuilder::new(pattern).literal_separator(true).build().map_err(|error| format!("invalid glob pattern: {error}"))?;
    Ok(glob.compile_matcher())
}

/// A pattern with a `/` matches the path below `base`; one without matches the file's name.
fn matches(matcher: &GlobMatcher, pattern: &str, path: &Path, base: &Path) -> bool {
    if pattern.contains('/') {
        let relative: PathBuf = path.strip_prefix(base).map(Path::to_path_buf).unwrap_or_default();
        matcher.is_match(relative)
    } else {
        path.file_name().is_some_and(|name| matcher.is_match(name))
    }
}
