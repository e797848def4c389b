//! [`DirLock`]: an OS file lock on a soft TEE's storage directory, held for
//! as long as a [`Tee`](otrp_core::tee::Tee) has it open, so that two
//! processes never interleave their load-handle-commit cycles (issue 14: a
//! lost update corrupts the state, undoes a deletion or forgets the request
//! ids that refuse a replay).
//!
//! On Unix the directory itself is locked (`flock` on a descriptor of the
//! directory), so locking creates no file and a read-only open writes
//! nothing; elsewhere a `.lock` file in the directory is locked. Writers
//! take the lock exclusively, readers shared. The lock is released when the
//! [`DirLock`] drops or the process ends, however it ends.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long [`DirLock::acquire`] sleeps between attempts.
const RETRY: Duration = Duration::from_millis(10);

/// Exclusive (read-write) or shared (read-only) access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// One writer, no readers.
    Exclusive,
    /// Any number of readers, no writer.
    Shared,
}

/// Why a storage directory could not be locked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another process holds the lock and did not release it in time.
    #[error(
        "state directory {} is in use by another process (waited {} s); try again when it is done",
        .dir.display(),
        .waited.as_secs()
    )]
    InUse {
        /// The directory.
        dir: PathBuf,
        /// How long this process waited.
        waited: Duration,
    },
    /// The directory could not be opened or locked.
    #[error("cannot lock state directory {}: {source}", .dir.display())]
    Io {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A held lock on a directory (see the module documentation).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    mode: LockMode,
}

impl DirLock {
    /// Locks `dir` in `mode`, waiting up to `wait` for another holder to
    /// release it (`Duration::ZERO`: fail at once).
    pub fn acquire(dir: &Path, mode: LockMode, wait: Duration) -> Result<DirLock, LockError> {
        let io = |source| LockError::Io {
            dir: dir.to_path_buf(),
            source,
        };
        let file = lock_file(dir, mode).map_err(io)?;
        let started = Instant::now();
        loop {
            let attempt = match mode {
                LockMode::Exclusive => file.try_lock(),
                LockMode::Shared => file.try_lock_shared(),
            };
            match attempt {
                Ok(()) => return Ok(DirLock { _file: file, mode }),
                Err(TryLockError::WouldBlock) => {
                    let waited = started.elapsed();
                    if waited >= wait {
                        return Err(LockError::InUse {
                            dir: dir.to_path_buf(),
                            waited,
                        });
                    }
                    std::thread::sleep(RETRY.min(wait - waited));
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }

    /// The mode held.
    pub fn mode(&self) -> LockMode {
        self.mode
    }
}

#[cfg(unix)]
fn lock_file(dir: &Path, _mode: LockMode) -> std::io::Result<File> {
    File::open(dir)
}

#[cfg(not(unix))]
fn lock_file(dir: &Path, mode: LockMode) -> std::io::Result<File> {
    let path = dir.join(".lock");
    match mode {
        LockMode::Exclusive => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path),
        LockMode::Shared => File::open(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_is_released_on_drop() {
        let dir = std::env::temp_dir().join(format!("otrp-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let held = DirLock::acquire(&dir, LockMode::Exclusive, Duration::ZERO).unwrap();
        let err = DirLock::acquire(&dir, LockMode::Exclusive, Duration::from_millis(50));
        assert!(matches!(err, Err(LockError::InUse { .. })), "{err:?}");
        let err = DirLock::acquire(&dir, LockMode::Shared, Duration::ZERO);
        assert!(matches!(err, Err(LockError::InUse { .. })), "{err:?}");
        assert!(err.unwrap_err().to_string().contains("is in use"));
        drop(held);
        let r1 = DirLock::acquire(&dir, LockMode::Shared, Duration::ZERO).unwrap();
        let r2 = DirLock::acquire(&dir, LockMode::Shared, Duration::ZERO).unwrap();
        assert_eq!(r2.mode(), LockMode::Shared);
        assert!(DirLock::acquire(&dir, LockMode::Exclusive, Duration::ZERO).is_err());
        drop((r1, r2));
        DirLock::acquire(&dir, LockMode::Exclusive, Duration::ZERO).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
