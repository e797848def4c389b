//! [`SoftStorage`]: secure storage in a directory. Every file is sealed with
//! AES-256-GCM under the device's storage key (so TA binaries and
//! personalization data are never on disk in plaintext, spec 9.3.1: "The
//! TEE re-encrypts the TA binary and its personalization data with its own
//! method"), with the file name as additional data so files cannot be
//! swapped.
//!
//! A commit writes and fsyncs the new blobs under fresh names, then writes
//! the state document to `state.tmp`, fsyncs it, renames it over `state`
//! (the commit point) and fsyncs the directory; only then are blobs the new
//! state no longer names removed. A crash anywhere leaves the old `state`
//! with all its blobs, or the new one with all of its own; files no state
//! names are removed when the storage is opened.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use otrp_core::crypto::{ContentAlg, Provider, SecretBytes};
use otrp_core::tee::{BlobId, Commit, SecureStorage, StorageError, TeeState};

use crate::fs::Fs;

const STATE: &str = "state";
const STATE_TMP: &str = "state.tmp";
const KEY: &str = "storage.key";
const KEY_TMP: &str = "storage.key.tmp";
const BLOB_PREFIX: &str = "blob-";
const SEAL: ContentAlg = ContentAlg::A256Gcm;

/// Secure storage in a directory (see the module documentation).
pub struct SoftStorage {
    dir: PathBuf,
    fs: Arc<dyn Fs>,
    provider: Provider,
    key: SecretBytes,
    max_bytes: Option<u64>,
}

impl std::fmt::Debug for SoftStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftStorage")
            .field("dir", &self.dir)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

fn io(e: std::io::Error) -> StorageError {
    StorageError::Io(e.to_string())
}

fn blob_file(id: &BlobId) -> Result<String, StorageError> {
    let ok = !id.0.is_empty()
        && id
            .0
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(format!("{BLOB_PREFIX}{}", id.0))
    } else {
        Err(StorageError::Corrupt(format!("bad blob name {id}")))
    }
}

impl SoftStorage {
    /// Opens (or initialises) the storage in `dir`: creates the storage key
    /// on first use, and removes files that no committed state names (what
    /// an interrupted commit left behind).
    pub fn open(dir: &Path, fs: Arc<dyn Fs>, provider: Provider) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let key_path = dir.join(KEY);
        let key = match fs.read(&key_path) {
            Ok(k) if k.len() == SEAL.key_len() => SecretBytes::new(k),
            Ok(_) => return Err(StorageError::Corrupt("storage key".into())),
            Err(_) => {
                let k = SecretBytes::new(
                    provider
                        .random_bytes(SEAL.key_len())
                        .map_err(|e| StorageError::Io(e.to_string()))?,
                );
                let tmp = dir.join(KEY_TMP);
                fs.write(&tmp, k.as_bytes()).map_err(io)?;
                fs.fsync_file(&tmp).map_err(io)?;
                fs.rename(&tmp, &key_path).map_err(io)?;
                fs.fsync_dir(dir).map_err(io)?;
                k
            }
        };
        let mut storage = SoftStorage {
            dir: dir.to_path_buf(),
            fs,
            provider,
            key,
            max_bytes: None,
        };
        storage.collect_garbage()?;
        Ok(storage)
    }

    /// Limits the bytes of sealed data kept (state and blobs); a commit
    /// beyond it is [`StorageError::Full`] (`ERR_TEE_RESOURCE_FULL`).
    pub fn with_max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = Some(max);
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, StorageError> {
        let cipher = self
            .provider
            .content_cipher(SEAL)
            .map_err(|e| StorageError::Io(e.to_string()))?;
        let iv = self
            .provider
            .random_bytes(SEAL.iv_len())
            .map_err(|e| StorageError::Io(e.to_string()))?;
        let mut buf = plaintext.to_vec();
        let tag = cipher
            .encrypt(&self.key, &iv, name.as_bytes(), &mut buf)
            .map_err(|e| StorageError::Io(e.to_string()))?;
        let mut out = iv;
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unseal(&self, name: &str, sealed: &[u8]) -> Result<SecretBytes, StorageError> {
        let corrupt = || StorageError::Corrupt(format!("{name} does not authenticate"));
        let cipher = self
            .provider
            .content_cipher(SEAL)
            .map_err(|e| StorageError::Io(e.to_string()))?;
        if sealed.len() < SEAL.iv_len() + SEAL.tag_len() {
            return Err(corrupt());
        }
        let (iv, rest) = sealed.split_at(SEAL.iv_len());
        let (ct, tag) = rest.split_at(rest.len() - SEAL.tag_len());
        let mut buf = ct.to_vec();
        cipher
            .decrypt(&self.key, iv, name.as_bytes(), &mut buf, tag)
            .map_err(|_| corrupt())?;
        Ok(SecretBytes::new(buf))
    }

    fn read_state(&self) -> Result<Option<SecretBytes>, StorageError> {
        match self.fs.read(&self.dir.join(STATE)) {
            Ok(bytes) => self.unseal(STATE, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Removes blobs and temporary files no committed state names.
    fn collect_garbage(&mut self) -> Result<(), StorageError> {
        let referenced: BTreeSet<String> = match self.read_state()? {
            Some(bytes) => TeeState::from_bytes(bytes.as_bytes())
                .map_err(|e| StorageError::Corrupt(e.to_string()))?
                .blobs()
                .iter()
                .map(blob_file)
                .collect::<Result<_, _>>()?,
            None => BTreeSet::new(),
        };
        for (name, _) in self.fs.list(&self.dir).map_err(io)? {
            let stale = name.ends_with(".tmp")
                || (name.starts_with(BLOB_PREFIX) && !referenced.contains(&name));
            if stale {
                // Best effort: a leftover is retried at the next open.
                let _ = self.fs.remove(&self.dir.join(&name));
            }
        }
        Ok(())
    }

    fn check_capacity(&self, commit: &Commit<'_>) -> Result<(), StorageError> {
        let Some(max) = self.max_bytes else {
            return Ok(());
        };
        let deleted: BTreeSet<String> = commit
            .delete
            .iter()
            .map(blob_file)
            .collect::<Result<_, _>>()?;
        let overhead = (SEAL.iv_len() + SEAL.tag_len()) as u64;
        let mut used: u64 = 0;
        for (name, len) in self.fs.list(&self.dir).map_err(io)? {
            if name.starts_with(BLOB_PREFIX) && !deleted.contains(&name) {
                used = used.saturating_add(len);
            }
        }
        for (_, data) in &commit.put {
            used = used.saturating_add(data.len() as u64 + overhead);
        }
        used = used.saturating_add(commit.state.len() as u64 + overhead);
        if used > max {
            return Err(StorageError::Full);
        }
        Ok(())
    }
}

impl SecureStorage for SoftStorage {
    fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.read_state()?.map(|s| s.as_bytes().to_vec()))
    }

    fn commit(&mut self, commit: &Commit<'_>) -> Result<(), StorageError> {
        self.check_capacity(commit)?;
        for (id, data) in &commit.put {
            let name = blob_file(id)?;
            let sealed = self.seal(&name, data)?;
            let path = self.dir.join(&name);
            self.fs.write(&path, &sealed).map_err(io)?;
            self.fs.fsync_file(&path).map_err(io)?;
        }
        let sealed = self.seal(STATE, commit.state)?;
        let tmp = self.dir.join(STATE_TMP);
        self.fs.write(&tmp, &sealed).map_err(io)?;
        self.fs.fsync_file(&tmp).map_err(io)?;
        self.fs.rename(&tmp, &self.dir.join(STATE)).map_err(io)?;
        self.fs.fsync_dir(&self.dir).map_err(io)?;
        // Committed. Blobs of the old state are removed best effort: what a
        // crash leaves is collected at the next open.
        for id in &commit.delete {
            if let Ok(name) = blob_file(id) {
                let _ = self.fs.remove(&self.dir.join(name));
            }
        }
        Ok(())
    }

    fn read_blob(&self, id: &BlobId) -> Result<SecretBytes, StorageError> {
        let name = blob_file(id)?;
        let bytes = self
            .fs
            .read(&self.dir.join(&name))
            .map_err(|_| StorageError::NotFound(id.clone()))?;
        self.unseal(&name, &bytes)
    }
}
