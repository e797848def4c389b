//! TA anti-rollback (issue 13): the TEE keeps per `taid` the highest
//! version it ever installed and refuses an InstallTA or UpdateTA whose
//! version is not higher (ERR_TA_INVALID, state unchanged), across
//! restarts, DeleteTA, DeleteSD, other SDs and other TAMs; the local
//! `rollback_ta` still restores the kept previous version without lowering
//! the floor.

// The RustCrypto target (see docs/testing.md).
otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use otrp_core::message::ErrorCode;
use otrp_core::tee::Tee;
use support::*;

const KIND: Kind = Kind::Ec;

/// Sends `request`, expects ERR_TA_INVALID, and checks the SDs, TAs, SP
/// AIKs, floors and blobs did not change.
fn refused(tee: &mut Tee, tam: &mut Tam, request: &[u8]) {
    let before = (
        tee.state().sds.clone(),
        tee.state().sp_aiks.clone(),
        tee.state().ta_floors.clone(),
        tee.state().blobs(),
    );
    tam.send(tee, request).fails_with(ErrorCode::TaInvalid);
    let after = (
        tee.state().sds.clone(),
        tee.state().sp_aiks.clone(),
        tee.state().ta_floors.clone(),
        tee.state().blobs(),
    );
    assert_eq!(after, before);
}

fn image(version: u64) -> Vec<u8> {
    ta_image(
        KIND,
        "ta1",
        version,
        format!("ta1 v{version}").as_bytes(),
        "t",
    )
}

/// The `taversion` of `taid` in the DSI the TAM last received.
fn listed_version(tam: &Tam, taid: &str) -> Option<u64> {
    tam.dsi
        .as_ref()?
        .tee
        .sdlist
        .sd
        .iter()
        .flat_map(|sd| &sd.talist)
        .find(|ta| ta.taid == taid)?
        .version
}

#[test]
fn updates_only_move_forward() {
    let dir = TempDir::new("rollback-update");
    let mut tee = open_tee(KIND, dir.path());
    let mut tam = Tam::new(KIND);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    let req = tam.install_ta("sp1", "sd1", "ta1", &image(3), None);
    tam.send(&mut tee, &req).pass();
    assert_eq!(tee.state().ta_floor("ta1"), Some(3));
    assert_eq!(listed_version(&tam, "ta1"), Some(3));

    // The same version and an older one are refused; a newer one installs.
    for old in [3, 2, 0] {
        let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image(old)), None);
        refused(&mut tee, &mut tam, &req);
    }
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image(4)), None);
    tam.send(&mut tee, &req).pass();
    assert_eq!(listed_version(&tam, "ta1"), Some(4));
    assert_eq!(tee.state().ta_floor("ta1"), Some(4));

    // The device's own rollback restores v3 and keeps the floor at 4.
    tee.rollback_ta("sd1", "ta1").unwrap();
    assert_eq!(tee.state().ta_floor("ta1"), Some(4));
    tam.query(&mut tee);
    assert_eq!(listed_version(&tam, "ta1"), Some(3));
    // To move forward again the TAM ships a version above 4, after a
    // restart too.
    drop(tee);
    let mut tee = open_tee(KIND, dir.path());
    tam.query(&mut tee);
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image(4)), None);
    refused(&mut tee, &mut tam, &req);
    // Personalization data alone carries no version and stays possible.
    let req = tam.update_ta("sp1", "sd1", "ta1", None, Some(b"pdata"));
    tam.send(&mut tee, &req).pass();
    assert_eq!(listed_version(&tam, "ta1"), Some(3));
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image(5)), None);
    tam.send(&mut tee, &req).pass();
    assert_eq!(listed_version(&tam, "ta1"), Some(5));
    assert_eq!(tee.state().ta_floor("ta1"), Some(5));
}

#[test]
fn delete_then_reinstall_is_no_way_around() {
    let dir = TempDir::new("rollback-delete");
    let mut tee = open_tee(KIND, dir.path());
    let mut tam = Tam::new(KIND);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    let req = tam.install_ta("sp1", "sd1", "ta1", &image(2), None);
    tam.send(&mut tee, &req).pass();

    // DeleteTA keeps the floor.
    let req = tam.delete_ta("sd1", "ta1");
    tam.send(&mut tee, &req).pass();
    assert_eq!(tee.state().ta_floor("ta1"), Some(2));
    for old in [1, 2] {
        let req = tam.install_ta("sp1", "sd1", "ta1", &image(old), None);
        refused(&mut tee, &mut tam, &req);
    }
    let req = tam.install_ta("sp1", "sd1", "ta1", &image(3), None);
    tam.send(&mut tee, &req).pass();

    // DeleteSD (with its TAs, the SP's last SD: its AIK goes too) keeps it,
    // across a restart.
    let req = tam.delete_sd("sd1", Some(true));
    tam.send(&mut tee, &req).pass();
    assert!(tee.state().sds.is_empty() && tee.state().sp_aiks.is_empty());
    drop(tee);
    let mut tee = open_tee(KIND, dir.path());
    assert_eq!(tee.state().ta_floor("ta1"), Some(3));
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    let req = tam.install_ta("sp1", "sd1", "ta1", &image(3), None);
    refused(&mut tee, &mut tam, &req);

    // Another SD, and another TAM with its own SD: the floor is the
    // device's, whoever installs the TA.
    let req = tam.create_sd("sp2", "sd2");
    tam.send(&mut tee, &req).pass();
    let req = tam.install_ta("sp2", "sd2", "ta1", &image(1), None);
    refused(&mut tee, &mut tam, &req);
    let mut other = Tam::named(KIND, "tam-rid", "tam-rid-good.der");
    other.query(&mut tee);
    let req = other.create_sd("sp9", "other-sd");
    other.send(&mut tee, &req).pass();
    let req = other.install_ta("sp9", "other-sd", "ta1", &image(2), None);
    refused(&mut tee, &mut other, &req);
    // A TA never installed has no floor: any version installs.
    let v0 = ta_image(KIND, "ta9", 0, b"ta9", "t");
    let req = other.install_ta("sp9", "other-sd", "ta9", &v0, None);
    other.send(&mut tee, &req).pass();
    assert_eq!(tee.state().ta_floor("ta9"), Some(0));
}
