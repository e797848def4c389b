//! The peer, measured side by side (feature `peer`): josekit 0.10 (on
//! OpenSSL) against our backends (RustCrypto, aws-lc) and the raw aws-lc-rs
//! primitive, in the same run, on the same messages and keys.
//!
//! Hot paths (a TEE's: spec 4.4, 8.3): RS256 and ES256 JWS verification of
//! a 1 KiB GetDeviceStateRequest-sized payload, RSA1_5 + A128CBC-HS256 and
//! ECDH-ES+A128KW + A128CBC-HS256 JWE decryption of 1 KiB, RS256 signing.
//!
//! Benchmark ids are stable, for the report command: group
//! `peer/<hot path>`, function one of `josekit`, `rustcrypto`, `aws-lc`,
//! `aws-lc-raw` (and `aws-lc-raw-parsed-key` where a pre-parsed key
//! changes the raw time). The ratio of a backend to `josekit` is the
//! comparison with the peer; `aws-lc` to `aws-lc-raw` is our JOSE overhead.
//!
//! Every message is made once by the RustCrypto backend (compact
//! serialization, which josekit reads) and checked by every contender
//! before timing starts.
//!
//! Run: `cargo bench -p otrp-benches --features peer --bench peer`
//! (needs OpenSSL's headers: `apt-get install -y libssl-dev pkg-config`).
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::agreement;
use aws_lc_rs::cipher::{DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::key_wrap::{AesKek, KeyWrap};
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{self, RsaKeyPair, RsaPublicKeyComponents, UnparsedPublicKey};
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use otrp_core::crypto::{ContentAlg, JwsAlg, KeyAlg, PrivateKey, Provider, PublicKey};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws, b64};

const RSA_PKCS8: &[u8] = include_bytes!("../../otrp-conformance/data/rsa2048.pk8.der");
const P256_PKCS8: &[u8] = include_bytes!("../../otrp-conformance/data/p256.pk8.der");

/// A GetDeviceStateRequest-sized JSON payload of exactly 1024 bytes (spec
/// 8.3: the TBS request with an OCSP staple dominates its size).
fn payload() -> Vec<u8> {
    let head = r#"{"GetDeviceStateTBSRequest":{"ver":"1.0","rid":"8c6f2a1e-5b7d-4c3a-9e21-0f4d6b8a7c55","tid":"3e1b9f70-2c4d-4a8e-b6f1-7d2e5c9a0b13","ocspdat":[""#;
    let tail = r#""],"supportedsigalgs":["RS256","ES256"]}}"#;
    let fill = 1024 - head.len() - tail.len();
    let mut out = head.as_bytes().to_vec();
    out.extend(
        (0..fill)
            .map(|i| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64]),
    );
    out.extend_from_slice(tail.as_bytes());
    assert_eq!(out.len(), 1024);
    out
}

fn b64u(bytes: &[u8]) -> String {
    b64::encode_url(bytes)
}

/// Our public key as a josekit JWK.
fn josekit_jwk(key: &PublicKey) -> josekit::jwk::Jwk {
    let json = match key {
        PublicKey::Rsa(k) => format!(
            r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
            b64u(k.n()),
            b64u(k.e())
        ),
        PublicKey::Ec(k) => format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
            b64u(k.x()),
            b64u(k.y())
        ),
    };
    josekit::jwk::Jwk::from_bytes(json).expect("jwk")
}

struct Backends {
    rustcrypto: Provider,
    awslc: Provider,
    rsa_rc: Box<dyn PrivateKey>,
    rsa_aws: Box<dyn PrivateKey>,
    p256_rc: Box<dyn PrivateKey>,
    p256_aws: Box<dyn PrivateKey>,
}

impl Backends {
    fn load() -> Self {
        let rustcrypto = otrp_crypto_rustcrypto::provider();
        let awslc = otrp_crypto_aws_lc::provider();
        let load =
            |p: &Provider, der: &[u8]| p.key_loader.private_key_from_pkcs8_der(der).expect("key");
        Self {
            rsa_rc: load(&rustcrypto, RSA_PKCS8),
            rsa_aws: load(&awslc, RSA_PKCS8),
            p256_rc: load(&rustcrypto, P256_PKCS8),
            p256_aws: load(&awslc, P256_PKCS8),
            rustcrypto,
            awslc,
        }
    }

    /// (name, provider, RSA key, P-256 key) for each of our backends.
    fn ours(&self) -> [(&'static str, Provider, &dyn PrivateKey, &dyn PrivateKey); 2] {
        [
            (
                "rustcrypto",
                self.rustcrypto,
                self.rsa_rc.as_ref(),
                self.p256_rc.as_ref(),
            ),
            (
                "aws-lc",
                self.awslc,
                self.rsa_aws.as_ref(),
                self.p256_aws.as_ref(),
            ),
        ]
    }
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(format!("peer/{name}"));
    g.sample_size(40)
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(3));
    g
}

fn jws_verify(c: &mut Criterion, b: &Backends, alg: JwsAlg) {
    let payload = payload();
    let (signer, public) = match alg {
        JwsAlg::Rs256 => (b.rsa_rc.as_ref(), b.rsa_rc.public_key().expect("pk")),
        _ => (b.p256_rc.as_ref(), b.p256_rc.public_key().expect("pk")),
    };
    let compact = Jws::sign(&payload, signer, alg, Header::new(), None, &b.rustcrypto)
        .expect("sign")
        .to_compact()
        .expect("compact");
    let (input, sig) = compact.rsplit_once('.').expect("compact");
    let sig = b64::decode_url(sig, "sig").expect("sig");
    let jwk = josekit_jwk(&public);
    let verifier: Box<dyn josekit::jws::JwsVerifier> = match alg {
        JwsAlg::Rs256 => Box::new(
            josekit::jws::RS256
                .verifier_from_jwk(&jwk)
                .expect("verifier"),
        ),
        _ => Box::new(
            josekit::jws::ES256
                .verifier_from_jwk(&jwk)
                .expect("verifier"),
        ),
    };
    let (josekit_payload, _) =
        josekit::jws::deserialize_compact(&compact, verifier.as_ref()).expect("josekit verifies");
    assert_eq!(josekit_payload, payload);

    let name = format!("{}_verify_1k", alg.name().to_lowercase());
    let mut g = group(c, &name);
    g.bench_function("josekit", |bench| {
        bench.iter(|| {
            josekit::jws::deserialize_compact(black_box(&compact), verifier.as_ref())
                .expect("verify")
        })
    });
    for (backend, provider, _, _) in b.ours() {
        let jws = Jws::parse(compact.as_bytes()).expect("parse");
        assert_eq!(
            jws.verify(&provider, &public, &[alg]).expect("verify"),
            payload
        );
        g.bench_function(backend, |bench| {
            bench.iter(|| {
                Jws::parse(black_box(compact.as_bytes()))
                    .and_then(|jws| jws.verify(&provider, &public, &[alg]))
                    .expect("verify")
            })
        });
    }
    match &public {
        PublicKey::Rsa(k) => {
            let components = RsaPublicKeyComponents { n: k.n(), e: k.e() };
            let params = &signature::RSA_PKCS1_2048_8192_SHA256;
            components
                .verify(params, input.as_bytes(), &sig)
                .expect("raw verify");
            g.bench_function("aws-lc-raw", |bench| {
                bench.iter(|| {
                    components
                        .verify(params, black_box(input.as_bytes()), &sig)
                        .expect("verify")
                })
            });
            let parsed = components.to_parsed_public_key(params).expect("parse");
            g.bench_function("aws-lc-raw-parsed-key", |bench| {
                bench.iter(|| {
                    parsed
                        .verify_sig(black_box(input.as_bytes()), &sig)
                        .expect("verify")
                })
            });
        }
        PublicKey::Ec(k) => {
            let point = k.to_sec1_uncompressed();
            let key = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point);
            key.verify(input.as_bytes(), &sig).expect("raw verify");
            g.bench_function("aws-lc-raw", |bench| {
                bench.iter(|| {
                    key.verify(black_box(input.as_bytes()), &sig)
                        .expect("verify")
                })
            });
        }
    }
    g.finish();
}

fn rs256_sign(c: &mut Criterion, b: &Backends) {
    let payload = payload();
    let signer = josekit::jws::RS256
        .signer_from_der(RSA_PKCS8)
        .expect("signer");
    let mut header = josekit::jws::JwsHeader::new();
    header.set_algorithm("RS256");
    let mut g = group(c, "rs256_sign_1k");
    g.bench_function("josekit", |bench| {
        bench.iter(|| {
            josekit::jws::serialize_compact(black_box(&payload), &header, &signer).expect("sign")
        })
    });
    for (backend, provider, rsa, _) in b.ours() {
        g.bench_function(backend, |bench| {
            bench.iter(|| {
                Jws::sign(
                    black_box(&payload),
                    rsa,
                    JwsAlg::Rs256,
                    Header::new(),
                    None,
                    &provider,
                )
                .and_then(|jws| jws.to_compact())
                .expect("sign")
            })
        });
    }
    let key = RsaKeyPair::from_pkcs8(RSA_PKCS8).expect("key");
    let input = format!("{}.{}", b64u(br#"{"alg":"RS256"}"#), b64u(&payload));
    let rng = aws_lc_rs::rand::SystemRandom::new();
    g.bench_function("aws-lc-raw", |bench| {
        bench.iter(|| {
            let mut sig = vec![0u8; key.public_modulus_len()];
            key.sign(
                &signature::RSA_PKCS1_SHA256,
                &rng,
                black_box(input.as_bytes()),
                &mut sig,
            )
            .expect("sign");
            sig
        })
    });
    g.finish();
}

/// The pieces of a compact JWE, base64url-decoded.
struct JweParts {
    protected: String,
    encrypted_key: Vec<u8>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

fn parts(compact: &str) -> JweParts {
    let p: Vec<&str> = compact.split('.').collect();
    let d = |s: &str| b64::decode_url(s, "part").expect("b64");
    JweParts {
        protected: p[0].to_owned(),
        encrypted_key: d(p[1]),
        iv: d(p[2]),
        ciphertext: d(p[3]),
        tag: d(p[4]),
    }
}

/// Raw A128CBC-HS256 decryption on aws-lc-rs: HMAC-SHA-256 over
/// AAD || IV || ciphertext || AL, a constant-time compare, AES-128-CBC.
fn raw_a128cbc_hs256(cek: &[u8], p: &JweParts) -> Vec<u8> {
    let (mac_key, enc_key) = cek.split_at(16);
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, mac_key);
    let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
    ctx.update(p.protected.as_bytes());
    ctx.update(&p.iv);
    ctx.update(&p.ciphertext);
    ctx.update(&((p.protected.len() as u64) * 8).to_be_bytes());
    let tag = ctx.sign();
    aws_lc_rs::constant_time::verify_slices_are_equal(&tag.as_ref()[..16], &p.tag).expect("tag");
    let mut buf = p.ciphertext.clone();
    let iv: [u8; 16] = p.iv.as_slice().try_into().expect("iv");
    let key = UnboundCipherKey::new(&aws_lc_rs::cipher::AES_128, enc_key).expect("key");
    let len = PaddedBlockDecryptingKey::cbc_pkcs7(key)
        .expect("key")
        .decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(iv)))
        .expect("decrypt")
        .len();
    buf.truncate(len);
    buf
}

fn jwe_decrypt(c: &mut Criterion, b: &Backends, alg: KeyAlg) {
    let payload = payload();
    let enc = ContentAlg::A128CbcHs256;
    let (der, our_rc) = match alg {
        KeyAlg::Rsa1_5 => (RSA_PKCS8, b.rsa_rc.as_ref()),
        _ => (P256_PKCS8, b.p256_rc.as_ref()),
    };
    let public = our_rc.public_key().expect("pk");
    let compact = Jwe::builder(enc)
        .recipient(
            alg,
            otrp_core::crypto::EncryptionKey::Public(&public),
            Header::new(),
        )
        .protected_recipient()
        .encrypt(&payload, &b.rustcrypto)
        .expect("encrypt")
        .to_compact()
        .expect("compact");
    let decrypter: Box<dyn josekit::jwe::JweDecrypter> = match alg {
        // RSA1_5 is deprecated in josekit, and it is what OTrP's TEEs receive.
        #[allow(deprecated)]
        KeyAlg::Rsa1_5 => Box::new(
            josekit::jwe::RSA1_5
                .decrypter_from_der(der)
                .expect("decrypter"),
        ),
        _ => Box::new(
            josekit::jwe::ECDH_ES_A128KW
                .decrypter_from_der(der)
                .expect("decrypter"),
        ),
    };
    let (josekit_plain, _) =
        josekit::jwe::deserialize_compact(&compact, decrypter.as_ref()).expect("josekit decrypts");
    assert_eq!(josekit_plain, payload);

    let name = match alg {
        KeyAlg::Rsa1_5 => "rsa1_5_a128cbc_hs256_decrypt_1k",
        _ => "ecdh_es_a128kw_a128cbc_hs256_decrypt_1k",
    };
    let policy = JwePolicy {
        key_algs: &[alg],
        content_algs: &[enc],
    };
    let mut g = group(c, name);
    g.bench_function("josekit", |bench| {
        bench.iter(|| {
            josekit::jwe::deserialize_compact(black_box(&compact), decrypter.as_ref())
                .expect("decrypt")
        })
    });
    for (backend, provider, rsa, p256) in b.ours() {
        let key = if alg == KeyAlg::Rsa1_5 { rsa } else { p256 };
        let jwe = Jwe::parse(compact.as_bytes()).expect("parse");
        assert_eq!(
            jwe.decrypt(&provider, key, &policy).expect("decrypt"),
            payload
        );
        g.bench_function(backend, |bench| {
            bench.iter(|| {
                Jwe::parse(black_box(compact.as_bytes()))
                    .and_then(|jwe| jwe.decrypt(&provider, key, &policy))
                    .expect("decrypt")
            })
        });
    }
    let p = parts(&compact);
    match alg {
        KeyAlg::Rsa1_5 => {
            let key =
                Pkcs1PrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(der).expect("key"))
                    .expect("key");
            let raw = |p: &JweParts| {
                let mut out = [0u8; 256];
                let cek = key.decrypt(&p.encrypted_key, &mut out).expect("unwrap");
                raw_a128cbc_hs256(cek, p)
            };
            assert_eq!(raw(&p), payload);
            g.bench_function("aws-lc-raw", |bench| bench.iter(|| raw(black_box(&p))));
        }
        _ => {
            let key = agreement::PrivateKey::from_private_key_der(&agreement::ECDH_P256, der)
                .expect("key");
            let header: serde_json::Value =
                serde_json::from_slice(&b64::decode_url(&p.protected, "h").expect("b64"))
                    .expect("json");
            let coord = |c: &str| {
                b64::decode_url(header["epk"][c].as_str().expect("epk"), "epk").expect("b64")
            };
            let mut epk = vec![4u8];
            epk.extend(coord("x"));
            epk.extend(coord("y"));
            let raw = |p: &JweParts| {
                let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &epk);
                let kek = agreement::agree(&key, peer, (), |z| {
                    // Concat KDF, one SHA-256 block: counter, Z, AlgorithmID,
                    // empty PartyUInfo/PartyVInfo, 128 bits.
                    let mut h = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
                    h.update(&1u32.to_be_bytes());
                    h.update(z);
                    h.update(&14u32.to_be_bytes());
                    h.update(b"ECDH-ES+A128KW");
                    h.update(&[0u8; 8]);
                    h.update(&128u32.to_be_bytes());
                    Ok(h.finish())
                })
                .expect("agree");
                let kek =
                    AesKek::new(&aws_lc_rs::key_wrap::AES_128, &kek.as_ref()[..16]).expect("kek");
                let mut cek = [0u8; 40];
                let cek = kek.unwrap(&p.encrypted_key, &mut cek).expect("unwrap");
                raw_a128cbc_hs256(cek, p)
            };
            assert_eq!(raw(&p), payload);
            g.bench_function("aws-lc-raw", |bench| bench.iter(|| raw(black_box(&p))));
        }
    }
    g.finish();
}

fn peer(c: &mut Criterion) {
    let b = Backends::load();
    jws_verify(c, &b, JwsAlg::Rs256);
    jws_verify(c, &b, JwsAlg::Es256);
    rs256_sign(c, &b);
    jwe_decrypt(c, &b, KeyAlg::Rsa1_5);
    jwe_decrypt(c, &b, KeyAlg::EcdhEsA128Kw);
}

criterion_group!(benches, peer);
criterion_main!(benches);
