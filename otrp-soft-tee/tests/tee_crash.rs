//! Crash safety: a storage that crashes at every write, rename and fsync of
//! InstallTA, UpdateTA and DeleteTA in turn. After each crash, reopening the
//! store yields exactly the old or the new state (document and blob
//! contents), never a mix, and the TEE still answers GetDeviceState.

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
        let image = ta_image(KIND, b"code v1", "t");
        let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata v1"));
        tam.send(&mut tee, &req).pass();
    }
    (dir, tam)
}

fn crash_at_every_step(template: &Path, tam: &mut Tam, request: &[u8]) {
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
    let image = ta_image(KIND, b"code v1", "t");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata"));
    crash_at_every_step(template.path(), &mut tam, &req);
}

#[test]
fn update_ta_survives_a_crash_at_every_step() {
    let (template, mut tam) = template(true);
    let image = ta_image(KIND, b"code v2", "t");
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image), Some(b"pdata v2"));
    crash_at_every_step(template.path(), &mut tam, &req);
}

#[test]
fn delete_ta_survives_a_crash_at_every_step() {
    let (template, mut tam) = template(true);
    let req = tam.delete_ta("sd1", "ta1");
    crash_at_every_step(template.path(), &mut tam, &req);
}
