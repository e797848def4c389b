//! OCSP stapling (spec 9.1.1 `ocspdat`, 9.1.2, 14.9; RFC 6960): checking a
//! stapled `OCSPResponse` for one certificate, and a bounded cache of good
//! statuses that expire at nextUpdate.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;

use const_oid::db::rfc5912::{ID_KP_OCSP_SIGNING, ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512};
use const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
use der::{Decode, Encode, Header, Reader, SliceReader};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_cert::Certificate;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, ResponderId};

use super::cert::{self, SigError};
use super::{CertError, OcspError, PkiError, ValidatedChain};
use crate::crypto::{HashAlg, Provider};

/// How strictly stapled responses are judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcspPolicy {
    /// Clock skew tolerated on thisUpdate (in the future) and nextUpdate (in
    /// the past), in seconds. A TEE's clock may be coarse (9.1.2).
    pub max_skew_secs: u64,
    /// Whether a response without nextUpdate is refused
    /// ([`OcspError::MissingNextUpdate`]). Without nextUpdate there is no
    /// bound on a response's age and nothing to expire a cache entry by.
    pub require_next_update: bool,
}

impl Default for OcspPolicy {
    /// Five minutes of skew; nextUpdate required.
    fn default() -> Self {
        OcspPolicy {
            max_skew_secs: 300,
            require_next_update: true,
        }
    }
}

/// A verified "good" status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcspGood {
    /// thisUpdate of the response.
    pub this_update: UnixTime,
    /// nextUpdate of the response, if any.
    pub next_update: Option<UnixTime>,
}

/// Checks one stapled DER `OCSPResponse` for `cert` (DER) issued by `issuer`
/// (DER) at `now`:
///
/// 1. a successful `OCSPResponse` carrying a `BasicOCSPResponse`;
/// 2. a `SingleResponse` whose CertID matches: hash algorithm offered by the
///    provider (SHA-256/384/512, or SHA-1 if the provider has it: a CertID
///    is an identifier, not a signature), issuer name hash, issuer key hash,
///    serial;
/// 3. the signature over `tbsResponseData` verifies (through
///    `provider.webpki_algorithms`) with the issuer's key, or with a
///    certificate in the response that the issuer issued directly with
///    id-kp-OCSPSigning and that is valid at `now` (RFC 6960 4.2.2.2);
/// 4. thisUpdate <= now + skew, and now - skew <= nextUpdate;
/// 5. the status is good.
///
/// The ResponderID is used only to tell a missing responder certificate from
/// a bad signature: authorization rests on the signature checks above
/// (byKey IDs are SHA-1 hashes, which a provider need not offer).
///
/// `issuer_der` must be the *validated* issuer of `cert_der` (from a chain
/// that [`validate_chain`](super::validate_chain) accepted): this function
/// matches it by name only, so an unvalidated certificate with the same
/// subject would be believed. [`check_revocation`] takes the pairs from a
/// validated chain and is the entry point to prefer.
pub fn verify_ocsp_response(
    provider: &Provider,
    cert_der: &[u8],
    issuer_der: &[u8],
    response_der: &[u8],
    now: UnixTime,
    policy: &OcspPolicy,
) -> Result<OcspGood, OcspError> {
    let cert = cert::parse(cert_der).map_err(|_| OcspError::Malformed)?;
    let issuer = cert::parse(issuer_der).map_err(|_| OcspError::Malformed)?;

    let response = OcspResponse::from_der(response_der).map_err(|_| OcspError::Malformed)?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(OcspError::NotSuccessful(response.response_status as u8));
    }
    let bytes = response.response_bytes.ok_or(OcspError::Malformed)?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(OcspError::NotBasic);
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der).map_err(|_| OcspError::Malformed)?;
    let tbs_raw = raw_first_element(basic_der).ok_or(OcspError::Malformed)?;

    // 2. CertID.
    let single = find_single(provider, &basic, &cert, &issuer)?;

    // 3. Signature and responder authorization.
    let signature = basic.signature.as_bytes().ok_or(OcspError::Malformed)?;
    check_signer(
        provider, &basic, &issuer, issuer_der, tbs_raw, signature, now,
    )?;

    // 4. Freshness.
    let skew = Duration::from_secs(policy.max_skew_secs);
    let this_update = unix(single.this_update.0.to_unix_duration());
    let next_update = single.next_update.map(|t| unix(t.0.to_unix_duration()));
    if this_update.as_secs() > now.as_secs().saturating_add(skew.as_secs()) {
        return Err(OcspError::NotYetValid);
    }
    match next_update {
        Some(next) if now.as_secs().saturating_sub(skew.as_secs()) > next.as_secs() => {
            return Err(OcspError::Stale);
        }
        None if policy.require_next_update => return Err(OcspError::MissingNextUpdate),
        _ => {}
    }

    // 5. Status.
    match single.cert_status {
        CertStatus::Good(_) => Ok(OcspGood {
            this_update,
            next_update,
        }),
        CertStatus::Revoked(_) => Err(OcspError::Revoked),
        CertStatus::Unknown(_) => Err(OcspError::Unknown),
    }
}

fn unix(d: Duration) -> UnixTime {
    UnixTime::since_unix_epoch(d)
}

/// The complete encoding (tag, length, value) of the first element of the
/// DER SEQUENCE `der`: the signed bytes, exactly as received.
fn raw_first_element(der: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(der).ok()?;
    let header = Header::decode(&mut reader).ok()?;
    if header.tag != der::Tag::Sequence {
        return None;
    }
    reader.tlv_bytes().ok()
}

/// The CertID hash algorithm. SHA-1 is accepted here (openssl's default and
/// that of most responders) because the CertID is an identifier compared
/// under a verified signature, not a security use of the hash; it still
/// needs a provider offering [`HashAlg::Sha1`]. SHA-1 *signatures* are
/// refused elsewhere: no provider offers a SHA-1 webpki algorithm.
fn hash_alg(oid: &const_oid::ObjectIdentifier) -> Option<HashAlg> {
    if *oid == ID_SHA_1 {
        Some(HashAlg::Sha1)
    } else if *oid == ID_SHA_256 {
        Some(HashAlg::Sha256)
    } else if *oid == ID_SHA_384 {
        Some(HashAlg::Sha384)
    } else if *oid == ID_SHA_512 {
        Some(HashAlg::Sha512)
    } else {
        None
    }
}

fn find_single<'r>(
    provider: &Provider,
    basic: &'r BasicOcspResponse,
    cert: &Certificate,
    issuer: &Certificate,
) -> Result<&'r x509_ocsp::SingleResponse, OcspError> {
    let issuer_name = issuer
        .tbs_certificate
        .subject
        .to_der()
        .map_err(|_| OcspError::Malformed)?;
    let issuer_key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let mut error = OcspError::Missing;
    for single in &basic.tbs_response_data.responses {
        let id = &single.cert_id;
        let Some(alg) = hash_alg(&id.hash_algorithm.oid) else {
            if error == OcspError::Missing {
                error = OcspError::UnsupportedCertIdHash;
            }
            continue;
        };
        let digest = match provider.digest(alg) {
            Ok(d) => d,
            Err(_) => {
                if error == OcspError::Missing {
                    error = OcspError::UnsupportedCertIdHash;
                }
                continue;
            }
        };
        let issuer_matches = cert.tbs_certificate.issuer == issuer.tbs_certificate.subject
            && id.issuer_name_hash.as_bytes() == digest.digest(&issuer_name).as_slice()
            && id.issuer_key_hash.as_bytes() == digest.digest(issuer_key).as_slice();
        if !issuer_matches {
            if error != OcspError::SerialMismatch {
                error = OcspError::IssuerMismatch;
            }
            continue;
        }
        if id.serial_number != cert.tbs_certificate.serial_number {
            error = OcspError::SerialMismatch;
            continue;
        }
        return Ok(single);
    }
    Err(error)
}

fn sig_error(e: SigError) -> OcspError {
    match e {
        SigError::UnsupportedAlgorithm | SigError::KeyMismatch => {
            OcspError::UnsupportedSignatureAlgorithm
        }
        SigError::Bad => OcspError::BadSignature,
    }
}

fn check_signer(
    provider: &Provider,
    basic: &BasicOcspResponse,
    issuer: &Certificate,
    issuer_der: &[u8],
    tbs_raw: &[u8],
    signature: &[u8],
    now: UnixTime,
) -> Result<(), OcspError> {
    let algs = provider.webpki_algorithms;
    // Signed by the CA itself.
    let by_ca = cert::verify_signature(
        algs,
        &issuer.tbs_certificate.subject_public_key_info,
        &basic.signature_algorithm,
        tbs_raw,
        signature,
    );
    let mut error = match by_ca {
        Ok(()) => return Ok(()),
        Err(e) => sig_error(e),
    };
    // Signed by a delegated responder included in the response.
    let anchor_der = CertificateDer::from(issuer_der);
    let anchor = webpki::anchor_from_trusted_cert(&anchor_der).map_err(|_| OcspError::Malformed)?;
    let anchors = [anchor];
    let mut had_candidate = false;
    for responder in basic.certs.iter().flatten() {
        if cert::verify_signature(
            algs,
            &responder.tbs_certificate.subject_public_key_info,
            &basic.signature_algorithm,
            tbs_raw,
            signature,
        )
        .is_err()
        {
            continue;
        }
        had_candidate = true;
        let der: Vec<u8> = responder.to_der().map_err(|_| OcspError::Malformed)?;
        let der = CertificateDer::from(der);
        let ee = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| OcspError::UnauthorizedResponder(CertError::from_webpki(&e)))?;
        let eku = cert::EkuPolicy {
            accepted: &[ID_KP_OCSP_SIGNING],
            required: true,
        };
        match ee.verify_for_usage(algs, &anchors, &[], now, eku, None, None) {
            Ok(_) => return Ok(()),
            Err(e) => error = OcspError::UnauthorizedResponder(CertError::from_webpki(&e)),
        }
    }
    if !had_candidate && error == OcspError::BadSignature {
        // Nobody verifies: if the response names someone other than the CA
        // as responder, that responder's certificate is what is missing.
        let names_ca = match &basic.tbs_response_data.responder_id {
            ResponderId::ByName(name) => *name == issuer.tbs_certificate.subject,
            ResponderId::ByKey(_) => false,
        };
        if !names_ca && basic.certs.as_ref().is_none_or(|c| c.is_empty()) {
            error = OcspError::ResponderCertificateMissing;
        }
    }
    Err(error)
}

/// A bounded cache of verified good statuses (9.1.2: "Cache the CA OCSP
/// stapling data and certificate revocation check status for other
/// subsequent requests"), keyed by certificate and issuer. An entry serves
/// until its nextUpdate; when full, the entry expiring first is dropped.
#[derive(Clone, Debug)]
pub struct OcspCache {
    entries: BTreeMap<Vec<u8>, UnixTime>,
    capacity: usize,
}

impl OcspCache {
    /// A cache of at most `capacity` entries (0 disables caching).
    pub fn new(capacity: usize) -> Self {
        OcspCache {
            entries: BTreeMap::new(),
            capacity,
        }
    }

    /// The number of entries (expired ones included until the next insert).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(provider: &Provider, cert: &[u8], issuer: &[u8]) -> Result<Vec<u8>, PkiError> {
        let d = provider.digest(HashAlg::Sha256)?;
        let mut key = d.digest(cert);
        key.extend_from_slice(&d.digest(issuer));
        Ok(key)
    }

    /// Whether a good status for `cert` under `issuer` is cached and still
    /// before its nextUpdate at `now`.
    pub fn is_good(
        &self,
        provider: &Provider,
        cert: &[u8],
        issuer: &[u8],
        now: UnixTime,
    ) -> Result<bool, PkiError> {
        let key = Self::key(provider, cert, issuer)?;
        Ok(self.entries.get(&key).is_some_and(|next| now < *next))
    }

    /// Records a verified good status. Responses without nextUpdate are not
    /// cached (nothing would expire them).
    pub fn insert(
        &mut self,
        provider: &Provider,
        cert: &[u8],
        issuer: &[u8],
        good: &OcspGood,
        now: UnixTime,
    ) -> Result<(), PkiError> {
        let Some(next) = good.next_update else {
            return Ok(());
        };
        if self.capacity == 0 || next <= now {
            return Ok(());
        }
        let key = Self::key(provider, cert, issuer)?;
        self.entries.retain(|_, n| now < *n);
        while self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let first = self
                .entries
                .iter()
                .min_by_key(|(_, n)| **n)
                .map(|(k, _)| k.clone());
            match first {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => break,
            }
        }
        self.entries.insert(key, next);
        Ok(())
    }
}

/// Checks the revocation status of every certificate of a validated TAM
/// path (TAM certificate and intermediates; the root needs none) with the
/// stapled `ocspdat` responses (9.1.1), in any order. A certificate with a
/// good status in `cache` needs no response (9.1.1: the array "may contain
/// only the OCSP stapling data for the TAM certificate in subsequent
/// exchanges"); new good statuses are added to the cache.
///
/// A certificate without a usable response fails with the most telling
/// refusal among the responses offered ([`OcspError::Missing`] when none
/// matched it at all); every refusal is `ERR_TAM_NOT_TRUSTED`.
pub fn check_revocation(
    provider: &Provider,
    chain: &ValidatedChain,
    ocspdat: &[&[u8]],
    now: UnixTime,
    policy: &OcspPolicy,
    mut cache: Option<&mut OcspCache>,
) -> Result<(), PkiError> {
    for (cert, issuer) in chain.issuer_pairs() {
        if let Some(c) = cache.as_deref() {
            if c.is_good(provider, cert, issuer, now)? {
                continue;
            }
        }
        let mut best = OcspError::Missing;
        let mut good = None;
        for response in ocspdat {
            match verify_ocsp_response(provider, cert, issuer, response, now, policy) {
                Ok(g) => {
                    good = Some(g);
                    break;
                }
                Err(e) => {
                    if rank(e) > rank(best) {
                        best = e;
                    }
                }
            }
        }
        let good = good.ok_or(PkiError::Ocsp(best))?;
        if let Some(c) = cache.as_deref_mut() {
            c.insert(provider, cert, issuer, &good, now)?;
        }
    }
    Ok(())
}

/// How telling a refusal is when several responses were tried for one
/// certificate: a response about another certificate says least.
fn rank(e: OcspError) -> u8 {
    match e {
        OcspError::Missing => 0,
        OcspError::IssuerMismatch => 1,
        OcspError::SerialMismatch => 2,
        OcspError::Malformed | OcspError::NotSuccessful(_) | OcspError::NotBasic => 3,
        OcspError::UnsupportedCertIdHash => 4,
        _ => 5,
    }
}
