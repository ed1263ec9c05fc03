//! Path traversal against every endpoint that takes a path from the client: file preview, upload,
//! the workspace name of a new conversation and the Claude Code session import. At least 30
//! attempts each (`../`, URL-encoded and double-encoded forms, absolute paths, backslashes,
//! symlinks out of the root, NUL bytes, overlong paths), sent byte for byte over a raw socket so
//! no client library normalises them first. An escape is any answer that carries a marker planted
//! outside the workspace, or any file written outside it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use server::security::SecurityConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::security::spawn_secured;

/// A workspace root with things worth stealing around it.
struct Sandbox {
    base: PathBuf,
    root: PathBuf,
    marker: String,
    claude_home: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let marker = format!("OUTSIDE-SECRET-{}", uuid::Uuid::new_v4().simple());
        let base = std::env::temp_dir().join(format!("pd-traversal-{}", uuid::Uuid::new_v4().simple()));
        let root = base.join("root");
        let project = root.join("proj");
        std::fs::create_dir_all(project.join("src")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        let base = base.canonicalize().unwrap();
        let root = root.canonicalize().unwrap();
        let project = root.join("proj");
        // Outside the root: a .env, credentials, a secret.
        std::fs::write(base.join(".env"), format!("ANTHROPIC_API_KEY={marker}\n")).unwrap();
        std::fs::write(base.join("secret.txt"), &marker).unwrap();
        std::fs::create_dir_all(base.join(".claude")).unwrap();
        std::fs::write(base.join(".claude/.credentials.json"), format!("{{\"token\":\"{marker}\"}}")).unwrap();
        // Inside the root but in another workspace.
        std::fs::write(root.join("other/other-secret.txt"), &marker).unwrap();
        // The workspace itself, with links pointing out.
        std::fs::write(project.join("README.md"), "# hello\n").unwrap();
        std::fs::write(project.join("src/main.rs"), "fn main() {}\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink(&base, project.join("up")).unwrap();
            symlink(base.join(".env"), project.join("env-link")).unwrap();
            symlink("/etc/passwd", project.join("passwd")).unwrap();
            symlink(base.join("not-there-yet"), project.join("dangling")).unwrap();
            symlink("../other", project.join("sibling")).unwrap();
            symlink(&base, root.join("linkws")).unwrap();
        }
        // Claude Code's session files: one legitimate, one outside its projects folder.
        let claude_home = base.join("claude-home");
        std::fs::create_dir_all(claude_home.join(".claude/projects/p")).unwrap();
        let session = |text: &str| format!("{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"{text}\"}}}}\n");
        std::fs::write(claude_home.join(".claude/projects/p/good.jsonl"), session("hello")).unwrap();
        std::fs::write(base.join("outside.jsonl"), session(&marker)).unwrap();
        std::fs::write(claude_home.join(".claude/outside.jsonl"), session(&marker)).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(base.join("outside.jsonl"), claude_home.join(".claude/projects/p/linked.jsonl")).unwrap();
        Sandbox { base, root, marker, claude_home }
    }

    /// Files outside the workspace `proj` that contain `needle`, or exist where they must not.
    fn written_outside(&self, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let project = self.root.join("proj");
        walk(&self.base, &mut |path| {
            if path.starts_with(&project) {
                return;
            }
            if std::fs::read(path).is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle)) {
                found.push(path.to_path_buf());
            }
        });
        for path in ["/tmp/pd-escaped.txt", "/etc/pd-escaped.txt", "/pd-escaped.txt"] {
            if Path::new(path).exists() {
                found.push(path.into());
            }
        }
        if self.base.join("not-there-yet").exists() {
            found.push(self.base.join("not-there-yet"));
        }
        found
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            walk(&entry.path(), visit);
        } else {
            visit(&entry.path());
        }
    }
}

/// One HTTP/1.1 request exactly as given; returns the status and the raw body.
async fn raw(port: u16, method: &str, target: &str, body: &[u8], content_type: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Query values that try to leave the workspace `proj` (already URL-encoded where meant to be).
fn hostile_paths() -> Vec<String> {
    let mut paths: Vec<String> = [
        "../secret.txt",
        "../../secret.txt",
        "..%2fsecret.txt",
        "..%2F..%2Fsecret.txt",
        "%2e%2e%2fsecret.txt",
        "%2e%2e/%2e%2e/secret.txt",
        "%2E%2E%2F%2E%2E%2Fsecret.txt",
        "%252e%252e%252fsecret.txt",
        "%252e%252e%252f%252e%252e%252fsecret.txt",
        "..%5csecret.txt",
        "..%5c..%5csecret.txt",
        "%2e%2e%5c%2e%2e%5csecret.txt",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "////etc/passwd",
        "~/.ssh/id_rsa",
        "C:%5cWindows%5cwin.ini",
        "file:///etc/passwd",
        "src/../../secret.txt",
        "./../secret.txt",
        "src/%2e%2e/%2e%2e/secret.txt",
        "..%c0%afsecret.txt",
        "%c0%ae%c0%ae/secret.txt",
        "..;/secret.txt",
        "../root/other/other-secret.txt",
        "../other/other-secret.txt",
        "up/secret.txt",
        "up/.env",
        "up/.claude/.credentials.json",
        "env-link",
        "passwd",
        "dangling",
        "sibling/other-secret.txt",
        "README.md%00../../secret.txt",
        "README.md%00",
        "%00",
        "..%00/secret.txt",
        "%0a../secret.txt",
        "...%2fsecret.txt",
        ".../secret.txt",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    paths.push("a/".repeat(700) + "secret.txt");
    paths.push("..%2f".repeat(200) + "secret.txt");
    paths.push("x".repeat(300));
    paths.push(format!("{}../secret.txt", "./".repeat(600)));
    paths
}

fn escaped(status: u16, body: &str, marker: &str) -> bool {
    (200..300).contains(&status) && (body.contains(marker) || body.contains("root:x:0:0"))
}

#[tokio::test]
async fn the_file_preview_never_reads_outside_its_workspace() {
    let sandbox = Sandbox::new();
    let root = sandbox.root.clone();
    let app = spawn_secured(SecurityConfig::default(), move |config| config.workspace_root = root).await;
    // It works for what is inside.
    let (status, body) = raw(app.port, "GET", "/api/workspaces/proj/files?path=README.md", b"", "text/plain").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("# hello"));
    let (status, body) = raw(app.port, "GET", "/api/workspaces/proj/files?path=src", b"", "text/plain").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("main.rs"));
    let mut attempts = 0;
    let mut escapes = Vec::new();
    for path in hostile_paths() {
        let target = format!("/api/workspaces/proj/files?path={path}");
        let (status, body) = raw(app.port, "GET", &target, b"", "text/plain").await;
        attempts += 1;
        assert!(status == 400 || status == 403 || status == 404, "{status} for {}: {body}", &target[..target.len().min(120)]);
        if escaped(status, &body, &sandbox.marker) {
            escapes.push(target);
        }
    }
    // The workspace name is a path too.
    for workspace in [
        "..",
        "%2e%2e",
        "..%2f..",
        "%2e%2e%2f%2e%2e",
        "linkws",
        "proj%2f..%2f..",
        "proj%2f..",
        "%2fetc",
        "%252e%252e",
        "proj%00",
        "..%5c..",
    ] {
        for path in ["secret.txt", ".env", "root/other/other-secret.txt", "../secret.txt"] {
            let target = format!("/api/workspaces/{workspace}/files?path={path}");
            let (status, body) = raw(app.port, "GET", &target, b"", "text/plain").await;
            attempts += 1;
            assert!(!(200..300).contains(&status) || !body.contains(&sandbox.marker), "{target}: {body}");
            if escaped(status, &body, &sandbox.marker) {
                escapes.push(target);
            }
        }
    }
    assert!(attempts >= 30, "{attempts}");
    assert!(escapes.is_empty(), "{} of {attempts} attempts escaped: {escapes:?}", escapes.len());
    // Credentials inside the workspace are not shown either, nor binaries or huge files.
    std::fs::write(sandbox.root.join("proj/.env"), "KEY=inside").unwrap();
    std::fs::write(sandbox.root.join("proj/blob.bin"), [0u8, 159, 146, 150]).unwrap();
    std::fs::write(sandbox.root.join("proj/huge.txt"), "x".repeat(2 * 1024 * 1024 + 1)).unwrap();
    assert_eq!(raw(app.port, "GET", "/api/workspaces/proj/files?path=.env", b"", "").await.0, 403);
    assert_eq!(raw(app.port, "GET", "/api/workspaces/proj/files?path=blob.bin", b"", "").await.0, 415);
    assert_eq!(raw(app.port, "GET", "/api/workspaces/proj/files?path=huge.txt", b"", "").await.0, 413);
}

#[tokio::test]
async fn uploads_never_write_outside_their_workspace() {
    let sandbox = Sandbox::new();
    let root = sandbox.root.clone();
    let app = spawn_secured(SecurityConfig { upload_max_bytes: 1024 * 1024, ..SecurityConfig::default() }, move |config| {
        config.workspace_root = root
    })
    .await;
    let needle = format!("UPLOADED-{}", uuid::Uuid::new_v4().simple());
    // It works for what is inside.
    let (status, body) = raw(app.port, "POST", "/api/workspaces/proj/files?path=notes/today.txt", needle.as_bytes(), "text/plain").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(std::fs::read_to_string(sandbox.root.join("proj/notes/today.txt")).unwrap(), needle);
    let (status, _) = raw(app.port, "POST", "/api/workspaces/proj/files?path=notes/today.txt", b"again", "text/plain").await;
    assert_eq!(status, 409, "no silent overwrite");
    let mut targets: Vec<String> = hostile_paths().into_iter().map(|p| format!("{p}&overwrite=true")).collect();
    targets.extend(
        [
            "..%2fpd-escaped.txt",
            "%2ftmp%2fpd-escaped.txt",
            "/tmp/pd-escaped.txt",
            "up/pd-escaped.txt",
            "up/.env&overwrite=true",
            "env-link&overwrite=true",
            "passwd&overwrite=true",
            "dangling",
            "dangling&overwrite=true",
            "sibling/pd-escaped.txt",
            ".env",
            ".bashrc",
            ".git/hooks/pre-commit",
            "-rf",
            "a%00b.txt",
            "con:",
            "name%0a.txt",
            "dir%5cpd-escaped.txt",
        ]
        .map(String::from),
    );
    let mut escapes = Vec::new();
    for path in &targets {
        let target = format!("/api/workspaces/proj/files?path={path}");
        let (status, body) = raw(app.port, "POST", &target, needle.as_bytes(), "application/octet-stream").await;
        assert!(!(200..300).contains(&status), "{status} for {}: {body}", &target[..target.len().min(120)]);
        if (200..300).contains(&status) {
            escapes.push(target);
        }
    }
    for workspace in ["..", "%2e%2e", "linkws", "..%2froot", "%2ftmp"] {
        let (status, body) =
            raw(app.port, "POST", &format!("/api/workspaces/{workspace}/files?path=pd-escaped.txt"), needle.as_bytes(), "text/plain").await;
        assert!(!(200..300).contains(&status), "{workspace}: {body}");
    }
    assert!(targets.len() >= 30);
    assert!(escapes.is_empty(), "{escapes:?}");
    let outside = sandbox.written_outside(&needle);
    assert!(outside.is_empty(), "written outside the workspace: {outside:?}");
    assert_eq!(std::fs::read_to_string(sandbox.base.join(".env")).unwrap(), format!("ANTHROPIC_API_KEY={}\n", sandbox.marker), "untouched");
    // Size cap.
    let big = vec![b'x'; 1024 * 1024 + 1];
    let (status, body) = raw(app.port, "POST", "/api/workspaces/proj/files?path=big.txt", &big, "text/plain").await;
    assert_eq!(status, 413, "{body}");
    assert!(!sandbox.root.join("proj/big.txt").exists());
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.root.join("proj"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "no partial uploads left behind");
}

#[tokio::test]
async fn workspace_names_of_new_conversations_stay_under_the_root() {
    let sandbox = Sandbox::new();
    let root = sandbox.root.clone();
    let app = spawn_secured(SecurityConfig::default(), move |config| config.workspace_root = root).await;
    let names: Vec<String> = [
        "..",
        "../x",
        "../../x",
        "/tmp/pd-escaped",
        "a/b",
        "a\\b",
        "..\\x",
        "%2e%2e",
        "%2e%2e%2fx",
        "%252e%252e",
        ".",
        ".hidden",
        "~",
        "~root",
        "linkws",
        "up",
        "x\u{0}y",
        "x\ny",
        "con:",
        "C:\\x",
        "file:///x",
        "-rf",
        " x",
        "x ",
        "a/../..",
        "root/../../x",
        "..;x",
        "\u{ff0e}\u{ff0e}",
        "\u{2025}",
        "*",
        "$(id)",
        "x;rm",
    ]
    .into_iter()
    .map(String::from)
    .chain([String::from("x").repeat(101), "a/".repeat(600)])
    .collect();
    let before: Vec<_> = std::fs::read_dir(&sandbox.base).unwrap().flatten().map(|e| e.file_name()).collect();
    let client = reqwest::Client::new();
    let mut escapes = Vec::new();
    for name in &names {
        let response = client
            .post(format!("{}/api/conversations", app.address))
            .json(&serde_json::json!({"provider": "anthropic", "workspace": name}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 201 {
            let view: Value = response.json().await.unwrap();
            let workspace = view["workspace"].as_str().unwrap_or_default().to_string();
            let dir = sandbox.root.join(&workspace).canonicalize().unwrap();
            if dir.parent() != Some(sandbox.root.as_path()) {
                escapes.push(format!("{name:?} -> {}", dir.display()));
            }
        } else {
            // A name that is a link out of the root is refused as forbidden, like every path that leads out.
            let expected = if name == "linkws" { 403 } else { 400 };
            assert_eq!(status, expected, "{name:?}");
        }
    }
    assert!(names.len() >= 30);
    assert!(escapes.is_empty(), "{escapes:?}");
    let after: Vec<_> = std::fs::read_dir(&sandbox.base).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(before, after, "nothing was created next to the root");
    assert!(!Path::new("/tmp/pd-escaped").exists());
}

#[tokio::test]
async fn claude_session_imports_never_read_outside_the_projects_folder() {
    let sandbox = Sandbox::new();
    let (root, home) = (sandbox.root.clone(), sandbox.claude_home.clone());
    let app = spawn_secured(SecurityConfig::default(), move |config| {
        config.workspace_root = root;
        config.claude_code.home = home;
    })
    .await;
    let client = reqwest::Client::new();
    let import = |project: String, session: String| {
        client
            .post(format!("{}/api/claude/sessions/import", app.address))
            .json(&serde_json::json!({"project": project, "session_id": session}))
            .send()
    };
    let good = import("p".into(), "good".into()).await.unwrap();
    assert_eq!(good.status(), 201, "{}", good.text().await.unwrap());
    let outside_base = sandbox.base.display().to_string();
    let pairs: Vec<(String, String)> = vec![
        ("..".into(), "outside".into()),
        ("../..".into(), "outside".into()),
        ("p".into(), "../outside".into()),
        ("p".into(), "../../outside".into()),
        ("p".into(), "../../../outside".into()),
        ("p/../..".into(), "outside".into()),
        ("%2e%2e".into(), "outside".into()),
        ("p".into(), "%2e%2e%2foutside".into()),
        ("p".into(), "..%2f..%2foutside".into()),
        ("p".into(), "linked".into()),
        (outside_base.clone(), "outside".into()),
        ("/".into(), format!("{outside_base}/outside")),
        ("p".into(), format!("{outside_base}/outside")),
        ("p".into(), "..\\..\\outside".into()),
        ("..\\..".into(), "outside".into()),
        ("p".into(), "good\u{0}".into()),
        ("p\u{0}".into(), "good".into()),
        ("p".into(), "good.jsonl\u{0}/../../outside".into()),
        ("p".into(), format!("{}outside", "../".repeat(300))),
        ("p".into(), "x".repeat(5000)),
        ("x".repeat(5000), "good".into()),
        ("".into(), "outside".into()),
        (".".into(), "../outside".into()),
        ("~".into(), "outside".into()),
        ("p".into(), "~/../outside".into()),
        ("p".into(), "./../outside".into()),
        ("p/.".into(), "../outside".into()),
        ("p".into(), "..".into()),
        ("..".into(), "..".into()),
        ("p".into(), "/etc/passwd".into()),
        ("/etc".into(), "passwd".into()),
        ("p".into(), "%252e%252e%252foutside".into()),
    ];
    let mut escapes = Vec::new();
    for (project, session) in &pairs {
        let response = import(project.clone(), session.clone()).await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if (200..300).contains(&status) || body.contains(&sandbox.marker) {
            escapes.push(format!("{project:.40?} / {session:.40?} -> {status}"));
        }
    }
    assert!(pairs.len() >= 30);
    assert!(escapes.is_empty(), "{escapes:?}");
    // And nothing of the outside file made it into any conversation.
    let rows: Vec<String> = sqlx::query_scalar("SELECT payload::text FROM events").fetch_all(&app.pool).await.unwrap();
    assert!(!rows.iter().any(|r| r.contains(&sandbox.marker)));
}

#[tokio::test]
async fn the_config_editor_never_reads_or_writes_outside_its_scope() {
    let sandbox = Sandbox::new();
    // Two workspaces whose configuration is a link out of the root: `.claude` itself, and `CLAUDE.md`.
    std::fs::create_dir_all(sandbox.root.join("dotlink")).unwrap();
    std::fs::create_dir_all(sandbox.root.join("mdlink")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(sandbox.base.join(".claude"), sandbox.root.join("dotlink/.claude")).unwrap();
        std::os::unix::fs::symlink(sandbox.base.join("secret.txt"), sandbox.root.join("mdlink/CLAUDE.md")).unwrap();
    }
    let (root, home) = (sandbox.root.clone(), sandbox.claude_home.clone());
    let app = spawn_secured(SecurityConfig::default(), move |config| {
        config.workspace_root = root;
        config.claude_code.home = home;
    })
    .await;
    let needle = format!("CONFIG-{}", uuid::Uuid::new_v4().simple());
    let body = serde_json::json!({ "content": needle }).to_string();
    let put = |scope: &str, path: &str| format!("/api/claude/config/file?scope={scope}&path={path}");
    // It works for what is inside.
    let (status, answer) = raw(app.port, "PUT", &put("workspace:proj", "commands/hello.md"), body.as_bytes(), "application/json").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(std::fs::read_to_string(sandbox.root.join("proj/.claude/commands/hello.md")).unwrap(), needle);
    let (status, answer) = raw(app.port, "GET", &put("workspace:proj", "commands/hello.md"), b"", "").await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(&needle));
    let mut attempts = Vec::new();
    for path in hostile_paths() {
        for scope in ["workspace:proj", "global"] {
            attempts.push((scope.to_string(), path.clone()));
        }
    }
    for scope in [
        "workspace:..",
        "workspace:%2e%2e",
        "workspace:linkws",
        "workspace:proj%2f..",
        "workspace:..%2f..",
        "workspace:%2fetc",
        "workspace:proj%00",
    ] {
        for path in ["CLAUDE.md", "settings.json", "commands/x.md"] {
            attempts.push((scope.to_string(), path.to_string()));
        }
    }
    for (scope, path) in [("workspace:dotlink", "settings.json"), ("workspace:dotlink", "commands/x.md"), ("workspace:mdlink", "CLAUDE.md")]
    {
        attempts.push((scope.to_string(), path.to_string()));
    }
    let mut escapes = Vec::new();
    for (scope, path) in &attempts {
        let target = put(scope, path);
        for (method, payload) in [("GET", &b""[..]), ("PUT", body.as_bytes())] {
            let (status, answer) = raw(app.port, method, &target, payload, "application/json").await;
            assert!((400..500).contains(&status), "{method} {}: {status} {answer}", &target[..target.len().min(120)]);
            if answer.contains(&sandbox.marker) || answer.contains("root:x:0:0") {
                escapes.push(format!("{method} {target:.120}"));
            }
        }
    }
    assert!(attempts.len() >= 30, "{}", attempts.len());
    assert!(escapes.is_empty(), "{escapes:?}");
    let outside = sandbox.written_outside(&needle);
    assert!(outside.is_empty(), "written outside the workspace: {outside:?}");
}
