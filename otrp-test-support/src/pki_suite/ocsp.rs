//! OCSP stapling (spec 9.1.1 ocspdat, 9.1.2, 14.9; RFC 6960) against
//! openssl-generated responses.

use super::{HIERARCHIES, anchors, at, cert, early, full_provider, now, ocsp, provider};
use otrp_core::crypto::Provider;
use otrp_core::pki::{
    CertError, OcspCache, OcspError, OcspGood, OcspPolicy, PkiError, check_revocation,
    validate_tam_chain, verify_ocsp_response,
};

fn verify(
    backend: Provider,
    h: &str,
    leaf: &str,
    response: &str,
) -> Result<otrp_core::pki::OcspGood, OcspError> {
    verify_at(backend, h, leaf, response, now())
}

fn verify_at(
    backend: Provider,
    h: &str,
    leaf: &str,
    response: &str,
    t: otrp_core::pki::UnixTime,
) -> Result<otrp_core::pki::OcspGood, OcspError> {
    verify_ocsp_response(
        &provider(backend),
        &cert(h, leaf),
        &cert(h, "tam-root"),
        &ocsp(h, response),
        t,
        &OcspPolicy::default(),
    )
}

/// Good signed by the issuing ca is accepted.
pub fn good_signed_by_the_issuing_ca_is_accepted(backend: Provider) {
    for h in HIERARCHIES {
        let g = verify(backend, h, "tam", "tam-good-by-ca").expect(h);
        assert!(g.next_update.is_some());
    }
}

/// Good signed by a delegated responder is accepted.
pub fn good_signed_by_a_delegated_responder_is_accepted(backend: Provider) {
    for h in HIERARCHIES {
        verify(backend, h, "tam", "tam-good-by-responder").expect(h);
    }
}

/// A delegated response without the responder certificate is refused.
pub fn a_delegated_response_without_the_responder_certificate_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam", "tam-good-by-responder-nocerts"),
            Err(OcspError::ResponderCertificateMissing)
        );
    }
}

/// Revoked is refused.
pub fn revoked_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam-revoked", "tam-revoked"),
            Err(OcspError::Revoked)
        );
    }
}

/// Unknown is refused.
pub fn unknown_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam-unknown", "tam-unknown"),
            Err(OcspError::Unknown)
        );
    }
}

/// A stale response is refused.
pub fn a_stale_response_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam", "tam-stale"),
            Err(OcspError::Stale)
        );
    }
}

/// A future dated response is refused.
pub fn a_future_dated_response_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify_at(backend, h, "tam", "tam-good-by-ca", early()),
            Err(OcspError::NotYetValid)
        );
    }
}

/// The skew is configurable.
pub fn the_skew_is_configurable(backend: Provider) {
    for h in HIERARCHIES {
        let g = verify(backend, h, "tam", "tam-good-by-ca").unwrap();
        let this = g.this_update.as_secs();
        let policy = OcspPolicy {
            max_skew_secs: 60,
            ..OcspPolicy::default()
        };
        let run = |t: u64| {
            verify_ocsp_response(
                &provider(backend),
                &cert(h, "tam"),
                &cert(h, "tam-root"),
                &ocsp(h, "tam-good-by-ca"),
                at(t),
                &policy,
            )
        };
        assert!(run(this - 60).is_ok());
        assert_eq!(run(this - 61), Err(OcspError::NotYetValid));
        let next = g.next_update.unwrap().as_secs();
        assert!(run(next + 60).is_ok());
        assert_eq!(run(next + 61), Err(OcspError::Stale));
    }
}

/// A response without next update is refused by default.
pub fn a_response_without_next_update_is_refused_by_default(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam", "tam-no-next-update"),
            Err(OcspError::MissingNextUpdate)
        );
        let lenient = OcspPolicy {
            require_next_update: false,
            ..OcspPolicy::default()
        };
        verify_ocsp_response(
            &provider(backend),
            &cert(h, "tam"),
            &cert(h, "tam-root"),
            &ocsp(h, "tam-no-next-update"),
            now(),
            &lenient,
        )
        .expect("lenient policy");
    }
}

/// A responder without ocsp signing is unauthorized.
pub fn a_responder_without_ocsp_signing_is_unauthorized(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam", "tam-unauthorized-noeku"),
            Err(OcspError::UnauthorizedResponder(
                CertError::WrongExtendedKeyUsage
            ))
        );
    }
}

/// A response signed by another ca is unauthorized.
pub fn a_response_signed_by_another_ca_is_unauthorized(backend: Provider) {
    for h in HIERARCHIES {
        assert!(matches!(
            verify(backend, h, "tam", "tam-unauthorized-other-ca"),
            Err(OcspError::UnauthorizedResponder(_))
        ));
    }
}

/// A cert id for another serial is refused.
pub fn a_cert_id_for_another_serial_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam", "tam-rid-good"),
            Err(OcspError::SerialMismatch)
        );
    }
}

/// A cert id for another issuer is refused.
pub fn a_cert_id_for_another_issuer_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        // tam-good-by-ca checked as if tee were issued by tee-ca.
        let r = verify_ocsp_response(
            &provider(backend),
            &cert(h, "tee"),
            &cert(h, "tee-ca"),
            &ocsp(h, "tam-good-by-ca"),
            now(),
            &OcspPolicy::default(),
        );
        assert_eq!(r, Err(OcspError::IssuerMismatch));
    }
}

/// A sha1 cert id is unsupported without sha1 in the provider.
pub fn a_sha1_cert_id_is_unsupported_without_sha1_in_the_provider(backend: Provider) {
    for h in HIERARCHIES {
        assert_eq!(
            verify(backend, h, "tam", "tam-good-sha1-certid"),
            Err(OcspError::UnsupportedCertIdHash)
        );
    }
}

fn verify_with_sha1(
    backend: Provider,
    h: &str,
    leaf: &str,
    response: &str,
) -> Result<OcspGood, OcspError> {
    verify_ocsp_response(
        &full_provider(backend),
        &cert(h, leaf),
        &cert(h, "tam-root"),
        &ocsp(h, response),
        now(),
        &OcspPolicy::default(),
    )
}

/// A sha1 cert id matches when the provider has sha1.
pub fn a_sha1_cert_id_matches_when_the_provider_has_sha1(backend: Provider) {
    for h in HIERARCHIES {
        let g = verify_with_sha1(backend, h, "tam", "tam-good-sha1-certid").expect(h);
        assert!(g.next_update.is_some());
    }
}

/// A sha1 cert id for another serial is refused.
pub fn a_sha1_cert_id_for_another_serial_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        // Same issuer (the TAM root), so the SHA-1 name and key hashes match;
        // only the serial differs.
        assert_eq!(
            verify_with_sha1(backend, h, "tam-rid", "tam-good-sha1-certid"),
            Err(OcspError::SerialMismatch)
        );
        // Another issuer: the SHA-1 issuer hashes do not match.
        let r = verify_ocsp_response(
            &full_provider(backend),
            &cert(h, "tee"),
            &cert(h, "tee-ca"),
            &ocsp(h, "tam-good-sha1-certid"),
            now(),
            &OcspPolicy::default(),
        );
        assert_eq!(r, Err(OcspError::IssuerMismatch));
    }
}

/// Sha1 signatures stay refused with sha1 in the provider.
pub fn sha1_signatures_stay_refused_with_sha1_in_the_provider(backend: Provider) {
    use otrp_core::pki::Role;
    for h in HIERARCHIES {
        let r = validate_tam_chain(
            &full_provider(backend),
            &anchors(h, "tam-root"),
            &[cert(h, "tam-sha1").as_slice()],
            now(),
        );
        assert!(
            matches!(
                r,
                Err(PkiError::Certificate {
                    role: Role::Tam,
                    error: CertError::UnsupportedSignatureAlgorithm,
                })
            ),
            "{h}: {r:?}"
        );
    }
}

/// A tampered response is refused.
pub fn a_tampered_response_is_refused(backend: Provider) {
    for h in HIERARCHIES {
        let mut resp = ocsp(h, "tam-good-by-ca");
        *resp.last_mut().unwrap() ^= 1;
        let r = verify_ocsp_response(
            &provider(backend),
            &cert(h, "tam"),
            &cert(h, "tam-root"),
            &resp,
            now(),
            &OcspPolicy::default(),
        );
        assert!(
            matches!(r, Err(OcspError::BadSignature | OcspError::Malformed)),
            "{h}: {r:?}"
        );
        let r = verify_ocsp_response(
            &provider(backend),
            &cert(h, "tam"),
            &cert(h, "tam-root"),
            &resp[..resp.len() / 2],
            now(),
            &OcspPolicy::default(),
        );
        assert_eq!(r, Err(OcspError::Malformed));
    }
}

/// Check revocation of a tam chain.
pub fn check_revocation_of_a_tam_chain(backend: Provider) {
    for h in HIERARCHIES {
        let p = provider(backend);
        let leaf = cert(h, "tam");
        let tam = validate_tam_chain(&p, &anchors(h, "tam-root"), &[&leaf], now()).unwrap();
        let good = ocsp(h, "tam-good-by-responder");
        let other = ocsp(h, "tam-rid-good");
        // Order does not matter; irrelevant responses are skipped.
        check_revocation(
            &p,
            &tam.chain,
            &[&other, &good],
            now(),
            &OcspPolicy::default(),
            None,
        )
        .expect(h);
        // Missing data.
        let e =
            check_revocation(&p, &tam.chain, &[], now(), &OcspPolicy::default(), None).unwrap_err();
        assert_eq!(e, PkiError::Ocsp(OcspError::Missing));
        assert_eq!(e.code(), "ERR_TAM_NOT_TRUSTED");
        // Only a response about another certificate: the mismatch is named.
        let e = check_revocation(
            &p,
            &tam.chain,
            &[&other],
            now(),
            &OcspPolicy::default(),
            None,
        )
        .unwrap_err();
        assert_eq!(e, PkiError::Ocsp(OcspError::SerialMismatch));
        // Stale beats a mismatch.
        let stale = ocsp(h, "tam-stale");
        let e = check_revocation(
            &p,
            &tam.chain,
            &[&other, &stale],
            now(),
            &OcspPolicy::default(),
            None,
        )
        .unwrap_err();
        assert_eq!(e, PkiError::Ocsp(OcspError::Stale));
        // Revoked.
        let leaf = cert(h, "tam-revoked");
        let rev = validate_tam_chain(&p, &anchors(h, "tam-root"), &[&leaf], now()).unwrap();
        let e = check_revocation(
            &p,
            &rev.chain,
            &[&ocsp(h, "tam-revoked")],
            now(),
            &OcspPolicy::default(),
            None,
        )
        .unwrap_err();
        assert_eq!(e, PkiError::Ocsp(OcspError::Revoked));
        assert_eq!(e.code(), "ERR_TAM_NOT_TRUSTED");
    }
}

/// The cache serves until next update and is bounded.
pub fn the_cache_serves_until_next_update_and_is_bounded(backend: Provider) {
    for h in HIERARCHIES {
        let p = provider(backend);
        let leaf = cert(h, "tam");
        let tam = validate_tam_chain(&p, &anchors(h, "tam-root"), &[&leaf], now()).unwrap();
        let good = ocsp(h, "tam-good-by-ca");
        let mut cache = OcspCache::new(1);
        check_revocation(
            &p,
            &tam.chain,
            &[&good],
            now(),
            &OcspPolicy::default(),
            Some(&mut cache),
        )
        .unwrap();
        assert_eq!(cache.len(), 1);
        // A later exchange may omit the stapled data while the entry is fresh.
        check_revocation(
            &p,
            &tam.chain,
            &[],
            now(),
            &OcspPolicy::default(),
            Some(&mut cache),
        )
        .unwrap();
        // After nextUpdate the entry no longer serves.
        let g = verify(backend, h, "tam", "tam-good-by-ca").unwrap();
        let after = at(g.next_update.unwrap().as_secs() + 1);
        assert!(
            !cache
                .is_good(&p, &leaf, &cert(h, "tam-root"), after)
                .unwrap()
        );
        // Bounded: a second certificate evicts the first.
        let rid = cert(h, "tam-rid");
        let rid_chain = validate_tam_chain(&p, &anchors(h, "tam-root"), &[&rid], now()).unwrap();
        check_revocation(
            &p,
            &rid_chain.chain,
            &[&ocsp(h, "tam-rid-good")],
            now(),
            &OcspPolicy::default(),
            Some(&mut cache),
        )
        .unwrap();
        assert_eq!(cache.len(), 1);
        assert!(
            !cache
                .is_good(&p, &leaf, &cert(h, "tam-root"), now())
                .unwrap()
        );
        assert!(
            cache
                .is_good(&p, &rid, &cert(h, "tam-root"), now())
                .unwrap()
        );
    }
}
