//! dudect-style timing test of RSA1_5 CEK decryption (issue 18; method of
//! Reparaz, Balasch and Verbauwhede, "Dude, is my code constant time?"):
//! Welch's t-test between the decryption times of two classes of
//! ciphertexts under the same RSA-2048 key, as `dudect-bencher` runs it.
//!
//! - Left: valid RSA1_5 ciphertexts of a 32-byte CEK (A128CBC-HS256).
//! - Right: random ciphertexts below the modulus, whose encoded messages
//!   have an invalid PKCS#1 v1.5 padding (all but a 2^-16 fraction).
//!
//! A |t| that stays under 4.5 as samples accumulate finds no leak; above
//! it, the padding's validity shows in the time, a Bleichenbacher oracle.
//! Each backend's `CekDecrypter::decrypt_cek(RSA1_5)` is tested, and, as
//! the control that shows the test can see such a leak, aws-lc's PKCS#1 v1.5
//! mode with explicit rejection (`hazmat::rsa_pkcs1v15_decrypt`, what the
//! aws-lc backend used before). Run, in release mode, with the `timing`
//! feature (`OTRP_DUDECT_SAMPLES` sets the samples per run, default 4,000):
//!
//! ```text
//! cargo run --release -p otrp-benches --features timing --bin rsa1_5_timing
//! cargo run --release -p otrp-benches --features timing --bin rsa1_5_timing -- --filter rustcrypto
//! ```
//!
//! Recorded runs: docs/security.md, "RSA1_5 timing".

use dudect_bencher::rand::{Rng, RngCore};
use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main};
use otrp_core::crypto::{
    AgreementParams, Cek, ContentAlg, EncryptionKey, KeyAlg, PrivateKey, Provider, PublicKey,
};

const RSA_PKCS8: &[u8] = include_bytes!("../../../otrp-conformance/data/rsa2048.pk8.der");
/// Samples per run (each a 2048-bit private operation), unless
/// `OTRP_DUDECT_SAMPLES` says otherwise.
fn samples() -> usize {
    std::env::var("OTRP_DUDECT_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000)
}
/// Distinct ciphertexts of each class, cycled through.
const POOL: usize = 64;

/// `POOL` valid and `POOL` bad-padding ciphertexts for `key`.
fn ciphertexts(provider: &Provider, public: &PublicKey, rng: &mut BenchRng) -> [Vec<Vec<u8>>; 2] {
    let PublicKey::Rsa(rsa) = public else {
        panic!("an RSA key")
    };
    let encrypter = provider.key_encrypter(KeyAlg::Rsa1_5).expect("RSA1_5");
    let valid = (0..POOL)
        .map(|_| {
            let mut cek = vec![0u8; 32];
            rng.fill_bytes(&mut cek);
            encrypter
                .encrypt_cek(
                    EncryptionKey::Public(public),
                    ContentAlg::A128CbcHs256,
                    Some(&Cek::new(cek)),
                    &AgreementParams::default(),
                    provider.secure_random,
                )
                .expect("encrypt")
                .encrypted_key
        })
        .collect();
    // Random k-byte values with a zero top byte lie below the modulus (its
    // top byte is nonzero); their decryption is random, so invalid.
    let k = rsa.n().len();
    let invalid = (0..POOL)
        .map(|_| {
            let mut c = vec![0u8; k];
            rng.fill_bytes(&mut c[1..]);
            c
        })
        .collect();
    [valid, invalid]
}

/// Times `decrypt` on a random mix of the two classes.
fn run(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    provider: &Provider,
    decrypt: impl Fn(&[u8]) -> bool,
) {
    let key = provider
        .key_loader
        .private_key_from_pkcs8_der(RSA_PKCS8)
        .expect("key");
    let public = key.public_key().expect("public");
    let [valid, invalid] = ciphertexts(provider, &public, rng);
    let plan: Vec<(Class, &[u8])> = (0..samples())
        .map(|i| {
            if rng.r#gen::<bool>() {
                (Class::Left, valid[i % POOL].as_slice())
            } else {
                (Class::Right, invalid[i % POOL].as_slice())
            }
        })
        .collect();
    for (class, ciphertext) in plan {
        runner.run_one(class, || decrypt(ciphertext));
    }
}

/// RFC 7516 11.5 decryption through the provider's own key.
fn cek_decrypt(runner: &mut CtRunner, rng: &mut BenchRng, provider: Provider) {
    let key: Box<dyn PrivateKey> = provider
        .key_loader
        .private_key_from_pkcs8_der(RSA_PKCS8)
        .expect("key");
    let params = AgreementParams::default();
    run(runner, rng, &provider, |c| {
        key.decrypt_cek(
            KeyAlg::Rsa1_5,
            ContentAlg::A128CbcHs256,
            &params,
            c,
            provider.secure_random,
        )
        .is_ok()
    });
}

fn rsa1_5_rustcrypto(runner: &mut CtRunner, rng: &mut BenchRng) {
    cek_decrypt(runner, rng, otrp_crypto_rustcrypto::provider());
}

fn rsa1_5_aws_lc(runner: &mut CtRunner, rng: &mut BenchRng) {
    cek_decrypt(runner, rng, otrp_crypto_aws_lc::provider());
}

/// The control: AWS-LC's PKCS#1 v1.5 mode, which reports bad padding as an
/// error (the aws-lc backend's RSA1_5 before issue 18).
fn control_aws_lc_pkcs1_mode(runner: &mut CtRunner, rng: &mut BenchRng) {
    let key = otrp_crypto_aws_lc::RsaPrivateKey::from_pkcs8_der(RSA_PKCS8).expect("key");
    run(runner, rng, &otrp_crypto_aws_lc::provider(), |c| {
        otrp_crypto_aws_lc::hazmat::rsa_pkcs1v15_decrypt(&key, c).is_ok()
    });
}

ctbench_main!(rsa1_5_rustcrypto, rsa1_5_aws_lc, control_aws_lc_pkcs1_mode);
