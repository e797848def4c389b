//! Clean interruption (issue 14): temporary directories that are removed
//! when dropped *and* when the process gets SIGINT or SIGTERM, and hooks a
//! long-running command (a server) registers to shut down gracefully.
//!
//! [`install`] sets the signal handler once (in `main`). On a signal:
//! - if hooks are registered ([`on_interrupt`]) and this is the first
//!   signal, the hooks run and the program is left to end itself (the
//!   server drains, `main` returns, [`TempDir`]s drop); a second signal
//!   exits at once, as below;
//! - otherwise every live [`TempDir`] is removed (checked again after a
//!   short pause, so a file the interrupted work created meanwhile goes
//!   too), one line is printed on stderr, and the process exits with 130.
//!
//! Temporary directories are created mode 0700 (they hold private keys).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::util::{Error, Result};

/// The exit status after an interruption (128 + SIGINT, as shells report).
pub const INTERRUPTED_EXIT: i32 = crate::util::Exit::Interrupted.code() as i32;

type Hook = Arc<dyn Fn() + Send + Sync>;

struct Registry {
    dirs: Vec<(u64, PathBuf)>,
    hooks: Vec<(u64, Hook)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    dirs: Vec::new(),
    hooks: Vec::new(),
});
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves plain data behind: keep going.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs the SIGINT/SIGTERM handler (idempotent).
pub fn install() -> Result<()> {
    INSTALLED
        .get_or_init(|| ctrlc::set_handler(on_signal).map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| Error::msg(format!("cannot install the signal handler: {e}")))
}

fn on_signal() {
    let first = !INTERRUPTED.swap(true, Ordering::SeqCst);
    let hooks: Vec<Hook> = registry().hooks.iter().map(|(_, h)| h.clone()).collect();
    if first && !hooks.is_empty() {
        for hook in hooks {
            hook();
        }
        return;
    }
    // Hold the registry while removing so no TempDir is created or dropped
    // meanwhile; the process ends with the lock held.
    let reg = registry();
    let mut removed = Vec::new();
    for (_, dir) in &reg.dirs {
        // The interrupted work may still be writing into the directory:
        // remove, pause, and remove again what reappeared.
        for _ in 0..5 {
            let _ = std::fs::remove_dir_all(dir);
            std::thread::sleep(Duration::from_millis(20));
            if !dir.exists() {
                break;
            }
        }
        removed.push(dir.display().to_string());
    }
    let what = if removed.is_empty() {
        String::new()
    } else {
        format!("; removed {}", removed.join(", "))
    };
    eprintln!("otrp: error: interrupted{what}");
    std::process::exit(INTERRUPTED_EXIT);
}

/// A temporary directory (mode 0700) removed when dropped and when the
/// process is interrupted.
#[derive(Debug)]
pub struct TempDir {
    id: u64,
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory `PREFIX<random>` in the system's temporary
    /// directory.
    pub fn new(prefix: &str) -> Result<TempDir> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder
            .tempdir()
            .map_err(|e| Error::from(e).context("creating a temporary directory"))?;
        let path = dir.keep();
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        registry().dirs.push((id, path.clone()));
        Ok(TempDir { id, path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let mut reg = registry();
        reg.dirs.retain(|(id, _)| *id != self.id);
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A registered interruption hook; dropping it unregisters the hook.
#[must_use = "the hook is unregistered when this guard drops"]
pub struct OnInterrupt(u64);

/// Runs `hook` (on the signal thread) at the first SIGINT/SIGTERM instead
/// of exiting: the program ends itself (a second signal exits at once).
pub fn on_interrupt(hook: impl Fn() + Send + Sync + 'static) -> OnInterrupt {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    registry().hooks.push((id, Arc::new(hook)));
    OnInterrupt(id)
}

impl Drop for OnInterrupt {
    fn drop(&mut self) {
        registry().hooks.retain(|(id, _)| *id != self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dir_is_private_registered_and_removed_on_drop() {
        let dir = TempDir::new("otrp-cleanup-test-").unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(path.join("secret"), b"k").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(registry().dirs.iter().any(|(_, p)| *p == path));
        drop(dir);
        assert!(!path.exists());
        assert!(!registry().dirs.iter().any(|(_, p)| *p == path));
    }

    #[test]
    fn hooks_unregister_on_drop() {
        let guard = on_interrupt(|| {});
        let id = guard.0;
        assert!(registry().hooks.iter().any(|(i, _)| *i == id));
        drop(guard);
        assert!(!registry().hooks.iter().any(|(i, _)| *i == id));
    }
}
