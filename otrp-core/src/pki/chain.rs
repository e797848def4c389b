//! Certificate path validation (spec 4.2, 4.3, 9.1.2, 9.1.7, 9.2.1.2) with
//! rustls-webpki over the provider's `webpki_algorithms`.

use alloc::vec::Vec;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::ID_KP_CODE_SIGNING;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};

use x509_cert::Certificate;

use super::{CertError, Did, PkiError, Role, TamId, cert};
use crate::crypto::Provider;

/// A set of trusted root CAs for one role (the TEE's TAM roots of 4.2, the
/// TAM's TEE and firmware roots of 4.3, or SP roots).
///
/// Built from root certificates, each of which must parse and carry an
/// acceptable key (RSA of at least 2048 bits, P-256 or P-384).
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    certs: Vec<CertificateDer<'static>>,
}

impl TrustAnchors {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store of the given DER root certificates.
    pub fn from_certificates<'a>(
        roots: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, PkiError> {
        let mut store = Self::new();
        for root in roots {
            store.add(root)?;
        }
        Ok(store)
    }

    /// Adds one DER root certificate. Refused ([`PkiError::TrustAnchor`]) when
    /// it does not parse or its key is weak or of an unsupported type.
    pub fn add(&mut self, der: &[u8]) -> Result<(), PkiError> {
        let parsed = cert::parse(der).map_err(PkiError::TrustAnchor)?;
        cert::check_key(&parsed.tbs_certificate.subject_public_key_info)
            .map_err(PkiError::TrustAnchor)?;
        let owned = CertificateDer::from(der.to_vec());
        let anchor = webpki::anchor_from_trusted_cert(&owned)
            .map_err(|e| PkiError::TrustAnchor(CertError::from_webpki(&e)))?
            .to_owned();
        self.anchors.push(anchor);
        self.certs.push(owned);
        Ok(())
    }

    /// The number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The DER certificate an anchor was built from.
    fn cert_of(&self, anchor: &TrustAnchor<'_>) -> Option<&CertificateDer<'static>> {
        self.anchors
            .iter()
            .position(|a| core::ptr::eq(a, anchor) || a == anchor)
            .and_then(|i| self.certs.get(i))
    }
}

/// The end-entity policy of one role (documented in `docs/pki.md`).
///
/// Beyond RFC 5280 path validation, the end-entity certificate must:
/// carry an RSA key of at least 2048 bits or a P-256/P-384 key (4.4); have a
/// keyUsage with digitalSignature when keyUsage is present (every role signs:
/// OTrP messages, TFW data or TAs); and, when extendedKeyUsage is present,
/// list anyExtendedKeyUsage or one of [`CertPolicy::accepted_ekus`].
#[derive(Clone, Copy, Debug)]
pub struct CertPolicy {
    /// Extended key purposes accepted when the extension is present (also
    /// applied to intermediates, as rustls-webpki does).
    pub accepted_ekus: &'static [ObjectIdentifier],
}

impl CertPolicy {
    /// The default policy of `role`: extendedKeyUsage optional; when present
    /// it must contain id-kp-codeSigning (or anyExtendedKeyUsage). OTrP
    /// defines no key purpose of its own; code signing is the purpose of a
    /// certificate that signs commands, firmware data or TA binaries.
    pub const fn for_role(role: Role) -> Self {
        match role {
            Role::Tam | Role::Tee | Role::Tfw | Role::Sp => CertPolicy {
                accepted_ekus: &[ID_KP_CODE_SIGNING],
            },
        }
    }
}

/// A certificate path that validated: the end entity first, then the
/// intermediates up to (not including) the trust anchor.
#[derive(Clone, Debug)]
pub struct ValidatedChain {
    role: Role,
    certs: Vec<CertificateDer<'static>>,
    anchor: CertificateDer<'static>,
}

impl ValidatedChain {
    /// The role validated for.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The end-entity certificate (DER).
    pub fn end_entity(&self) -> &[u8] {
        self.certs.first().map_or(&[][..], |c| c.as_ref())
    }

    /// End entity then intermediates (DER), without the anchor.
    pub fn certificates(&self) -> impl Iterator<Item = &[u8]> {
        self.certs.iter().map(|c| c.as_ref())
    }

    /// The root certificate the path ends at (DER).
    pub fn anchor(&self) -> &[u8] {
        self.anchor.as_ref()
    }

    /// Each certificate of the path with its issuer (the next certificate,
    /// or the anchor): the pairs whose revocation status OCSP answers.
    pub fn issuer_pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.certs.iter().enumerate().map(|(i, c)| {
            let issuer = self.certs.get(i + 1).unwrap_or(&self.anchor);
            (c.as_ref(), issuer.as_ref())
        })
    }
}

/// The most certificates an offered chain may hold (`x5c` with the signer
/// first, or a TEE certificate with its `cacert`): OTrP hierarchies are two
/// or three deep, and every certificate beyond the first is only a
/// candidate for path building, which costs work before anything is
/// authenticated (issue 18: an unsigned request with 600 offered
/// certificates cost seconds). The TEE refuses a longer `x5c` as malformed
/// before parsing any of it.
pub const MAX_CHAIN_CERTS: usize = 8;

/// Bounds an offered chain (signer or device certificate first) before any
/// path building: at most [`MAX_CHAIN_CERTS`] certificates, each parsing as
/// DER X.509, no two equal and no two with the same subject name. With
/// distinct subjects every issuer name has at most one candidate, so path
/// building is linear in the chain's length. The count is checked before
/// anything is parsed.
pub fn check_offered_chain(certs: &[&[u8]]) -> Result<(), CertError> {
    ParsedChain::parse(certs).map(drop)
}

/// An offered chain (signer or device certificate first) that passed
/// [`check_offered_chain`], each certificate parsed once: validation, the
/// signer's key and its tamid read the parsed form instead of parsing the
/// same bytes again.
pub(crate) struct ParsedChain(Vec<Certificate>);

impl ParsedChain {
    /// Checks and parses `certs` (see [`check_offered_chain`]).
    pub(crate) fn parse(certs: &[&[u8]]) -> Result<Self, CertError> {
        if certs.len() > MAX_CHAIN_CERTS {
            return Err(CertError::TooManyCertificates);
        }
        let mut parsed: Vec<Certificate> = Vec::with_capacity(certs.len());
        for der in certs {
            let cert = cert::parse(der)?;
            let subject = &cert.tbs_certificate.subject;
            if parsed.iter().any(|c| c.tbs_certificate.subject == *subject) {
                return Err(CertError::DuplicateCertificate);
            }
            parsed.push(cert);
        }
        Ok(ParsedChain(parsed))
    }

    /// The first certificate (the signer's or the device's), parsed.
    pub(crate) fn leaf(&self) -> Option<&Certificate> {
        self.0.first()
    }

    /// The DER SubjectPublicKeyInfo of the first certificate (see
    /// [`super::spki_of_certificate`]).
    pub(crate) fn leaf_spki(&self) -> Result<Vec<u8>, CertError> {
        cert::spki_der(self.leaf().ok_or(CertError::Missing)?)
    }
}

/// Validates `end_entity` with `intermediates` against `anchors` at `now`
/// under `policy`, for `role`. The offered certificates are first bounded
/// by [`check_offered_chain`]. Signatures are checked with
/// `provider.webpki_algorithms` only, so an algorithm it lacks (SHA-1) is
/// [`CertError::UnsupportedSignatureAlgorithm`].
pub fn validate_chain(
    provider: &Provider,
    role: Role,
    policy: &CertPolicy,
    anchors: &TrustAnchors,
    end_entity: &[u8],
    intermediates: &[&[u8]],
    now: UnixTime,
) -> Result<ValidatedChain, PkiError> {
    let (offered, parsed) = parse_offered(role, end_entity, intermediates)?;
    validate_offered(provider, role, policy, anchors, &offered, &parsed, now)
}

/// The chain `end_entity` then `intermediates`, bounded and parsed (see
/// [`check_offered_chain`]).
fn parse_offered<'a>(
    role: Role,
    end_entity: &'a [u8],
    intermediates: &[&'a [u8]],
) -> Result<(Vec<&'a [u8]>, ParsedChain), PkiError> {
    let fail = |e| PkiError::cert(role, e);
    if end_entity.is_empty() {
        return Err(fail(CertError::Missing));
    }
    if intermediates.len() >= MAX_CHAIN_CERTS {
        return Err(fail(CertError::TooManyCertificates));
    }
    let offered: Vec<&[u8]> = core::iter::once(end_entity)
        .chain(intermediates.iter().copied())
        .collect();
    let parsed = ParsedChain::parse(&offered).map_err(fail)?;
    Ok((offered, parsed))
}

/// [`validate_chain`] of the chain `offered` (end entity first), already
/// bounded and parsed as `parsed`.
pub(crate) fn validate_offered(
    provider: &Provider,
    role: Role,
    policy: &CertPolicy,
    anchors: &TrustAnchors,
    offered: &[&[u8]],
    parsed: &ParsedChain,
    now: UnixTime,
) -> Result<ValidatedChain, PkiError> {
    let fail = |e| PkiError::cert(role, e);
    if offered.len() != parsed.0.len() {
        return Err(fail(CertError::Missing));
    }
    // The profile requires DER (RFC 5280 4.1); BER is refused.
    for (der, cert) in offered.iter().zip(&parsed.0) {
        super::der_strict::check_parsed_certificate_der(cert, der).map_err(fail)?;
    }
    verify_path(provider, role, policy, anchors, offered, now, Some(parsed))
}

/// Builds and verifies the path of `offered` (end entity first) with
/// webpki at `now`. With `parsed`, the checks that read the parsed
/// certificates run too: the intermediates' keys before the path (a weak
/// key is named as such rather than surfacing as a bad signature), the
/// end entity's key and key usage after it. Without, they passed when the
/// chain was cached (see [`validate_cached_tam_chain`]).
fn verify_path(
    provider: &Provider,
    role: Role,
    policy: &CertPolicy,
    anchors: &TrustAnchors,
    offered: &[&[u8]],
    now: UnixTime,
    parsed: Option<&ParsedChain>,
) -> Result<ValidatedChain, PkiError> {
    let fail = |e| PkiError::cert(role, e);
    let Some((&end_entity, intermediates)) = offered.split_first() else {
        return Err(fail(CertError::Missing));
    };
    if end_entity.is_empty() {
        return Err(fail(CertError::Missing));
    }
    let ee_der = CertificateDer::from(end_entity);
    let ee =
        webpki::EndEntityCert::try_from(&ee_der).map_err(|e| fail(CertError::from_webpki(&e)))?;
    if let Some(parsed) = parsed {
        for cert in parsed.0.iter().skip(1) {
            cert::check_key(&cert.tbs_certificate.subject_public_key_info).map_err(fail)?;
        }
    }
    let inter: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|d| CertificateDer::from(*d))
        .collect();
    let eku = cert::EkuPolicy {
        accepted: policy.accepted_ekus,
        required: false,
    };
    let path = ee
        .verify_for_usage(
            provider.webpki_algorithms,
            &anchors.anchors,
            &inter,
            now,
            eku,
            None,
            None,
        )
        .map_err(|e| fail(CertError::from_webpki(&e)))?;

    if let Some(parsed) = parsed {
        let leaf = parsed.leaf().ok_or(fail(CertError::Missing))?;
        cert::check_key(&leaf.tbs_certificate.subject_public_key_info).map_err(fail)?;
        cert::check_digital_signature(leaf).map_err(fail)?;
    }

    let mut certs = Vec::with_capacity(1 + intermediates.len());
    certs.push(CertificateDer::from(end_entity.to_vec()));
    for c in path.intermediate_certificates() {
        certs.push(CertificateDer::from(c.der().as_ref().to_vec()));
    }
    let anchor = anchors
        .cert_of(path.anchor())
        .cloned()
        .ok_or(fail(CertError::UnknownIssuer))?;
    Ok(ValidatedChain {
        role,
        certs,
        anchor,
    })
}

/// The DER SubjectPublicKeyInfo of the first certificate of a TAM chain
/// read back from the TEE's sealed signer cache, after the offered-chain
/// bound of [`check_offered_chain`]: a state written before the bound may
/// hold a chain that fails it. Subjects are compared as DER, which the
/// chain was when it was cached; nothing else of it is decoded.
pub(crate) fn cached_chain_leaf_spki<'a>(certs: &[&'a [u8]]) -> Result<&'a [u8], CertError> {
    if certs.len() > MAX_CHAIN_CERTS {
        return Err(CertError::TooManyCertificates);
    }
    let mut subjects: [&[u8]; MAX_CHAIN_CERTS] = [&[]; MAX_CHAIN_CERTS];
    let mut leaf_spki = None;
    for (seen, der) in certs.iter().enumerate() {
        let spans = cert::CertSpans::of(der)?;
        if subjects.iter().take(seen).any(|s| *s == spans.subject) {
            return Err(CertError::DuplicateCertificate);
        }
        if let Some(slot) = subjects.get_mut(seen) {
            *slot = spans.subject;
        }
        leaf_spki.get_or_insert(spans.spki);
    }
    leaf_spki.ok_or(CertError::Missing)
}

/// Validates a TAM chain read back from the TEE's sealed signer cache at
/// `now`. When it was cached it passed [`validate_tam_chain`], and with it
/// every check that depends on its bytes alone (strict DER, key strength,
/// key usage, the tamid); what depends on the time and the trust anchors
/// (validity periods, the path to a current anchor, its signatures) is
/// verified again. Bound it first with [`cached_chain_leaf_spki`].
pub(crate) fn validate_cached_tam_chain(
    provider: &Provider,
    anchors: &TrustAnchors,
    x5c: &[&[u8]],
    now: UnixTime,
) -> Result<ValidatedChain, PkiError> {
    verify_path(
        provider,
        Role::Tam,
        &CertPolicy::for_role(Role::Tam),
        anchors,
        x5c,
        now,
        None,
    )
}

/// A TAM certificate chain that validated, with its tamid (5.4).
#[derive(Clone, Debug)]
pub struct TamCertificate {
    /// The validated path (TAM certificate first).
    pub chain: ValidatedChain,
    /// The TAM's identifier from its certificate.
    pub tamid: TamId,
}

/// Validates a TAM's `x5c` (TAM certificate first, then CA certificates,
/// possibly up to and including the root; spec 9.1.1) against the TEE's TAM
/// trust anchors (4.2) at `now`, and extracts the tamid. Revocation is
/// checked separately with [`super::check_revocation`].
pub fn validate_tam_chain(
    provider: &Provider,
    anchors: &TrustAnchors,
    x5c: &[&[u8]],
    now: UnixTime,
) -> Result<TamCertificate, PkiError> {
    let (leaf, rest) = x5c
        .split_first()
        .ok_or(PkiError::cert(Role::Tam, CertError::Missing))?;
    let (offered, parsed) = parse_offered(Role::Tam, leaf, rest)?;
    validate_offered_tam_chain(provider, anchors, &offered, &parsed, now)
}

/// [`validate_tam_chain`] of an `x5c` already bounded and parsed as
/// `parsed`.
pub(crate) fn validate_offered_tam_chain(
    provider: &Provider,
    anchors: &TrustAnchors,
    x5c: &[&[u8]],
    parsed: &ParsedChain,
    now: UnixTime,
) -> Result<TamCertificate, PkiError> {
    let chain = validate_offered(
        provider,
        Role::Tam,
        &CertPolicy::for_role(Role::Tam),
        anchors,
        x5c,
        parsed,
        now,
    )?;
    let leaf = parsed
        .leaf()
        .ok_or(PkiError::cert(Role::Tam, CertError::Missing))?;
    let tamid = super::id::tamid_of(leaf)?;
    Ok(TamCertificate { chain, tamid })
}

/// A TEE certificate that validated, with its device id (9.2.1.1).
#[derive(Clone, Debug)]
pub struct TeeCertificate {
    /// The validated path (TEE certificate first).
    pub chain: ValidatedChain,
    /// SHA-256 of the TEE certificate.
    pub did: Did,
}

/// Validates a TEE certificate with its `cacert` chain against the TAM's TEE
/// trust anchors (4.3, 9.1.7) at `now`, and computes its did.
pub fn validate_tee_chain(
    provider: &Provider,
    anchors: &TrustAnchors,
    tee_cert: &[u8],
    cacert: &[&[u8]],
    now: UnixTime,
) -> Result<TeeCertificate, PkiError> {
    let (offered, parsed) = parse_offered(Role::Tee, tee_cert, cacert)?;
    validate_offered_tee_chain(provider, anchors, &offered, &parsed, now)
}

/// [`validate_tee_chain`] of the chain `offered` (TEE certificate first),
/// already bounded and parsed as `parsed`.
pub(crate) fn validate_offered_tee_chain(
    provider: &Provider,
    anchors: &TrustAnchors,
    offered: &[&[u8]],
    parsed: &ParsedChain,
    now: UnixTime,
) -> Result<TeeCertificate, PkiError> {
    let chain = validate_offered(
        provider,
        Role::Tee,
        &CertPolicy::for_role(Role::Tee),
        anchors,
        offered,
        parsed,
        now,
    )?;
    let tee_cert = offered
        .first()
        .ok_or(PkiError::cert(Role::Tee, CertError::Missing))?;
    let did = Did::of_certificate(provider, tee_cert)?;
    Ok(TeeCertificate { chain, did })
}

/// Validates a TFW certificate (`TfwData.cert`, 9.1.3) against the TAM's
/// firmware trust anchors (4.3) at `now`. The TFW certificate is sent alone,
/// so it must be issued directly by a trusted firmware root.
pub fn validate_tfw_certificate(
    provider: &Provider,
    anchors: &TrustAnchors,
    tfw_cert: &[u8],
    now: UnixTime,
) -> Result<ValidatedChain, PkiError> {
    validate_chain(
        provider,
        Role::Tfw,
        &CertPolicy::for_role(Role::Tfw),
        anchors,
        tfw_cert,
        &[],
        now,
    )
}

/// The `spcert` check of 9.2.1.2: "a valid certificate (signature and format
/// verification only)".
///
/// Format: the certificate must parse as DER X.509 v3, carry an acceptable
/// key (RSA >= 2048, P-256, P-384) and, when keyUsage is present, allow
/// digitalSignature (the SP signs TAs). Signature: when `anchors` holds SP
/// roots, the certificate (with `intermediates`) must chain to one of them
/// at `now`. A TEE without SP roots does not know the issuer; it checks
/// the validity period at `now` and the certificate's own signature as far
/// as that is possible without the issuer: a self-issued certificate must
/// verify with its own key, any other must use a signature algorithm the
/// provider offers. Refusals are [`Role::Sp`] (`ERR_SPCERT_INVALID`).
pub fn check_sp_certificate(
    provider: &Provider,
    anchors: &TrustAnchors,
    spcert: &[u8],
    intermediates: &[&[u8]],
    now: UnixTime,
) -> Result<(), PkiError> {
    let fail = |e| PkiError::cert(Role::Sp, e);
    if anchors.is_empty() {
        let ee_der = CertificateDer::from(spcert);
        webpki::EndEntityCert::try_from(&ee_der).map_err(|e| fail(CertError::from_webpki(&e)))?;
        let parsed = cert::parse(spcert).map_err(fail)?;
        cert::check_key(&parsed.tbs_certificate.subject_public_key_info).map_err(fail)?;
        cert::check_digital_signature(&parsed).map_err(fail)?;
        cert::check_validity(&parsed, now).map_err(fail)?;
        cert::check_own_signature(provider.webpki_algorithms, spcert, &parsed).map_err(fail)?;
        return Ok(());
    }
    validate_chain(
        provider,
        Role::Sp,
        &CertPolicy::for_role(Role::Sp),
        anchors,
        spcert,
        intermediates,
        now,
    )
    .map(|_| ())
}
