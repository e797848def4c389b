//! JOSE overhead against the raw primitives, on the same backend in the same
//! run: JWS verification of a 1 KiB payload (parse + header checks + verify)
//! against the bare signature check, and JWE decryption against the bare CEK
//! recovery plus content decryption. The ratio of each pair is the cost of
//! the protocol layer.

use criterion::{Criterion, criterion_group, criterion_main};
use otrp_conformance::keys::TestKeys;
use otrp_core::crypto::{ContentAlg, JwsAlg, KeyAlg, Provider};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
use std::hint::black_box;

fn jws_verify(c: &mut Criterion, provider: Provider, keys: &TestKeys) {
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
        let mut group = c.benchmark_group(format!("jws_verify_1k/{alg}"));
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

fn jwe_decrypt(c: &mut Criterion, provider: Provider, keys: &TestKeys) {
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
        let compact = jwe.to_compact().expect("compact");
        let parts: Vec<&str> = compact.split('.').collect();
        let decode = |s: &str| otrp_core::jose::b64::decode_url(s, "part").expect("part");
        let (iv, ct, tag) = (decode(parts[2]), decode(parts[3]), decode(parts[4]));
        let aad = parts[0].as_bytes().to_vec();
        let mut group = c.benchmark_group(format!("jwe_decrypt_512/{alg}+{enc}"));
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
    let provider = otrp_crypto_rustcrypto::provider();
    let keys = TestKeys::load(&provider);
    jws_verify(c, provider, &keys);
    jwe_decrypt(c, provider, &keys);
}

criterion_group!(jose, benches);
criterion_main!(jose);
