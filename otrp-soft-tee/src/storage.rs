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
//!
//! Blobs are written as `segs-<id>`: a sequence of AES-256-GCM segments
//! of [`SEGMENT`] plaintext bytes, each sealed with the file name, its
//! index and whether it is the last as additional data, so segments cannot
//! be reordered, dropped, cut off or moved to another file. Sealing a blob
//! costs one segment of memory, not a sealed copy of it (a large TA from
//! the whole-image hooks, issue 17). A TA streamed in chunks
//! ([`SecureStorage::stage_blob`]) is written so before its commit, a
//! commit's `put` blobs within it; either is fsynced before the state that
//! names it is, and until then no state names it, so a crash leaves it to
//! be removed at the next open like any other unreferenced file. Blobs
//! sealed whole as `blob-<id>` (the format before segments, one
//! AES-256-GCM seal with the file name as additional data) are still read.
//!
//! The sealing key (`storage.key`) is created once, mode 0600 like every
//! file here ([`StdFs`](crate::StdFs)), and only for a directory without a
//! state: a state whose key is gone is reported as such, never resealed
//! under a new key. [`SoftStorage::open_read_only`] writes nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use otrp_core::crypto::{ContentAlg, Provider, SecretBytes};
use otrp_core::tee::{BlobId, BlobWriter, Commit, SecureStorage, StorageError, TeeState};
use zeroize::{Zeroize, Zeroizing};

use crate::fs::Fs;
use crate::lock::DirLock;

const STATE: &str = "state";
const STATE_TMP: &str = "state.tmp";
const KEY: &str = "storage.key";
const KEY_TMP: &str = "storage.key.tmp";
const BLOB_PREFIX: &str = "blob-";
/// The prefix of blobs staged in sealed segments.
const SEGMENTS_PREFIX: &str = "segs-";
/// The plaintext bytes of one sealed segment of a staged blob.
pub(crate) const SEGMENT: usize = 64 * 1024;
const SEAL: ContentAlg = ContentAlg::A256Gcm;
/// Room for what a cipher may append in place while sealing (a tag or a
/// block of padding), so that the buffer never reallocates.
const SEAL_BLOCK: usize = 16;

/// Secure storage in a directory (see the module documentation).
pub struct SoftStorage {
    dir: PathBuf,
    fs: Arc<dyn Fs>,
    provider: Provider,
    key: SecretBytes,
    max_bytes: Option<u64>,
    read_only: bool,
    /// Held for the storage's lifetime (see [`SoftStorage::with_lock`]).
    _lock: Option<DirLock>,
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

fn missing_key(path: &Path) -> StorageError {
    StorageError::Corrupt(format!(
        "the sealing key {} is missing (without it the state cannot be read)",
        path.display()
    ))
}

fn blob_file(id: &BlobId) -> Result<String, StorageError> {
    named(BLOB_PREFIX, id)
}

/// The file of a blob staged in segments.
fn segments_file(id: &BlobId) -> Result<String, StorageError> {
    named(SEGMENTS_PREFIX, id)
}

fn named(prefix: &str, id: &BlobId) -> Result<String, StorageError> {
    let ok = !id.0.is_empty()
        && id
            .0
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(format!("{prefix}{}", id.0))
    } else {
        Err(StorageError::Corrupt(format!("bad blob name {id}")))
    }
}

/// The additional data of segment `index` of the file `name`.
fn segment_aad(name: &str, index: u64, last: bool) -> Vec<u8> {
    let mut aad = name.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(u8::from(last));
    aad
}

/// The bytes on disk of a blob of `len` bytes sealed in segments: each
/// segment (at least one) adds an IV and a tag.
fn segmented_len(len: usize) -> u64 {
    let segments = len.div_ceil(SEGMENT).max(1);
    let overhead = SEAL.iv_len() + SEAL.tag_len();
    (len as u64).saturating_add(segments.saturating_mul(overhead) as u64)
}

/// Whether `name` is a blob file (either form).
fn is_blob_file(name: &str) -> bool {
    name.starts_with(BLOB_PREFIX) || name.starts_with(SEGMENTS_PREFIX)
}

impl SoftStorage {
    /// Opens (or initialises) the storage in `dir`: creates the storage key
    /// on first use, and removes files that no committed state names (what
    /// an interrupted commit left behind).
    pub fn open(dir: &Path, fs: Arc<dyn Fs>, provider: Provider) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let key_path = dir.join(KEY);
        let key = match fs.read(&key_path) {
            Ok(k) => Self::check_key(k)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if fs.read(&dir.join(STATE)).is_ok() {
                    return Err(missing_key(&key_path));
                }
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
            Err(e) => return Err(io(e)),
        };
        let mut storage = SoftStorage {
            dir: dir.to_path_buf(),
            fs,
            provider,
            key,
            max_bytes: None,
            read_only: false,
            _lock: None,
        };
        storage.collect_garbage()?;
        Ok(storage)
    }

    /// Opens the storage in `dir` for reading only: nothing is created,
    /// collected or committed (a commit fails), and a missing sealing key
    /// is reported as missing.
    pub fn open_read_only(
        dir: &Path,
        fs: Arc<dyn Fs>,
        provider: Provider,
    ) -> Result<Self, StorageError> {
        let key_path = dir.join(KEY);
        let key = match fs.read(&key_path) {
            Ok(k) => Self::check_key(k)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(missing_key(&key_path));
            }
            Err(e) => return Err(io(e)),
        };
        Ok(SoftStorage {
            dir: dir.to_path_buf(),
            fs,
            provider,
            key,
            max_bytes: None,
            read_only: true,
            _lock: None,
        })
    }

    fn check_key(k: Vec<u8>) -> Result<SecretBytes, StorageError> {
        let k = SecretBytes::new(k);
        if k.as_bytes().len() == SEAL.key_len() {
            Ok(k)
        } else {
            Err(StorageError::Corrupt(format!(
                "the sealing key {KEY} is not {} bytes long",
                SEAL.key_len()
            )))
        }
    }

    /// Keeps `lock` (the directory's [`DirLock`]) until the storage drops.
    pub fn with_lock(mut self, lock: DirLock) -> Self {
        self._lock = Some(lock);
        self
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
        self.seal_with(name.as_bytes(), plaintext)
    }

    /// Seals `plaintext` with `aad` as additional data: IV, ciphertext, tag.
    fn seal_with(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StorageError> {
        let cipher = self
            .provider
            .content_cipher(SEAL)
            .map_err(|e| StorageError::Io(e.to_string()))?;
        let iv = self
            .provider
            .random_bytes(SEAL.iv_len())
            .map_err(|e| StorageError::Io(e.to_string()))?;
        // One buffer of the final size (IV, ciphertext with its padding,
        // tag): sealing a large TA costs one copy of it, not three. The copy
        // holds the plaintext (a TA binary) until encryption: wiped even if
        // encryption fails, and never reallocated (the capacity covers the
        // padding), so no unwiped copy is left behind.
        let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(
            iv.len() + plaintext.len() + SEAL.tag_len() + SEAL_BLOCK,
        ));
        buf.extend_from_slice(plaintext);
        let tag = cipher
            .encrypt(&self.key, &iv, aad, &mut buf)
            .map_err(|e| StorageError::Io(e.to_string()))?;
        // Ciphertext now: public, handed out without a copy.
        let mut out = core::mem::take(&mut *buf);
        out.splice(0..0, iv);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unseal(&self, name: &str, sealed: &[u8]) -> Result<SecretBytes, StorageError> {
        self.unseal_with(name, name.as_bytes(), sealed)
    }

    /// Reads a blob staged in segments: every segment must authenticate,
    /// in order, the last one marked last.
    fn unseal_segments(&self, name: &str, sealed: &[u8]) -> Result<SecretBytes, StorageError> {
        let full = SEAL.iv_len() + SEGMENT + SEAL.tag_len();
        let count = sealed.len().div_ceil(full).max(1);
        let mut out = Zeroizing::new(Vec::with_capacity(count.saturating_mul(SEGMENT)));
        for index in 0..count {
            let start = index.saturating_mul(full);
            let segment = sealed
                .get(start..sealed.len().min(start.saturating_add(full)))
                .unwrap_or_default();
            let aad = segment_aad(name, index as u64, index + 1 == count);
            out.extend_from_slice(self.unseal_with(name, &aad, segment)?.as_bytes());
        }
        Ok(SecretBytes::new(core::mem::take(&mut *out)))
    }

    fn unseal_with(
        &self,
        name: &str,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, StorageError> {
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
        // Wiped if the tag does not verify (a backend may have decrypted).
        let mut buf = zeroize::Zeroizing::new(ct.to_vec());
        cipher
            .decrypt(&self.key, iv, aad, &mut buf, tag)
            .map_err(|_| corrupt())?;
        Ok(SecretBytes::new(core::mem::take(&mut *buf)))
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
                .flat_map(|id| [blob_file(id), segments_file(id)])
                .collect::<Result<_, _>>()?,
            None => BTreeSet::new(),
        };
        for (name, _) in self.fs.list(&self.dir).map_err(io)? {
            let stale =
                name.ends_with(".tmp") || (is_blob_file(&name) && !referenced.contains(&name));
            if stale {
                // Best effort: a leftover is retried at the next open.
                let _ = self.fs.remove(&self.dir.join(&name));
            }
        }
        Ok(())
    }

    /// The bytes of blob files, but those of `deleted` ids.
    fn blob_bytes(&self, deleted: &[BlobId]) -> Result<u64, StorageError> {
        let deleted: BTreeSet<String> = deleted
            .iter()
            .flat_map(|id| [blob_file(id), segments_file(id)])
            .collect::<Result<_, _>>()?;
        let mut used: u64 = 0;
        for (name, len) in self.fs.list(&self.dir).map_err(io)? {
            if is_blob_file(&name) && !deleted.contains(&name) {
                used = used.saturating_add(len);
            }
        }
        Ok(used)
    }

    /// Creates the (empty) file of blob `id` in sealed segments, written
    /// through the returned [`Staged`]; `room` is the quota left, if any,
    /// `buffer` the capacity of its segment buffer ([`SEGMENT`] to take
    /// pieces of any size, none to take the blob whole).
    fn staged(
        &self,
        id: &BlobId,
        room: Option<u64>,
        buffer: usize,
    ) -> Result<Staged<'_>, StorageError> {
        let name = segments_file(id)?;
        let path = self.dir.join(&name);
        self.fs.write(&path, &[]).map_err(io)?;
        Ok(Staged {
            storage: self,
            path,
            name,
            buf: Zeroizing::new(Vec::with_capacity(buffer)),
            index: 0,
            room,
        })
    }

    /// Staged blobs are files already: counted by [`SoftStorage::blob_bytes`].
    fn check_capacity(&self, commit: &Commit<'_>) -> Result<(), StorageError> {
        let Some(max) = self.max_bytes else {
            return Ok(());
        };
        let overhead = (SEAL.iv_len() + SEAL.tag_len()) as u64;
        let mut used = self.blob_bytes(&commit.delete)?;
        for (_, data) in &commit.put {
            used = used.saturating_add(segmented_len(data.len()));
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
        if self.read_only {
            return Err(StorageError::Io(format!(
                "{} was opened read-only",
                self.dir.display()
            )));
        }
        self.check_capacity(commit)?;
        // Each new blob is sealed segment by segment as it is written (the
        // quota was checked for the whole commit above): a large TA costs
        // one segment of memory here, not a sealed copy of itself.
        for (id, data) in &commit.put {
            self.staged(id, None, 0)?.write_whole(data)?;
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
            for name in [blob_file(id), segments_file(id)].into_iter().flatten() {
                let _ = self.fs.remove(&self.dir.join(name));
            }
        }
        Ok(())
    }

    fn read_blob(&self, id: &BlobId) -> Result<SecretBytes, StorageError> {
        let name = blob_file(id)?;
        if let Ok(bytes) = self.fs.read(&self.dir.join(&name)) {
            return self.unseal(&name, &bytes);
        }
        let name = segments_file(id)?;
        let bytes = self
            .fs
            .read(&self.dir.join(&name))
            .map_err(|_| StorageError::NotFound(id.clone()))?;
        self.unseal_segments(&name, &bytes)
    }

    fn stage_blob(&self, id: &BlobId) -> Result<Option<Box<dyn BlobWriter + '_>>, StorageError> {
        if self.read_only {
            return Err(StorageError::Io(format!(
                "{} was opened read-only",
                self.dir.display()
            )));
        }
        let room = match self.max_bytes {
            Some(max) => Some(max.saturating_sub(self.blob_bytes(&[])?)),
            None => None,
        };
        Ok(Some(Box::new(self.staged(id, room, SEGMENT)?)))
    }

    fn discard_staged(&self, id: &BlobId) {
        if let Ok(name) = segments_file(id) {
            let _ = self.fs.remove(&self.dir.join(name));
        }
    }
}

/// A blob being written in sealed segments: staged before its commit
/// ([`SoftStorage::stage_blob`]) or a blob of a commit's `put`.
struct Staged<'s> {
    storage: &'s SoftStorage,
    path: PathBuf,
    name: String,
    /// The plaintext of the segment being filled (wiped when sealed).
    buf: Zeroizing<Vec<u8>>,
    index: u64,
    /// Sealed bytes the quota still allows.
    room: Option<u64>,
}

impl Staged<'_> {
    /// Seals the buffered segment and appends it to the file.
    fn flush(&mut self, last: bool) -> Result<(), StorageError> {
        let mut buf = core::mem::take(&mut *self.buf);
        let sealed = self.seal_segment(&buf, last);
        // The plaintext is wiped whatever happened; the buffer keeps its
        // capacity (never reallocated: nothing unwiped is left behind).
        buf.as_mut_slice().zeroize();
        buf.clear();
        *self.buf = buf;
        sealed
    }

    /// Seals the next segment, `plaintext`, and appends it to the file.
    fn seal_segment(&mut self, plaintext: &[u8], last: bool) -> Result<(), StorageError> {
        let aad = segment_aad(&self.name, self.index, last);
        let sealed = self.storage.seal_with(&aad, plaintext)?;
        if let Some(room) = &mut self.room {
            *room = room
                .checked_sub(sealed.len() as u64)
                .ok_or(StorageError::Full)?;
        }
        self.storage.fs.append(&self.path, &sealed).map_err(io)?;
        self.index += 1;
        Ok(())
    }

    /// Appends `piece` to the blob, sealing each segment once it is full
    /// and more data shows it is not the last one.
    fn write(&mut self, mut piece: &[u8]) -> Result<(), StorageError> {
        while !piece.is_empty() {
            // A full segment is sealed once more data shows it is not the
            // last one.
            if self.buf.len() == SEGMENT {
                self.flush(false)?;
            }
            let take = piece.len().min(SEGMENT - self.buf.len());
            let (now, later) = piece.split_at(take);
            self.buf.extend_from_slice(now);
            piece = later;
        }
        Ok(())
    }

    /// Seals the last segment and makes the file durable.
    fn close(mut self) -> Result<(), StorageError> {
        self.flush(true)?;
        self.storage.fs.fsync_file(&self.path).map_err(io)
    }

    /// Writes a whole blob, `data`, into the empty file and makes it
    /// durable: each segment sealed straight from `data` (no segment
    /// buffer), the same segments [`Staged::write`] and [`Staged::close`]
    /// would write.
    fn write_whole(mut self, data: &[u8]) -> Result<(), StorageError> {
        let count = data.len().div_ceil(SEGMENT).max(1);
        let mut segments = data.chunks(SEGMENT);
        for index in 1..=count {
            self.seal_segment(segments.next().unwrap_or_default(), index == count)?;
        }
        self.storage.fs.fsync_file(&self.path).map_err(io)
    }
}

impl BlobWriter for Staged<'_> {
    fn write(&mut self, piece: &[u8]) -> Result<(), StorageError> {
        Staged::write(self, piece)
    }

    fn finish(self: Box<Self>) -> Result<(), StorageError> {
        self.close()
    }
}
