//! An in-memory [`Fs`] for the soft TEE, so benchmarks and fuzz targets
//! measure the protocol rather than the disk, and can restore a storage
//! snapshot before every iteration.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use otrp_soft_tee::Fs;

/// Files in memory. Clones share the files; [`MemFs::snapshot`] copies
/// them.
#[derive(Clone, Debug, Default)]
pub struct MemFs {
    files: Arc<Mutex<BTreeMap<PathBuf, Vec<u8>>>>,
}

impl MemFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// An independent copy of the current files.
    pub fn snapshot(&self) -> MemFs {
        let files = self.lock().clone();
        MemFs {
            files: Arc::new(Mutex::new(files)),
        }
    }

    /// Total bytes stored.
    pub fn bytes(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Writes the files of directory `from` into the real directory `to`
    /// (created if needed) under the same names, so that a state built in
    /// memory can be opened on disk ([`crate::TeeParts::open_on_disk`]).
    pub fn copy_to_disk(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::create_dir_all(to)?;
        for (path, data) in self.lock().iter() {
            if let (Some(dir), Some(name)) = (path.parent(), path.file_name())
                && dir == from
            {
                otrp_soft_tee::StdFs.write(&to.join(name), data)?;
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<PathBuf, Vec<u8>>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, path.display().to_string())
}

impl Fs for MemFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.lock()
            .get(path)
            .cloned()
            .ok_or_else(|| not_found(path))
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.lock().insert(path.to_path_buf(), data.to_vec());
        Ok(())
    }

    /// Grows the file by exactly `data` (no doubling), so that the heap
    /// this medium holds is the file's size, as with [`MemFs::write`].
    fn append(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut files = self.lock();
        let file = files.get_mut(path).ok_or_else(|| not_found(path))?;
        file.reserve_exact(data.len());
        file.extend_from_slice(data);
        Ok(())
    }

    fn fsync_file(&self, path: &Path) -> io::Result<()> {
        if self.lock().contains_key(path) {
            Ok(())
        } else {
            Err(not_found(path))
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut files = self.lock();
        let data = files.remove(from).ok_or_else(|| not_found(from))?;
        files.insert(to.to_path_buf(), data);
        Ok(())
    }

    fn fsync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.lock()
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<(String, u64)>> {
        Ok(self
            .lock()
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .filter_map(|(p, d)| {
                let name = p.file_name()?.to_str()?.to_string();
                Some((name, d.len() as u64))
            })
            .collect())
    }
}
