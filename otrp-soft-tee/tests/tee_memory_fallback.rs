//! The streaming TA hook's memory-only fallback (issue 17): a platform
//! with `TaPlatform::begin_ta` (the soft TEE's default) over a storage
//! without `SecureStorage::stage_blob` (the trait's default `Ok(None)`).
//! The agent then decrypts in place chunk by chunk, checks each chunk as it
//! streams, collects the image in memory and puts it in the commit. This
//! path must install, update and refuse like the others: the image stored
//! is the one sent, nothing is staged, and a refusal commits nothing.

// RustCrypto and aws-lc verify over a digest, so the soft TEE streams on
// them (not on ring, where `begin_ta` declines). `tee_memory_fallback_aws_lc.rs`
// includes this file as a module.
otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use otrp_core::crypto::{Provider, SecretBytes};
use otrp_core::message::{ErrorCode, TaEncAlg};
use otrp_core::pki::UnixTime;
use otrp_core::tee::{
    BlobId, Commit, SecureStorage, StorageError, TaError, TaPlatform, TaStream, Tee, TeeHooks,
    VerifiedTa,
};
use otrp_soft_tee::{SoftSpAik, SoftStorage, SoftTaPlatform, StdFs};
use support::*;

/// What the storage and the platform saw.
#[derive(Default)]
struct Seen {
    /// Per commit, the sizes of its `put` blobs and how many were staged.
    commits: Mutex<Vec<(Vec<usize>, usize)>>,
    /// `begin_ta` calls that returned a stream.
    streams: AtomicUsize,
    /// `decrypt_ta_blocks` calls (the streamed decryption).
    blocks: AtomicUsize,
}

/// [`SoftStorage`] without `stage_blob`: blobs only in a commit's `put`.
struct CommitOnly {
    inner: SoftStorage,
    seen: Arc<Seen>,
}

impl SecureStorage for CommitOnly {
    fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.load()
    }
    fn commit(&mut self, commit: &Commit<'_>) -> Result<(), StorageError> {
        let puts = commit.put.iter().map(|(_, data)| data.len()).collect();
        if let Ok(mut c) = self.seen.commits.lock() {
            c.push((puts, commit.staged.len()));
        }
        self.inner.commit(commit)
    }
    fn read_blob(&self, id: &BlobId) -> Result<SecretBytes, StorageError> {
        self.inner.read_blob(id)
    }
}

/// The soft TEE's streaming platform, counting its streamed calls.
struct Streaming {
    inner: SoftTaPlatform,
    seen: Arc<Seen>,
}

impl TaPlatform for Streaming {
    fn decrypt_ta_data(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        data: &[u8],
    ) -> Result<SecretBytes, TaError> {
        self.inner.decrypt_ta_data(alg, key, iv, data)
    }
    fn verify_ta(
        &self,
        provider: &Provider,
        taid: &str,
        image: &[u8],
        sp_certs: &[&[u8]],
        now: UnixTime,
    ) -> Result<VerifiedTa, TaError> {
        self.inner.verify_ta(provider, taid, image, sp_certs, now)
    }
    fn begin_ta<'a>(
        &'a self,
        provider: &'a Provider,
        taid: &'a str,
        sp_certs: &'a [&'a [u8]],
        now: UnixTime,
    ) -> Option<Box<dyn TaStream + 'a>> {
        let stream = self.inner.begin_ta(provider, taid, sp_certs, now);
        if stream.is_some() {
            self.seen.streams.fetch_add(1, Ordering::SeqCst);
        }
        stream
    }
    fn decrypt_ta_blocks(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        blocks: &mut [u8],
    ) -> Result<(), TaError> {
        self.seen.blocks.fetch_add(1, Ordering::SeqCst);
        self.inner.decrypt_ta_blocks(alg, key, iv, blocks)
    }
}

const KIND: Kind = Kind::Ec;

/// A soft TEE in `dir` whose storage cannot stage.
fn open(dir: &Path, seen: &Arc<Seen>) -> Tee {
    let provider = provider();
    let hooks = TeeHooks {
        identity: Box::new(identity(KIND)),
        sp_aik: Box::new(SoftSpAik::new(provider)),
        storage: Box::new(CommitOnly {
            inner: SoftStorage::open(dir, Arc::new(StdFs), provider).unwrap(),
            seen: seen.clone(),
        }),
        ta: Box::new(Streaming {
            inner: SoftTaPlatform::default(),
            seen: seen.clone(),
        }),
        firmware: None,
        clock: None,
    };
    Tee::open(config(KIND), provider, hooks).unwrap()
}

/// The image and pdata of TA `taid` in SD "sd1", as stored.
fn stored(tee: &Tee, taid: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    let sd = tee.state().sd(TAMID, "sd1").unwrap();
    let ta = sd.tas.iter().find(|t| t.taid == taid).unwrap();
    let storage = &tee.hooks().storage;
    let image = storage.read_blob(&ta.current.image).unwrap();
    let pdata = ta
        .current
        .pdata
        .as_ref()
        .map(|p| storage.read_blob(p).unwrap().as_bytes().to_vec());
    (image.as_bytes().to_vec(), pdata)
}

/// The files in `dir`.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_ta_streams_into_memory_when_the_storage_cannot_stage() {
    let dir = TempDir::new("fallback");
    let seen = Arc::new(Seen::default());
    let mut tee = open(dir.path(), &seen);
    let mut tam = Tam::new(KIND);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();

    // InstallTA: several agent chunks (64 KiB), streamed, committed whole.
    let code: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let image = ta_image(KIND, "ta1", 1, &code, "t");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata v1"));
    seen.commits.lock().unwrap().clear();
    tam.send(&mut tee, &req).pass();
    assert_eq!(seen.streams.load(Ordering::SeqCst), 1, "begin_ta streamed");
    assert!(
        seen.blocks.load(Ordering::SeqCst) > 3,
        "decrypted in chunks"
    );
    {
        let commits = seen.commits.lock().unwrap();
        let [(puts, staged)] = commits.as_slice() else {
            panic!("one commit: {commits:?}");
        };
        assert_eq!(*staged, 0, "nothing staged");
        assert!(puts.contains(&image.len()), "the image in the commit");
    }
    assert_eq!(
        stored(&tee, "ta1"),
        (image.clone(), Some(b"pdata v1".to_vec()))
    );

    // UpdateTA: the new version the same way; the old one kept as previous.
    let image2 = ta_image(KIND, "ta1", 2, &code[..100_000], "t");
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image2), None);
    seen.commits.lock().unwrap().clear();
    tam.send(&mut tee, &req).pass();
    assert_eq!(seen.streams.load(Ordering::SeqCst), 2);
    assert!(
        seen.commits.lock().unwrap()[0].0.contains(&image2.len()),
        "the new image in the commit"
    );
    assert_eq!(stored(&tee, "ta1").0, image2);

    // Refusals after the whole image streamed (another signer, another
    // taid, a version at the anti-rollback floor) commit nothing and leave
    // the directory as it was.
    let state = tee.state().clone();
    let before = files(dir.path());
    let other = private_key(KIND, "tam");
    let info = otrp_soft_tee::TaImageInfo {
        taid: "ta2".into(),
        version: 1,
        taname: None,
    };
    let untrusted =
        otrp_soft_tee::sign_ta_image(&code, &info, other.as_ref(), KIND.alg(), &provider())
            .unwrap();
    let for_ta1 = ta_image(KIND, "ta1", 9, &code, "t");
    let old = ta_image(KIND, "ta1", 2, &code, "t");
    let refusals = [
        tam.install_ta("sp1", "sd1", "ta2", &untrusted, None),
        tam.install_ta("sp1", "sd1", "ta2", &for_ta1, None),
        tam.update_ta("sp1", "sd1", "ta1", Some(&old), None),
    ];
    seen.commits.lock().unwrap().clear();
    let streams = seen.streams.load(Ordering::SeqCst);
    for req in refusals {
        tam.send(&mut tee, &req).fails_with(ErrorCode::TaInvalid);
    }
    assert_eq!(seen.streams.load(Ordering::SeqCst), streams + 3);
    // A refusal commits only the replay log (the request ids), never a blob.
    for (puts, staged) in seen.commits.lock().unwrap().iter() {
        assert_eq!((puts.len(), *staged), (0, 0), "a refusal stored a blob");
    }
    assert_eq!(tee.state().sds, state.sds);
    assert_eq!(tee.state().ta_floors, state.ta_floors);
    assert_eq!(tee.state().blobs(), state.blobs());
    assert_eq!(files(dir.path()), before);
    assert_eq!(stored(&tee, "ta1").0, image2);

    // The state reopens as written.
    drop(tee);
    let tee = open(dir.path(), &seen);
    assert_eq!(stored(&tee, "ta1").0, image2);
}
