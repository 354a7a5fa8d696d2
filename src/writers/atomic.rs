//! Publishing a file whole or not at all.
//!
//! An [`AtomicFile`] is written under a hidden temporary name in the folder
//! of its final name (`.<name>.XXXXXX.tmp`, so readers globbing `*.parquet`
//! or `*.csv` never see it), hashed as it is written, then made readable
//! (0644), synced and renamed onto the final name, and the folder synced so
//! the rename survives a crash. Dropped without a commit, the temporary file
//! is removed. What goes into the file is the CSV and Parquet writers'
//! business; where files go is the caller's.

use std::{
    fs::{self, File, Permissions},
    io::{self, Write},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

/// The mode published files get: tempfile creates 0600, but the outputs
/// are read by other users and services (CRATES.md §0, risk 6).
const PUBLISHED_MODE: u32 = 0o644;

/// A file being written under a temporary name, published by
/// [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    temp: NamedTempFile,
    target: PathBuf,
    hasher: Sha256,
    bytes: u64,
}

/// A file that is published: its final path, size and SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The final path.
    pub path: PathBuf,
    /// The file's size.
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// A finished file, synced to disk under its temporary name and waiting
/// to be renamed onto its final name; dropped, it is removed.
#[derive(Debug)]
pub struct Synced {
    temp: NamedTempFile,
    published: Published,
}

impl AtomicFile {
    /// Starts a file that will be published as `target`. The folder of
    /// `target` must exist.
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let (dir, name) = split_target(target)?;
        let prefix = format!(".{}.", name.to_string_lossy());
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .rand_bytes(6)
            .tempfile_in(dir)?;
        Ok(AtomicFile { temp, target: target.to_path_buf(), hasher: Sha256::new(), bytes: 0 })
    }

    /// The final name the file will be published under.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary name the file is being written under.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// Makes the file readable by others and syncs it, still under its
    /// temporary name.
    pub fn sync(mut self) -> io::Result<Synced> {
        self.temp.flush()?;
        let file = self.temp.as_file();
        file.set_permissions(Permissions::from_mode(PUBLISHED_MODE))?;
        file.sync_all()?;
        let sha256 = hex(&self.hasher.finalize());
        let published = Published { path: self.target, bytes: self.bytes, sha256 };
        Ok(Synced { temp: self.temp, published })
    }

    /// Publishes the file: sync, rename onto the final name (replacing a
    /// file already there), sync the folder.
    pub fn commit(self) -> io::Result<Published> {
        let synced = self.sync()?;
        let dir = parent(&synced.published.path).to_path_buf();
        let published = synced.rename()?;
        sync_dir(&dir)?;
        Ok(published)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.temp.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

impl Synced {
    /// Where the file will be published.
    pub fn published(&self) -> &Published {
        &self.published
    }

    /// Renames the file onto its final name. The folder still has to be
    /// synced ([`sync_dir`]) for the rename to survive a crash; callers
    /// publishing several files into one folder do that once.
    pub fn rename(self) -> io::Result<Published> {
        self.temp.persist(&self.published.path).map_err(|err| err.error)?;
        Ok(self.published)
    }
}

/// Syncs a folder, so that the names created or renamed in it are durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents, syncing the parent of each
/// folder it creates so the new entries survive a crash.
pub fn create_dir_durable(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let up = parent(dir);
    create_dir_durable(up)?;
    match fs::create_dir(dir) {
        Ok(()) => sync_dir(up),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(err) => Err(err),
    }
}

/// Whether a file name is one of this module's temporary names.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

fn split_target(target: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
    let Some(name) = target.file_name() else {
        let msg = format!("{} does not name a file", target.display());
        return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    };
    Ok((parent(target), name))
}

/// The folder a path sits in; `.` for a bare name.
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn temp_name_is_hidden_and_commit_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.csv");
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"abc").unwrap();
        let temp_name = names(dir.path()).pop().unwrap();
        assert!(is_temp_name(&temp_name), "{temp_name}");
        assert!(temp_name.starts_with(".a.csv."), "{temp_name}");
        assert!(!target.exists());

        let published = file.commit().unwrap();
        assert_eq!(names(dir.path()), ["a.csv"]);
        assert_eq!(fs::read(&target).unwrap(), b"abc");
        assert_eq!(published.bytes, 3);
        assert_eq!(
            published.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn drop_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AtomicFile::create(&dir.path().join("a.parquet")).unwrap();
        file.write_all(b"partial").unwrap();
        drop(file);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn commit_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.csv");
        fs::write(&target, b"old contents").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["a.csv"]);
    }

    #[test]
    fn creates_nested_folders() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("job/date=2026-01-02");
        create_dir_durable(&deep).unwrap();
        create_dir_durable(&deep).unwrap();
        assert!(deep.is_dir());
    }
}
