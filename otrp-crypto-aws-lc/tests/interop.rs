//! The aws-lc and RustCrypto backends speak the same JOSE: every JWS
//! algorithm signed by one verifies with the other, and every key
//! management algorithm encrypted by one decrypts with the other, with the
//! suite's fixed keys (otrp-conformance/data) loaded by each backend.

use otrp_conformance::keys::TestKeys;
use otrp_core::crypto::{ContentAlg, JwsAlg, KeyAlg, Provider};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};

fn backends() -> [(&'static str, Provider); 2] {
    [
        ("aws-lc", otrp_crypto_aws_lc::provider()),
        ("rustcrypto", otrp_crypto_rustcrypto::provider()),
    ]
}

#[test]
fn jws_signed_by_one_backend_verifies_with_the_other() {
    let mut checked = 0;
    for (signer_name, signer) in backends() {
        let keys = TestKeys::load(&signer);
        for &alg in JwsAlg::ALL {
            let jws = Jws::sign(
                b"{\"hello\":\"TEE\"}",
                keys.signer(alg),
                alg,
                Header::new(),
                None,
                &signer,
            )
            .unwrap();
            let compact = jws.to_compact().unwrap();
            for (verifier_name, verifier) in backends() {
                let parsed = Jws::parse(compact.as_bytes()).unwrap();
                let payload = parsed
                    .verify(&verifier, keys.verifier(alg), &[alg])
                    .unwrap_or_else(|e| panic!("{alg} {signer_name} -> {verifier_name}: {e}"));
                assert_eq!(payload, b"{\"hello\":\"TEE\"}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 2 * JwsAlg::ALL.len());
}

#[test]
fn jwe_encrypted_by_one_backend_decrypts_with_the_other() {
    let mut checked = 0;
    for (sender_name, sender) in backends() {
        for (recipient_name, recipient) in backends() {
            let sender_keys = TestKeys::load(&sender);
            let recipient_keys = TestKeys::load(&recipient);
            for &alg in KeyAlg::ALL {
                for &enc in ContentAlg::ALL {
                    let (to, _) = sender_keys.recipient(alg);
                    let (_, key) = recipient_keys.recipient(alg);
                    let jwe = Jwe::builder(enc)
                        .recipient(alg, to, Header::new())
                        .encrypt(b"TA image bytes", &sender)
                        .unwrap();
                    let text = jwe.to_flattened_json().unwrap();
                    let plain = Jwe::parse(text.as_bytes())
                        .unwrap()
                        .decrypt(&recipient, key, &JwePolicy::ANY)
                        .unwrap_or_else(|e| {
                            panic!("{alg}/{enc} {sender_name} -> {recipient_name}: {e}")
                        });
                    assert_eq!(plain, b"TA image bytes");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 4 * KeyAlg::ALL.len() * ContentAlg::ALL.len());
}
