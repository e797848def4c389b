//! The bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs` are
//! one-line wrappers), here so that the regression tests
//! (`benches/tests/fuzz_regressions.rs`) run exactly the same code over the
//! seed corpora and every input a campaign found. Each body panics only on
//! a real bug: a panic inside otrp, or a broken invariant (a parse that
//! does not round-trip, an unsigned answer to a signed request, a failed
//! request that changed SD or TA state).

use std::sync::OnceLock;

mod broker;
mod http;
mod tam;

pub use broker::{BROKER_TEES, broker_route, broker_selector};
pub use http::{
    HTTP_MAX_SESSIONS, HttpConnection, HttpResponse, http_answer, http_config, http_connections,
    http_input, http_open, http_post, http_responses, http_server, http_statuses,
};
pub use tam::{
    TAM_ARRAY, TAM_EC, TAM_PLAINTEXT, TAM_TWICE, plaintext_payload, sign_response, tam_response,
    tam_response_message, tam_selector,
};

use otrp_core::crypto::{
    CekDecrypter, ContentAlg, JwsAlg, KeyAlg, PrivateKey, Provider, PublicKey,
};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws, b64};
use otrp_core::message::{
    BrokerError, ContentPlaintext, CreateSdRequestContent, CreateSdResponseContent,
    DeleteSdRequestContent, DeleteTaRequestContent, Direction, DsiDocument, Envelope,
    GetDeviceStateResponse, InstallEncryptedTa, InstallTaRequestContent, Limits, MessageKind,
    ResponseContent, ResponseMessage, TaKey, TbsRequest, UpdateEncryptedTa, UpdateSdRequestContent,
    UpdateSdResponseContent, parse_request,
};
use otrp_core::pki::spki_of_certificate;
use otrp_core::tee::TaPlatform;
use otrp_soft_tee::SoftTaPlatform;

use crate::fixtures::{Kind, cert, now, private_key};
use crate::random::seeded;
use crate::scenario::Scenario;

/// The size of the TA images in the fuzzing scenario (small: fuzzing wants
/// many executions per second).
pub const FUZZ_TA_SIZE: usize = 512;

/// The deterministic provider of the fuzzing scenarios (RustCrypto over a
/// seeded random source, so seeds and snapshots match run after run).
pub fn fuzz_provider(kind: Kind) -> Provider {
    seeded(
        otrp_crypto_rustcrypto::provider(),
        &format!("otrp fuzz {}", kind.dir()),
    )
}

/// The fuzzing scenarios, RSA then EC, built once per process.
pub fn scenarios() -> &'static [Scenario; 2] {
    static S: OnceLock<[Scenario; 2]> = OnceLock::new();
    S.get_or_init(|| Kind::BOTH.map(|kind| Scenario::run(kind, fuzz_provider(kind), FUZZ_TA_SIZE)))
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Rsa => 0,
        Kind::Ec => 1,
    }
}

fn roundtrip<T: ContentPlaintext + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(v) = T::from_plaintext(bytes, &Limits::DEFAULT) {
        let again = T::from_plaintext(&v.to_plaintext(), &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("re-parse {}: {e}", std::any::type_name::<T>()));
        assert_eq!(again, v, "content does not round-trip");
    }
}

/// `message_parse`: the first byte picks a parser (envelopes, broker
/// errors, every TBS request, content plaintexts, DSI); the rest is its
/// input. What parses must serialize and parse back to the same value.
pub fn message_parse(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let l = &Limits::DEFAULT;
    match sel % 16 {
        0 => {
            if let Ok(env) = Envelope::parse(bytes, l) {
                let again = Envelope::parse(&env.to_vec(), l).expect("re-parse envelope");
                assert_eq!(again.kind, env.kind);
                assert_eq!(again.direction, env.direction);
            }
        }
        1 => {
            let _ = parse_request(bytes, l);
        }
        2 => {
            let _ = ResponseMessage::parse(bytes, l);
            let _ = GetDeviceStateResponse::parse(bytes, l);
        }
        3 => {
            if let Ok(e) = BrokerError::parse(bytes, l) {
                let again = BrokerError::parse(&e.to_vec(), l).expect("re-parse broker error");
                assert_eq!(again, e);
            }
        }
        4..=10 => {
            let kind = [
                MessageKind::GetDeviceState,
                MessageKind::CreateSd,
                MessageKind::UpdateSd,
                MessageKind::DeleteSd,
                MessageKind::InstallTa,
                MessageKind::UpdateTa,
                MessageKind::DeleteTa,
            ][usize::from(sel % 16 - 4)];
            if let Ok(tbs) = TbsRequest::from_payload(kind, bytes, l) {
                let payload = tbs_payload(&tbs);
                let again = TbsRequest::from_payload(kind, &payload, l).expect("re-parse TBS");
                assert_eq!(again, tbs, "TBS request does not round-trip");
            }
        }
        11 => {
            roundtrip::<CreateSdRequestContent>(bytes);
            roundtrip::<UpdateSdRequestContent>(bytes);
            roundtrip::<DeleteSdRequestContent>(bytes);
        }
        12 => {
            roundtrip::<InstallTaRequestContent>(bytes);
            roundtrip::<DeleteTaRequestContent>(bytes);
        }
        13 => {
            roundtrip::<CreateSdResponseContent>(bytes);
            roundtrip::<UpdateSdResponseContent>(bytes);
            roundtrip::<ResponseContent>(bytes);
        }
        14 => {
            if let Ok(doc) = DsiDocument::from_plaintext(bytes, l) {
                // The exact bytes are kept (the dsihash is over them).
                assert_eq!(doc.as_bytes(), bytes);
            }
        }
        _ => {
            let _ = serde_json::from_slice::<InstallEncryptedTa>(bytes);
            let _ = serde_json::from_slice::<UpdateEncryptedTa>(bytes);
        }
    }
}

fn tbs_payload(tbs: &TbsRequest) -> Vec<u8> {
    use otrp_core::message::TbsMessage;
    match tbs {
        TbsRequest::GetDeviceState(r) => r.to_payload(),
        TbsRequest::CreateSd(r) => r.to_payload(),
        TbsRequest::UpdateSd(r) => r.to_payload(),
        TbsRequest::DeleteSd(r) => r.to_payload(),
        TbsRequest::InstallTa(r) => r.to_payload(),
        TbsRequest::UpdateTa(r) => r.to_payload(),
        TbsRequest::DeleteTa(r) => r.to_payload(),
    }
}

struct Keys {
    provider: Provider,
    /// TAM and TEE public keys of both hierarchies.
    public: Vec<PublicKey>,
    /// TEE and TAM private keys: RSA TEE, RSA TAM, EC TEE, EC TAM.
    private: Vec<Box<dyn PrivateKey>>,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let provider = seeded(otrp_crypto_rustcrypto::provider(), "otrp fuzz keys");
        let mut public = Vec::new();
        let mut private = Vec::new();
        for kind in Kind::BOTH {
            for name in ["tee", "tam"] {
                let spki = spki_of_certificate(&cert(kind, name)).expect("SPKI");
                public.push(
                    provider
                        .key_loader
                        .public_key_from_spki_der(&spki)
                        .expect("public key"),
                );
                private.push(private_key(&provider, kind, name));
            }
        }
        Keys {
            provider,
            public,
            private,
        }
    })
}

/// `jws_verify`: any bytes as a JWS (any serialization), verified with
/// each fixture TAM and TEE public key under every algorithm. A JWS that
/// verifies must have the payload it claims.
pub fn jws_verify(data: &[u8]) {
    let k = keys();
    let Ok(jws) = Jws::parse(data) else {
        return;
    };
    let algs: Vec<JwsAlg> = k.provider.supported_jws_algs().collect();
    for key in &k.public {
        if let Ok(payload) = jws.verify(&k.provider, key, &algs) {
            assert_eq!(
                Some(payload),
                jws.unverified_payload().ok(),
                "verified payload differs"
            );
        }
    }
    for sig in jws.signatures() {
        let _ = sig.x5c();
        let _ = sig.alg();
    }
}

/// `jwe_decrypt`: the first byte picks a fixed key and algorithm
/// (RSA1_5 to the RSA TEE or TAM key, ECDH-ES+A128KW to the EC TEE or TAM
/// key); the rest is a JWE in any serialization.
pub fn jwe_decrypt(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let k = keys();
    let Ok(jwe) = Jwe::parse(bytes) else {
        return;
    };
    let i = usize::from(sel % 4);
    let alg = if i < 2 {
        KeyAlg::Rsa1_5
    } else {
        KeyAlg::EcdhEsA128Kw
    };
    let policy = JwePolicy {
        key_algs: &[alg],
        content_algs: &[ContentAlg::A128CbcHs256, ContentAlg::A256Gcm],
    };
    let key: &dyn CekDecrypter = k.private[i].as_ref();
    if let Ok(d) = jwe.decrypt_detailed(&k.provider, key, &policy) {
        // The CEK it reports decrypts the content again.
        let again = jwe
            .decrypt_with_cek(&k.provider, &d.cek, d.enc)
            .expect("decrypt with the recovered CEK");
        assert_eq!(again, d.plaintext);
        assert_eq!(d.key_alg, alg);
    }
}

/// `encrypted_ta`: any bytes as the `encrypted_ta` of an InstallTA (first
/// byte even) or UpdateTA request; a JWE `key` is unwrapped with the fixed
/// P-256 SP key (ECDH-ES+A128KW), a wrapped key with the RSA one, and the
/// TA data decrypted the way the soft TEE does.
pub fn encrypted_ta(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let (key, iv, blobs) = if sel % 2 == 0 {
        let Ok(eta) = serde_json::from_slice::<InstallEncryptedTa>(bytes) else {
            return;
        };
        let blobs: Vec<Vec<u8>> = std::iter::once(eta.ciphertadata.0)
            .chain(eta.cipherpdata.map(|b| b.0))
            .collect();
        (eta.key, eta.iv, blobs)
    } else {
        let Ok(eta) = serde_json::from_slice::<UpdateEncryptedTa>(bytes) else {
            return;
        };
        assert!(eta.ciphernewtadata.is_some() || eta.ciphernewpdata.is_some());
        let blobs: Vec<Vec<u8>> = eta
            .ciphernewtadata
            .into_iter()
            .chain(eta.ciphernewpdata)
            .map(|b| b.0)
            .collect();
        (eta.key, eta.iv, blobs)
    };
    let k = keys();
    let ta_key = match &key {
        TaKey::Jwe(jwe) => {
            let policy = JwePolicy {
                key_algs: &[KeyAlg::EcdhEsA128Kw],
                content_algs: &[ContentAlg::A128CbcHs256],
            };
            jwe.decrypt(&k.provider, k.private[2].as_ref(), &policy)
                .ok()
        }
        TaKey::Wrapped(w) => k.private[0]
            .decrypt_cek(
                KeyAlg::Rsa1_5,
                ContentAlg::A256Gcm,
                &Default::default(),
                w.as_bytes(),
                k.provider.secure_random,
            )
            .ok()
            .map(|c| c.as_bytes().to_vec()),
    };
    let ta_key = otrp_core::crypto::SecretBytes::new(ta_key.unwrap_or_else(|| vec![7; 32]));
    for blob in blobs {
        if let Ok(plain) = SoftTaPlatform::whole_image().decrypt_ta_data(
            otrp_core::message::TaEncAlg::AesCbc,
            &ta_key,
            &iv.0,
            &blob,
        ) {
            assert!(
                plain.as_bytes().len() < blob.len(),
                "PKCS#7 removes padding"
            );
        }
    }
}

/// The unverified JWS payload of a single-envelope message.
pub fn unverified_payload(message: &[u8]) -> Option<Vec<u8>> {
    let env = Envelope::parse(message, &Limits::DEFAULT).ok()?;
    Jws::parse_json(env.jws_bytes())
        .ok()?
        .unverified_payload()
        .ok()
}

fn check_answer(response: &[u8]) {
    let env = Envelope::parse(response, &Limits::DEFAULT).expect("the TEE answer parses");
    assert_eq!(env.direction, Direction::Response);
}

/// `tee_agent_bytes`: any bytes to the TEE agent, from the state after
/// InstallTA (an SD with a TA) of either hierarchy (first byte). The agent
/// answers a signed response or refuses with `TeeFault::NotARequest`.
pub fn tee_agent_bytes(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let s = &scenarios()[usize::from(sel % 2)];
    let step = s.step(MessageKind::UpdateTa);
    let mut tee = s.tee.open(step.tee_before.snapshot());
    match tee.handle(bytes, now()) {
        Ok(answer) => check_answer(&answer),
        Err(otrp_core::tee::TeeFault::NotARequest(_)) => {}
        Err(e) => panic!("{e}"),
    }
}

/// Signs `payload` as the fixture TAM of `kind` (x5c: TAM and root) into a
/// request envelope of `kind_of`.
pub fn sign_request(kind: Kind, kind_of: MessageKind, payload: &[u8]) -> Vec<u8> {
    struct Tams(Vec<Box<dyn PrivateKey>>, Provider);
    static T: OnceLock<Tams> = OnceLock::new();
    let t = T.get_or_init(|| {
        let provider = seeded(otrp_crypto_rustcrypto::provider(), "otrp fuzz TAM signer");
        Tams(
            Kind::BOTH
                .iter()
                .map(|k| private_key(&provider, *k, "tam"))
                .collect(),
            provider,
        )
    });
    let chain: Vec<String> = [cert(kind, "tam"), cert(kind, "tam-root")]
        .iter()
        .map(|c| b64::encode_std(c))
        .collect();
    let jws = Jws::sign(
        payload,
        t.0[kind_index(kind)].as_ref(),
        kind.sig_alg(),
        Header::new(),
        Some(Header::new().with("x5c", chain)),
        &t.1,
    )
    .expect("sign");
    let value: serde_json::Value =
        serde_json::from_str(&jws.to_flattened_json().expect("JSON")).expect("JWS JSON");
    Envelope::new(kind_of, Direction::Request, value).to_vec()
}

/// The first byte of a `tee_agent_signed` input: hierarchy (bit 7) and
/// lifecycle step (the low bits, mod 7) whose TEE state the request meets.
pub fn signed_selector(kind: Kind, step: usize) -> u8 {
    (if kind == Kind::Ec { 0x80 } else { 0 }) | (step as u8)
}

/// `tee_agent_signed`: structure-aware. The first byte picks the hierarchy
/// and the lifecycle step whose TEE state the request meets
/// ([`signed_selector`]); the rest is a TBS payload, signed here with the
/// fixture TAM key so that fuzzing gets past the signature. The envelope
/// name follows the payload's TBS name (or the step's command). The TEE
/// must answer with a signed response; a "fail" must leave the SDs, TAs
/// and SP AIKs as they were.
pub fn tee_agent_signed(data: &[u8]) {
    let Some((&sel, payload)) = data.split_first() else {
        return;
    };
    let kind = if sel & 0x80 != 0 { Kind::Ec } else { Kind::Rsa };
    let s = &scenarios()[kind_index(kind)];
    let step = &s.steps[usize::from(sel & 0x7f) % s.steps.len()];
    let kind_of = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(payload)
        .ok()
        .and_then(|m| m.keys().next().cloned())
        .and_then(|name| MessageKind::from_tbs_name(&name))
        .map_or(step.kind, |(k, _)| k);
    let request = sign_request(kind, kind_of, payload);
    let mut tee = s.tee.open(step.tee_before.snapshot());
    let before = tee.state().clone();
    let answer = match tee.handle(&request, now()) {
        Ok(a) => a,
        // Bigger than the limits: not an OTrP request.
        Err(otrp_core::tee::TeeFault::NotARequest(_))
            if request.len() > Limits::DEFAULT.max_message_size =>
        {
            return;
        }
        Err(e) => panic!("a signed request got no signed answer: {e}"),
    };
    check_answer(&answer);
    let env = Envelope::parse(&answer, &Limits::DEFAULT).expect("answer");
    let jws = Jws::parse_json(env.jws_bytes()).expect("answer JWS");
    let body: serde_json::Value =
        serde_json::from_slice(&jws.unverified_payload().expect("payload")).expect("JSON");
    let status = body
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(|t| t.get("status"))
        .and_then(|s| s.as_str())
        .unwrap_or("")
        .to_string();
    assert!(status == "pass" || status == "fail", "status {status:?}");
    if status == "fail" {
        let after = tee.state();
        assert_eq!(after.sds, before.sds, "a failed request changed the SDs");
        assert_eq!(
            after.sp_aiks, before.sp_aiks,
            "a failed request changed SP AIKs"
        );
    }
}
