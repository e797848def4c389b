//! Success paths of all seven commands through the soft TEE, with the RSA
//! and the EC hierarchies of test-pki, and rollback after an update.

// The RustCrypto target. `tee_lifecycle_aws_lc.rs` and `tee_lifecycle_composed.rs` include this
// file as a module; the support module builds everything with the provider
// named at the root of the running target (`crate::provider_under_test`).
otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use otrp_core::message::{Base64Bytes, ErrorCode, SdChanges};
use otrp_core::tee::Tee;
use support::*;

fn ta_blob(tee: &Tee, sd: &str, taid: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    let rec = tee
        .state()
        .sd(TAMID, sd)
        .unwrap()
        .tas
        .iter()
        .find(|t| t.taid == taid)
        .unwrap()
        .clone();
    let storage = &tee.hooks().storage;
    let image = storage.read_blob(&rec.current.image).unwrap();
    let pdata = rec
        .current
        .pdata
        .map(|p| storage.read_blob(&p).unwrap().as_bytes().to_vec());
    (otrp_soft_tee::ta_code(image.as_bytes()).unwrap(), pdata)
}

fn lifecycle(kind: Kind) {
    let dir = TempDir::new("life");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    let r = tam.query(&mut tee);
    assert_eq!(r.sig_alg, kind.alg());

    // CreateSD: the SP's first SD creates its SP AIK.
    let req = tam.create_sd("sp1", "sd1");
    let c = tam.send(&mut tee, &req).pass().content.clone().unwrap();
    assert_eq!(c["sdname"], "sd1");
    assert_eq!(c["did"], otrp_core::jose::b64::encode_std(&tam.did.0));
    let aik1 = c["teespaik"].as_str().unwrap().to_string();
    // A second SD of the same SP reuses it.
    let req = tam.create_sd("sp1", "sd2");
    let c = tam.send(&mut tee, &req).pass().content.clone().unwrap();
    assert!(c.get("teespaik").is_none());
    assert_eq!(tam.dsi.as_ref().unwrap().tee.teeaiklist.len(), 1);

    // UpdateSD: rename, add an SP certificate, renew the SP AIK.
    let changes = SdChanges {
        newsdname: Some("sd2b".into()),
        spcert: Some(vec![Base64Bytes(fixture(kind, "tam-other.der"))]),
        renewteespaik: Some(true),
        ..SdChanges::default()
    };
    let req = tam.update_sd("sp1", "sd2", changes);
    let c = tam.send(&mut tee, &req).pass().content.clone().unwrap();
    assert_ne!(c["teespaik"].as_str().unwrap(), aik1);
    assert_eq!(c["teespaiktype"], "ECC");
    assert!(tee.state().sd(TAMID, "sd2b").is_some() && tee.state().sd(TAMID, "sd2").is_none());
    assert_eq!(tee.state().sd(TAMID, "sd2b").unwrap().spcerts.len(), 2);

    // DeleteSD of an empty SD; the SP keeps its AIK (sd1 remains).
    let req = tam.delete_sd("sd2b", None);
    tam.send(&mut tee, &req).pass();
    assert_eq!(tee.state().sp_aiks.len(), 1);

    // InstallTA with personalization data.
    let image = ta_image(kind, "ta1", 1, b"ta code v1", "Wallet");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata v1"));
    tam.send(&mut tee, &req).pass();
    let listed = &tam.dsi.as_ref().unwrap().tee.sdlist.sd[0].talist;
    assert_eq!(listed[0].taid, "ta1");
    assert_eq!(listed[0].taname.as_deref(), Some("Wallet"));
    assert_eq!(
        listed[0].version,
        Some(1),
        "taversion from the signed image"
    );
    assert_eq!(
        ta_blob(&tee, "sd1", "ta1"),
        (b"ta code v1".to_vec(), Some(b"pdata v1".to_vec()))
    );

    // UpdateTA of the binary only: pdata is kept.
    let image2 = ta_image(kind, "ta1", 2, b"ta code v2", "Wallet");
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image2), None);
    tam.send(&mut tee, &req).pass();
    let listed = &tam.dsi.as_ref().unwrap().tee.sdlist.sd[0].talist;
    assert_eq!(listed[0].version, Some(2));
    assert_eq!(
        ta_blob(&tee, "sd1", "ta1"),
        (b"ta code v2".to_vec(), Some(b"pdata v1".to_vec()))
    );
    // UpdateTA of the personalization data only.
    let req = tam.update_ta("sp1", "sd1", "ta1", None, Some(b"pdata v2"));
    tam.send(&mut tee, &req).pass();
    assert_eq!(
        ta_blob(&tee, "sd1", "ta1"),
        (b"ta code v2".to_vec(), Some(b"pdata v2".to_vec()))
    );

    // Rollback restores the version before the last update, once.
    tee.rollback_ta("sd1", "ta1").unwrap();
    assert_eq!(
        ta_blob(&tee, "sd1", "ta1"),
        (b"ta code v2".to_vec(), Some(b"pdata v1".to_vec()))
    );
    assert_eq!(
        tee.rollback_ta("sd1", "ta1"),
        Err(otrp_core::tee::TeeError::NoPreviousVersion)
    );
    // The rollback survives a restart.
    drop(tee);
    let mut tee = open_tee(kind, dir.path());
    assert_eq!(
        ta_blob(&tee, "sd1", "ta1"),
        (b"ta code v2".to_vec(), Some(b"pdata v1".to_vec()))
    );
    tam.query(&mut tee);

    // DeleteTA, then DeleteSD with deleteta of an SD holding a TA: the SP's
    // last SD takes its AIK along, and no blob is left behind.
    let req = tam.delete_ta("sd1", "ta1");
    tam.send(&mut tee, &req).pass();
    let image = ta_image(kind, "ta2", 1, b"ta2 code", "Other");
    let req = tam.install_ta("sp1", "sd1", "ta2", &image, None);
    tam.send(&mut tee, &req).pass();
    let req = tam.delete_sd("sd1", None);
    tam.send(&mut tee, &req).fails_with(ErrorCode::SdNotEmpty);
    let req = tam.delete_sd("sd1", Some(true));
    tam.send(&mut tee, &req).pass();
    assert!(tee.state().sds.is_empty());
    assert!(tee.state().sp_aiks.is_empty());
    assert!(tee.state().blobs().is_empty());
    let blobs = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("blob-") || name.starts_with("segs-")
        })
        .count();
    assert_eq!(blobs, 0);
}

/// A state written before blobs were sealed in segments: every blob sealed
/// whole as `blob-<id>` (IV, AES-256-GCM ciphertext, tag; the file name as
/// additional data). It is still read and kept by the open's garbage
/// collection, and its SP AIK still unwraps the next TA key.
#[test]
fn blobs_sealed_whole_are_still_read() {
    use otrp_core::crypto::{ContentAlg, SecretBytes};
    let kind = Kind::Ec;
    let dir = TempDir::new("whole-blobs");
    let mut tam = Tam::new(kind);
    let before = {
        let mut tee = open_tee(kind, dir.path());
        tam.query(&mut tee);
        let req = tam.create_sd("sp1", "sd1");
        tam.send(&mut tee, &req).pass();
        let image = ta_image(kind, "ta1", 1, b"ta code v1", "Wallet");
        let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata v1"));
        tam.send(&mut tee, &req).pass();
        let before = ta_blob(&tee, "sd1", "ta1");
        let key = SecretBytes::new(std::fs::read(dir.path().join("storage.key")).unwrap());
        let cipher = provider().content_cipher(ContentAlg::A256Gcm).unwrap();
        for id in tee.state().blobs() {
            let name = format!("blob-{}", id.0);
            let mut sealed = tee
                .hooks()
                .storage
                .read_blob(&id)
                .unwrap()
                .as_bytes()
                .to_vec();
            let iv = [7u8; 12];
            let tag = cipher
                .encrypt(&key, &iv, name.as_bytes(), &mut sealed)
                .unwrap();
            sealed.splice(0..0, iv);
            sealed.extend_from_slice(&tag);
            std::fs::write(dir.path().join(&name), sealed).unwrap();
            std::fs::remove_file(dir.path().join(format!("segs-{}", id.0))).unwrap();
        }
        before
    };
    let files = |prefix: &str| {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(prefix)
            })
            .count()
    };
    assert_eq!((files("blob-"), files("segs-")), (3, 0), "AIK, TA, pdata");
    let mut tee = open_tee(kind, dir.path());
    assert_eq!(files("blob-"), 3);
    assert_eq!(ta_blob(&tee, "sd1", "ta1"), before);
    // The SP AIK sealed whole still unwraps the next TA key.
    let image = ta_image(kind, "ta1", 2, b"ta code v2", "Wallet");
    let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image), Some(b"pdata v2"));
    tam.send(&mut tee, &req).pass();
    assert_eq!(
        ta_blob(&tee, "sd1", "ta1"),
        (b"ta code v2".to_vec(), Some(b"pdata v2".to_vec()))
    );
}

#[test]
fn all_seven_commands_rsa() {
    lifecycle(Kind::Rsa);
}

#[test]
fn all_seven_commands_ec() {
    lifecycle(Kind::Ec);
}

#[test]
fn ta_data_is_encrypted_at_rest() {
    let kind = Kind::Ec;
    let dir = TempDir::new("rest");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    let code = b"PLAINTEXT-TA-CODE-MARKER".repeat(4);
    let image = ta_image(kind, "ta1", 1, &code, "t");
    let req = tam.install_ta(
        "sp1",
        "sd1",
        "ta1",
        &image,
        Some(b"PDATA-MARKER-PDATA-MARKER"),
    );
    tam.send(&mut tee, &req).pass();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in [&b"PDATA-MARKER"[..], b"\"taid\"", b"UExBSU5URVhU"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
    }
}

#[test]
fn signer_cache_lets_requests_omit_x5c() {
    let kind = Kind::Rsa;
    let dir = TempDir::new("cache");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    tam.query(&mut tee);
    tam.send_x5c = false;
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    // Without a cache the TEE asks for the signer every time.
    let dir2 = TempDir::new("nocache");
    let mut config = config(kind);
    config.signer_cache = 0;
    let mut tee2 = open_tee_with(kind, dir2.path(), config, Default::default());
    let mut tam2 = Tam::new(kind);
    let r = tam2.query(&mut tee2);
    assert_eq!(r.tbs["signerreq"], true);
    tam2.send_x5c = false;
    let req = tam2.create_sd("sp1", "sd1");
    // No cached signer verifies: the signer is unknown (the TAM then sends
    // x5c again, 7.4.1).
    tam2.send(&mut tee2, &req)
        .fails_with(ErrorCode::TamNotTrusted);
}

#[test]
fn supportedsigalgs_chooses_the_response_algorithm() {
    use otrp_core::message::{MessageKind, SigAlg, TbsMessage};
    let kind = Kind::Rsa;
    let dir = TempDir::new("algs");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    let tbs = tam.gds_tbs().with_supportedsigalgs([
        SigAlg::Other("XX".into()),
        SigAlg::Known(otrp_core::crypto::JwsAlg::Ps256),
    ]);
    let req = tam.sign_payload(MessageKind::GetDeviceState, &tbs.to_payload(), true);
    let r = tam.send(&mut tee, &req);
    r.pass();
    assert_eq!(r.sig_alg, otrp_core::crypto::JwsAlg::Ps256);
    // Later responses to this TAM keep to its list.
    let req = tam.create_sd("sp1", "sd1");
    assert_eq!(
        tam.send(&mut tee, &req).pass().sig_alg,
        otrp_core::crypto::JwsAlg::Ps256
    );
}
