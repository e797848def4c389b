//! Every error code a TEE can return, provoked with a real signed request,
//! and the state after a refused request is unchanged (SDs, TAs, SP AIKs,
//! blobs; only the rid/tid is recorded against replay).

// The RustCrypto target. `tee_errors_aws_lc.rs` and `tee_errors_composed.rs` include this
// file as a module; the support module builds everything with the provider
// named at the root of the running target (`crate::provider_under_test`).
otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use std::sync::Arc;

use otrp_core::message::{
    Base64Bytes, ErrorCode, InstallEncryptedTa, MessageKind, SdChanges, SigAlg, TaIv, TbsMessage,
};
use otrp_core::tee::{Tee, TeeState};
use otrp_soft_tee::{FaultyFs, SoftFirmware, SoftTeeOptions};
use support::*;

/// The SD/TA part of the state, with the TA anti-rollback floors.
fn registry(
    tee: &Tee,
) -> (
    Vec<otrp_core::tee::SdRecord>,
    Vec<otrp_core::tee::SpAikRecord>,
    Vec<otrp_core::tee::TaFloor>,
) {
    (
        tee.state().sds.clone(),
        tee.state().sp_aiks.clone(),
        tee.state().ta_floors.clone(),
    )
}

/// A TEE with one SD "sd1" (SP "sp1") holding TA "ta1", and its TAM.
fn setup(kind: Kind) -> (TempDir, Tee, Tam) {
    let dir = TempDir::new("err");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    let image = ta_image(kind, "ta1", 1, b"code", "t");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, None);
    tam.send(&mut tee, &req).pass();
    (dir, tee, tam)
}

/// Sends `request`, expects `code`, and checks that nothing but the replay
/// log changed.
fn refused(tee: &mut Tee, tam: &mut Tam, request: &[u8], code: ErrorCode) {
    let before = registry(tee);
    let blobs = tee.state().blobs();
    tam.send(tee, request).fails_with(code);
    assert_eq!(registry(tee), before);
    assert_eq!(tee.state().blobs(), blobs);
}

#[test]
fn request_invalid() {
    let (_d, mut tee, mut tam) = setup(Kind::Rsa);
    // A bad signature: the payload of one request under another's signature.
    let a: serde_json::Value = serde_json::from_slice(&tam.delete_ta("sd1", "ta1")).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&tam.delete_sd("sd1", None)).unwrap();
    let mut forged = a.clone();
    forged["DeleteTARequest"]["signature"] = b["DeleteSDRequest"]["signature"].clone();
    refused(
        &mut tee,
        &mut tam,
        forged.to_string().as_bytes(),
        ErrorCode::RequestInvalid,
    );
    // An undefined member in the signed payload.
    let tbs = tam.gds_tbs();
    let payload = String::from_utf8(tbs.to_payload())
        .unwrap()
        .replace("\"ver\"", "\"extra\":1,\"ver\"");
    let req = tam.sign_payload(MessageKind::GetDeviceState, payload.as_bytes(), true);
    refused(&mut tee, &mut tam, &req, ErrorCode::RequestInvalid);
    // A did that is not this TEE's.
    let mut c = tam.create_sd_content("sp1", "sd9");
    c.did.0[0] ^= 1;
    let req = tam.create_sd_with(&c, true);
    refused(&mut tee, &mut tam, &req, ErrorCode::RequestInvalid);
    // A replayed request.
    let req = tam.create_sd("sp1", "sd2");
    tam.send(&mut tee, &req).pass();
    refused(&mut tee, &mut tam, &req, ErrorCode::RequestInvalid);
    // Content the TEE key cannot decrypt (encrypted to the TAM's own key).
    let tee_key = std::mem::replace(
        &mut tam.tee_key,
        public_key_of_cert(&fixture(Kind::Rsa, "tam.der")),
    );
    let req = tam.delete_ta("sd1", "ta1");
    tam.tee_key = tee_key;
    refused(&mut tee, &mut tam, &req, ErrorCode::RequestInvalid);
}

#[test]
fn not_a_request_is_a_fault_for_the_broker() {
    let (_d, mut tee, _tam) = setup(Kind::Ec);
    assert!(matches!(
        tee.handle(b"{\"Hello\":{}}", now()),
        Err(otrp_core::tee::TeeFault::NotARequest(_))
    ));
}

#[test]
fn unsupported_msg_version() {
    let (_d, mut tee, mut tam) = setup(Kind::Rsa);
    let tbs = tam.gds_tbs();
    let payload = String::from_utf8(tbs.to_payload())
        .unwrap()
        .replace("\"1.0\"", "\"2.0\"");
    let req = tam.sign_payload(MessageKind::GetDeviceState, payload.as_bytes(), true);
    refused(&mut tee, &mut tam, &req, ErrorCode::UnsupportedMsgVersion);
}

#[test]
fn unsupported_crypto_alg_lists_supportedsigalgs() {
    let (_d, mut tee, mut tam) = setup(Kind::Rsa);
    // The TAM accepts only ES256, which an RSA TEE cannot make.
    let tbs = tam
        .gds_tbs()
        .with_supportedsigalgs([SigAlg::Known(otrp_core::crypto::JwsAlg::Es256)]);
    let req = tam.sign_payload(MessageKind::GetDeviceState, &tbs.to_payload(), true);
    let r = tam.send(&mut tee, &req);
    r.fails_with(ErrorCode::UnsupportedCryptoAlg);
    let algs = r.tbs["supportedsigalgs"].as_array().unwrap();
    assert!(algs.iter().any(|a| a == "RS256"));
    // An encrypted_ta algorithm the TEE does not know.
    let c = tam.ta_content("sp1", "sd1", "ta9", None);
    let tbs = otrp_core::message::InstallTaTbsRequest::new(
        tam.next_id(),
        otrp_core::message::MessageId::new("t"),
        TEE_NAME,
        tam.dsihash,
        tam.encrypt_to_tee(&otrp_core::message::ContentPlaintext::to_plaintext(&c)),
        InstallEncryptedTa::new(
            tam.wrap_ta_key("sp1", &[1; 32]),
            TaIv([0; 16]),
            Base64Bytes(vec![0; 16]),
        ),
    );
    let mut payload: serde_json::Value = serde_json::from_slice(&tbs.to_payload()).unwrap();
    payload["InstallTATBSRequest"]["encrypted_ta"]["alg"] = "DESCBC".into();
    let req = tam.sign_payload(MessageKind::InstallTa, payload.to_string().as_bytes(), true);
    refused(&mut tee, &mut tam, &req, ErrorCode::UnsupportedCryptoAlg);
}

#[test]
fn dev_state_mismatch() {
    let (_d, mut tee, mut tam) = setup(Kind::Ec);
    let stale = tam.dsihash;
    let req = tam.create_sd("sp1", "sd2");
    tam.send(&mut tee, &req).pass();
    tam.dsihash = stale;
    let req = tam.delete_ta("sd1", "ta1");
    refused(&mut tee, &mut tam, &req, ErrorCode::DevStateMismatch);
    // Without nextdsi the TAM's hash is stale after its own change too.
    let c = tam.create_sd_content("sp1", "sd3");
    let req = tam.create_sd_with(&c, false);
    tam.query(&mut tee);
    let _ = req;
    let fresh = tam.dsihash;
    let req = tam.create_sd_with(&c, false);
    tam.send(&mut tee, &req).pass();
    tam.dsihash = fresh;
    let req = tam.delete_sd("sd3", None);
    refused(&mut tee, &mut tam, &req, ErrorCode::DevStateMismatch);
}

#[test]
fn sd_codes() {
    let (_d, mut tee, mut tam) = setup(Kind::Rsa);
    let req = tam.create_sd("sp1", "sd1");
    refused(&mut tee, &mut tam, &req, ErrorCode::SdAlreadyExists);
    let req = tam.delete_sd("nope", None);
    refused(&mut tee, &mut tam, &req, ErrorCode::SdNotFound);
    let req = tam.delete_sd("sd1", Some(false));
    refused(&mut tee, &mut tam, &req, ErrorCode::SdNotEmpty);
    let req = tam.create_sd("sp1", "sd2");
    tam.send(&mut tee, &req).pass();
    let changes = SdChanges {
        newsdname: Some("sd1".into()),
        ..SdChanges::default()
    };
    let req = tam.update_sd("sp1", "sd2", changes);
    refused(&mut tee, &mut tam, &req, ErrorCode::SdNameAlreadyUsed);
    let mut c = tam.create_sd_content("sp1", "sd3");
    c.spcert = Base64Bytes(b"not a certificate".to_vec());
    let req = tam.create_sd_with(&c, true);
    refused(&mut tee, &mut tam, &req, ErrorCode::SpCertInvalid);
}

#[test]
fn ta_codes() {
    let kind = Kind::Ec;
    let (_d, mut tee, mut tam) = setup(kind);
    let image = ta_image(kind, "ta1", 2, b"code", "t");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaAlreadyInstalled);
    // Signed by a key that is not an SP certificate of the SD.
    let other = private_key(kind, "tam");
    let info = otrp_soft_tee::TaImageInfo {
        taid: "ta2".into(),
        version: 1,
        taname: None,
    };
    let bad = otrp_soft_tee::sign_ta_image(b"code", &info, other.as_ref(), kind.alg(), &provider())
        .unwrap();
    let req = tam.install_ta("sp1", "sd1", "ta2", &bad, None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
    // Not decryptable under the wrapped key.
    let mut eta = InstallEncryptedTa::new(
        tam.wrap_ta_key("sp1", &[1; 32]),
        TaIv([0; 16]),
        Base64Bytes(otrp_soft_tee::encrypt_ta_data(&[2; 32], &[0; 16], &image)),
    );
    eta.cipherpdata = None;
    let c = tam.ta_content("sp1", "sd1", "ta3", None);
    let req = tam.install_ta_with(&c, eta);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
    let req = tam.update_ta("sp1", "sd1", "nope", Some(&image), None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaNotFound);
    let req = tam.delete_ta("sd1", "nope");
    refused(&mut tee, &mut tam, &req, ErrorCode::TaNotFound);
    // A failed update keeps the installed version.
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&bad), None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
}

#[test]
fn tam_not_trusted() {
    let kind = Kind::Rsa;
    let (_d, mut tee, _tam) = setup(kind);
    let mut revoked = Tam::named(kind, "tam-revoked", "tam-revoked.der");
    let req = revoked.gds();
    refused(&mut tee, &mut revoked, &req, ErrorCode::TamNotTrusted);
    let mut unknown = Tam::named(kind, "tam-unknown-root", "tam-good-by-ca.der");
    let req = unknown.gds();
    refused(&mut tee, &mut unknown, &req, ErrorCode::TamNotTrusted);
    // A stale OCSP response, to a TEE that has no good status cached (the
    // TEE of `setup` has one for `tam`, 9.1.1, and would accept it).
    let dir = TempDir::new("stale");
    let mut fresh = open_tee(kind, dir.path());
    let mut stale = Tam::named(kind, "tam", "tam-stale.der");
    let req = stale.gds();
    refused(&mut fresh, &mut stale, &req, ErrorCode::TamNotTrusted);
    stale.query(&mut tee);
}

#[test]
fn tam_not_authorized() {
    let kind = Kind::Rsa;
    let (_d, mut tee, mut tam) = setup(kind);
    // Another TAM (tamid from a registeredID) cannot touch tam's SD: SD
    // names are scoped to their TAM, so for it there is no such SD
    // (tee_protocol.rs checks that nothing else reveals it).
    let mut other = Tam::named(kind, "tam-rid", "tam-rid-good.der");
    other.query(&mut tee);
    let req = other.delete_ta("sd1", "ta1");
    refused(&mut tee, &mut other, &req, ErrorCode::SdNotFound);
    // A tamid claim that is not the signer's.
    let mut c = tam.create_sd_content("sp1", "sd5");
    c.tamid = "https://tam.example.org/tam3".into();
    let req = tam.create_sd_with(&c, true);
    refused(&mut tee, &mut tam, &req, ErrorCode::TamNotAuthorized);
}

#[test]
fn tfw_not_trusted() {
    let kind = Kind::Ec;
    let dir = TempDir::new("tfw");
    let fw = SoftFirmware::new(
        provider(),
        fixture(kind, "tfw.der"),
        &pkcs8(kind, "tfw"),
        kind.alg(),
    )
    .unwrap();
    // A trusted firmware signs the tid.
    let mut tee = open_tee_with(
        kind,
        dir.path(),
        config(kind),
        SoftTeeOptions {
            firmware: Some(fw),
            ..Default::default()
        },
    );
    let mut tam = Tam::new(kind);
    tam.query(&mut tee);
    let tfw = tam.dsi.as_ref().unwrap().tfwdata.clone().unwrap();
    assert_eq!(tfw.tbs.as_bytes(), b"tid-1");
    drop(tee);
    let fw = SoftFirmware::new(
        provider(),
        fixture(kind, "tfw.der"),
        &pkcs8(kind, "tfw"),
        kind.alg(),
    )
    .unwrap()
    .untrusted();
    let mut tee = open_tee_with(
        kind,
        dir.path(),
        config(kind),
        SoftTeeOptions {
            firmware: Some(fw),
            ..Default::default()
        },
    );
    let req = tam.gds();
    refused(&mut tee, &mut tam, &req, ErrorCode::TfwNotTrusted);
}

#[test]
fn tee_fail_and_resource_full() {
    let kind = Kind::Ec;
    let (d, tee, mut tam) = setup(kind);
    drop(tee);
    // Storage that fails at its first write: the commit fails.
    let fs = FaultyFs::new(0);
    let mut tee = open_tee_with(
        kind,
        d.path(),
        config(kind),
        SoftTeeOptions {
            fs: Some(Arc::new(fs)),
            ..Default::default()
        },
    );
    let before: TeeState = tee.state().clone();
    let req = tam.create_sd("sp1", "sd2");
    tam.send(&mut tee, &req).fails_with(ErrorCode::TeeFail);
    assert_eq!(tee.state().sds, before.sds);
    drop(tee);
    // A quota too small for another TA.
    let mut tee = open_tee_with(
        kind,
        d.path(),
        config(kind),
        SoftTeeOptions {
            max_bytes: Some(4096),
            ..Default::default()
        },
    );
    let image = ta_image(kind, "big", 1, &[0x55; 8192], "big");
    let req = tam.install_ta("sp1", "sd1", "big", &image, None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TeeResourceFull);
}

/// Issue 18 item 3: an SP-signed image installs only under the taid it was
/// signed for, by InstallTA and UpdateTA alike (before, the TEE installed
/// any SP-signed TA under whatever taid the command named).
#[test]
fn an_image_signed_for_another_taid_is_refused() {
    let kind = Kind::Ec;
    let (_d, mut tee, mut tam) = setup(kind);
    let for_ta1 = ta_image(kind, "ta1", 5, b"code of ta1", "t");
    let req = tam.install_ta("sp1", "sd1", "ta2", &for_ta1, None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
    let for_ta2 = ta_image(kind, "ta2", 5, b"code of ta2", "t");
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&for_ta2), None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
    // The right taid installs.
    let req = tam.install_ta("sp1", "sd1", "ta2", &for_ta2, None);
    tam.send(&mut tee, &req).pass();
}

/// Issue 17: a TA refused on the streaming path (untrusted signer, another
/// taid, a version at the anti-rollback floor, a quota too small) leaves no
/// staged blob behind and changes nothing: only the key, the state and the
/// blobs the state names are in the directory.
#[test]
fn a_refused_streamed_ta_leaves_nothing_staged() {
    let kind = Kind::Ec;
    let (d, mut tee, mut tam) = setup(kind);
    let files = |tee: &Tee| {
        let n = std::fs::read_dir(d.path()).unwrap().count();
        assert_eq!(n, 2 + tee.state().blobs().len(), "stray files");
    };
    files(&tee);
    let other = private_key(kind, "tam");
    let info = otrp_soft_tee::TaImageInfo {
        taid: "ta2".into(),
        version: 1,
        taname: None,
    };
    let code = vec![0x42; 200_000];
    let bad = otrp_soft_tee::sign_ta_image(&code, &info, other.as_ref(), kind.alg(), &provider())
        .unwrap();
    let req = tam.install_ta("sp1", "sd1", "ta2", &bad, None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
    files(&tee);
    let for_ta1 = ta_image(kind, "ta1", 7, &code, "t");
    let req = tam.install_ta("sp1", "sd1", "ta2", &for_ta1, None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
    files(&tee);
    let old = ta_image(kind, "ta1", 1, &code, "t");
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&old), None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TaInvalid);
    files(&tee);
    drop(tee);
    let mut tee = open_tee_with(
        kind,
        d.path(),
        config(kind),
        SoftTeeOptions {
            max_bytes: Some(100_000),
            ..Default::default()
        },
    );
    let big = ta_image(kind, "big", 1, &code, "big");
    let req = tam.install_ta("sp1", "sd1", "big", &big, None);
    refused(&mut tee, &mut tam, &req, ErrorCode::TeeResourceFull);
    files(&tee);
    // And a good one streams in.
    let good = ta_image(kind, "ta2", 1, &code, "t");
    drop(tee);
    let mut tee = open_tee(kind, d.path());
    let req = tam.install_ta("sp1", "sd1", "ta2", &good, None);
    tam.send(&mut tee, &req).pass();
    files(&tee);
}
