//! Crash safety: a storage that crashes at every write, append, rename and
//! fsync of InstallTA, UpdateTA and DeleteTA in turn. After each crash,
//! reopening the store yields exactly the old or the new state (document
//! and blob contents), never a mix, the TEE still answers GetDeviceState,
//! and the TA anti-rollback floor still refuses the highest version
//! installed. TAs arrive through the streaming TA hook (the soft TEE's
//! default: a TA staged in sealed segments before the commit) and through
//! the whole-image hooks.

// The RustCrypto target. `tee_crash_aws_lc.rs` and `tee_crash_composed.rs` include this
// file as a module; the support module builds everything with the provider
// named at the root of the running target (`crate::provider_under_test`).
otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use otrp_core::tee::TeeState;
use otrp_soft_tee::{FaultyFs, SoftTeeOptions};
use support::*;

const KIND: Kind = Kind::Ec;

/// The state document and the plaintext of every blob it names.
fn snapshot(dir: &Path) -> (TeeState, BTreeMap<String, Vec<u8>>) {
    let tee = open_tee(KIND, dir);
    let state = tee.state().clone();
    let blobs = state
        .blobs()
        .into_iter()
        .map(|id| {
            let data = tee
                .hooks()
                .storage
                .read_blob(&id)
                .expect("every named blob exists");
            (id.0, data.as_bytes().to_vec())
        })
        .collect();
    (state, blobs)
}

/// A device with SD "sd1"; with `ta` also TA "ta1" (v1, with pdata).
fn template(ta: bool) -> (TempDir, Tam) {
    let dir = TempDir::new("crash-template");
    let mut tee = open_tee(KIND, dir.path());
    let mut tam = Tam::new(KIND);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    if ta {
        let image = ta_image(KIND, "ta1", 1, b"code v1", "t");
        let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata v1"));
        tam.send(&mut tee, &req).pass();
    }
    (dir, tam)
}

/// The anti-rollback floor of "ta1" survived: it is at least every
/// installed version, and ta1 at the floor's version is refused whether it
/// comes as an UpdateTA (ta1 installed) or an InstallTA (ta1 deleted).
fn floor_holds(tee: &mut otrp_core::tee::Tee, tam: &mut Tam) {
    let Some(floor) = tee.state().ta_floor("ta1") else {
        assert!(tee.state().sds.iter().all(|sd| sd.tas.is_empty()));
        return;
    };
    let installed = tee.state().sd(TAMID, "sd1").and_then(|sd| {
        sd.tas
            .iter()
            .find(|t| t.taid == "ta1")
            .map(|t| t.current.version)
    });
    assert!(installed.is_none_or(|v| v <= floor));
    let image = ta_image(KIND, "ta1", floor, b"replayed old version", "t");
    let req = match installed {
        Some(_) => tam.update_ta("sp1", "sd1", "ta1", Some(&image), None),
        None => tam.install_ta("sp1", "sd1", "ta1", &image, None),
    };
    tam.send(tee, &req)
        .fails_with(otrp_core::message::ErrorCode::TaInvalid);
}

fn crash_at_every_step(template: &Path, tam: &mut Tam, request: &[u8], whole_ta_hooks: bool) {
    let old = snapshot(template);
    let done = copy_dir(template, "crash-new");
    {
        let mut tee = open_tee(KIND, done.path());
        tam.send(&mut tee, request).pass();
    }
    let new = snapshot(done.path());
    assert_ne!(old, new);

    let mut outcomes = (0, 0);
    for k in 0.. {
        let dir = copy_dir(template, "crash");
        let fs = FaultyFs::new(k);
        {
            let options = SoftTeeOptions {
                fs: Some(Arc::new(fs.clone())),
                whole_ta_hooks,
                ..SoftTeeOptions::default()
            };
            let mut tee = open_tee_with(KIND, dir.path(), config(KIND), options);
            let response = tee.handle(request, now()).expect("a signed response");
            let reply = tam.read(&response);
            if !fs.crashed() {
                // Every step was reached without a crash: done.
                reply.pass();
                assert!(
                    k >= 4,
                    "a commit takes at least write, fsync, rename, fsync dir"
                );
                break;
            }
        }
        let after = snapshot(dir.path());
        if after == old {
            outcomes.0 += 1;
        } else if after == new {
            outcomes.1 += 1;
        } else {
            panic!("crash at step {k} left a mixed state");
        }
        // No leftovers: only the key, the state and the named blobs.
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(
            files,
            2 + after.1.len(),
            "crash at step {k} left stray files"
        );
        let mut tee = open_tee(KIND, dir.path());
        let mut probe = Tam::new(KIND);
        probe.query(&mut tee);
        floor_holds(&mut tee, &mut probe);
    }
    assert!(outcomes.0 > 0, "some crashes keep the old state");
    assert!(
        outcomes.1 > 0,
        "a crash after the rename keeps the new state"
    );
}

#[test]
fn install_ta_survives_a_crash_at_every_step() {
    let (template, mut tam) = template(false);
    let image = ta_image(KIND, "ta1", 1, b"code v1", "t");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata"));
    crash_at_every_step(template.path(), &mut tam, &req, false);
    crash_at_every_step(template.path(), &mut tam, &req, true);
}

/// A TA of several storage segments (64 KiB each) and several agent
/// chunks: a crash between any two appends of the blob, staged (the
/// streaming hook) or sealed in the commit (the whole-image hooks).
#[test]
fn a_streamed_ta_of_several_segments_survives_a_crash_at_every_step() {
    let (template, mut tam) = template(false);
    let code: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
    let image = ta_image(KIND, "ta1", 1, &code, "t");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, None);
    crash_at_every_step(template.path(), &mut tam, &req, false);
    // The whole-image hooks: the commit seals the TA segment by segment.
    crash_at_every_step(template.path(), &mut tam, &req, true);
    // Either way the TA is stored in segments (three of 64 KiB here) and
    // read back whole.
    for whole_ta_hooks in [false, true] {
        let dir = copy_dir(template.path(), "segments");
        let options = SoftTeeOptions {
            whole_ta_hooks,
            ..SoftTeeOptions::default()
        };
        let mut tee = open_tee_with(KIND, dir.path(), config(KIND), options);
        tam.send(&mut tee, &req).pass();
        let ta = tee.state().sd(TAMID, "sd1").unwrap().tas[0]
            .current
            .image
            .clone();
        let file = dir.path().join(format!("segs-{}", ta.0));
        let segments = std::fs::metadata(&file).unwrap().len().div_ceil(65536 + 28);
        assert_eq!(segments, image.len().div_ceil(65536) as u64);
        let stored = tee.hooks().storage.read_blob(&ta).unwrap();
        assert_eq!(stored.as_bytes(), image.as_slice());
    }
}

#[test]
fn update_ta_survives_a_crash_at_every_step() {
    let (template, mut tam) = template(true);
    let image = ta_image(KIND, "ta1", 2, b"code v2", "t");
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image), Some(b"pdata v2"));
    crash_at_every_step(template.path(), &mut tam, &req, false);
    crash_at_every_step(template.path(), &mut tam, &req, true);
}

#[test]
fn delete_ta_survives_a_crash_at_every_step() {
    let (template, mut tam) = template(true);
    let req = tam.delete_ta("sd1", "ta1");
    crash_at_every_step(template.path(), &mut tam, &req, false);
    // Both outcomes of every crash kept the floor of the deleted TA.
    assert_eq!(snapshot(template.path()).0.ta_floor("ta1"), Some(1));
}
