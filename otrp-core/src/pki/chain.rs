//! Certificate path validation (spec 4.2, 4.3, 9.1.2, 9.1.7, 9.2.1.2) with
//! rustls-webpki over the provider's `webpki_algorithms`.

use alloc::vec::Vec;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::ID_KP_CODE_SIGNING;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};

use super::{CertError, Did, PkiError, Role, TamId, cert, tamid_from_certificate};
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

/// Validates `end_entity` with `intermediates` against `anchors` at `now`
/// under `policy`, for `role`. Signatures are checked with
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
    let fail = |e| PkiError::cert(role, e);
    if end_entity.is_empty() {
        return Err(fail(CertError::Missing));
    }
    let ee_der = CertificateDer::from(end_entity);
    let ee =
        webpki::EndEntityCert::try_from(&ee_der).map_err(|e| fail(CertError::from_webpki(&e)))?;
    // Weak or exotic keys among the offered intermediates are named as such
    // rather than surfacing as a bad signature further down.
    for der in intermediates {
        let parsed = cert::parse(der).map_err(fail)?;
        cert::check_key(&parsed.tbs_certificate.subject_public_key_info).map_err(fail)?;
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

    let parsed = cert::parse(end_entity).map_err(fail)?;
    cert::check_key(&parsed.tbs_certificate.subject_public_key_info).map_err(fail)?;
    cert::check_digital_signature(&parsed).map_err(fail)?;

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
    let chain = validate_chain(
        provider,
        Role::Tam,
        &CertPolicy::for_role(Role::Tam),
        anchors,
        leaf,
        rest,
        now,
    )?;
    let tamid = tamid_from_certificate(leaf)?;
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
    let chain = validate_chain(
        provider,
        Role::Tee,
        &CertPolicy::for_role(Role::Tee),
        anchors,
        tee_cert,
        cacert,
        now,
    )?;
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
/// at `now`; a TEE without SP roots can only check the format, since the
/// issuer is unknown to it. Refusals are [`Role::Sp`]
/// (`ERR_SPCERT_INVALID`).
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
