//! The file operations the soft TEE's storage uses, behind a trait so that
//! a test can make any one of them fail ([`FaultyFs`]) and check that a
//! crash at that point leaves the old or the new state.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// File operations, each one step a crash can interrupt.
pub trait Fs: Send + Sync {
    /// Reads a whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Creates or truncates `path` and writes `data`.
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()>;
    /// Appends `data` to the existing file `path` (a blob staged in
    /// segments). The default reads the file and writes it back whole;
    /// file systems override it.
    fn append(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut all = self.read(path)?;
        all.extend_from_slice(data);
        self.write(path, &all)
    }
    /// Flushes a file's data to stable storage.
    fn fsync_file(&self, path: &Path) -> io::Result<()>;
    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes a directory's entries (a rename or removal) to stable storage.
    fn fsync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// The file names in `dir` with their sizes.
    fn list(&self, dir: &Path) -> io::Result<Vec<(String, u64)>>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdFs;

impl Fs for StdFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    /// Every file of the storage is a secret (sealed data, the sealing
    /// key): created mode 0600, and an existing file with a wider mode is
    /// narrowed before anything is written to it.
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let f = options.open(path)?;
            if f.metadata()?.permissions().mode() & 0o077 != 0 {
                f.set_permissions(fs::Permissions::from_mode(0o600))?;
            }
            let mut f = f;
            f.write_all(data)
        }
        #[cfg(not(unix))]
        {
            let mut f = options.open(path)?;
            f.write_all(data)
        }
    }

    /// Appends to a file [`StdFs::write`] created (mode 0600 already).
    fn append(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        fs::OpenOptions::new()
            .append(true)
            .open(path)?
            .write_all(data)
    }

    fn fsync_file(&self, path: &Path) -> io::Result<()> {
        fs::OpenOptions::new().read(true).open(path)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn fsync_dir(&self, dir: &Path) -> io::Result<()> {
        fs::File::open(dir)?.sync_all()
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str() {
                out.push((name.to_string(), entry.metadata()?.len()));
            }
        }
        Ok(out)
    }
}

/// A file system that crashes at the `fail_at`-th write, append, fsync or
/// rename (counting from 0): that operation fails (a write or append leaves
/// the first half of its data behind, a torn write) and so does every later write, fsync,
/// rename or removal, as if the device had lost power. Reads keep working.
#[derive(Clone, Debug)]
pub struct FaultyFs {
    fail_at: usize,
    ops: Arc<AtomicUsize>,
}

impl FaultyFs {
    /// Crashes at operation `fail_at`.
    pub fn new(fail_at: usize) -> Self {
        FaultyFs {
            fail_at,
            ops: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many writes, appends, fsyncs and renames were attempted so far.
    pub fn operations(&self) -> usize {
        self.ops.load(Ordering::SeqCst)
    }

    /// Whether the crash happened.
    pub fn crashed(&self) -> bool {
        self.operations() > self.fail_at
    }

    fn step(&self) -> io::Result<bool> {
        let n = self.ops.fetch_add(1, Ordering::SeqCst);
        if n == self.fail_at {
            Ok(true)
        } else if n > self.fail_at {
            Err(crash())
        } else {
            Ok(false)
        }
    }

    fn dead(&self) -> bool {
        self.ops.load(Ordering::SeqCst) > self.fail_at
    }
}

fn crash() -> io::Error {
    io::Error::other("injected crash")
}

impl Fs for FaultyFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        StdFs.read(path)
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        if self.step()? {
            let half = data.get(..data.len() / 2).unwrap_or_default();
            StdFs.write(path, half)?;
            return Err(crash());
        }
        StdFs.write(path, data)
    }

    fn append(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        if self.step()? {
            let half = data.get(..data.len() / 2).unwrap_or_default();
            StdFs.append(path, half)?;
            return Err(crash());
        }
        StdFs.append(path, data)
    }

    fn fsync_file(&self, path: &Path) -> io::Result<()> {
        if self.step()? {
            return Err(crash());
        }
        StdFs.fsync_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        if self.step()? {
            return Err(crash());
        }
        StdFs.rename(from, to)
    }

    fn fsync_dir(&self, dir: &Path) -> io::Result<()> {
        if self.step()? {
            return Err(crash());
        }
        StdFs.fsync_dir(dir)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        if self.dead() {
            return Err(crash());
        }
        StdFs.remove(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<(String, u64)>> {
        StdFs.list(dir)
    }
}
