//! Atomic placement of a new file under a [`Root`]: written to a temp file beside its target, synced,
//! then renamed over it (replace) or hard-linked to its name (create, refused if the name was taken
//! meanwhile). Uploads and the config editor both write through here, so a reader never sees half a file.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::guard::{PathError, Root};

/// What may happen to a file already at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Replace it.
    Replace,
    /// Refuse (`AtomicError::Exists`), even when it appears while the new file is written.
    CreateNew,
}

/// Why a file could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("the file exists")]
    Exists,
    #[error("cannot write the file: {0}")]
    Io(#[from] std::io::Error),
}

/// A new file being written beside its target, removed if it is dropped before [`Staged::place`].
#[derive(Debug)]
pub struct Staged {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl Staged {
    /// Creates the missing folders of `target` (a path inside `root`, as [`Root::confine_new`] or
    /// [`Root::resolve_new`] returned it), resolves them again so a link swapped in meanwhile cannot lead
    /// out, and opens a temp file beside the target with permissions `mode`.
    pub fn beside(root: &Root, target: &Path, mode: u32) -> Result<Staged, AtomicError> {
        let (target, _) = root.resolve_new(target)?;
        let name: OsString = target.file_name().ok_or(PathError::Empty)?.to_os_string();
        let parent = target.parent().ok_or(PathError::Empty)?;
        std::fs::create_dir_all(parent)?;
        let parent = root.resolve(parent)?;
        let temp = tempfile::Builder::new()
            .prefix(".pd-")
            .suffix(".part")
            .permissions(std::fs::Permissions::from_mode(mode))
            .tempfile_in(&parent)?;
        Ok(Staged { temp, target: parent.join(name) })
    }

    /// Where the file will be placed (its folder resolved).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temp file, for writing.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.temp.as_file_mut()
    }

    /// A second handle on the temp file for async writers.
    pub fn async_file(&self) -> Result<tokio::fs::File, AtomicError> {
        Ok(tokio::fs::File::from_std(self.temp.as_file().try_clone()?))
    }

    /// Syncs the file and puts it at its target.
    pub fn place(self, placement: Placement) -> Result<PathBuf, AtomicError> {
        self.temp.as_file().sync_all()?;
        let target = self.target;
        let placed = match placement {
            Placement::Replace => self.temp.persist(&target),
            Placement::CreateNew => self.temp.persist_noclobber(&target),
        };
        match placed {
            Ok(_) => Ok(target),
            Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => Err(AtomicError::Exists),
            Err(error) => Err(AtomicError::Io(error.error)),
        }
    }
}

/// Writes `bytes` to `target` atomically (see [`Staged`]).
pub fn write(root: &Root, target: &Path, bytes: &[u8], mode: u32, placement: Placement) -> Result<PathBuf, AtomicError> {
    let mut staged = Staged::beside(root, target, mode)?;
    staged.file().write_all(bytes)?;
    staged.place(placement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (PathBuf, Root) {
        let base = std::env::temp_dir().join(format!("pd-atomic-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&base).unwrap();
        let root = Root::open(&base).unwrap();
        (base, root)
    }

    #[test]
    fn a_new_file_appears_whole_with_its_mode_and_no_temp_file_is_left() {
        let (base, root) = root();
        let target = root.path().join("a/b/c.txt");
        let placed = write(&root, &target, b"hello", 0o644, Placement::CreateNew).unwrap();
        assert_eq!(std::fs::read(&placed).unwrap(), b"hello");
        assert_eq!(std::fs::metadata(&placed).unwrap().permissions().mode() & 0o777, 0o644);
        let names: Vec<_> = std::fs::read_dir(root.path().join("a/b")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![OsString::from("c.txt")]);
        std::fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn create_new_refuses_a_taken_name_and_replace_overwrites_it() {
        let (base, root) = root();
        let target = root.path().join("x.txt");
        write(&root, &target, b"one", 0o600, Placement::CreateNew).unwrap();
        assert!(matches!(write(&root, &target, b"two", 0o600, Placement::CreateNew), Err(AtomicError::Exists)));
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        write(&root, &target, b"three", 0o600, Placement::Replace).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"three");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1, "no temp file left");
        std::fs::remove_dir_all(base).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_that_is_a_link_out_of_the_root_is_refused() {
        let (base, root) = root();
        let outside = std::env::temp_dir().join(format!("pd-atomic-out-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.path().join("out")).unwrap();
        for target in ["out/x.txt", "out/new/deeper/x.txt"] {
            let error = write(&root, &root.path().join(target), b"x", 0o644, Placement::CreateNew).unwrap_err();
            assert!(matches!(error, AtomicError::Path(PathError::Escapes)), "{target}: {error:?}");
        }
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        std::fs::remove_dir_all(base).unwrap();
        std::fs::remove_dir_all(outside).unwrap();
    }
}
