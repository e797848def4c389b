//! Wycheproof vectors (C2SP/wycheproof) for the raw primitives, read from
//! the copies vendored in `otrp-conformance/vectors/wycheproof/`.
//!
//! Every test prints how many vectors ran and were skipped (and why), and
//! fails if a vector it supports is skipped. "valid" must pass and
//! "invalid" must fail; what "acceptable" means is documented per file.

mod common;

use common::{hex, rng};
use otrp_core::crypto::ContentAlg;
use otrp_crypto_rustcrypto::{RsaPrivateKey, hazmat};
use serde_json::Value;

fn wycheproof(file: &str) -> Value {
    otrp_conformance::load(&format!("wycheproof/{file}"))
}

fn tests(v: &Value) -> impl Iterator<Item = (&Value, &Value)> {
    v["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap().iter().map(move |t| (g, t)))
}

fn s<'a>(t: &'a Value, k: &str) -> &'a str {
    t[k].as_str().unwrap_or_else(|| panic!("missing {k}"))
}

#[derive(Default)]
struct Tally {
    ran: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    skipped: Vec<String>,
}

impl Tally {
    fn report(&self, file: &str, total: usize) {
        println!(
            "{file}: {} of {total} vectors ran ({} acceptable accepted, {} acceptable rejected), {} skipped",
            self.ran,
            self.acceptable_accepted,
            self.acceptable_rejected,
            self.skipped.len()
        );
        for why in &self.skipped {
            println!("  skipped: {why}");
        }
        assert!(
            self.skipped.is_empty(),
            "{file}: supported vectors were skipped"
        );
        assert_eq!(self.ran, total, "{file}: not every vector ran");
    }
}

/// AES key wrap (RFC 3394) with 128/192/256-bit KEKs.
/// "acceptable" (ShortKey: an 8-byte key, which RFC 3394 does not allow
/// since it needs n >= 2 semiblocks) may be refused; if accepted the
/// result must match.
#[test]
fn aes_wrap_test() {
    let v = wycheproof("aes_wrap_test.json");
    let total = v["numberOfTests"].as_u64().unwrap() as usize;
    let mut tally = Tally::default();
    for (_, t) in tests(&v) {
        let id = t["tcId"].as_u64().unwrap();
        let (kek, msg, ct) = (hex(s(t, "key")), hex(s(t, "msg")), hex(s(t, "ct")));
        let wrapped = hazmat::aes_key_wrap(&kek, &msg);
        let unwrapped = hazmat::aes_key_unwrap(&kek, &ct);
        match s(t, "result") {
            "valid" => {
                assert_eq!(wrapped.as_ref().ok(), Some(&ct), "tc {id}: wrap");
                assert_eq!(unwrapped.as_ref().ok(), Some(&msg), "tc {id}: unwrap");
            }
            "invalid" => {
                assert!(unwrapped.is_err(), "tc {id}: invalid ciphertext unwrapped");
                if let Ok(w) = wrapped {
                    assert_ne!(w, ct, "tc {id}: invalid wrap reproduced");
                }
            }
            _ => match (wrapped, unwrapped) {
                (Ok(w), Ok(u)) => {
                    assert_eq!((w, u), (ct, msg), "tc {id}");
                    tally.acceptable_accepted += 1;
                }
                (Err(_), Err(_)) => tally.acceptable_rejected += 1,
                other => panic!("tc {id}: inconsistent {other:?}"),
            },
        }
        tally.ran += 1;
    }
    tally.report("aes_wrap_test.json", total);
}

/// The P-256 public point of a DER SubjectPublicKeyInfo: id-ecPublicKey with
/// the named curve prime256v1 only (explicit curve parameters are refused).
fn p256_point_from_spki(der: &[u8]) -> Option<Vec<u8>> {
    use der::Decode;
    const EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    const PRIME256V1: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    let spki = spki::SubjectPublicKeyInfoRef::from_der(der).ok()?;
    if spki.algorithm.oid != EC_PUBLIC_KEY {
        return None;
    }
    let curve: der::asn1::ObjectIdentifier = spki.algorithm.parameters?.decode_as().ok()?;
    if curve != PRIME256V1 {
        return None;
    }
    spki.subject_public_key.as_bytes().map(<[u8]>::to_vec)
}

/// Raw ECDH on P-256, public keys as SPKI DER.
/// "acceptable" cases (unusual but not wrong ASN.1 such as non-minimal
/// encodings or unused parameters, compressed points, curve parameters
/// spelled out) may be refused by our strict SPKI parsing; when accepted,
/// the shared secret must be the expected one. Compressed points are
/// accepted by the SEC1 decoder.
#[test]
fn ecdh_secp256r1_test() {
    let v = wycheproof("ecdh_secp256r1_test.json");
    let total = v["numberOfTests"].as_u64().unwrap() as usize;
    let mut tally = Tally::default();
    for (_, t) in tests(&v) {
        let id = t["tcId"].as_u64().unwrap();
        let private = hex(s(t, "private"));
        let start = private
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(private.len());
        let private = &private[start..];
        if private.len() > 32 {
            tally
                .skipped
                .push(format!("tc {id}: private key longer than 32 bytes"));
            continue;
        }
        let mut scalar = [0u8; 32];
        scalar[32 - private.len()..].copy_from_slice(private);
        let shared = hex(s(t, "shared"));
        let result = p256_point_from_spki(&hex(s(t, "public")))
            .ok_or(otrp_core::crypto::CryptoError::InvalidKey)
            .and_then(|point| hazmat::ecdh_p256(&scalar, &point));
        match s(t, "result") {
            "valid" => assert_eq!(result.ok(), Some(shared), "tc {id}: {}", s(t, "comment")),
            "invalid" => assert!(
                result.is_err(),
                "tc {id}: invalid accepted: {}",
                s(t, "comment")
            ),
            _ => match result {
                Ok(z) => {
                    assert_eq!(z, shared, "tc {id}");
                    tally.acceptable_accepted += 1;
                }
                Err(_) => tally.acceptable_rejected += 1,
            },
        }
        tally.ran += 1;
    }
    tally.report("ecdh_secp256r1_test.json", total);
}

/// RSAES-PKCS1-v1_5 decryption with explicit rejection (hazmat): valid
/// ciphertexts decrypt to the message, invalid ones fail.
#[test]
fn rsa_pkcs1_2048_test() {
    let v = wycheproof("rsa_pkcs1_2048_test.json");
    let total = v["numberOfTests"].as_u64().unwrap() as usize;
    let mut tally = Tally::default();
    for group in v["testGroups"].as_array().unwrap() {
        let key = RsaPrivateKey::from_pkcs8_der(&hex(s(group, "privateKeyPkcs8"))).unwrap();
        for t in group["tests"].as_array().unwrap() {
            let id = t["tcId"].as_u64().unwrap();
            let result = hazmat::rsa_pkcs1v15_decrypt(&key, &hex(s(t, "ct")), rng());
            match s(t, "result") {
                "valid" => assert_eq!(result.ok(), Some(hex(s(t, "msg"))), "tc {id}"),
                "invalid" => assert!(result.is_err(), "tc {id}: {}", s(t, "comment")),
                other => panic!("tc {id}: unexpected result {other}"),
            }
            tally.ran += 1;
        }
    }
    tally.report("rsa_pkcs1_2048_test.json", total);
}

fn cbc_hmac(file: &str, alg: ContentAlg) {
    let v = wycheproof(file);
    let total = v["numberOfTests"].as_u64().unwrap() as usize;
    let mut tally = Tally::default();
    for (_, t) in tests(&v) {
        let id = t["tcId"].as_u64().unwrap();
        let (key, iv, aad) = (hex(s(t, "key")), hex(s(t, "iv")), hex(s(t, "aad")));
        let (msg, ct, tag) = (hex(s(t, "msg")), hex(s(t, "ct")), hex(s(t, "tag")));
        let decrypted = hazmat::cbc_hmac_decrypt(alg, &key, &iv, &aad, &ct, &tag);
        match s(t, "result") {
            "valid" => {
                let encrypted = hazmat::cbc_hmac_encrypt(alg, &key, &iv, &aad, &msg);
                assert_eq!(encrypted.ok(), Some((ct, tag)), "tc {id}: encrypt");
                assert_eq!(decrypted.ok(), Some(msg), "tc {id}: decrypt");
            }
            "invalid" => assert!(decrypted.is_err(), "tc {id}: {}", s(t, "comment")),
            other => panic!("tc {id}: unexpected result {other}"),
        }
        tally.ran += 1;
    }
    tally.report(file, total);
}

/// A128CBC-HS256 (RFC 7518 5.2.3) with explicit key, IV and AAD.
#[test]
fn a128cbc_hs256_test() {
    cbc_hmac("a128cbc_hs256_test.json", ContentAlg::A128CbcHs256);
}

/// A256CBC-HS512 (RFC 7518 5.2.5) with explicit key, IV and AAD.
#[test]
fn a256cbc_hs512_test() {
    cbc_hmac("a256cbc_hs512_test.json", ContentAlg::A256CbcHs512);
}
