use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use domain::AgentTool;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::guard::Root;

struct Fixture {
    dir: tempfile::TempDir,
    outside: tempfile::TempDir,
    workspace: Workspace,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "outside the workspace\n").unwrap();
    let home = outside.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let workspace = Workspace::new(Root::open(dir.path()).unwrap(), home);
    Fixture { dir, outside, workspace }
}

impl Fixture {
    fn put(&self, path: &str, text: &str) {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn text(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path)).unwrap()
    }

    async fn call(&self, tool: AgentTool, input: Value) -> ToolOutput {
        run(tool, &input, &self.workspace, &CancellationToken::new()).await
    }

    async fn ok(&self, tool: AgentTool, input: Value) -> String {
        let output = self.call(tool, input.clone()).await;
        assert!(!output.is_error, "{tool} {input}: {}", output.text);
        output.text
    }

    async fn error(&self, tool: AgentTool, input: Value) -> String {
        let output = self.call(tool, input.clone()).await;
        assert!(output.is_error, "{tool} {input} should fail: {}", output.text);
        output.text
    }
}

/// Whether `pid` still runs a second after the call (a killed process whose parent is gone may stay
/// a zombie until init reaps it, which counts as dead).
fn alive(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        let running = state.as_deref().and_then(|stat| stat.rsplit(") ").next()).is_some_and(|rest| !rest.starts_with('Z'));
        if !running || Instant::now() > deadline {
            return running;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_tool_is_offered_once_with_an_object_schema_whose_required_fields_it_describes() {
    let specs = specs();
    assert_eq!(specs.iter().map(|spec| spec.tool).collect::<Vec<_>>(), AgentTool::ALL.to_vec());
    for spec in specs {
        assert_eq!(spec.input_schema["type"], "object", "{}", spec.tool);
        assert!(spec.description.len() > 60, "{}", spec.tool);
        for field in spec.input_schema["required"].as_array().into_iter().flatten() {
            assert!(spec.input_schema["properties"][field.as_str().unwrap()].is_object(), "{}: {field}", spec.tool);
        }
    }
}

#[tokio::test]
async fn read_numbers_the_lines_and_shows_the_window_asked_for() {
    let f = fixture();
    f.put("src/a.txt", "one\ntwo\nthree\nfour\n");
    let all = f.ok(AgentTool::Read, json!({"path": "src/a.txt"})).await;
    assert_eq!(all, "     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n");
    let window = f.ok(AgentTool::Read, json!({"path": "src/a.txt", "offset": 2, "limit": 2})).await;
    assert!(window.starts_with("     2\ttwo\n     3\tthree\n"), "{window}");
    assert!(window.contains("[lines 2-3 of 4"), "{window}");
    let absolute = f.workspace.root().path().join("src/a.txt");
    assert_eq!(f.ok(AgentTool::Read, json!({"path": absolute.to_str().unwrap()})).await, all);
    assert!(f.error(AgentTool::Read, json!({"path": "src/a.txt", "offset": 9})).await.contains("past its end"));
}

#[tokio::test]
async fn read_caps_a_huge_file_and_cuts_long_lines() {
    let f = fixture();
    let long = "x".repeat(5000);
    f.put("long.txt", &format!("{long}\n"));
    let text = f.ok(AgentTool::Read, json!({"path": "long.txt"})).await;
    assert!(text.contains("[line cut]") && text.len() < 2100, "{}", text.len());
    f.put("many.txt", &"a line of some length\n".repeat(100_000));
    let text = f.ok(AgentTool::Read, json!({"path": "many.txt"})).await;
    assert!(text.len() <= OUTPUT_CAP_BYTES + 300, "{}", text.len());
    assert!(text.contains("of 100000; use offset"), "{}", &text[text.len() - 100..]);
}

#[tokio::test]
async fn read_refuses_binaries_folders_credentials_and_anything_outside_the_workspace() {
    let f = fixture();
    std::fs::write(f.dir.path().join("image.png"), [0x89, b'P', b'N', b'G', 0, 0, 1]).unwrap();
    f.put(".env", "DATABASE_URL=postgres://secret\n");
    f.put("sub/x.txt", "x");
    std::os::unix::fs::symlink(f.outside.path().join("secret.txt"), f.dir.path().join("link.txt")).unwrap();
    assert!(f.error(AgentTool::Read, json!({"path": "image.png"})).await.contains("binary"));
    assert!(f.error(AgentTool::Read, json!({"path": "sub"})).await.contains("folder"));
    assert!(f.error(AgentTool::Read, json!({"path": ".env"})).await.contains("credentials"));
    let outside = f.outside.path().join("secret.txt");
    for path in ["../secret.txt", "link.txt", outside.to_str().unwrap(), "/etc/passwd", "sub/../../x"] {
        let text = f.error(AgentTool::Read, json!({"path": path})).await;
        assert!(text.contains("refused"), "{path}: {text}");
        assert!(!text.contains("outside the workspace\n"), "{path}: {text}");
    }
    assert!(f.error(AgentTool::Read, json!({"path": "nope.txt"})).await.contains("no such file"));
}

#[tokio::test]
async fn write_creates_folders_replaces_keeping_the_mode_and_refuses_links_out() {
    let f = fixture();
    assert!(f.ok(AgentTool::Write, json!({"path": "a/b/new.sh", "content": "echo one\n"})).await.starts_with("created a/b/new.sh"));
    assert_eq!(f.text("a/b/new.sh"), "echo one\n");
    std::fs::set_permissions(f.dir.path().join("a/b/new.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(f.ok(AgentTool::Write, json!({"path": "a/b/new.sh", "content": "echo two\n"})).await.starts_with("replaced"));
    assert_eq!(f.text("a/b/new.sh"), "echo two\n");
    assert_eq!(std::fs::metadata(f.dir.path().join("a/b/new.sh")).unwrap().permissions().mode() & 0o777, 0o755);
    std::os::unix::fs::symlink(f.outside.path(), f.dir.path().join("out")).unwrap();
    std::os::unix::fs::symlink(f.outside.path().join("secret.txt"), f.dir.path().join("out.txt")).unwrap();
    for path in ["out/x.txt", "out.txt", "../x.txt", ".env", "a"] {
        f.error(AgentTool::Write, json!({"path": path, "content": "pwned"})).await;
    }
    assert_eq!(std::fs::read_to_string(f.outside.path().join("secret.txt")).unwrap(), "outside the workspace\n");
    assert!(!f.outside.path().join("x.txt").exists());
}

#[tokio::test]
async fn edit_applies_several_edits_in_order_all_or_nothing() {
    let f = fixture();
    f.put("lib.py", "def add(a, b):\n    return a - b\n\ndef name():\n    return 'old'\n");
    let edits = json!({"path": "lib.py", "edits": [
        {"old_string": "return a - b", "new_string": "return a + b"},
        {"old_string": "'old'", "new_string": "'new'"}
    ]});
    assert_eq!(f.ok(AgentTool::Edit, edits).await, "edited lib.py: 2 edits, 2 replacements");
    assert_eq!(f.text("lib.py"), "def add(a, b):\n    return a + b\n\ndef name():\n    return 'new'\n");
    let half = json!({"path": "lib.py", "edits": [
        {"old_string": "'new'", "new_string": "'newer'"},
        {"old_string": "not in the file", "new_string": "x"}
    ]});
    let text = f.error(AgentTool::Edit, half).await;
    assert!(text.starts_with("edit 2: old_string was not found"), "{text}");
    assert!(f.text("lib.py").contains("'new'"), "the first edit was not applied alone");
}

#[tokio::test]
async fn edit_refuses_an_ambiguous_string_unless_asked_to_replace_all() {
    let f = fixture();
    f.put("a.txt", "x = 1\nx = 1\n");
    let text = f.error(AgentTool::Edit, json!({"path": "a.txt", "old_string": "x = 1", "new_string": "x = 2"})).await;
    assert!(text.contains("occurs 2 times"), "{text}");
    assert_eq!(f.text("a.txt"), "x = 1\nx = 1\n");
    let all = json!({"path": "a.txt", "old_string": "x = 1", "new_string": "x = 2", "replace_all": true});
    assert_eq!(f.ok(AgentTool::Edit, all).await, "edited a.txt: 1 edit, 2 replacements");
    assert_eq!(f.text("a.txt"), "x = 2\nx = 2\n");
    f.error(AgentTool::Edit, json!({"path": "a.txt", "old_string": "", "new_string": "y"})).await;
    f.error(AgentTool::Edit, json!({"path": "a.txt", "old_string": "x", "new_string": "x"})).await;
    f.error(AgentTool::Edit, json!({"path": "a.txt", "edits": []})).await;
}

#[tokio::test]
async fn list_shows_folders_first_and_leaves_out_ignored_files_and_git() {
    let f = fixture();
    f.put(".gitignore", "target/\n*.log\n");
    f.put("target/debug/bin", "x");
    f.put("run.log", "x");
    f.put(".git/HEAD", "ref: refs/heads/main\n");
    f.put("src/main.rs", "fn main() {}\n");
    f.put("README.md", "hi\n");
    let text = f.ok(AgentTool::List, json!({})).await;
    assert_eq!(text, "src/\n.gitignore (14 bytes)\nREADME.md (3 bytes)");
    assert_eq!(f.ok(AgentTool::List, json!({"path": "src"})).await, "main.rs (13 bytes)");
}

#[tokio::test]
async fn glob_matches_names_at_any_depth_or_paths_and_never_follows_a_link_out() {
    let f = fixture();
    f.put(".gitignore", "target/\n");
    f.put("src/a.rs", "");
    f.put("src/deep/b.rs", "");
    f.put("target/c.rs", "");
    f.put("notes.md", "");
    std::fs::write(f.outside.path().join("d.rs"), "").unwrap();
    std::os::unix::fs::symlink(f.outside.path(), f.dir.path().join("out")).unwrap();
    assert_eq!(f.ok(AgentTool::Glob, json!({"pattern": "*.rs"})).await, "src/a.rs\nsrc/deep/b.rs");
    assert_eq!(f.ok(AgentTool::Glob, json!({"pattern": "deep/*.rs", "path": "src"})).await, "src/deep/b.rs");
    assert_eq!(f.ok(AgentTool::Glob, json!({"pattern": "*.txt"})).await, "no files match *.txt");
    assert!(f.error(AgentTool::Glob, json!({"pattern": "a{b"})).await.contains("invalid glob"));
    assert!(f.error(AgentTool::Glob, json!({"pattern": "*", "path": "out"})).await.contains("refused"));
}

#[tokio::test]
async fn grep_reports_path_line_and_text_and_skips_ignored_binary_and_credentials_files() {
    let f = fixture();
    f.put(".gitignore", "build/\n");
    f.put("src/a.rs", "fn main() {\n    todo!(\"TODO one\")\n}\n");
    f.put("build/out.rs", "TODO ignored\n");
    f.put(".env", "TODO=secret\n");
    std::fs::write(f.dir.path().join("blob.bin"), b"TODO\0binary").unwrap();
    f.put("docs/b.md", "a todo in lower case\n");
    assert_eq!(f.ok(AgentTool::Grep, json!({"pattern": "TODO"})).await, "src/a.rs:2:    todo!(\"TODO one\")");
    let text = f.ok(AgentTool::Grep, json!({"pattern": "todo", "case_insensitive": true, "glob": "*.md"})).await;
    assert_eq!(text, "docs/b.md:1:a todo in lower case");
    assert_eq!(f.ok(AgentTool::Grep, json!({"pattern": "absent"})).await, "no matches for absent");
    assert!(f.error(AgentTool::Grep, json!({"pattern": "("})).await.contains("invalid regular expression"));
}

#[tokio::test]
async fn malformed_input_gets_an_error_saying_what_is_wrong() {
    let f = fixture();
    assert!(f.error(AgentTool::Read, json!("a.txt")).await.contains("takes a JSON object"));
    assert!(f.error(AgentTool::Read, json!({})).await.contains("missing field `path`"));
    assert!(f.error(AgentTool::Read, json!({"path": 3})).await.contains("invalid type"));
    assert!(f.error(AgentTool::Write, json!({"path": "a", "content": "x", "mode": 7})).await.contains("unknown field `mode`"));
    assert!(f.error(AgentTool::Bash, json!({"command": "  "})).await.contains("empty"));
}

#[tokio::test]
async fn bash_runs_in_the_workspace_with_the_minimal_environment_and_reports_the_exit_code() {
    let f = fixture();
    f.put("probe.txt", "here\n");
    let text = f.ok(AgentTool::Bash, json!({"command": "cat probe.txt; pwd"})).await;
    assert_eq!(text, format!("here\n{}\n[exit code 0]", f.workspace.root().path().display()));
    let env = f.ok(AgentTool::Bash, json!({"command": "env | cut -d= -f1 | sort"})).await;
    let names: Vec<&str> = env.lines().filter(|line| !line.starts_with('[')).collect();
    for name in &names {
        assert!(["HOME", "LANG", "OLDPWD", "PATH", "PWD", "SHLVL", "_"].contains(name), "{name} leaked into the environment");
    }
    let failed = f.error(AgentTool::Bash, json!({"command": "echo out; echo err >&2; exit 3"})).await;
    assert_eq!(failed, "out\n[stderr]\nerr\n[exit code 3]");
}

#[tokio::test]
async fn bash_kills_what_the_command_left_running_when_it_ends() {
    let f = fixture();
    let started = Instant::now();
    let text = f.ok(AgentTool::Bash, json!({"command": "sleep 30 & echo $!"})).await;
    assert!(started.elapsed() < Duration::from_secs(5), "waited for the background job");
    let pid: i32 = text.lines().next().unwrap().parse().unwrap();
    assert!(!alive(pid), "the background sleep outlived the call");
}

#[tokio::test]
async fn bash_times_out_and_kills_the_whole_group() {
    let f = fixture();
    let started = Instant::now();
    let text = f.error(AgentTool::Bash, json!({"command": "sleep 30 & echo $! > pid; sleep 30", "timeout_ms": 300})).await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(text.contains("timed out after 300 ms"), "{text}");
    let pid: i32 = f.text("pid").trim().parse().unwrap();
    assert!(!alive(pid), "the group outlived the timeout");
}

#[tokio::test]
async fn stopping_the_turn_kills_a_running_command_within_a_second() {
    let f = fixture();
    let stop = CancellationToken::new();
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.cancel();
    });
    let started = Instant::now();
    let output = run(AgentTool::Bash, &json!({"command": "echo started; sleep 60"}), &f.workspace, &stop).await;
    assert!(started.elapsed() < Duration::from_secs(1) + Duration::from_millis(200), "{:?}", started.elapsed());
    assert!(output.is_error && output.text.starts_with("started\n") && output.text.contains("stopped by the user"), "{}", output.text);
}

#[tokio::test]
async fn bash_cuts_a_huge_output_and_says_how_much_it_left_out() {
    let f = fixture();
    let text = f.ok(AgentTool::Bash, json!({"command": "head -c 100000 /dev/zero | tr '\\0' a"})).await;
    assert!(text.len() < 16 * 1024, "{}", text.len());
    assert!(text.contains(&format!("[{} more bytes not shown]", 100_000 - 15 * 1024)), "{}", &text[text.len() - 80..]);
}
