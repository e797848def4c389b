//! Wycheproof vectors through the provider's traits. "valid" must pass and
//! "invalid" must fail; "acceptable" vectors are decided per file below (and
//! in docs/security.md). Raw primitives outside the traits' domain (key-wrap
//! of lengths no CEK has, say) are covered by each backend's own tests.

use otrp_core::crypto::{
    AgreementParams, Cek, ContentAlg, CryptoError, Curve, EcPublicKey, EncryptionKey, HashAlg,
    JwsAlg, KeyAlg, Provider, PublicKey, RsaPublicKey, SecretBytes,
};
use otrp_core::jose::{JoseError, Jwe, JwePolicy, Jwk, Jws, KeyUse};
use serde_json::Value;

use crate::{Tally, hex, lacking, lacking_crypto, load};

fn groups(file: &Value) -> impl Iterator<Item = &Value> {
    file["testGroups"].as_array().expect("testGroups").iter()
}

fn tests(group: &Value) -> impl Iterator<Item = &Value> {
    group["tests"].as_array().expect("tests").iter()
}

fn field(v: &Value, name: &str) -> Vec<u8> {
    hex(v[name].as_str().unwrap_or_else(|| panic!("missing {name}")))
}

fn has_flag(t: &Value, flag: &str) -> bool {
    t["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|v| v == flag))
}

fn result(t: &Value) -> &str {
    t["result"].as_str().expect("result")
}

fn id(t: &Value) -> i64 {
    t["tcId"].as_i64().expect("tcId")
}

/// Asserts that `ok` matches the vector's expected result.
fn expect(file: &str, t: &Value, ok: bool, detail: &dyn std::fmt::Debug) {
    match result(t) {
        "valid" => assert!(
            ok,
            "{file} tcId {}: valid vector refused: {detail:?}",
            id(t)
        ),
        "invalid" => assert!(!ok, "{file} tcId {}: invalid vector accepted", id(t)),
        other => panic!("{file} tcId {}: unexpected result {other}", id(t)),
    }
}

/// Skips every vector of `file` because the provider lacks what it needs
/// (`error` must be `Unsupported`: any other error is a failure).
fn lacks_all(mut tally: Tally, file: &Value, error: CryptoError) -> Tally {
    let CryptoError::Unsupported(what) = error else {
        panic!("{}: {error}", tally.name)
    };
    groups(file).flat_map(tests).for_each(|_| tally.lacks(what));
    tally.finish()
}

fn group_jwk(group: &Value, which: &str) -> Option<Jwk> {
    group
        .get(which)
        .map(|v| serde_json::from_value(v.clone()).expect("JWK"))
}

/// Why a JWK's key is outside OTrP, if it is.
fn unsupported_key(jwk: &Jwk) -> Option<String> {
    match jwk.kty.as_str() {
        "RSA" => None,
        "EC" if jwk.curve().is_ok() => None,
        "EC" => Some(format!(
            "curve {} is outside OTrP",
            jwk.crv.as_deref().unwrap_or("?")
        )),
        other => Some(format!(
            "{other} key with alg {} (HMAC/symmetric JWS is outside OTrP)",
            jwk.alg.as_deref().unwrap_or("?")
        )),
    }
}

/// Vectors marked valid whose JWK `alg` contradicts the JWS `alg`; they
/// conflict with the WrongPrimitive vectors, and we side with those.
const JWS_KEY_ALG_CONFLICT: &[i64] = &[346, 350];

/// json_web_signature_test: JWS verification with each group's public key,
/// restricted to the algorithms its JWK permits.
pub fn jws(provider: Provider) -> Tally {
    let name = "json_web_signature_test";
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    for group in groups(&file) {
        let jwk = group_jwk(group, "public")
            .or_else(|| group_jwk(group, "private"))
            .expect("key");
        if let Some(reason) = unsupported_key(&jwk) {
            tests(group).for_each(|_| tally.skip(reason.clone()));
            continue;
        }
        let key = jwk.to_public_key().expect("public key");
        let allowed = jwk.permitted_jws_algs(KeyUse::Verify);
        if let Some(what) = allowed
            .iter()
            .find_map(|alg| lacking_crypto(&provider.signature_verifier(*alg)))
        {
            tests(group).for_each(|_| tally.lacks(what));
            continue;
        }
        for t in tests(group) {
            let outcome = Jws::parse(t["jws"].as_str().expect("jws").as_bytes())
                .and_then(|jws| jws.verify(&provider, &key, &allowed));
            if let Some(what) = lacking(&outcome) {
                tally.lacks(what);
                continue;
            }
            if JWS_KEY_ALG_CONFLICT.contains(&id(t)) {
                // The JWK says "alg": "PS256" but the JWS is PS384 (RFC 7520
                // Figure 20). Tests 332-340 require the JWK's alg to be
                // enforced, so we enforce it here too and refuse.
                let refused = Err(JoseError::AlgorithmNotAllowed("PS384"));
                assert_eq!(outcome, refused, "{name} tcId {}", id(t));
            } else {
                expect(name, t, outcome.is_ok(), &outcome);
            }
            tally.ran();
        }
    }
    tally.finish()
}

/// json_web_encryption_test: JWE decryption with each group's private key,
/// restricted to the key management algorithms its JWK permits.
pub fn jwe(provider: Provider) -> Tally {
    let name = "json_web_encryption_test";
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    for group in groups(&file) {
        let jwk = group_jwk(group, "private").expect("private key");
        let key_alg = jwk.alg.as_deref().unwrap_or("?");
        let Some(alg) = KeyAlg::from_name(key_alg) else {
            tests(group).for_each(|_| tally.skip(format!("key for {key_alg} (outside OTrP)")));
            continue;
        };
        let key = jwk.load_private_key(provider.key_loader);
        let lacks = lacking_crypto(&provider.key_encrypter(alg)).or(lacking_crypto(&key));
        if let Some(what) = lacks {
            tests(group).for_each(|_| tally.lacks(what));
            continue;
        }
        let key = key.expect("private key");
        let key_algs = jwk.permitted_key_algs(KeyUse::Decrypt);
        let policy = JwePolicy {
            key_algs: &key_algs,
            content_algs: ContentAlg::ALL,
        };
        for t in tests(group) {
            let text = t["jwe"].as_str().expect("jwe");
            if has_flag(t, "JsonSerialization") {
                // Aimed at compact-only APIs: our compact parser refuses it.
                // Our JSON parser (OTrP sends JSON) accepts it, ignoring the
                // unknown unprotected members, and its `enc` is authenticated.
                assert!(Jwe::parse_compact(text).is_err(), "{name} tcId {}", id(t));
                let parsed = Jwe::parse(text.as_bytes()).expect("JSON serialization");
                let outcome = parsed.decrypt(&provider, key.as_ref(), &policy);
                if let Some(what) = lacking(&outcome) {
                    tally.lacks(what);
                    continue;
                }
                assert!(outcome.is_ok(), "{name} tcId {}: {outcome:?}", id(t));
                tally.ran();
                continue;
            }
            let parsed = Jwe::parse(text.as_bytes());
            // A valid vector whose `enc` or `alg` is outside OTrP is skipped.
            if result(t) == "valid" {
                if let Ok(jwe) = &parsed {
                    let joint = jwe.recipient_header(0).expect("recipient").expect("header");
                    let enc = joint.str("enc").ok().flatten().unwrap_or("?");
                    if ContentAlg::from_name(enc).is_none() {
                        tally.skip(format!("enc {enc} (outside OTrP)"));
                        continue;
                    }
                    let needs_enc = ContentAlg::from_name(enc).map(|e| provider.content_cipher(e));
                    if let Some(what) = needs_enc.as_ref().and_then(lacking_crypto) {
                        tally.lacks(what);
                        continue;
                    }
                    if joint.get("zip").is_some() {
                        let refused = jwe.decrypt(&provider, key.as_ref(), &policy);
                        assert_eq!(
                            refused,
                            Err(JoseError::CompressionUnsupported),
                            "{name} tcId {}",
                            id(t)
                        );
                        tally.skip("compressed content (zip is refused by design)");
                        continue;
                    }
                }
            }
            let outcome = parsed.and_then(|jwe| jwe.decrypt(&provider, key.as_ref(), &policy));
            if let Some(what) = lacking(&outcome) {
                tally.lacks(what);
                continue;
            }
            if let (Ok(plaintext), "valid") = (&outcome, result(t)) {
                assert_eq!(plaintext, &field(t, "pt"), "{name} tcId {}", id(t));
            }
            expect(name, t, outcome.is_ok(), &outcome);
            tally.ran();
        }
    }
    tally.finish()
}

/// a128cbc_hs256_test / a256cbc_hs512_test through the content cipher:
/// valid vectors encrypt to the expected ciphertext and tag and decrypt back;
/// invalid ones fail to decrypt.
pub fn cbc_hmac(provider: Provider, name: &str, enc: ContentAlg) -> Tally {
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    let cipher = match provider.content_cipher(enc) {
        Ok(cipher) => cipher,
        Err(e) => return lacks_all(tally, &file, e),
    };
    for group in groups(&file) {
        for t in tests(group) {
            let cek = Cek::new(field(t, "key"));
            let (iv, aad, msg, ct, tag) = (
                field(t, "iv"),
                field(t, "aad"),
                field(t, "msg"),
                field(t, "ct"),
                field(t, "tag"),
            );
            let mut buf = ct.clone();
            let outcome = cipher.decrypt(&cek, &iv, &aad, &mut buf, &tag);
            if let Some(what) = lacking_crypto(&outcome) {
                tally.lacks(what);
                continue;
            }
            if result(t) == "valid" {
                assert_eq!(buf, msg, "{name} tcId {}", id(t));
                let mut enc_buf = msg.clone();
                let our_tag = cipher
                    .encrypt(&cek, &iv, &aad, &mut enc_buf)
                    .expect("encrypt");
                assert_eq!((enc_buf, our_tag), (ct, tag), "{name} tcId {}", id(t));
            }
            expect(name, t, outcome.is_ok(), &outcome);
            tally.ran();
        }
    }
    tally.finish()
}

/// ecdsa_secp256r1_sha256_p1363_test through the ES256 verifier.
pub fn ecdsa_p256(provider: Provider) -> Tally {
    let name = "ecdsa_secp256r1_sha256_p1363_test";
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    let verifier = match provider.signature_verifier(JwsAlg::Es256) {
        Ok(verifier) => verifier,
        Err(e) => return lacks_all(tally, &file, e),
    };
    for group in groups(&file) {
        let point = hex(group["publicKey"]["uncompressed"]
            .as_str()
            .expect("uncompressed"));
        let key =
            PublicKey::Ec(EcPublicKey::from_sec1_uncompressed(Curve::P256, &point).expect("point"));
        for t in tests(group) {
            let outcome = verifier.verify(&key, &field(t, "msg"), &field(t, "sig"));
            if let Some(what) = lacking_crypto(&outcome) {
                tally.lacks(what);
                continue;
            }
            expect(name, t, outcome.is_ok(), &outcome);
            tally.ran();
        }
    }
    tally.finish()
}

/// rsa_signature_2048_sha256_test through the RS256 verifier. The one
/// "acceptable" vector (a DigestInfo without the NULL parameter) is refused:
/// we accept only the canonical encoding.
pub fn rsa_pkcs1_signature(provider: Provider) -> Tally {
    let name = "rsa_signature_2048_sha256_test";
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    let verifier = match provider.signature_verifier(JwsAlg::Rs256) {
        Ok(verifier) => verifier,
        Err(e) => return lacks_all(tally, &file, e),
    };
    for group in groups(&file) {
        let n = hex(group["publicKey"]["modulus"].as_str().expect("modulus"));
        let e = hex(group["publicKey"]["publicExponent"]
            .as_str()
            .expect("publicExponent"));
        let key = PublicKey::Rsa(RsaPublicKey::new(&n, &e).expect("key"));
        for t in tests(group) {
            let outcome = verifier.verify(&key, &field(t, "msg"), &field(t, "sig"));
            if let Some(what) = lacking_crypto(&outcome) {
                tally.lacks(what);
                continue;
            }
            if result(t) == "acceptable" {
                assert!(
                    outcome.is_err(),
                    "{name} tcId {}: acceptable vector must be refused",
                    id(t)
                );
            } else {
                expect(name, t, outcome.is_ok(), &outcome);
            }
            tally.ran();
        }
    }
    tally.finish()
}

/// The content algorithm whose CEK has `len` bytes, if any.
fn enc_for_len(len: usize) -> Option<ContentAlg> {
    ContentAlg::ALL.iter().copied().find(|e| e.key_len() == len)
}

/// rsa_pkcs1_2048_test through the RSA1_5 CEK decrypter: a valid message of
/// a CEK's length is recovered exactly; every invalid ciphertext yields a
/// fresh random CEK of the right length instead of an error (RFC 7516
/// section 11.5), different on each call.
pub fn rsa1_5(provider: Provider) -> Tally {
    let name = "rsa_pkcs1_2048_test";
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    if let Err(e) = provider.key_encrypter(KeyAlg::Rsa1_5) {
        return lacks_all(tally, &file, e);
    }
    for group in groups(&file) {
        let der = hex(group["privateKeyPkcs8"].as_str().expect("privateKeyPkcs8"));
        let key = provider.key_loader.private_key_from_pkcs8_der(&der);
        if let Some(what) = lacking_crypto(&key) {
            tests(group).for_each(|_| tally.lacks(what));
            continue;
        }
        let key = key.expect("key");
        for t in tests(group) {
            let (msg, ct) = (field(t, "msg"), field(t, "ct"));
            let none = AgreementParams::default();
            match result(t) {
                "valid" => {
                    let Some(enc) = enc_for_len(msg.len()) else {
                        tally.skip("message length is no CEK length (raw decrypt: backend tests)");
                        continue;
                    };
                    let cek =
                        key.decrypt_cek(KeyAlg::Rsa1_5, enc, &none, &ct, provider.secure_random);
                    if let Some(what) = lacking_crypto(&cek) {
                        tally.lacks(what);
                        continue;
                    }
                    let cek = cek.expect("cek");
                    assert_eq!(cek.as_bytes(), msg, "{name} tcId {}", id(t));
                }
                _ => {
                    let enc = ContentAlg::A128CbcHs256;
                    let a =
                        key.decrypt_cek(KeyAlg::Rsa1_5, enc, &none, &ct, provider.secure_random);
                    let b =
                        key.decrypt_cek(KeyAlg::Rsa1_5, enc, &none, &ct, provider.secure_random);
                    if let Some(what) = lacking_crypto(&a).or(lacking_crypto(&b)) {
                        tally.lacks(what);
                        continue;
                    }
                    let (a, b) = (
                        a.expect("implicit rejection"),
                        b.expect("implicit rejection"),
                    );
                    assert_eq!(a.len(), enc.key_len(), "{name} tcId {}", id(t));
                    assert_ne!(a, b, "{name} tcId {}: rejection CEK must be random", id(t));
                }
            }
            tally.ran();
        }
    }
    tally.finish()
}

/// aes_wrap_test through A128KW / A256KW: valid wraps of CEK lengths are
/// reproduced and unwrapped; invalid ones fail to unwrap. The "acceptable"
/// vectors wrap an 8-byte key, which no CEK is: they are refused.
pub fn aes_kw(provider: Provider) -> Tally {
    let name = "aes_wrap_test";
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    for group in groups(&file) {
        for t in tests(group) {
            let kek = field(t, "key");
            let alg = match kek.len() {
                16 => KeyAlg::A128Kw,
                32 => KeyAlg::A256Kw,
                n => {
                    tally.skip(format!("{}-bit KEK (A192KW is outside OTrP)", n * 8));
                    continue;
                }
            };
            let (msg, ct) = (field(t, "msg"), field(t, "ct"));
            let jwk = Jwk {
                kty: "oct".into(),
                k: Some(otrp_core::jose::Secret::encode(&kek)),
                ..Jwk::default()
            };
            if let Some(what) = lacking_crypto(&provider.key_encrypter(alg)) {
                tally.lacks(what);
                continue;
            }
            let key = jwk.load_private_key(provider.key_loader);
            if let Some(what) = lacking_crypto(&key) {
                tally.lacks(what);
                continue;
            }
            let key = key.expect("oct key");
            let none = AgreementParams::default();
            let valid = result(t) == "valid";
            let enc = match enc_for_len(if valid {
                msg.len()
            } else {
                ct.len().saturating_sub(8)
            }) {
                Some(enc) => enc,
                None if valid => {
                    tally.skip("wrapped key length is no CEK length (raw key wrap: backend tests)");
                    continue;
                }
                None => ContentAlg::A128CbcHs256,
            };
            let outcome = key.decrypt_cek(alg, enc, &none, &ct, provider.secure_random);
            if let Some(what) = lacking_crypto(&outcome) {
                tally.lacks(what);
                continue;
            }
            if valid {
                assert_eq!(
                    outcome.as_ref().map(SecretBytes::as_bytes).ok(),
                    Some(&msg[..]),
                    "{name} tcId {}",
                    id(t)
                );
                let secret = SecretBytes::new(kek.clone());
                let wrapped = provider
                    .key_encrypter(alg)
                    .and_then(|w| {
                        w.encrypt_cek(
                            EncryptionKey::Symmetric(&secret),
                            enc,
                            Some(&Cek::new(msg.clone())),
                            &none,
                            provider.secure_random,
                        )
                    })
                    .expect("wrap");
                assert_eq!(wrapped.encrypted_key, ct, "{name} tcId {}", id(t));
            } else {
                assert!(
                    outcome.is_err(),
                    "{name} tcId {}: {} vector unwrapped",
                    id(t),
                    result(t)
                );
            }
            tally.ran();
        }
    }
    tally.finish()
}

/// A PKCS#8 PrivateKeyInfo for a P-256 scalar (no public key member).
fn p256_pkcs8(d: &[u8]) -> Vec<u8> {
    let mut der = hex("3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420");
    der.extend_from_slice(d);
    der
}

/// The Concat KDF of RFC 7518 section 4.6.2 for one SHA-256 round, with
/// empty apu/apv (enough for keys up to 256 bits).
fn concat_kdf(provider: &Provider, z: &[u8], alg_id: &str, key_len: usize) -> Vec<u8> {
    let mut input = vec![0, 0, 0, 1];
    input.extend_from_slice(z);
    input.extend_from_slice(&(alg_id.len() as u32).to_be_bytes());
    input.extend_from_slice(alg_id.as_bytes());
    input.extend_from_slice(&[0; 8]);
    input.extend_from_slice(&((key_len * 8) as u32).to_be_bytes());
    let mut out = provider
        .digest(HashAlg::Sha256)
        .expect("SHA-256")
        .digest(&input);
    out.truncate(key_len);
    out
}

/// ecdh_secp256r1_test through ECDH-ES direct agreement: the vector's public
/// key is the `epk`, its private key the recipient's. A valid vector yields
/// the CEK the Concat KDF gives for the expected shared secret; an invalid
/// public key (off the curve, wrong curve, bad encoding) is refused. The
/// "acceptable" vectors (compressed points, explicit curve parameters) are
/// refused: JWK `epk` carries named-curve uncompressed coordinates only.
pub fn ecdh_p256(provider: Provider) -> Tally {
    let name = "ecdh_secp256r1_test";
    let file = load(&format!("wycheproof/{name}.json"));
    let mut tally = Tally::new(name);
    if let Err(e) = provider.key_encrypter(KeyAlg::EcdhEs) {
        return lacks_all(tally, &file, e);
    }
    let enc = ContentAlg::A128Gcm;
    for group in groups(&file) {
        for t in tests(group) {
            let mut d = field(t, "private");
            // Wycheproof writes the scalar as a signed integer: drop a sign
            // byte, left-pad short ones.
            while d.len() > 32 && d.first() == Some(&0) {
                d.remove(0);
            }
            while d.len() < 32 {
                d.insert(0, 0);
            }
            let key = provider
                .key_loader
                .private_key_from_pkcs8_der(&p256_pkcs8(&d));
            if let Some(what) = lacking_crypto(&key) {
                tally.lacks(what);
                continue;
            }
            let key = key.expect("P-256 private key");
            let epk = provider
                .key_loader
                .public_key_from_spki_der(&field(t, "public"));
            let outcome = match epk {
                Ok(PublicKey::Ec(epk)) => {
                    let params = AgreementParams {
                        epk: Some(epk),
                        apu: None,
                        apv: None,
                    };
                    key.decrypt_cek(KeyAlg::EcdhEs, enc, &params, &[], provider.secure_random)
                }
                Ok(PublicKey::Rsa(_)) => panic!("{name} tcId {}: RSA key from an EC vector", id(t)),
                Err(e) => Err(e),
            };
            if let Some(what) = lacking_crypto(&outcome) {
                tally.lacks(what);
                continue;
            }
            match result(t) {
                "valid" => {
                    let cek = outcome.unwrap_or_else(|e| panic!("{name} tcId {}: {e}", id(t)));
                    let expected =
                        concat_kdf(&provider, &field(t, "shared"), enc.name(), enc.key_len());
                    assert_eq!(cek.as_bytes(), expected, "{name} tcId {}", id(t));
                }
                "invalid" => assert!(
                    outcome.is_err(),
                    "{name} tcId {}: invalid public key accepted",
                    id(t)
                ),
                // Acceptable (compressed points, say): refusing is fine; if
                // accepted, the agreed key must be right.
                _ => {
                    if let Ok(cek) = outcome {
                        let expected =
                            concat_kdf(&provider, &field(t, "shared"), enc.name(), enc.key_len());
                        assert_eq!(cek.as_bytes(), expected, "{name} tcId {}", id(t));
                    }
                }
            }
            tally.ran();
        }
    }
    tally.finish()
}
