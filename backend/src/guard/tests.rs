//! The guard against hostile paths: traversal, absolute and drive paths, backslashes, control
//! characters, overlong paths, links out of the root (dangling ones too) and a symlinked root.

use super::*;

struct Sandbox {
    base: PathBuf,
    root: Root,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn sandbox() -> Sandbox {
    let base = std::env::temp_dir().join(format!("pd-guard-{}", uuid::Uuid::new_v4().simple()));
    let root = base.join("root");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/main.rs"), "fn main() {}").unwrap();
    std::fs::write(base.join("outside.txt"), "secret").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(base.join("outside.txt"), root.join("link.txt")).unwrap();
        symlink(&base, root.join("up")).unwrap();
        symlink(base.join("nothing-here"), root.join("dangling")).unwrap();
        symlink("../outside.txt", root.join("relative-out")).unwrap();
        symlink("/etc", root.join("etc")).unwrap();
        symlink("src/main.rs", root.join("inner.rs")).unwrap();
    }
    let root = Root::open(&root).unwrap();
    Sandbox { base: base.canonicalize().unwrap(), root }
}

/// Paths a client may send to get out of a root; none of them may resolve outside it.
fn hostile() -> Vec<String> {
    let mut paths: Vec<String> = [
        "..",
        "../outside.txt",
        "../../etc/passwd",
        "src/../../outside.txt",
        "./../outside.txt",
        "src/./../..//outside.txt",
        "/etc/passwd",
        "//etc/passwd",
        "/",
        "~/.ssh/id_rsa",
        "~root/.bashrc",
        "C:/Windows/win.ini",
        "c:\\windows",
        "..\\outside.txt",
        "src\\..\\..\\outside.txt",
        "src/main.rs\0.txt",
        "\0",
        "src/\nx",
        "src/\rx",
        "\u{7f}",
        "link.txt",
        "up",
        "up/outside.txt",
        "up/root/../outside.txt",
        "dangling",
        "dangling/deeper",
        "relative-out",
        "etc/passwd",
        "etc",
        "%2e%2e/outside.txt",
        "%2e%2e%2foutside.txt",
        "..%2foutside.txt",
        "..;/outside.txt",
        "..../outside.txt",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    paths.push("a/".repeat(600));
    paths.push("x".repeat(300));
    paths
}

#[test]
fn plain_relative_paths_resolve_inside() {
    let sandbox = sandbox();
    let root = sandbox.root.path();
    assert_eq!(sandbox.root.confine("src/main.rs").unwrap(), root.join("src/main.rs"));
    assert_eq!(sandbox.root.confine("./src//main.rs").unwrap(), root.join("src/main.rs"));
    assert_eq!(sandbox.root.confine("").unwrap(), root);
    assert_eq!(sandbox.root.confine("missing.txt").unwrap_err(), PathError::NotFound);
    #[cfg(unix)]
    assert_eq!(sandbox.root.confine("inner.rs").unwrap(), root.join("src/main.rs"));
}

#[test]
fn no_hostile_path_resolves_outside_the_root() {
    let sandbox = sandbox();
    let hostile = hostile();
    assert!(hostile.len() >= 30);
    for path in &hostile {
        for resolved in [sandbox.root.confine(path).ok(), sandbox.root.confine_new(path).ok().map(|(p, _)| p)].into_iter().flatten() {
            // Encoded forms are names, not traversal: they may resolve, but only inside.
            assert!(resolved.starts_with(sandbox.root.path()), "{path:?} resolved to {resolved:?}");
            assert!(!resolved.starts_with(sandbox.base.join("outside.txt")), "{path:?}");
        }
    }
}

#[test]
fn each_kind_of_hostile_path_gets_its_own_refusal() {
    let sandbox = sandbox();
    let long = "a/".repeat(600);
    let cases: [(&str, PathError); 9] = [
        ("../outside.txt", PathError::ParentDirectory),
        ("src/../../outside.txt", PathError::ParentDirectory),
        ("/etc/passwd", PathError::Absolute),
        ("~/.ssh/id_rsa", PathError::Absolute),
        ("C:/Windows", PathError::Absolute),
        ("..\\outside.txt", PathError::Backslash),
        ("src/main.rs\0.txt", PathError::ControlCharacter),
        (&long, PathError::TooLong),
        ("src/\nx", PathError::ControlCharacter),
    ];
    for (path, expected) in cases {
        assert_eq!(sandbox.root.confine(path).unwrap_err(), expected, "{path:?}");
    }
}

#[cfg(unix)]
#[test]
fn links_that_leave_the_root_are_refused_even_when_dangling() {
    let sandbox = sandbox();
    let root = &sandbox.root;
    for path in ["link.txt", "up/outside.txt", "dangling", "relative-out", "etc/passwd"] {
        assert_eq!(root.confine(path).unwrap_err(), PathError::Escapes, "{path}");
    }
    assert_eq!(root.confine_new("up/new.txt").unwrap_err(), PathError::Escapes);
    assert_eq!(root.confine_new("dangling").unwrap_err(), PathError::Escapes);
    assert_eq!(root.confine_new("src/new/deeper.txt").unwrap(), (root.path().join("src/new/deeper.txt"), 2));
    assert_eq!(root.child("up").unwrap_err(), PathError::Escapes);
    assert_eq!(root.child("src").unwrap().path(), root.path().join("src"));
}

#[cfg(unix)]
#[test]
fn a_symlinked_root_confines_to_its_target() {
    let sandbox = sandbox();
    let alias = sandbox.base.join("alias");
    std::os::unix::fs::symlink(sandbox.root.path(), &alias).unwrap();
    let root = Root::open(&alias).unwrap();
    assert_eq!(root.path(), sandbox.root.path());
    assert_eq!(root.confine("src/main.rs").unwrap(), sandbox.root.path().join("src/main.rs"));
    assert_eq!(root.resolve(&alias.join("src/main.rs")).unwrap(), sandbox.root.path().join("src/main.rs"));
    assert_eq!(root.resolve(&sandbox.base.join("outside.txt")).unwrap_err(), PathError::Escapes);
}

#[test]
fn program_made_paths_are_resolved_and_kept_inside() {
    let sandbox = sandbox();
    let root = &sandbox.root;
    assert_eq!(root.resolve(&root.path().join("src/main.rs")).unwrap(), root.path().join("src/main.rs"));
    assert_eq!(root.resolve(&root.path().join("nope")).unwrap_err(), PathError::NotFound);
    assert_eq!(root.resolve_new(&root.path().join("a/b.txt")).unwrap(), (root.path().join("a/b.txt"), 2));
    assert_eq!(root.resolve_new(&root.path().join("src/../../x")).unwrap_err(), PathError::ParentDirectory);
    assert_eq!(root.resolve_new(&sandbox.base.join("elsewhere/x")).unwrap_err(), PathError::Escapes);
    #[cfg(unix)]
    assert_eq!(root.resolve_new(&root.path().join("up/x")).unwrap_err(), PathError::Escapes);
}

#[test]
fn a_root_that_is_missing_or_a_file_cannot_be_opened() {
    let sandbox = sandbox();
    assert_eq!(Root::open(&sandbox.base.join("missing")).unwrap_err(), PathError::NotFound);
    assert_eq!(Root::open(&sandbox.base.join("outside.txt")).unwrap_err(), PathError::NotFound);
}
