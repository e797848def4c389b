//! Success paths of all seven commands through the soft TEE, with the RSA
//! and the EC hierarchies of test-pki.

mod support;

use otrp_core::message::{ErrorCode, SdChanges};
use support::*;

#[test]
fn get_device_state_and_create_sd_rsa() {
    smoke(Kind::Rsa);
}

#[test]
fn get_device_state_and_create_sd_ec() {
    smoke(Kind::Ec);
}

fn smoke(kind: Kind) {
    let dir = TempDir::new("smoke");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    let r = tam.query(&mut tee);
    assert_eq!(r.tbs["signerreq"], false);
    assert_eq!(tam.dsi.as_ref().unwrap().tee.sdlist.sd.len(), 0);
    let req = tam.create_sd("sp1", "sd1");
    let r = tam.send(&mut tee, &req);
    r.pass();
    let content = r.content.unwrap();
    assert!(content["teespaik"].is_string());
    let dsi = tam.dsi.as_ref().unwrap();
    assert_eq!(dsi.tee.sdlist.sd[0].name, "sd1");
    assert_eq!(dsi.tee.teeaiklist.len(), 1);
    // The same name again.
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::SdAlreadyExists);
    let _ = SdChanges::default();
}
