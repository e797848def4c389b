//! JOSE overhead against the raw primitives, on the same backend in the same
//! run: JWS verification of a 1 KiB payload (parse + header checks + verify)
//! against the bare signature check, and JWE decryption against the bare CEK
//! recovery plus content decryption. The ratio of each pair is the cost of
//! the protocol layer. Also JWE decryption of real CreateSD content (the
//! TAM session's request to the soft TEE: RSA1_5 + A128CBC-HS256 with the
//! RSA fixtures, ECDH-ES+A128KW + A128CBC-HS256 with the P-256 ones)
//! against the raw key transport (RSA decrypt, or ECDH + AES key unwrap)
//! plus AES-CBC + HMAC. Every provider of `otrp_benches::providers::all()`.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use criterion::{Criterion, criterion_group, criterion_main};
use otrp_benches::fixtures::private_key;
use otrp_benches::{Kind, Scenario, providers};
use otrp_conformance::keys::TestKeys;
use otrp_core::crypto::{CekDecrypter, ContentAlg, JwsAlg, KeyAlg, Provider};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
use otrp_core::message::{Envelope, Limits, MessageKind};
use std::hint::black_box;

fn jws_verify(c: &mut Criterion, name: &str, provider: Provider, keys: &TestKeys) {
    let payload = vec![b'a'; 1024];
    for alg in [JwsAlg::Rs256, JwsAlg::Es256] {
        let jws = Jws::sign(
            &payload,
            keys.signer(alg),
            alg,
            Header::new(),
            None,
            &provider,
        )
        .expect("sign");
        let text = jws.to_flattened_json().expect("json");
        let public = keys.verifier(alg);
        let compact = jws.to_compact().expect("compact");
        let (input, sig) = compact.rsplit_once('.').expect("compact");
        let sig = otrp_core::jose::b64::decode_url(sig, "sig").expect("sig");
        let verifier = provider.signature_verifier(alg).expect("verifier");
        let mut group = c.benchmark_group(format!("jws_verify_1k/{name}/{alg}"));
        group.bench_function("otrp", |b| {
            b.iter(|| {
                let jws = Jws::parse(black_box(text.as_bytes())).expect("parse");
                jws.verify(&provider, public, &[alg]).expect("verify")
            })
        });
        group.bench_function("raw", |b| {
            b.iter(|| verifier.verify(public, black_box(input.as_bytes()), &sig))
        });
        group.finish();
    }
}

fn jwe_decrypt(c: &mut Criterion, name: &str, provider: Provider, keys: &TestKeys) {
    let plaintext = vec![b'c'; 512];
    let enc = ContentAlg::A128CbcHs256;
    for alg in [KeyAlg::Rsa1_5, KeyAlg::EcdhEsA128Kw] {
        let (recipient, decrypter) = keys.recipient(alg);
        let jwe = Jwe::builder(enc)
            .recipient(alg, recipient, Header::new())
            .encrypt(&plaintext, &provider)
            .expect("encrypt");
        let text = jwe.to_general_json();
        let policy = JwePolicy {
            key_algs: &[alg],
            content_algs: &[enc],
        };
        let cipher = provider.content_cipher(enc).expect("cipher");
        let header = jwe.recipient_header(0).expect("recipient").expect("header");
        let params = header.agreement_params().expect("params");
        let ek = jwe.recipients()[0].encrypted_key().to_vec();
        let (iv, ct, tag, aad) = raw_parts(&jwe);
        let mut group = c.benchmark_group(format!("jwe_decrypt_512/{name}/{alg}+{enc}"));
        group.bench_function("otrp", |b| {
            b.iter(|| {
                let jwe = Jwe::parse(black_box(text.as_bytes())).expect("parse");
                jwe.decrypt(&provider, decrypter, &policy).expect("decrypt")
            })
        });
        group.bench_function("raw", |b| {
            b.iter(|| {
                let cek = decrypter
                    .decrypt_cek(alg, enc, black_box(&params), &ek, provider.secure_random)
                    .expect("cek");
                let mut buf = ct.clone();
                cipher
                    .decrypt(&cek, &iv, &aad, &mut buf, &tag)
                    .expect("decrypt");
                buf
            })
        });
        group.finish();
    }
}

/// The IV, ciphertext, tag and AAD (the protected header's base64url text)
/// of a JWE without `aad`, read from its general JSON serialization (OTrP's
/// layout has no compact form).
fn raw_parts(jwe: &Jwe) -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    let json: serde_json::Value = serde_json::from_str(&jwe.to_general_json()).expect("JSON");
    let text = |name: &str| json[name].as_str().expect("member").to_string();
    let decode = |name: &str| otrp_core::jose::b64::decode_url(&text(name), "part").expect("part");
    (
        decode("iv"),
        decode("ciphertext"),
        decode("tag"),
        text("protected").into_bytes(),
    )
}

/// The content JWE of the CreateSD request of the lifecycle of `kind`.
fn createsd_content(s: &Scenario) -> Jwe {
    let step = s.step(MessageKind::CreateSd);
    let env = Envelope::parse(&step.request, &Limits::DEFAULT).expect("request");
    let jws = Jws::parse_json(env.jws_bytes()).expect("JWS");
    let payload: serde_json::Value =
        serde_json::from_slice(&jws.unverified_payload().expect("payload")).expect("JSON");
    serde_json::from_value(payload["CreateSDTBSRequest"]["content"].clone()).expect("content")
}

fn jwe_createsd(c: &mut Criterion, name: &str, provider: Provider) {
    let enc = ContentAlg::A128CbcHs256;
    for kind in Kind::BOTH {
        let s = Scenario::run(kind, provider, 4096);
        let jwe = createsd_content(&s);
        let text = jwe.to_general_json();
        let header = jwe.recipient_header(0).expect("recipient").expect("header");
        let alg = header.key_alg().expect("alg");
        let params = header.agreement_params().expect("params");
        let tee_key = private_key(&provider, kind, "tee");
        let decrypter: &dyn CekDecrypter = tee_key.as_ref();
        let policy = JwePolicy {
            key_algs: &[alg],
            content_algs: &[enc],
        };
        let cipher = provider.content_cipher(enc).expect("cipher");
        let ek = jwe.recipients()[0].encrypted_key().to_vec();
        let (iv, ct, tag, aad) = raw_parts(&jwe);
        let mut group = c.benchmark_group(format!("jwe_createsd/{name}/{alg}+{enc}"));
        group.bench_function("otrp", |b| {
            b.iter(|| {
                let jwe = Jwe::parse(black_box(text.as_bytes())).expect("parse");
                jwe.decrypt(&provider, decrypter, &policy).expect("decrypt")
            })
        });
        group.bench_function("raw", |b| {
            b.iter(|| {
                let cek = decrypter
                    .decrypt_cek(alg, enc, black_box(&params), &ek, provider.secure_random)
                    .expect("cek");
                let mut buf = ct.clone();
                cipher
                    .decrypt(&cek, &iv, &aad, &mut buf, &tag)
                    .expect("decrypt");
                buf
            })
        });
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    for (name, provider) in providers::all() {
        let keys = TestKeys::load(&provider);
        jws_verify(c, name, provider, &keys);
        jwe_decrypt(c, name, provider, &keys);
        jwe_createsd(c, name, provider);
    }
    for (name, provider) in providers::signature_only() {
        // ring has no JWE key management: JWS only.
        let keys = TestKeys::load(&provider);
        jws_verify(c, name, provider, &keys);
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

criterion_group! {
    name = jose;
    config = config();
    targets = benches
}
criterion_main!(jose);
