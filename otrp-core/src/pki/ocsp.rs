//! OCSP stapling (spec 9.1.1 `ocspdat`, 9.1.2, 14.9; RFC 6960): checking a
//! stapled `OCSPResponse` for one certificate, and a bounded cache of good
//! statuses that expire at nextUpdate.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use const_oid::db::rfc5912::{ID_KP_OCSP_SIGNING, ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512};
use const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
use der::Encode;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponseStatus, ResponderId};

use super::cert::{self, CertSpans, SigError, SpkiParts};
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

/// A verified answer about one certificate: good or revoked, with its
/// times. What [`OcspCache`] remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcspAnswer {
    /// thisUpdate of the response.
    pub this_update: UnixTime,
    /// nextUpdate of the response, if any.
    pub next_update: Option<UnixTime>,
    /// Whether the certificate is revoked.
    pub revoked: bool,
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
    let answer = read_ocsp_response(provider, cert_der, issuer_der, response_der, now, policy)?;
    if answer.revoked {
        return Err(OcspError::Revoked);
    }
    Ok(OcspGood {
        this_update: answer.this_update,
        next_update: answer.next_update,
    })
}

/// Steps 1 to 4 of [`verify_ocsp_response`], then the status: a good or a
/// revoked answer (an unknown one is [`OcspError::Unknown`]). Freshness
/// (nextUpdate) is required of a good answer only: a revocation, once
/// signed, stays true.
pub fn read_ocsp_response(
    provider: &Provider,
    cert_der: &[u8],
    issuer_der: &[u8],
    response_der: &[u8],
    now: UnixTime,
    policy: &OcspPolicy,
) -> Result<OcspAnswer, OcspError> {
    // Both must be X.509; what the response is matched against is read
    // from their DER spans.
    for der in [cert_der, issuer_der] {
        cert::parse(der).map_err(|_| OcspError::Malformed)?;
    }
    let pair = cert_and_issuer(cert_der, issuer_der)?;
    let response = ParsedOcsp::parse(response_der)?;
    read_parsed(provider, &pair, &response, now, policy)
}

/// A basic OCSP response in DER, parsed once (step 1 of
/// [`verify_ocsp_response`]) for the certificates it may be about.
struct ParsedOcsp {
    basic: BasicOcspResponse,
    /// The DER of its `tbsResponseData`, which the signature covers.
    tbs_raw: Vec<u8>,
}

impl ParsedOcsp {
    fn parse(response_der: &[u8]) -> Result<Self, OcspError> {
        let (response, basic) = super::der_strict::parse_ocsp_response_der(response_der)?;
        if response.response_status != OcspResponseStatus::Successful {
            return Err(OcspError::NotSuccessful(response.response_status as u8));
        }
        let bytes = response.response_bytes.ok_or(OcspError::Malformed)?;
        if bytes.response_type != ID_PKIX_OCSP_BASIC {
            return Err(OcspError::NotBasic);
        }
        let basic = basic.ok_or(OcspError::Malformed)?;
        let tbs_raw = cert::raw_first_element(bytes.response.as_bytes())
            .ok_or(OcspError::Malformed)?
            .to_vec();
        Ok(ParsedOcsp { basic, tbs_raw })
    }
}

/// What an OCSP response is matched and verified against: a certificate's
/// spans, and its issuer's DER, spans and key.
struct CertAndIssuer<'a> {
    cert: CertSpans<'a>,
    issuer_der: &'a [u8],
    issuer: CertSpans<'a>,
    issuer_key: SpkiParts<'a>,
}

/// The [`CertAndIssuer`] of two DER certificates of a validated chain.
fn cert_and_issuer<'a>(
    cert_der: &'a [u8],
    issuer_der: &'a [u8],
) -> Result<CertAndIssuer<'a>, OcspError> {
    let spans = || -> Result<_, CertError> {
        let issuer = CertSpans::of(issuer_der)?;
        Ok(CertAndIssuer {
            cert: CertSpans::of(cert_der)?,
            issuer_der,
            issuer_key: SpkiParts::of(issuer.spki)?,
            issuer,
        })
    };
    spans().map_err(|_| OcspError::Malformed)
}

/// [`read_ocsp_response`] of a certificate and issuer, and a parsed
/// response.
fn read_parsed(
    provider: &Provider,
    pair: &CertAndIssuer<'_>,
    response: &ParsedOcsp,
    now: UnixTime,
    policy: &OcspPolicy,
) -> Result<OcspAnswer, OcspError> {
    let (basic, tbs_raw) = (&response.basic, response.tbs_raw.as_slice());
    // 2. CertID.
    let single = find_single(provider, basic, pair)?;

    // 3. Signature and responder authorization.
    let signature = basic.signature.as_bytes().ok_or(OcspError::Malformed)?;
    check_signer(provider, basic, pair, tbs_raw, signature, now)?;

    // 4. Freshness.
    let skew = Duration::from_secs(policy.max_skew_secs);
    let this_update = unix(single.this_update.0.to_unix_duration());
    let next_update = single.next_update.map(|t| unix(t.0.to_unix_duration()));
    if this_update.as_secs() > now.as_secs().saturating_add(skew.as_secs()) {
        return Err(OcspError::NotYetValid);
    }
    let revoked = match single.cert_status {
        CertStatus::Good(_) => false,
        CertStatus::Revoked(_) => true,
        CertStatus::Unknown(_) => return Err(OcspError::Unknown),
    };
    if !revoked {
        match next_update {
            Some(next) if now.as_secs().saturating_sub(skew.as_secs()) > next.as_secs() => {
                return Err(OcspError::Stale);
            }
            None if policy.require_next_update => return Err(OcspError::MissingNextUpdate),
            _ => {}
        }
    }
    Ok(OcspAnswer {
        this_update,
        next_update,
        revoked,
    })
}

fn unix(d: Duration) -> UnixTime {
    UnixTime::since_unix_epoch(d)
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
    pair: &CertAndIssuer<'_>,
) -> Result<&'r x509_ocsp::SingleResponse, OcspError> {
    // Names compare as DER, as the chain's validation chained them.
    let issuer_name = pair.issuer.subject;
    let issuer_key = pair.issuer_key.key.raw_bytes();
    let serial = pair
        .cert
        .serial_content()
        .map_err(|_| OcspError::Malformed)?;
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
        let issuer_matches = pair.cert.issuer == issuer_name
            && id.issuer_name_hash.as_bytes() == digest.digest(issuer_name).as_slice()
            && id.issuer_key_hash.as_bytes() == digest.digest(issuer_key).as_slice();
        if !issuer_matches {
            if error != OcspError::SerialMismatch {
                error = OcspError::IssuerMismatch;
            }
            continue;
        }
        if id.serial_number.as_bytes() != serial {
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
    pair: &CertAndIssuer<'_>,
    tbs_raw: &[u8],
    signature: &[u8],
    now: UnixTime,
) -> Result<(), OcspError> {
    let algs = provider.webpki_algorithms;
    // Signed by the CA itself.
    let by_ca = cert::verify_signature(
        algs,
        &pair.issuer_key,
        &basic.signature_algorithm,
        tbs_raw,
        signature,
    );
    let mut error = match by_ca {
        Ok(()) => return Ok(()),
        Err(e) => sig_error(e),
    };
    // Signed by a delegated responder included in the response.
    let anchor_der = CertificateDer::from(pair.issuer_der);
    let anchor = webpki::anchor_from_trusted_cert(&anchor_der).map_err(|_| OcspError::Malformed)?;
    let anchors = [anchor];
    let mut had_candidate = false;
    for responder in basic.certs.iter().flatten() {
        let Ok(spki) = responder.tbs_certificate.subject_public_key_info.to_der() else {
            continue;
        };
        let verified = SpkiParts::of(&spki).is_ok_and(|key| {
            cert::verify_signature(algs, &key, &basic.signature_algorithm, tbs_raw, signature)
                .is_ok()
        });
        if !verified {
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
            ResponderId::ByName(name) => {
                name.to_der().is_ok_and(|name| name == pair.issuer.subject)
            }
            ResponderId::ByKey(_) => false,
        };
        if !names_ca && basic.certs.as_ref().is_none_or(|c| c.is_empty()) {
            error = OcspError::ResponderCertificateMissing;
        }
    }
    Err(error)
}

/// The revocation status last established for each certificate (9.1.2:
/// "Cache the CA OCSP stapling data and certificate revocation check status
/// for other subsequent requests"), keyed by certificate and issuer, and
/// grouped by scope (a TEE uses the tamid, so that no TAM's certificates
/// can evict another's).
///
/// The memory is monotonic (issue 14): an answer with an earlier thisUpdate
/// than the one remembered never replaces it, and a revoked status, once
/// seen, holds for that certificate (a new certificate is a new entry).
/// Each scope keeps at most `capacity` certificates; beyond that the good
/// entry with the earliest thisUpdate goes first (revoked ones last).
/// Serializable, so that a TEE keeps it with its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcspCache {
    entries: Vec<OcspEntry>,
    #[serde(skip, default = "default_capacity")]
    capacity: usize,
}

/// Certificates remembered per scope by default.
pub const OCSP_CACHE_PER_SCOPE: usize = 16;

fn default_capacity() -> usize {
    OCSP_CACHE_PER_SCOPE
}

impl Default for OcspCache {
    fn default() -> Self {
        OcspCache::new(OCSP_CACHE_PER_SCOPE)
    }
}

/// One remembered status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct OcspEntry {
    /// Whose certificate (a tamid, or empty).
    scope: String,
    /// Hex SHA-256 of the certificate, then of its issuer.
    key: String,
    /// thisUpdate, Unix seconds.
    this_update: u64,
    /// nextUpdate, Unix seconds.
    next_update: Option<u64>,
    /// Revoked.
    revoked: bool,
}

impl OcspEntry {
    fn answer(&self) -> OcspAnswer {
        OcspAnswer {
            this_update: secs(self.this_update),
            next_update: self.next_update.map(secs),
            revoked: self.revoked,
        }
    }
}

fn secs(s: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(s))
}

impl OcspCache {
    /// A cache of at most `capacity` certificates per scope (0 disables
    /// caching).
    pub fn new(capacity: usize) -> Self {
        OcspCache {
            entries: Vec::new(),
            capacity,
        }
    }

    /// Sets the per-scope capacity (after deserializing, say).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(provider: &Provider, cert: &[u8], issuer: &[u8]) -> Result<String, PkiError> {
        let d = provider.digest(HashAlg::Sha256)?;
        let mut key = d.digest(cert);
        key.extend_from_slice(&d.digest(issuer));
        let mut out = String::with_capacity(key.len() * 2);
        for b in key {
            out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        Ok(out)
    }

    /// The status remembered for `cert` under `issuer`, if any.
    pub fn status(
        &self,
        provider: &Provider,
        cert: &[u8],
        issuer: &[u8],
    ) -> Result<Option<OcspAnswer>, PkiError> {
        let key = Self::key(provider, cert, issuer)?;
        Ok(self
            .entries
            .iter()
            .find(|e| e.key == key)
            .map(OcspEntry::answer))
    }

    /// Whether a good status for `cert` under `issuer` is remembered and
    /// still before its nextUpdate at `now`.
    pub fn is_good(
        &self,
        provider: &Provider,
        cert: &[u8],
        issuer: &[u8],
        now: UnixTime,
    ) -> Result<bool, PkiError> {
        Ok(self
            .status(provider, cert, issuer)?
            .is_some_and(|a| !a.revoked && a.next_update.is_some_and(|n| now < n)))
    }

    /// Records a verified good status (scope ""). Kept for callers of the
    /// good-only API; [`OcspCache::record`] takes any answer.
    pub fn insert(
        &mut self,
        provider: &Provider,
        cert: &[u8],
        issuer: &[u8],
        good: &OcspGood,
        _now: UnixTime,
    ) -> Result<(), PkiError> {
        let answer = OcspAnswer {
            this_update: good.this_update,
            next_update: good.next_update,
            revoked: false,
        };
        self.record(provider, "", cert, issuer, &answer).map(|_| ())
    }

    /// Merges a verified answer monotonically and returns the status now
    /// remembered: a revoked entry stays revoked and a revocation replaces
    /// a good entry; a good answer with an earlier thisUpdate than the
    /// entry's is ignored. With capacity 0 nothing is remembered and the
    /// answer itself is returned.
    pub fn record(
        &mut self,
        provider: &Provider,
        scope: &str,
        cert: &[u8],
        issuer: &[u8],
        answer: &OcspAnswer,
    ) -> Result<OcspAnswer, PkiError> {
        if self.capacity == 0 {
            return Ok(*answer);
        }
        let key = Self::key(provider, cert, issuer)?;
        let fresh = OcspEntry {
            scope: scope.into(),
            key: key.clone(),
            this_update: answer.this_update.as_secs(),
            next_update: answer.next_update.map(|n| n.as_secs()),
            revoked: answer.revoked,
        };
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == key) {
            let newer = fresh.revoked || fresh.this_update > e.this_update;
            if !e.revoked && newer {
                *e = fresh;
            }
            return Ok(e.answer());
        }
        let in_scope = self.entries.iter().filter(|e| e.scope == scope).count();
        if in_scope >= self.capacity {
            let victim = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.scope == scope)
                .min_by_key(|(_, e)| (e.revoked, e.this_update))
                .map(|(i, _)| i);
            if let Some(i) = victim {
                self.entries.remove(i);
            }
        }
        self.entries.push(fresh);
        Ok(*answer)
    }
}

/// Checks the revocation status of every certificate of a validated TAM
/// path (TAM certificate and intermediates; the root needs none) with the
/// stapled `ocspdat` responses (9.1.1), in any order, and the statuses
/// `cache` remembers ([`check_revocation_in`] with scope "", or with a
/// throw-away cache when `cache` is `None`).
pub fn check_revocation(
    provider: &Provider,
    chain: &ValidatedChain,
    ocspdat: &[&[u8]],
    now: UnixTime,
    policy: &OcspPolicy,
    cache: Option<&mut OcspCache>,
) -> Result<(), PkiError> {
    let mut scratch = OcspCache::new(0);
    let cache = cache.unwrap_or(&mut scratch);
    check_revocation_in(provider, chain, ocspdat, now, policy, cache, "")
}

/// Checks the revocation status of every certificate of a validated TAM
/// path with the stapled `ocspdat` (in any order) and the statuses `cache`
/// remembers under `scope`, and records what the responses say
/// (monotonically, see [`OcspCache`]). For each certificate the newest
/// verified response counts (a revoked one before any good one); merged with the memory, the status must be
/// good: fresh in a response of this request, or remembered and before its
/// nextUpdate (9.1.1: the array "may contain only the OCSP stapling data
/// for the TAM certificate in subsequent exchanges"). A revoked status,
/// stapled or remembered, is [`OcspError::Revoked`] even when a good (older)
/// response is stapled too.
///
/// A certificate without a usable response fails with the most telling
/// refusal among the responses offered ([`OcspError::Missing`] when none
/// matched it at all); every refusal is `ERR_TAM_NOT_TRUSTED`. The cache is
/// updated even when the check fails, so a caller that keeps it (a TEE)
/// keeps a revocation it learnt from a refused request.
pub fn check_revocation_in(
    provider: &Provider,
    chain: &ValidatedChain,
    ocspdat: &[&[u8]],
    now: UnixTime,
    policy: &OcspPolicy,
    cache: &mut OcspCache,
    scope: &str,
) -> Result<(), PkiError> {
    let mut outcome = Ok(());
    // Each response and each certificate is parsed once, not once per pair.
    let responses: Vec<Result<ParsedOcsp, OcspError>> =
        ocspdat.iter().map(|r| ParsedOcsp::parse(r)).collect();
    for (cert, issuer) in chain.issuer_pairs() {
        let mut best = OcspError::Missing;
        let mut newest: Option<OcspAnswer> = None;
        let pair = cert_and_issuer(cert, issuer);
        for response in &responses {
            let answer = match (&pair, response) {
                (Ok(pair), Ok(r)) => read_parsed(provider, pair, r, now, policy),
                (Err(e), _) | (_, Err(e)) => Err(*e),
            };
            match answer {
                Ok(a) => {
                    // A revocation, once seen, holds: it wins over any good
                    // answer; otherwise the newest answer counts.
                    let newer = newest
                        .is_none_or(|n| (a.revoked, a.this_update) > (n.revoked, n.this_update));
                    if newer {
                        newest = Some(a);
                    }
                }
                Err(e) => {
                    if rank(e) > rank(best) {
                        best = e;
                    }
                }
            }
        }
        let merged = match &newest {
            Some(a) => Some(cache.record(provider, scope, cert, issuer, a)?),
            None => cache.status(provider, cert, issuer)?,
        };
        let verdict = match merged {
            Some(m) if m.revoked => Err(PkiError::Ocsp(OcspError::Revoked)),
            // The stapled answer is the one that counts and it passed the
            // freshness checks of this request.
            Some(m) if newest == Some(m) => Ok(()),
            Some(m) if m.next_update.is_some_and(|n| now < n) => Ok(()),
            Some(_) if newest.is_some() => Err(PkiError::Ocsp(OcspError::Stale)),
            _ => Err(PkiError::Ocsp(best)),
        };
        if outcome.is_ok() {
            outcome = verdict;
        }
    }
    outcome
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
