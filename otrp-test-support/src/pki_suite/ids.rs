//! tamid (spec 5.4, 9.2.1.1, 14.15) and did (9.2.1.1, 9.2.1.2).

use super::{HIERARCHIES, anchors, cert, now, provider};
use otrp_core::crypto::Provider;
use otrp_core::pki::{Did, PkiError, TamId, tamid_from_certificate, validate_tam_chain};
use sha2::Digest as _;

/// The tamid is the subject alt name uri.
pub fn the_tamid_is_the_subject_alt_name_uri(_backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            tamid_from_certificate(&cert(h, "tam")).unwrap(),
            TamId::Uri("https://tam.example.com/tam1".into())
        );
    }
}

/// Without a uri the tamid is the registered id in dotted form.
pub fn without_a_uri_the_tamid_is_the_registered_id_in_dotted_form(_backend: Provider) {
    for h in HIERARCHIES {
        let id = tamid_from_certificate(&cert(h, "tam-rid")).unwrap();
        assert_eq!(id, TamId::RegisteredId("1.3.6.1.4.1.99999.1.2".into()));
        assert_eq!(id.to_string(), "1.3.6.1.4.1.99999.1.2");
    }
}

/// A renewed tam certificate keeps the tamid.
pub fn a_renewed_tam_certificate_keeps_the_tamid(backend: Provider) {
    for h in HIERARCHIES {
        let (old, new) = (cert(h, "tam"), cert(h, "tam-renewed"));
        assert_ne!(old, new);
        let a = validate_tam_chain(&provider(backend), &anchors(h, "tam-root"), &[&old], now())
            .unwrap();
        let b = validate_tam_chain(&provider(backend), &anchors(h, "tam-root"), &[&new], now())
            .unwrap();
        assert_eq!(a.tamid, b.tamid);
        b.tamid.check_claim(a.tamid.as_str()).unwrap();
    }
}

/// Another tam has another tamid and cannot claim ours.
pub fn another_tam_has_another_tamid_and_cannot_claim_ours(_backend: Provider) {
    for h in HIERARCHIES {
        let other = tamid_from_certificate(&cert(h, "tam-other")).unwrap();
        assert_eq!(other.as_str(), "https://tam.example.org/tam3");
        let e = other
            .check_claim("https://tam.example.com/tam1")
            .unwrap_err();
        assert_eq!(e, PkiError::TamIdMismatch);
        assert_eq!(e.code(), "ERR_TAM_NOT_AUTHORIZED");
    }
}

/// A certificate without subject alt name has no tamid.
pub fn a_certificate_without_subject_alt_name_has_no_tamid(_backend: Provider) {
    for h in HIERARCHIES {
        let e = tamid_from_certificate(&cert(h, "tee")).unwrap_err();
        assert_eq!(e, PkiError::NoTamId);
        assert_eq!(e.code(), "ERR_TAM_NOT_TRUSTED");
    }
}

/// Did is sha256 of the tee certificate der.
pub fn did_is_sha256_of_the_tee_certificate_der(backend: Provider) {
    for h in HIERARCHIES {
        let tee = cert(h, "tee");
        let did = Did::of_certificate(&provider(backend), &tee).unwrap();
        assert_eq!(
            did.as_bytes().as_slice(),
            sha2::Sha256::digest(&tee).as_slice()
        );
        did.check(&provider(backend), &tee).unwrap();
        let other = cert(h, "tam");
        let e = did.check(&provider(backend), &other).unwrap_err();
        assert_eq!(e, PkiError::DidMismatch);
        assert_eq!(Did::from_slice(did.as_bytes()), Some(did));
        assert_eq!(Did::from_slice(&[0; 31]), None);
    }
}

/// The tee chain yields its did.
pub fn the_tee_chain_yields_its_did(backend: Provider) {
    for h in HIERARCHIES {
        let (tee, ca) = (cert(h, "tee"), cert(h, "tee-ca"));
        let t = otrp_core::pki::validate_tee_chain(
            &provider(backend),
            &anchors(h, "tee-root"),
            &tee,
            &[&ca],
            now(),
        )
        .unwrap();
        assert_eq!(
            t.did,
            Did::of_certificate(&provider(backend), &tee).unwrap()
        );
    }
}

/// Did needs sha256 from the provider.
pub fn did_needs_sha256_from_the_provider(backend: Provider) {
    let p = otrp_core::crypto::Provider {
        digests: &[],
        ..provider(backend)
    };
    let e = Did::of_certificate(&p, &cert("rsa", "tee")).unwrap_err();
    assert_eq!(e.code(), "ERR_UNSUPPORTED_CRYPTO_ALG");
}
