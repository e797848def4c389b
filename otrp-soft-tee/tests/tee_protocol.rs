//! Protocol correctness of the TEE agent (issues 13, 14 and 18): refusals
//! that echo the ids, bounded work before authentication, SD names scoped
//! to their TAM, `spcert` checks, revocation bound to the certificate and
//! monotonic, GetTAInformation without a signer cache, and replay memory
//! per TAM.

// The RustCrypto target (see docs/testing.md).
otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use std::time::Duration;

use otrp_core::message::{
    Base64Bytes, ErrorCode, MessageKind, SdChanges, TaIv, TaQuery, TbsMessage, UpdateEncryptedTa,
};
use otrp_core::pki::{TrustAnchors, UnixTime};
use otrp_core::tee::Tee;
use otrp_soft_tee::SoftTeeOptions;
use otrp_test_pki::{Cert, CertSpec, Key, KeyType, OcspResponseBuilder, OcspStatus, Profile};
use support::*;

fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

/// The TAM root of `kind` with its key, to sign fresh OCSP responses.
fn tam_root(kind: Kind) -> Cert {
    let key = Key::from_pkcs8_der(&pkcs8(kind, "tam-root")).unwrap();
    Cert::from_der(fixture(kind, "tam-root.der"), Some(key)).unwrap()
}

/// An OCSP response for test-pki's `cert`, signed by the TAM root, with
/// thisUpdate `age` seconds before `now()` and nextUpdate a day after it.
fn ocsp(kind: Kind, cert: &str, age: u64, revoked: bool) -> Vec<u8> {
    let root = tam_root(kind);
    let leaf = fixture(kind, &format!("{cert}.der"));
    let now = now().as_secs();
    let mut b =
        OcspResponseBuilder::new(&leaf, &root, at(now - age)).next_update(Some(at(now + 86_400)));
    if revoked {
        b = b.status(OcspStatus::Revoked {
            time: at(now - 30 * 86_400),
            reason: None,
        });
    }
    b.build().unwrap()
}

/// A TEE with SD "sd1" (SP "sp1") holding TA "ta1", and its TAM.
fn setup(kind: Kind) -> (TempDir, Tee, Tam) {
    let dir = TempDir::new("proto");
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

/// The request `req` with its signature replaced by zeros.
fn zero_signature(req: &[u8], kind: MessageKind) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(req).unwrap();
    let name = kind.envelope_name(otrp_core::message::Direction::Request);
    v[name]["signature"] = otrp_core::jose::b64::encode_url(&[0u8; 256]).into();
    v.to_string().into_bytes()
}

// ---- issue 13 item 1: refusals before verification echo the ids ----

#[test]
fn refusals_before_verification_echo_the_ids() {
    let kind = Kind::Rsa;
    let dir = TempDir::new("ids");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    // A bad signature.
    let tbs = tam.gds_tbs();
    let req = tam.sign_payload(MessageKind::GetDeviceState, &tbs.to_payload(), true);
    let r = tam.send(&mut tee, &zero_signature(&req, MessageKind::GetDeviceState));
    r.fails_with(ErrorCode::RequestInvalid);
    assert_eq!(r.tbs["rid"], tbs.rid.as_str());
    assert_eq!(r.tbs["tid"], tbs.tid.as_str());
    // The ids of a refused unauthenticated request are not recorded: the
    // genuine request with the same ids is processed.
    tam.send(&mut tee, &req).pass();
    // An untrusted chain.
    let mut unknown = Tam::named(kind, "tam-unknown-root", "tam-good-by-ca.der");
    let tbs = unknown.gds_tbs();
    let req = unknown.sign_payload(MessageKind::GetDeviceState, &tbs.to_payload(), true);
    let r = unknown.send(&mut tee, &req);
    r.fails_with(ErrorCode::TamNotTrusted);
    assert_eq!(r.tbs["rid"], tbs.rid.as_str());
    // An unknown signer without x5c, on a command.
    let (_d, mut tee, mut tam) = setup(kind);
    tam.send_x5c = false;
    let mut stranger = Tam::named(kind, "tam-other", "tam-good-by-ca.der");
    stranger.send_x5c = false;
    stranger.dsihash = tam.dsihash;
    let req = stranger.delete_ta("sd1", "ta1");
    let r = stranger.send(&mut tee, &req);
    r.fails_with(ErrorCode::TamNotTrusted);
    assert!(r.tbs["rid"].as_str().unwrap().starts_with("rid-"));
}

/// Issue 17: the ids of a verified payload are read loosely only when its
/// typed parse fails; a TA command whose payload does not parse still
/// echoes them, whether its TA data was split off (a plain string) or not.
#[test]
fn a_ta_payload_that_does_not_parse_echoes_the_ids() {
    let kind = Kind::Ec;
    let (_d, mut tee, mut tam) = setup(kind);
    for ciphertadata in ["\"QUJDRA\"", "7"] {
        let payload = format!(
            r#"{{"InstallTATBSRequest":{{"ver":"1.0","rid":"rid-loose","tid":"tid-loose","tee":"x","nextdsi":false,"dsihash":"AA","content":5,"encrypted_ta":{{"key":"AA","iv":"AA","alg":"AESCBC","ciphertadata":{ciphertadata}}}}}}}"#
        );
        let req = tam.sign_payload(MessageKind::InstallTa, payload.as_bytes(), true);
        let r = tam.send(&mut tee, &req);
        r.fails_with(ErrorCode::RequestInvalid);
        assert_eq!(r.tbs["rid"], "rid-loose", "{ciphertadata}");
        assert_eq!(r.tbs["tid"], "tid-loose", "{ciphertadata}");
    }
}

// ---- issue 18 item 1: bounded work before authentication ----

#[test]
fn x5c_is_bounded_and_without_duplicates() {
    let kind = Kind::Ec;
    let dir = TempDir::new("x5c");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    let good_x5c = tam.x5c.clone();
    // Nine distinct, valid certificates: one too many, although the path
    // would validate.
    tam.x5c = [
        "tam", "tam-root", "tee", "tee-ca", "tee-root", "sp", "sp-root", "tfw", "tfw-root",
    ]
    .iter()
    .map(|n| fixture(kind, &format!("{n}.der")))
    .collect();
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::RequestInvalid);
    // Eight is allowed.
    tam.x5c.truncate(8);
    tam.query(&mut tee);
    // A duplicate.
    tam.x5c = vec![
        fixture(kind, "tam.der"),
        fixture(kind, "tam-root.der"),
        fixture(kind, "tam-root.der"),
    ];
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::RequestInvalid);
    // A zero signature with 600 junk certificates: refused as malformed,
    // with the ids echoed.
    tam.x5c = good_x5c.clone();
    tam.x5c
        .extend(std::iter::repeat_n(vec![0x30, 0x03, 0x02, 0x01, 0x00], 600));
    let tbs = tam.gds_tbs();
    let req = tam.sign_payload(MessageKind::GetDeviceState, &tbs.to_payload(), true);
    let r = tam.send(&mut tee, &zero_signature(&req, MessageKind::GetDeviceState));
    r.fails_with(ErrorCode::RequestInvalid);
    assert_eq!(r.tbs["rid"], tbs.rid.as_str());
    // Ten self-issued CAs of one name behind a good leaf: refused.
    tam.x5c = good_x5c;
    for serial in 0..7 {
        let spec = CertSpec::new("X", 100 + serial, at(0), at(4_000_000_000), Profile::Root);
        let key = Key::from_pkcs8_der(&pkcs8(kind, "tam-root")).unwrap();
        let ca = Cert::self_signed(&spec, key).unwrap();
        tam.x5c.push(ca.der().to_vec());
    }
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::RequestInvalid);
}

// ---- issue 13 item 2: SD names scoped to the owning TAM ----

#[test]
fn sd_names_are_scoped_to_their_tam() {
    let kind = Kind::Ec;
    let (_d, mut tee, mut tam) = setup(kind);
    let req = tam.create_sd("sp1", "sd9");
    tam.send(&mut tee, &req).pass();
    let mut other = Tam::named(kind, "tam-rid", "tam-rid-good.der");
    other.query(&mut tee);
    // The other TAM sees none of tam's SDs.
    assert!(other.dsi.as_ref().unwrap().tee.sdlist.sd.is_empty());
    // It creates an SD of the same name, for another SP, and a TA in it.
    let req = other.create_sd("spB", "sd1");
    other.send(&mut tee, &req).pass();
    let image = ta_image(kind, "tb", 1, b"other code", "o");
    let req = other.install_ta("spB", "sd1", "tb", &image, None);
    other.send(&mut tee, &req).pass();
    let sds = &other.dsi.as_ref().unwrap().tee.sdlist.sd;
    assert_eq!(sds.len(), 1);
    assert_eq!((sds[0].name.as_str(), sds[0].spid.as_str()), ("sd1", "spB"));
    // A name only tam uses answers exactly like a name nobody uses.
    let req = other.delete_sd("sd9", Some(true));
    other.send(&mut tee, &req).fails_with(ErrorCode::SdNotFound);
    let req = other.delete_sd("nobody", Some(true));
    other.send(&mut tee, &req).fails_with(ErrorCode::SdNotFound);
    // Renaming into a name tam uses is allowed for the other TAM.
    let changes = SdChanges {
        newsdname: Some("sd9".into()),
        ..Default::default()
    };
    let req = other.update_sd("spB", "sd1", changes);
    other.send(&mut tee, &req).pass();
    // Deleting its SD leaves tam's untouched.
    let req = other.delete_sd("sd9", Some(true));
    other.send(&mut tee, &req).pass();
    tam.query(&mut tee);
    let mine: Vec<&str> = tam
        .dsi
        .as_ref()
        .unwrap()
        .tee
        .sdlist
        .sd
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(mine, ["sd1", "sd9"]);
    assert_eq!(tee.state().sd(TAMID, "sd1").unwrap().tas.len(), 1);
}

// ---- issue 13 items 3 and 5: spcert ----

fn update_pdata_with_spcert(tam: &mut Tam, spcert: Vec<u8>) -> Vec<u8> {
    let key = [5u8; 32];
    let iv = [3u8; 16];
    let eta = UpdateEncryptedTa {
        key: tam.wrap_ta_key("sp1", &key),
        iv: TaIv(iv),
        alg: Default::default(),
        ciphernewtadata: None,
        ciphernewpdata: Some(Base64Bytes(otrp_soft_tee::encrypt_ta_data(
            &key, &iv, b"pdata",
        ))),
    };
    let c = tam.ta_content("sp1", "sd1", "ta1", Some(spcert));
    tam.update_ta_with(&c, eta)
}

#[test]
fn update_ta_with_only_pdata_checks_the_spcert() {
    let kind = Kind::Rsa;
    let (_d, mut tee, mut tam) = setup(kind);
    let before = tee.state().sds.clone();
    let req = update_pdata_with_spcert(&mut tam, b"not a certificate".to_vec());
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::SpCertInvalid);
    assert_eq!(tee.state().sds, before);
    // A valid one is accepted and registered.
    let req = update_pdata_with_spcert(&mut tam, fixture(kind, "sp.der"));
    tam.send(&mut tee, &req).pass();
}

#[test]
fn spcert_without_sp_anchors_checks_validity_and_own_signature() {
    let kind = Kind::Ec;
    let (_d, mut tee, mut tam) = setup(kind);
    // Expired (a well-formed certificate otherwise).
    let mut c = tam.create_sd_content("sp2", "sd2");
    c.spcert = Base64Bytes(fixture(kind, "tam-expired.der"));
    let req = tam.create_sd_with(&c, true);
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::SpCertInvalid);
    // Self-issued with a signature that does not verify.
    let key = Key::generate(KeyType::P256, &otrp_crypto_rustcrypto::OS_RANDOM).unwrap();
    let spec = CertSpec::new("SP self", 9, at(0), at(4_000_000_000), Profile::Sp);
    let good = Cert::self_signed(&spec, key).unwrap().der().to_vec();
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    c.spcert = Base64Bytes(bad);
    let req = tam.create_sd_with(&c, true);
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::SpCertInvalid);
    c.spcert = Base64Bytes(good);
    let req = tam.create_sd_with(&c, true);
    tam.send(&mut tee, &req).pass();
}

#[test]
fn an_sp_not_registered_with_the_sd_is_ta_invalid() {
    let kind = Kind::Ec;
    let (_d, mut tee, mut tam) = setup(kind);
    let req = tam.create_sd("sp2", "sd2");
    tam.send(&mut tee, &req).pass();
    let image = ta_image(kind, "ta2", 1, b"code2", "t2");
    let req = tam.install_ta("sp2", "sd1", "ta2", &image, None);
    tam.send(&mut tee, &req).fails_with(ErrorCode::TaInvalid);
}

// ---- issue 13 item 5: GetTAInformation without the signer cache ----

#[test]
fn ta_information_without_signer_cache() {
    let kind = Kind::Ec;
    let dir = TempDir::new("tainfo");
    let mut config = config(kind);
    config.signer_cache = 0;
    let mut tee = open_tee_with(kind, dir.path(), config, SoftTeeOptions::default());
    let mut tam = Tam::new(kind);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    let image = ta_image(kind, "ta1", 1, b"code", "t");
    let req = tam.install_ta("sp1", "sd1", "ta1", &image, None);
    tam.send(&mut tee, &req).pass();
    assert!(tee.state().signers.is_empty());
    let info = tee
        .ta_information(&TaQuery::new("sp1", "ta1"), now())
        .unwrap();
    let tamcert = otrp_core::jose::b64::encode_std(&fixture(kind, "tam.der"));
    let text = String::from_utf8(info).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let payload = v["TAInformation"]["payload"].as_str().unwrap();
    let payload = otrp_core::jose::b64::decode_url(payload, "payload").unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert!(payload.to_string().contains(&tamcert), "{payload}");
}

// ---- issue 13 item 4: revocation bound to the certificate ----

#[test]
fn a_new_certificate_needs_its_revocation_status_then_keeps_the_sds() {
    let kind = Kind::Rsa;
    let (_d, mut tee, tam) = setup(kind);
    // TAM key rotation: a new certificate with the same tamid.
    let mut renewed = Tam::named(kind, "tam-renewed", "tam-renewed-good.der");
    assert_eq!(renewed.tamid, tam.tamid);
    renewed.dsihash = tam.dsihash;
    renewed.dsi = tam.dsi.clone();
    let req = renewed.delete_ta("sd1", "ta1");
    renewed
        .send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
    // GetDeviceState with fresh ocspdat establishes it; the SDs stay.
    renewed.query(&mut tee);
    let sds = &renewed.dsi.as_ref().unwrap().tee.sdlist.sd;
    assert_eq!(sds.len(), 1);
    let req = renewed.delete_ta("sd1", "ta1");
    renewed.send(&mut tee, &req).pass();
}

// ---- a cached signer: bytes checked once, time and anchors every time ----

#[test]
fn a_cached_signer_chain_is_validated_again_at_each_request() {
    let kind = Kind::Ec;
    let dir = TempDir::new("cached-signer");
    let mut tee = open_tee(kind, dir.path());
    // test-pki's "tam-expired" is valid from 2020-01-01 to 2025-01-01; its
    // OCSP status, fetched in June 2024, is good until July 2025.
    let june_2024 = 1_717_200_000;
    let march_2025 = 1_740_800_000;
    let mut tam = Tam::named(kind, "tam-expired", "tam-good-by-ca.der");
    let leaf = fixture(kind, "tam-expired.der");
    tam.ocsp = vec![
        OcspResponseBuilder::new(&leaf, &tam_root(kind), at(june_2024 - 60))
            .next_update(Some(at(june_2024 + 400 * 86_400)))
            .build()
            .unwrap(),
    ];
    let req = tam.gds();
    tam.read(&tee.handle(&req, at(june_2024)).unwrap()).pass();
    // The TEE cached the signer: requests omit x5c from now on.
    tam.send_x5c = false;
    // Authenticated: the unknown SD is the refusal.
    let req = tam.delete_sd("sd1", None);
    tam.read(&tee.handle(&req, at(june_2024 + 60)).unwrap())
        .fails_with(ErrorCode::SdNotFound);
    // After the certificate's notAfter, with its status still good, the
    // same request is refused as untrusted: the cached chain's validity
    // period is checked at every request.
    let req = tam.delete_sd("sd1", None);
    tam.read(&tee.handle(&req, at(march_2025)).unwrap())
        .fails_with(ErrorCode::TamNotTrusted);

    let (dir, tee, mut tam) = setup(kind);
    tam.send_x5c = false;
    // A TEE whose TAM anchors no longer hold the TAM's root refuses the
    // cached signer as untrusted.
    drop(tee);
    let other = Kind::Rsa;
    let anchors =
        TrustAnchors::from_certificates([fixture(other, "tam-root.der").as_slice()]).unwrap();
    let config = otrp_core::tee::TeeConfig::new(TEE_NAME, anchors);
    let mut tee = open_tee_with(kind, dir.path(), config, SoftTeeOptions::default());
    let req = tam.delete_ta("sd1", "ta1");
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
    // With its anchors back, the cached signer is accepted now.
    drop(tee);
    let mut tee = open_tee(kind, dir.path());
    let req = tam.delete_ta("sd1", "ta1");
    tam.send(&mut tee, &req).pass();
}

// ---- issue 14 item 2: OCSP freshness is monotonic ----

#[test]
fn a_newer_revocation_beats_a_remembered_good_status() {
    let kind = Kind::Rsa;
    let dir = TempDir::new("ocsp1");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    let good = ocsp(kind, "tam", 7_200, false);
    tam.ocsp = vec![good.clone()];
    tam.query(&mut tee);
    tam.ocsp = vec![ocsp(kind, "tam", 3_600, true)];
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
    // The revocation holds: the older good answer, alone or with it, and
    // commands, are refused, also after a restart.
    tam.ocsp = vec![good.clone()];
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
    drop(tee);
    let mut tee = open_tee(kind, dir.path());
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
}

#[test]
fn an_older_good_answer_after_a_revocation_is_refused() {
    let kind = Kind::Ec;
    let dir = TempDir::new("ocsp2");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    tam.ocsp = vec![ocsp(kind, "tam", 3_600, true)];
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
    tam.ocsp = vec![ocsp(kind, "tam", 7_200, false)];
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
    // Good and older revoked: the newest answer counts.
    let dir = TempDir::new("ocsp3");
    let mut tee = open_tee(kind, dir.path());
    tam.ocsp = vec![ocsp(kind, "tam", 7_200, true), ocsp(kind, "tam", 60, false)];
    let req = tam.gds();
    tam.send(&mut tee, &req)
        .fails_with(ErrorCode::TamNotTrusted);
}

// ---- issue 18 item 5: replay memory per TAM ----

#[test]
fn another_tams_traffic_does_not_evict_replay_memory() {
    let kind = Kind::Ec;
    let dir = TempDir::new("replay");
    let mut config = config(kind);
    config.seen_capacity = 4;
    let mut tee = open_tee_with(kind, dir.path(), config, SoftTeeOptions::default());
    let mut tam = Tam::new(kind);
    let captured = tam.gds();
    tam.send(&mut tee, &captured).pass();
    let mut other = Tam::named(kind, "tam-rid", "tam-rid-good.der");
    for _ in 0..10 {
        other.query(&mut tee);
    }
    tam.send(&mut tee, &captured)
        .fails_with(ErrorCode::RequestInvalid);
    // Per TAM the memory stays bounded.
    let of = |t: &str| tee.state().seen.iter().filter(|s| s.tamid == t).count();
    assert_eq!(of(&other.tamid), 4);
    assert_eq!(of(&tam.tamid), 1);
}

/// The same at the real default capacity (4,096 pairs per TAM): 4,097
/// requests from another TAM, more than the one FIFO of all TAMs held
/// before issue 18, leave a captured GetDeviceStateRequest refused as a
/// replay. Bounded in count (4,098 P-256 GetDeviceState exchanges) but
/// slow in a debug build: every request commits the TEE state, replay
/// memory included (4,096 pairs, about half a megabyte), so the run took
/// 548 s on the shared 2-core machine (docs/security.md); about 20 s in a
/// release build, which is how `.ci/run` runs it:
/// `cargo test --release --workspace --test tee_protocol -- --ignored`.
#[test]
#[ignore = "minutes in a debug build; .ci/run runs it in release (--ignored)"]
fn another_tams_traffic_does_not_evict_replay_memory_at_the_default_capacity() {
    let kind = Kind::Ec;
    let dir = TempDir::new("replay-default");
    let capacity = config(kind).seen_capacity;
    assert_eq!(capacity, 4096, "the documented default");
    let mut tee = open_tee(kind, dir.path());
    let mut tam = Tam::new(kind);
    let captured = tam.gds();
    tam.send(&mut tee, &captured).pass();
    let mut other = Tam::named(kind, "tam-rid", "tam-rid-good.der");
    let started = std::time::Instant::now();
    for _ in 0..=capacity {
        other.query(&mut tee);
    }
    tam.send(&mut tee, &captured)
        .fails_with(ErrorCode::RequestInvalid);
    let of = |t: &str| tee.state().seen.iter().filter(|s| s.tamid == t).count();
    assert_eq!(of(&other.tamid), capacity);
    assert_eq!(of(&tam.tamid), 1);
    eprintln!(
        "{} requests of another TAM in {:.1} s",
        capacity + 1,
        started.elapsed().as_secs_f64()
    );
}
