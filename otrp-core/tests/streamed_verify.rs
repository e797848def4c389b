//! Streamed signature verification (`SignedMessage`, issue 17): a message
//! fed in pieces verifies exactly as the whole message does, on every
//! backend and every JWS algorithm its keys admit; a changed byte, a
//! missing piece and a wrong key are refused; RustCrypto and aws-lc hash
//! the pieces (prehashed verification), ring collects them, and the
//! composed provider collects a message up to 64 KiB for ring and hashes a
//! longer one for RustCrypto.

use otrp_core::crypto::{JwsAlg, Provider, SignedMessage};
use otrp_test_support::Kind;
use otrp_test_support::fixtures::{cert, private_key, public_key_of_cert};

fn providers() -> [(&'static str, Provider, bool); 4] {
    [
        ("rustcrypto", otrp_crypto_rustcrypto::provider(), true),
        ("aws-lc", otrp_crypto_aws_lc::provider(), true),
        ("ring", otrp_crypto_ring::provider(), false),
        ("composed", otrp_crypto_ring::composed_provider(), true),
    ]
}

fn algs(kind: Kind) -> &'static [JwsAlg] {
    match kind {
        Kind::Rsa => &[
            JwsAlg::Rs256,
            JwsAlg::Rs384,
            JwsAlg::Rs512,
            JwsAlg::Ps256,
            JwsAlg::Ps384,
            JwsAlg::Ps512,
        ],
        Kind::Ec => &[JwsAlg::Es256],
    }
}

/// `message` fed to a new `SignedMessage` in pieces of `piece` bytes.
fn fed(provider: &Provider, alg: JwsAlg, message: &[u8], piece: usize) -> SignedMessage {
    let mut m = SignedMessage::new(provider, alg).unwrap();
    for chunk in message.chunks(piece) {
        m.update(chunk);
    }
    m
}

#[test]
fn pieces_verify_as_the_whole_message() {
    let message: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 251) as u8).collect();
    for (name, provider, prehashed) in providers() {
        for kind in Kind::BOTH {
            let signer = private_key(&provider, kind, "tam");
            let key = public_key_of_cert(&provider, &cert(kind, "tam"));
            let other = public_key_of_cert(&provider, &cert(kind, "sp"));
            for &alg in algs(kind) {
                let verifier = provider.signature_verifier(alg).unwrap();
                assert_eq!(verifier.verifies_prehashed(), prehashed, "{name} {alg:?}");
                let sig = signer.sign(alg, &message, provider.secure_random).unwrap();
                verifier.verify(&key, &message, &sig).unwrap();
                for piece in [1 << 20, 4096, 7] {
                    let done = fed(&provider, alg, &message, piece).finish();
                    done.verify(&key, &sig)
                        .unwrap_or_else(|e| panic!("{name} {alg:?} {piece}: {e}"));
                    // One message, several keys: the wrong one is refused.
                    assert!(done.verify(&other, &sig).is_err(), "{name} {alg:?}");
                }
                let mut changed = message.clone();
                changed[50_000] ^= 1;
                assert!(
                    fed(&provider, alg, &changed, 4096)
                        .finish()
                        .verify(&key, &sig)
                        .is_err(),
                    "{name} {alg:?}: a changed byte verified"
                );
                assert!(
                    fed(&provider, alg, &message[..message.len() - 1], 4096)
                        .finish()
                        .verify(&key, &sig)
                        .is_err(),
                    "{name} {alg:?}: a short message verified"
                );
            }
        }
    }
}

#[test]
fn prehashed_verification_refuses_a_digest_of_the_wrong_length() {
    for (name, provider, prehashed) in providers() {
        let signer = private_key(&provider, Kind::Ec, "tam");
        let key = public_key_of_cert(&provider, &cert(Kind::Ec, "tam"));
        let verifier = provider.signature_verifier(JwsAlg::Es256).unwrap();
        let sig = signer
            .sign(JwsAlg::Es256, b"m", provider.secure_random)
            .unwrap();
        let digest = provider.digest(JwsAlg::Es256.hash()).unwrap().digest(b"m");
        let whole = verifier.verify_prehashed(&key, &digest, &sig);
        assert_eq!(whole.is_ok(), prehashed, "{name}");
        assert!(
            verifier
                .verify_prehashed(&key, &digest[..31], &sig)
                .is_err(),
            "{name}"
        );
    }
}

#[test]
fn incremental_digests_match_one_shot_digests() {
    use otrp_core::crypto::HashAlg;
    let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    for (name, provider, _) in providers() {
        for alg in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let d = provider.digest(alg).unwrap();
            let mut ctx = d.start();
            for chunk in data.chunks(333) {
                ctx.update(chunk);
            }
            assert_eq!(ctx.finish(), d.digest(&data), "{name} {alg:?}");
        }
    }
}

#[test]
fn the_composed_provider_collects_short_messages_and_hashes_long_ones() {
    let provider = otrp_crypto_ring::composed_provider();
    let limit = otrp_crypto_ring::WHOLE_MESSAGE_LIMIT;
    let hashed = |m: &SignedMessage| format!("{m:?}").contains("prehashed: true");
    for kind in Kind::BOTH {
        let signer = private_key(&provider, kind, "tam");
        let key = public_key_of_cert(&provider, &cert(kind, "tam"));
        let other = public_key_of_cert(&provider, &cert(kind, "sp"));
        let foreign = public_key_of_cert(&provider, &cert(kind.other(), "tam"));
        for &alg in algs(kind) {
            for len in [0, 1, limit - 1, limit, limit + 1, 3 * limit + 5] {
                let message: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
                let sig = signer.sign(alg, &message, provider.secure_random).unwrap();
                // Pieces that cross the limit inside one piece, and one
                // piece of all of it.
                for piece in [4093, len.max(1)] {
                    let m = fed(&provider, alg, &message, piece);
                    assert_eq!(hashed(&m), len >= limit, "{alg:?} {len} {piece}");
                    let done = m.finish();
                    done.verify(&key, &sig)
                        .unwrap_or_else(|e| panic!("{alg:?} {len} {piece}: {e}"));
                    // Refusals name the same error on both paths: ring's.
                    let verifier = provider.signature_verifier(alg).unwrap();
                    for wrong in [&other, &foreign] {
                        assert_eq!(
                            done.verify(wrong, &sig),
                            verifier.verify(wrong, &message, &sig),
                            "{alg:?} {len}"
                        );
                        assert!(done.verify(wrong, &sig).is_err());
                    }
                }
            }
        }
    }
}
