//! Round trips (value -> JSON -> value) for every message type, and the
//! dsihash over the exact DSI bytes (section 9.2.1.1).

use otrp_core::crypto::{
    CryptoError, Digest, HashAlg, JwsAlg, KeyComponents, KeyLoader, PrivateKey, Provider,
    PublicKey, SecureRandom,
};
use otrp_core::jose::{Jwe, b64};
use otrp_core::message::*;
use proptest::prelude::*;
use serde_json::json;

const L: Limits = Limits::DEFAULT;

// ---- Strategies.

fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,12}|\\PC{0,6}"
}
fn bytes() -> impl Strategy<Value = Base64Bytes> {
    proptest::collection::vec(any::<u8>(), 0..40).prop_map(Base64Bytes)
}
fn id() -> impl Strategy<Value = MessageId> {
    text().prop_map(MessageId)
}
fn did() -> impl Strategy<Value = DeviceId> {
    any::<[u8; 32]>().prop_map(DeviceId)
}
fn dsihash() -> impl Strategy<Value = DsiHash> {
    any::<[u8; 32]>().prop_map(DsiHash)
}
fn sigalg() -> impl Strategy<Value = SigAlg> {
    prop_oneof![
        proptest::sample::select(JwsAlg::ALL).prop_map(SigAlg::Known),
        "[a-z]{1,6}".prop_map(SigAlg::Other),
    ]
}
fn code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        proptest::sample::select(ErrorCode::KNOWN),
        "X_[A-Z_]{0,8}".prop_map(ErrorCode::Other),
    ]
}
fn reason() -> impl Strategy<Value = Reason> {
    (code(), proptest::option::of(text())).prop_map(|(error_code, error_message)| Reason {
        error_code,
        error_message,
    })
}
fn failure() -> impl Strategy<Value = Failure> {
    (
        reason(),
        proptest::option::of(proptest::collection::vec(sigalg(), 0..3)),
    )
        .prop_map(|(reason, supportedsigalgs)| Failure {
            reason,
            supportedsigalgs,
        })
}
fn b64url() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{0,16}"
}
fn jwe() -> impl Strategy<Value = Jwe> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| b64::encode_url(&b));
    (bytes(), bytes(), bytes(), bytes(), any::<bool>()).prop_map(|(ek, iv, ct, tag, prot)| {
        let mut v = json!({"recipients":[{"header":{"alg":"RSA1_5"},"encrypted_key":ek}],"iv":iv,"ciphertext":ct,"tag":tag});
        let enc = json!({"enc": "A128CBC-HS256"});
        if prot {
            v["protected"] = json!(b64::encode_url(enc.to_string().as_bytes()));
        } else {
            v["unprotected"] = enc;
        }
        serde_json::from_value(v).unwrap()
    })
}
fn aik() -> impl Strategy<Value = AikType> {
    prop_oneof![Just(AikType::Rsa), Just(AikType::Ecc)]
}
fn dsi() -> impl Strategy<Value = Dsi> {
    let tfw = (bytes(), bytes(), text(), bytes()).prop_map(|(tbs, cert, sigalg, sig)| TfwData {
        tbs,
        cert,
        sigalg,
        sig,
    });
    let ta = (
        text(),
        proptest::option::of(text()),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(taid, taname, version)| TaInfo {
            taid,
            taname,
            version,
        });
    let sd = (text(), text(), proptest::collection::vec(ta, 0..3))
        .prop_map(|(name, spid, talist)| SdInfo { name, spid, talist });
    let teeaik = (bytes(), aik(), text()).prop_map(|(spaik, spaiktype, spid)| TeeAik {
        spaik,
        spaiktype,
        spid,
    });
    let tee = (
        text(),
        text(),
        bytes(),
        proptest::collection::vec(bytes(), 0..3),
        proptest::collection::vec(sd, 0..3),
        proptest::collection::vec(teeaik, 0..2),
    )
        .prop_map(|(name, ver, cert, cacert, sd, teeaiklist)| TeeInfo {
            name,
            ver,
            cert,
            cacert,
            sdlist: SdList { sd },
            teeaiklist,
        });
    (proptest::option::of(tfw), tee).prop_map(|(tfwdata, tee)| Dsi { tfwdata, tee })
}
fn content_reason() -> impl Strategy<Value = ContentReason> {
    prop_oneof![
        text().prop_map(ContentReason::Text),
        reason().prop_map(ContentReason::Code)
    ]
}
fn ta_key() -> impl Strategy<Value = TaKey> {
    prop_oneof![jwe().prop_map(TaKey::Jwe), bytes().prop_map(TaKey::Wrapped)]
}
fn outcome() -> impl Strategy<Value = CommandOutcome> {
    prop_oneof![
        jwe().prop_map(CommandOutcome::Pass),
        jwe().prop_map(CommandOutcome::FailEncrypted),
        failure().prop_map(CommandOutcome::Fail),
    ]
}

fn tbs_round_trip<T: TbsMessage + PartialEq + std::fmt::Debug>(v: &T) {
    let back = T::from_payload(&v.to_payload(), &L).unwrap();
    assert_eq!(&back, v);
}
fn content_round_trip<T: ContentPlaintext + PartialEq + std::fmt::Debug>(v: &T) {
    let back = T::from_plaintext(&v.to_plaintext(), &L).unwrap();
    assert_eq!(&back, v);
}

macro_rules! mgmt_round_trip {
    ($name:ident, $ty:ty) => {
        proptest! {
            #[test]
            fn $name(rid in id(), tid in id(), tee in text(), nd in any::<bool>(), h in dsihash(), c in jwe()) {
                tbs_round_trip(&<$ty>::new(rid, tid, tee, h, c).with_nextdsi(nd));
            }
        }
    };
}
mgmt_round_trip!(create_sd_request, CreateSdTbsRequest);
mgmt_round_trip!(update_sd_request, UpdateSdTbsRequest);
mgmt_round_trip!(delete_sd_request, DeleteSdTbsRequest);
mgmt_round_trip!(delete_ta_request, DeleteTaTbsRequest);

macro_rules! response_round_trip {
    ($name:ident, $ty:ty) => {
        proptest! {
            #[test]
            fn $name(rid in id(), tid in id(), o in outcome()) {
                tbs_round_trip(&<$ty>::new(rid, tid, o));
            }
        }
    };
}
response_round_trip!(create_sd_response, CreateSdTbsResponse);
response_round_trip!(update_sd_response, UpdateSdTbsResponse);
response_round_trip!(delete_sd_response, DeleteSdTbsResponse);
response_round_trip!(install_ta_response, InstallTaTbsResponse);
response_round_trip!(update_ta_response, UpdateTaTbsResponse);
response_round_trip!(delete_ta_response, DeleteTaTbsResponse);

proptest! {
    #[test]
    fn get_device_state_request(rid in id(), tid in id(), o in proptest::collection::vec(bytes(), 0..3),
                                algs in proptest::option::of(proptest::collection::vec(sigalg(), 0..3))) {
        let mut r = GetDeviceStateTbsRequest::new(rid, tid, o);
        r.supportedsigalgs = algs;
        tbs_round_trip(&r);
    }

    #[test]
    fn tee_state_response(rid in id(), tid in id(), s in any::<bool>(), e in jwe(), f in failure(), pass in any::<bool>()) {
        let r = if pass {
            GetDeviceTeeStateTbsResponse::pass(rid, tid, s, e)
        } else {
            GetDeviceTeeStateTbsResponse::fail(rid, tid, f)
        };
        tbs_round_trip(&r);
    }

    #[test]
    fn install_ta_request(rid in id(), tid in id(), tee in text(), h in dsihash(), c in jwe(),
                          key in ta_key(), iv in any::<[u8; 16]>(), ta in bytes(), pd in proptest::option::of(bytes())) {
        let mut eta = InstallEncryptedTa::new(key, TaIv(iv), ta);
        eta.cipherpdata = pd;
        tbs_round_trip(&InstallTaTbsRequest::new(rid, tid, tee, h, c, eta));
    }

    #[test]
    fn update_ta_request(rid in id(), tid in id(), tee in text(), h in dsihash(), c in jwe(),
                         key in ta_key(), iv in any::<[u8; 16]>(), ta in bytes(), pd in proptest::option::of(bytes()), only_pd in any::<bool>()) {
        let eta = if only_pd {
            UpdateEncryptedTa::new_pdata(key, TaIv(iv), ta)
        } else {
            let mut e = UpdateEncryptedTa::new(key, TaIv(iv), ta);
            e.ciphernewpdata = pd;
            e
        };
        tbs_round_trip(&UpdateTaTbsRequest::new(rid, tid, tee, h, c, eta));
    }

    #[test]
    fn request_contents(spid in text(), sdname in text(), cert in bytes(), tamid in text(), d in did(),
                        taid in text(), flag in proptest::option::of(any::<bool>()), opt in proptest::option::of(text()),
                        certs in proptest::option::of(proptest::collection::vec(bytes(), 0..3)),
                        fps in proptest::option::of(proptest::collection::vec(any::<[u8; 32]>(), 0..3))) {
        content_round_trip(&CreateSdRequestContent { spid: spid.clone(), sdname: sdname.clone(), spcert: cert.clone(), tamid: tamid.clone(), did: d });
        content_round_trip(&UpdateSdRequestContent {
            tamid: tamid.clone(), spid: spid.clone(), sdname: sdname.clone(),
            changes: SdChanges {
                newsdname: opt.clone(), newspid: opt.clone(), spcert: certs,
                deloldspcert: fps.map(|v| v.into_iter().map(CertFingerprint).collect()),
                renewteespaik: flag,
            },
        });
        content_round_trip(&DeleteSdRequestContent { tamid: tamid.clone(), sdname: sdname.clone(), deleteta: flag });
        content_round_trip(&InstallTaRequestContent { tamid: tamid.clone(), spid, sdname: sdname.clone(), spcert: flag.map(|_| cert), taid: taid.clone() });
        content_round_trip(&DeleteTaRequestContent { tamid, sdname, taid });
    }

    #[test]
    fn response_contents(r in proptest::option::of(content_reason()), d in did(), sdname in text(),
                         k in proptest::option::of(bytes()), t in proptest::option::of(aik()), dsi in proptest::option::of(dsi())) {
        let raw = dsi.map(RawDsi::new);
        content_round_trip(&CreateSdResponseContent { reason: r.clone(), did: d, sdname, teespaik: k.clone(), dsi: raw.clone() });
        content_round_trip(&UpdateSdResponseContent { reason: r.clone(), did: d, cert: k.clone(), teespaik: k, teespaiktype: t, dsi: raw.clone() });
        content_round_trip(&ResponseContent { reason: r, did: d, dsi: raw });
    }

    #[test]
    fn dsi_document(d in dsi()) {
        let doc = DsiDocument::new(d.clone());
        let back = DsiDocument::from_plaintext(doc.as_bytes(), &L).unwrap();
        prop_assert_eq!(back.dsi(), &d);
        prop_assert_eq!(back, doc);
        // Through serde as well.
        let v: Dsi = serde_json::from_slice(&serde_json::to_vec(&d).unwrap()).unwrap();
        prop_assert_eq!(v, d);
    }

    #[test]
    fn broker_error(rid in id(), tid in id(), c in code()) {
        let b = BrokerError::new(rid, tid, c);
        prop_assert_eq!(BrokerError::parse(&b.to_vec(), &L).unwrap(), b);
    }

    #[test]
    fn device_state_array(n in 0usize..3, p in b64url()) {
        let tees = (0..n).map(|_| Envelope::new(MessageKind::GetDeviceState, Direction::Response,
            json!({"payload": p, "protected":"eyJhbGciOiJSUzI1NiJ9", "signature":"AAAA"}))).collect();
        let r = GetDeviceStateResponse { tees };
        prop_assert_eq!(GetDeviceStateResponse::parse(&r.to_vec(), &L).unwrap(), r);
    }

    #[test]
    fn small_types_through_serde(c in code(), a in sigalg(), k in aik(), f in failure(), key in ta_key(), iv in any::<[u8; 16]>()) {
        prop_assert_eq!(serde_json::from_value::<ErrorCode>(serde_json::to_value(&c).unwrap()).unwrap(), c);
        prop_assert_eq!(serde_json::from_value::<SigAlg>(serde_json::to_value(&a).unwrap()).unwrap(), a);
        prop_assert_eq!(serde_json::from_value::<AikType>(serde_json::to_value(k).unwrap()).unwrap(), k);
        prop_assert_eq!(serde_json::from_value::<Reason>(serde_json::to_value(&f.reason).unwrap()).unwrap(), f.reason);
        prop_assert_eq!(serde_json::from_value::<TaKey>(serde_json::to_value(&key).unwrap()).unwrap(), key);
        prop_assert_eq!(serde_json::from_value::<TaIv>(serde_json::to_value(TaIv(iv)).unwrap()).unwrap(), TaIv(iv));
    }

    /// The pre-scan and the parser never panic on arbitrary input.
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Envelope::parse(&b, &L);
        let _ = ResponseMessage::parse(&b, &L);
        let _ = ResponseContent::from_plaintext(&b, &L);
        let _ = DsiDocument::from_plaintext(&b, &L);
    }
}

// ---- dsihash over the exact bytes, through a provider's digest.

/// A minimal SHA-256 (FIPS 180-4) so that this test needs no crypto backend.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[i * 4..i * 4 + 4].try_into().unwrap());
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut s = h;
        for i in 0..64 {
            let s1 = s[4].rotate_right(6) ^ s[4].rotate_right(11) ^ s[4].rotate_right(25);
            let ch = (s[4] & s[5]) ^ (!s[4] & s[6]);
            let t1 = s[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = s[0].rotate_right(2) ^ s[0].rotate_right(13) ^ s[0].rotate_right(22);
            let maj = (s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]);
            let t2 = s0.wrapping_add(maj);
            s = [
                t1.wrapping_add(t2),
                s[0],
                s[1],
                s[2],
                s[3].wrapping_add(t1),
                s[4],
                s[5],
                s[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(s) {
            *a = a.wrapping_add(b);
        }
    }
    let mut out = [0u8; 32];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

struct TestSha256;
impl Digest for TestSha256 {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sha256
    }
    fn digest(&self, data: &[u8]) -> Vec<u8> {
        sha256(data).to_vec()
    }
}
struct NoRandom;
impl SecureRandom for NoRandom {
    fn fill(&self, _: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::Random)
    }
}
struct NoKeys;
impl KeyLoader for NoKeys {
    fn private_key_from_pkcs8_der(&self, _: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
        Err(CryptoError::Backend)
    }
    fn private_key_from_components(
        &self,
        _: &KeyComponents,
    ) -> Result<Box<dyn PrivateKey>, CryptoError> {
        Err(CryptoError::Backend)
    }
    fn public_key_from_spki_der(&self, _: &[u8]) -> Result<PublicKey, CryptoError> {
        Err(CryptoError::Backend)
    }
}

static PROVIDER: Provider = Provider {
    signature_verifiers: &[],
    key_encrypters: &[],
    content_ciphers: &[],
    digests: &[&TestSha256],
    secure_random: &NoRandom,
    key_loader: &NoKeys,
    webpki_algorithms: &[],
};

#[test]
fn test_sha256_is_sha256() {
    let h = sha256(b"abc");
    assert_eq!(
        otrp_core::jose::b64::encode_std(&h),
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
}

#[test]
fn dsihash_is_over_the_exact_plaintext_not_a_reserialisation() {
    let a = br#"{"dsi":{"tee":{"name":"T","ver":"1","cert":"AAAA","cacert":[],"sdlist":{"cnt":"0","sd":[]},"teeaiklist":[]}}}"#;
    let b = br#"{ "dsi" : { "tee" : {"name":"T","ver":"1","cert":"AAAA","cacert":[],"sdlist":{"cnt":0,"sd":[]},"teeaiklist":[]}}}"#;
    let da = DsiDocument::from_plaintext(a, &L).unwrap();
    let db = DsiDocument::from_plaintext(b, &L).unwrap();
    assert_eq!(da.dsi(), db.dsi(), "same state");
    let ha = da.hash(&PROVIDER).unwrap();
    let hb = db.hash(&PROVIDER).unwrap();
    assert_eq!(ha.as_bytes(), &sha256(a));
    assert_eq!(hb.as_bytes(), &sha256(b));
    assert_ne!(ha, hb, "different bytes, different dsihash");
    // A TAM puts it in the next request, as BASE64.
    let req = DeleteTaTbsRequest::new(
        MessageId::new("r"),
        MessageId::new("t"),
        "T",
        ha,
        serde_json::from_value(json!({"unprotected":{"alg":"RSA1_5","enc":"A128GCM"},"recipients":[{}],"iv":"","ciphertext":"","tag":""}))
            .unwrap(),
    );
    let parsed = DeleteTaTbsRequest::from_payload(&req.to_payload(), &L).unwrap();
    assert_eq!(parsed.dsihash, ha);
}

#[test]
fn content_dsi_keeps_the_exact_value_bytes() {
    let dsi = r#"{ "tee" :{"name":"T","ver":"1","cert":"AAAA","cacert":[],"sdlist":{"cnt":"0","sd":[]},"teeaiklist":[]} }"#;
    let text =
        format!(r#"{{"did":"AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8=", "dsi" : {dsi} }}"#);
    let c = ResponseContent::from_plaintext(text.as_bytes(), &L).unwrap();
    let raw = c.dsi.as_ref().unwrap();
    assert_eq!(raw.as_bytes(), dsi.as_bytes());
    assert_eq!(
        raw.hash(&PROVIDER).unwrap().as_bytes(),
        &sha256(dsi.as_bytes())
    );
    // Re-emitted with the same bytes, so the TAM's hash stays valid.
    let again = ResponseContent::from_plaintext(&c.to_plaintext(), &L).unwrap();
    assert_eq!(again.dsi.unwrap().as_bytes(), dsi.as_bytes());
}

#[test]
fn a_provider_without_sha256_is_unsupported() {
    let p = Provider {
        digests: &[],
        ..PROVIDER
    };
    let d = DsiDocument::from_plaintext(br#"{"dsi":{"tee":{"name":"T","ver":"1","cert":"","cacert":[],"sdlist":{"cnt":"0","sd":[]},"teeaiklist":[]}}}"#, &L).unwrap();
    assert!(matches!(d.hash(&p), Err(CryptoError::Unsupported(_))));
}
