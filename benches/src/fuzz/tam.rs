//! `tam_response`: the TAM's [`TamSession::handle_response`] on
//! structure-aware mutations of the TEE's answers (issue 13). The fuzzed
//! TBS response is signed inside the target with the fixture TEE key (the
//! key the TAM learnt in the lifecycle's GetDeviceState), so mutations get
//! past the signature; in "plaintext" mode the `edsi` (to the TAM key) and
//! `content` (under the outstanding request's CEK) members are encrypted
//! inside the target too, so the fuzzer also reaches the DSI and the
//! response contents (sections 9.1.7, 9.2.1.3 to 9.3.3.3).

use std::sync::OnceLock;

use otrp_core::crypto::{ContentAlg, EncryptionKey, KeyAlg, PrivateKey, Provider, PublicKey};
use otrp_core::jose::{Header, Jwe, Jws};
use otrp_core::message::{Direction, Envelope, GetDeviceStateResponse, Limits, MessageKind};
use otrp_core::pki::spki_of_certificate;
use otrp_core::tam::TamSession;
use serde_json::Value;

use super::{kind_index, scenarios};
use crate::fixtures::{Kind, cert, now, private_key};
use crate::random::seeded;

/// Selector bit: EC hierarchy (else RSA).
pub const TAM_EC: u8 = 0x80;
/// Selector bit: the payload's `edsi` / `content` members are plaintext,
/// encrypted by the target.
pub const TAM_PLAINTEXT: u8 = 0x40;
/// Selector bit: the signed envelope is sent inside the broker's
/// `GetDeviceStateResponse` array.
pub const TAM_ARRAY: u8 = 0x20;
/// Selector bit, with [`TAM_ARRAY`]: the array holds the envelope twice
/// (two answers from one TEE name, to be refused).
pub const TAM_TWICE: u8 = 0x10;

/// The first byte of a `tam_response` input: hierarchy, mode bits
/// ([`TAM_PLAINTEXT`], [`TAM_ARRAY`], [`TAM_TWICE`]) and the lifecycle step
/// (low three bits, mod the number of steps) whose outstanding request the
/// answer meets.
pub fn tam_selector(kind: Kind, flags: u8, step: usize) -> u8 {
    (if kind == Kind::Ec { TAM_EC } else { 0 }) | flags | (step as u8 & 0x07)
}

struct TeeSigner {
    provider: Provider,
    /// The fixture TEE private keys, RSA then EC.
    keys: Vec<Box<dyn PrivateKey>>,
    /// The fixture TAM public keys, RSA then EC (to encrypt `edsi`).
    tam_keys: Vec<PublicKey>,
}

fn signer() -> &'static TeeSigner {
    static T: OnceLock<TeeSigner> = OnceLock::new();
    T.get_or_init(|| {
        let provider = seeded(otrp_crypto_rustcrypto::provider(), "otrp fuzz TEE signer");
        let keys = Kind::BOTH
            .iter()
            .map(|k| private_key(&provider, *k, "tee"))
            .collect();
        let tam_keys = Kind::BOTH
            .iter()
            .map(|k| {
                let spki = spki_of_certificate(&cert(*k, "tam")).expect("TAM SPKI");
                provider
                    .key_loader
                    .public_key_from_spki_der(&spki)
                    .expect("TAM key")
            })
            .collect();
        TeeSigner {
            provider,
            keys,
            tam_keys,
        }
    })
}

/// The key management algorithm the soft TEE uses towards the TAM key.
fn key_alg(kind: Kind) -> KeyAlg {
    match kind {
        Kind::Rsa => KeyAlg::Rsa1_5,
        Kind::Ec => KeyAlg::EcdhEsA128Kw,
    }
}

/// The `enc` of a JWE member of a real answer's payload, if any.
fn enc_of(member: &Value) -> Option<ContentAlg> {
    let jwe = Jwe::parse(&serde_json::to_vec(member).ok()?).ok()?;
    let name = jwe.protected().get("enc")?.as_str()?;
    ContentAlg::from_name(name)
}

/// The TBS object inside a one-member payload object.
fn tbs_of(payload: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let outer = payload.as_object_mut()?;
    if outer.len() != 1 {
        return None;
    }
    outer.values_mut().next()?.as_object_mut()
}

/// The bytes a plaintext member stands for: a string's UTF-8, else the
/// value's JSON.
fn plaintext_of(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => serde_json::to_vec(other).unwrap_or_default(),
    }
}

/// Replaces `edsi` with a JWE of its plaintext to the TAM key and
/// `content` with one under the step's CEK (the TEE's answer reuses it,
/// 9.2.1.2 step 3). Members that cannot be encrypted are left as they are.
fn encrypt_members(kind: Kind, step: &crate::Step, payload: &[u8]) -> Option<Vec<u8>> {
    let t = signer();
    let tam_key = &t.tam_keys[kind_index(kind)];
    let mut value: Value = serde_json::from_slice(payload).ok()?;
    let real_enc = |member: &str| -> Option<ContentAlg> {
        let real = super::unverified_payload(&step.response)?;
        let mut real: Value = serde_json::from_slice(&real).ok()?;
        enc_of(tbs_of(&mut real)?.get(member)?)
    };
    let tbs = tbs_of(&mut value)?;
    if let Some(plain) = tbs.get("edsi").map(plaintext_of) {
        let enc = real_enc("edsi").unwrap_or(ContentAlg::A128CbcHs256);
        if let Ok(jwe) = Jwe::builder(enc)
            .recipient(key_alg(kind), EncryptionKey::Public(tam_key), Header::new())
            .encrypt(&plain, &t.provider)
        {
            tbs.insert("edsi".into(), jwe_value(&jwe)?);
        }
    }
    let cek = step.tam_before.outstanding().and_then(|o| o.cek.clone());
    if let (Some(plain), Some(cek)) = (tbs.get("content").map(plaintext_of), cek) {
        let enc = real_enc("content").unwrap_or(ContentAlg::A128CbcHs256);
        if let Ok(jwe) = Jwe::builder(enc)
            .cek(cek)
            .recipient(key_alg(kind), EncryptionKey::Public(tam_key), Header::new())
            .encrypt(&plain, &t.provider)
        {
            tbs.insert("content".into(), jwe_value(&jwe)?);
        }
    }
    serde_json::to_vec(&value).ok()
}

fn jwe_value(jwe: &Jwe) -> Option<Value> {
    serde_json::from_str(&jwe.to_flattened_json().ok()?).ok()
}

/// Signs `payload` as the fixture TEE of `kind` into a response envelope of
/// `kind_of` (no `x5c`: the TAM knows the TEE's certificate from its DSI).
pub fn sign_response(kind: Kind, kind_of: MessageKind, payload: &[u8]) -> Vec<u8> {
    let t = signer();
    let jws = Jws::sign(
        payload,
        t.keys[kind_index(kind)].as_ref(),
        kind.sig_alg(),
        Header::new(),
        None,
        &t.provider,
    )
    .expect("sign");
    let value: Value =
        serde_json::from_str(&jws.to_flattened_json().expect("JSON")).expect("JWS JSON");
    Envelope::new(kind_of, Direction::Response, value).to_vec()
}

/// The response message a `tam_response` input stands for, and the step
/// whose outstanding request it answers.
pub fn tam_response_message(data: &[u8]) -> Option<(Kind, &'static crate::Step, Vec<u8>)> {
    let (&sel, payload) = data.split_first()?;
    let kind = if sel & TAM_EC != 0 {
        Kind::Ec
    } else {
        Kind::Rsa
    };
    let s = &scenarios()[kind_index(kind)];
    let step = &s.steps[usize::from(sel & 0x07) % s.steps.len()];
    let payload = if sel & TAM_PLAINTEXT != 0 {
        encrypt_members(kind, step, payload).unwrap_or_else(|| payload.to_vec())
    } else {
        payload.to_vec()
    };
    let kind_of = serde_json::from_slice::<serde_json::Map<String, Value>>(&payload)
        .ok()
        .and_then(|m| m.keys().next().cloned())
        .and_then(|name| MessageKind::from_tbs_name(&name))
        .map_or(step.kind, |(k, _)| k);
    let mut message = sign_response(kind, kind_of, &payload);
    if sel & TAM_ARRAY != 0
        && let Ok(env) = Envelope::parse(&message, &Limits::DEFAULT)
    {
        let copies = if sel & TAM_TWICE != 0 { 2 } else { 1 };
        message = GetDeviceStateResponse {
            tees: vec![env; copies],
        }
        .to_vec();
    }
    Some((kind, step, message))
}

/// `tam_response`: structure-aware. The first byte picks the hierarchy,
/// the mode and the lifecycle step ([`tam_selector`]); the rest is the
/// TEE's TBS response payload, signed here with the TEE key the TAM knows.
/// The TAM must never panic; a refused answer must leave the device state
/// exactly as it was; an accepted one clears the outstanding request.
pub fn tam_response(data: &[u8]) {
    let Some((kind, step, message)) = tam_response_message(data) else {
        return;
    };
    let s = &scenarios()[kind_index(kind)];
    let mut session = TamSession::resume(&s.tam, step.tam_before.clone());
    match session.handle_response(&message, now()) {
        Ok(_) => {
            assert!(
                session.state().outstanding().is_none(),
                "an accepted answer left the request outstanding"
            );
            assert_eq!(
                session.state().revision(),
                step.tam_before.revision() + 1,
                "an accepted answer is one revision"
            );
        }
        Err(_) => assert_eq!(
            session.state(),
            &step.tam_before,
            "a refused answer changed the device state"
        ),
    }
}

/// The TBS payload of a real answer with its `edsi` / `content` decrypted
/// (what a [`TAM_PLAINTEXT`] seed carries): `edsi` with the fixture TAM
/// key, `content` with the outstanding request's CEK.
pub fn plaintext_payload(kind: Kind, step: &crate::Step) -> Option<Vec<u8>> {
    let payload = super::unverified_payload(&step.response)?;
    let mut value: Value = serde_json::from_slice(&payload).ok()?;
    let t = signer();
    let tam_key = private_key(&t.provider, kind, "tam");
    let tbs = tbs_of(&mut value)?;
    if let Some(edsi) = tbs.get("edsi") {
        let jwe = Jwe::parse(&serde_json::to_vec(edsi).ok()?).ok()?;
        let policy = otrp_core::jose::JwePolicy {
            key_algs: &[key_alg(kind)],
            content_algs: &[
                ContentAlg::A128CbcHs256,
                ContentAlg::A256CbcHs512,
                ContentAlg::A128Gcm,
                ContentAlg::A256Gcm,
            ],
        };
        let plain = jwe.decrypt(&t.provider, tam_key.as_ref(), &policy).ok()?;
        tbs.insert(
            "edsi".into(),
            Value::String(String::from_utf8(plain.to_vec()).ok()?),
        );
    }
    let cek = step.tam_before.outstanding().and_then(|o| o.cek.clone());
    if let (Some(content), Some(cek)) = (tbs.get("content"), cek) {
        let enc = enc_of(content)?;
        let jwe = Jwe::parse(&serde_json::to_vec(content).ok()?).ok()?;
        let plain = jwe.decrypt_with_cek(&t.provider, &cek, enc).ok()?;
        tbs.insert(
            "content".into(),
            Value::String(String::from_utf8(plain.to_vec()).ok()?),
        );
    }
    serde_json::to_vec(&value).ok()
}
