//! Certificate chain validation (spec 4.2, 4.3, 9.1.2, 9.1.3, 9.1.7,
//! 9.2.1.2) against openssl-generated fixtures.

use super::{HIERARCHIES, anchors, cert, now, provider};
use otrp_core::crypto::Provider;
use otrp_core::pki::{
    CertError, PkiError, Role, TrustAnchors, check_sp_certificate, validate_tam_chain,
    validate_tee_chain, validate_tfw_certificate,
};

fn tam(backend: Provider, h: &str, leaf: &str) -> Result<otrp_core::pki::TamCertificate, PkiError> {
    let leaf = cert(h, leaf);
    validate_tam_chain(&provider(backend), &anchors(h, "tam-root"), &[&leaf], now())
}

fn tam_refused(backend: Provider, h: &str, leaf: &str) -> CertError {
    match tam(backend, h, leaf) {
        Err(PkiError::Certificate {
            role: Role::Tam,
            error,
        }) => error,
        other => panic!("{h}/{leaf}: expected a TAM certificate refusal, got {other:?}"),
    }
}

/// Asserts that TAM certificate `leaf` is refused with `expected` in every
/// hierarchy.
fn tam_refused_everywhere(backend: Provider, leaf: &str, expected: CertError) {
    for h in HIERARCHIES {
        assert_eq!(tam_refused(backend, h, leaf), expected, "{h}");
    }
}

/// A tam certificate chained to a trusted root is accepted.
pub fn a_tam_certificate_chained_to_a_trusted_root_is_accepted(backend: Provider) {
    for h in HIERARCHIES {
        let t = tam(backend, h, "tam").expect(h);
        assert_eq!(t.tamid.as_str(), "https://tam.example.com/tam1");
        assert_eq!(t.chain.role(), Role::Tam);
        assert_eq!(t.chain.end_entity(), cert(h, "tam").as_slice());
        assert_eq!(t.chain.anchor(), cert(h, "tam-root").as_slice());
    }
}

/// An x5c up to and including the root is accepted.
pub fn an_x5c_up_to_and_including_the_root_is_accepted(backend: Provider) {
    for h in HIERARCHIES {
        let (leaf, root) = (cert(h, "tam"), cert(h, "tam-root"));
        let t = validate_tam_chain(
            &provider(backend),
            &anchors(h, "tam-root"),
            &[&leaf, &root],
            now(),
        )
        .expect(h);
        assert_eq!(t.chain.certificates().count(), 1);
    }
}

/// An expired tam certificate is refused.
pub fn an_expired_tam_certificate_is_refused(backend: Provider) {
    tam_refused_everywhere(backend, "tam-expired", CertError::Expired);
}

/// A not yet valid tam certificate is refused.
pub fn a_not_yet_valid_tam_certificate_is_refused(backend: Provider) {
    tam_refused_everywhere(backend, "tam-notyet", CertError::NotYetValid);
}

/// A tam certificate from an unknown root is refused.
pub fn a_tam_certificate_from_an_unknown_root_is_refused(backend: Provider) {
    tam_refused_everywhere(backend, "tam-unknown-root", CertError::UnknownIssuer);
}

/// A tam certificate with a broken signature is refused.
pub fn a_tam_certificate_with_a_broken_signature_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        let mut leaf = cert(h, "tam");
        // The last byte belongs to the signature value.
        *leaf.last_mut().unwrap() ^= 0x01;
        let r = validate_tam_chain(&provider(backend), &anchors(h, "tam-root"), &[&leaf], now());
        assert_eq!(
            r.unwrap_err(),
            PkiError::Certificate {
                role: Role::Tam,
                error: CertError::BadSignature
            },
            "{h}"
        );
    }
}

/// A tam certificate with wrong key usage is refused.
pub fn a_tam_certificate_with_wrong_key_usage_is_refused(backend: Provider) {
    tam_refused_everywhere(backend, "tam-wrong-ku", CertError::WrongKeyUsage);
}

/// A tam certificate with a foreign extended key usage is refused.
pub fn a_tam_certificate_with_a_foreign_extended_key_usage_is_refused(backend: Provider) {
    tam_refused_everywhere(backend, "tam-wrong-eku", CertError::WrongExtendedKeyUsage);
}

/// A 1024 bit rsa tam key is refused.
pub fn a_1024_bit_rsa_tam_key_is_refused(backend: Provider) {
    tam_refused_everywhere(backend, "tam-rsa1024", CertError::WeakKey { bits: 1024 });
}

/// A sha1 signed tam certificate is refused.
pub fn a_sha1_signed_tam_certificate_is_refused(backend: Provider) {
    tam_refused_everywhere(
        backend,
        "tam-sha1",
        CertError::UnsupportedSignatureAlgorithm,
    );
}

/// An rsa 1024 root is refused as trust anchor.
pub fn an_rsa_1024_root_is_refused_as_trust_anchor(_backend: Provider) {
    let weak = cert("rsa", "weak-root");
    assert_eq!(
        TrustAnchors::from_certificates([weak.as_slice()]).unwrap_err(),
        PkiError::TrustAnchor(CertError::WeakKey { bits: 1024 })
    );
}

/// A signature by a 1024 bit rsa key does not verify.
pub fn a_signature_by_a_1024_bit_rsa_key_does_not_verify(backend: Provider) {
    // Even if such a root slipped in as an intermediate, the provider's
    // algorithms refuse its signatures; offering it is refused by name.
    let leaf = cert("rsa", "tam-weak-issuer");
    let weak = cert("rsa", "weak-root");
    let r = validate_tam_chain(
        &provider(backend),
        &anchors("rsa", "tam-root"),
        &[&leaf, &weak],
        now(),
    );
    assert_eq!(
        r.unwrap_err(),
        PkiError::Certificate {
            role: Role::Tam,
            error: CertError::WeakKey { bits: 1024 }
        }
    );
}

/// (issuer key, signed bytes, signature) of `leaf` issued by `issuer`.
fn signed_parts(leaf: &[u8], issuer: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    use der07::{Decode, Encode};
    let leaf = x509_cert::Certificate::from_der(leaf).unwrap();
    let issuer = x509_cert::Certificate::from_der(issuer).unwrap();
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec();
    let tbs = leaf.tbs_certificate.to_der().unwrap();
    (key, tbs, leaf.signature.raw_bytes().to_vec())
}

/// The rsa algorithms refuse keys under 2048 bits.
pub fn the_rsa_algorithms_refuse_keys_under_2048_bits(backend: Provider) {
    use rustls_pki_types::alg_id;
    let alg = backend
        .webpki_algorithms
        .iter()
        .find(|a| {
            a.public_key_alg_id() == alg_id::RSA_ENCRYPTION
                && a.signature_alg_id() == alg_id::RSA_PKCS1_SHA256
        })
        .expect("RSA PKCS#1 SHA-256");
    // A genuine signature by the 1024-bit root: refused.
    let (key, tbs, sig) = signed_parts(&cert("rsa", "tam-weak-issuer"), &cert("rsa", "weak-root"));
    assert!(alg.verify_signature(&key, &tbs, &sig).is_err());
    // The same check with a 2048-bit issuer verifies.
    let (key, tbs, sig) = signed_parts(&cert("rsa", "tam"), &cert("rsa", "tam-root"));
    assert!(alg.verify_signature(&key, &tbs, &sig).is_ok());
}

/// Signature algorithm coverage.
pub fn signature_algorithm_coverage(backend: Provider) {
    for leaf in [
        "tam-sha384",
        "tam-sha512",
        "tam-pss256",
        "tam-pss384",
        "tam-pss512",
    ] {
        tam(backend, "rsa", leaf).unwrap_or_else(|e| panic!("{leaf}: {e:?}"));
    }
    let leaf = cert("ec", "tam-p384");
    let t = validate_tam_chain(
        &provider(backend),
        &anchors("ec", "p384-root"),
        &[&leaf],
        now(),
    )
    .expect("P-384");
    assert_eq!(t.tamid.as_str(), "https://tam.example.com/p384");
}

/// A tee certificate with its cacert chain is accepted.
pub fn a_tee_certificate_with_its_cacert_chain_is_accepted(backend: Provider) {
    for h in HIERARCHIES {
        let (tee, ca) = (cert(h, "tee"), cert(h, "tee-ca"));
        let t = validate_tee_chain(
            &provider(backend),
            &anchors(h, "tee-root"),
            &tee,
            &[&ca],
            now(),
        )
        .expect(h);
        assert_eq!(t.chain.certificates().count(), 2);
        let pairs: Vec<_> = t.chain.issuer_pairs().collect();
        assert_eq!(pairs[0], (tee.as_slice(), ca.as_slice()));
        assert_eq!(pairs[1], (ca.as_slice(), cert(h, "tee-root").as_slice()));
    }
}

/// A truncated tee chain is refused.
pub fn a_truncated_tee_chain_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        let tee = cert(h, "tee");
        let r = validate_tee_chain(
            &provider(backend),
            &anchors(h, "tee-root"),
            &tee,
            &[],
            now(),
        );
        assert_eq!(
            r.unwrap_err(),
            PkiError::Certificate {
                role: Role::Tee,
                error: CertError::UnknownIssuer
            }
        );
    }
}

/// A tee certificate is not trusted under the tam roots.
pub fn a_tee_certificate_is_not_trusted_under_the_tam_roots(backend: Provider) {
    for h in HIERARCHIES {
        let (tee, ca) = (cert(h, "tee"), cert(h, "tee-ca"));
        let r = validate_tee_chain(
            &provider(backend),
            &anchors(h, "tam-root"),
            &tee,
            &[&ca],
            now(),
        );
        assert!(matches!(
            r,
            Err(PkiError::Certificate {
                role: Role::Tee,
                error: CertError::UnknownIssuer
            })
        ));
    }
}

/// A tfw certificate is checked against firmware roots.
pub fn a_tfw_certificate_is_checked_against_firmware_roots(backend: Provider) {
    for h in HIERARCHIES {
        let tfw = cert(h, "tfw");
        validate_tfw_certificate(&provider(backend), &anchors(h, "tfw-root"), &tfw, now())
            .expect(h);
        let e = validate_tfw_certificate(&provider(backend), &anchors(h, "tee-root"), &tfw, now())
            .unwrap_err();
        assert_eq!(
            e,
            PkiError::Certificate {
                role: Role::Tfw,
                error: CertError::UnknownIssuer
            }
        );
        assert_eq!(e.code(), "ERR_TFW_NOT_TRUSTED");
    }
}

/// The spcert check verifies format and signature.
pub fn the_spcert_check_verifies_format_and_signature(backend: Provider) {
    for h in HIERARCHIES {
        let sp = cert(h, "sp");
        // With SP roots: signature verification.
        check_sp_certificate(&provider(backend), &anchors(h, "sp-root"), &sp, &[], now()).expect(h);
        let e = check_sp_certificate(&provider(backend), &anchors(h, "tam-root"), &sp, &[], now())
            .unwrap_err();
        assert_eq!(e.code(), "ERR_SPCERT_INVALID");
        // Without SP roots: format only.
        check_sp_certificate(&provider(backend), &TrustAnchors::new(), &sp, &[], now()).expect(h);
        let e = check_sp_certificate(
            &provider(backend),
            &TrustAnchors::new(),
            &sp[1..],
            &[],
            now(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            PkiError::Certificate {
                role: Role::Sp,
                error: CertError::Malformed
            }
        );
        // A CA certificate is not an spcert.
        let root = cert(h, "sp-root");
        let e = check_sp_certificate(
            &provider(backend),
            &anchors(h, "sp-root"),
            &root,
            &[],
            now(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            PkiError::Certificate {
                role: Role::Sp,
                error: CertError::CaUsedAsEndEntity
            }
        );
    }
}

/// An empty x5c is refused.
pub fn an_empty_x5c_is_refused(backend: Provider) {
    let r = validate_tam_chain(&provider(backend), &anchors("rsa", "tam-root"), &[], now());
    assert_eq!(
        r.unwrap_err(),
        PkiError::Certificate {
            role: Role::Tam,
            error: CertError::Missing
        }
    );
}

/// Tam refusals are err tam not trusted.
pub fn tam_refusals_are_err_tam_not_trusted(backend: Provider) {
    for leaf in [
        "tam-expired",
        "tam-unknown-root",
        "tam-sha1",
        "tam-wrong-ku",
    ] {
        assert_eq!(
            tam(backend, "rsa", leaf).unwrap_err().code(),
            "ERR_TAM_NOT_TRUSTED"
        );
    }
}
