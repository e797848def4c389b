//! Why a certificate, a chain or an OCSP response was refused, and the spec
//! error code (section 13.1) each refusal implies.

use crate::crypto::CryptoError;

/// Whose certificate is being validated (spec 4.4, Table 1). The role decides
/// the trust anchor store, the key-usage policy and the error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// TAM signer certificate (4.4 item 3), validated by a TEE against its TAM
    /// root CAs (4.2).
    Tam,
    /// TEE device certificate (4.4 item 2), validated by a TAM against its TEE
    /// root CAs (4.3).
    Tee,
    /// Trusted firmware certificate (4.4 item 1, 9.1.3), validated by a TAM
    /// against its firmware root CAs (4.3).
    Tfw,
    /// SP (TA signer) certificate, `spcert` (4.4 item 4, 9.2.1.2).
    Sp,
}

impl core::fmt::Display for Role {
    /// The role as users name it (`TAM`, `TEE`, `TFW`, `SP`), for messages.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Role::Tam => "TAM",
            Role::Tee => "TEE",
            Role::Tfw => "TFW",
            Role::Sp => "SP",
        })
    }
}

/// A refusal of one certificate or certificate path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// No certificate was given (an empty `x5c`, say).
    #[error("no certificate")]
    Missing,
    /// The certificate is not well-formed DER X.509 v3 (RFC 5280).
    #[error("malformed certificate")]
    Malformed,
    /// The validation time is after notAfter.
    #[error("certificate expired")]
    Expired,
    /// The validation time is before notBefore.
    #[error("certificate not yet valid")]
    NotYetValid,
    /// No path leads to a trust anchor (unknown root, or a missing
    /// intermediate: a truncated chain).
    #[error("certificate not issued by a trusted CA")]
    UnknownIssuer,
    /// A signature on the path does not verify (including a signature made
    /// with a key the provider refuses, such as RSA below 2048 bits).
    #[error("bad certificate signature")]
    BadSignature,
    /// The signature algorithm is not offered by the provider (SHA-1, for
    /// instance, is never offered).
    #[error("unsupported signature algorithm")]
    UnsupportedSignatureAlgorithm,
    /// The signature algorithm does not fit the issuer's key type.
    #[error("signature algorithm does not fit the issuer key")]
    SignatureAlgorithmKeyMismatch,
    /// The end-entity keyUsage lacks digitalSignature.
    #[error("key usage does not allow digital signatures")]
    WrongKeyUsage,
    /// extendedKeyUsage is present and contains no purpose the role accepts.
    #[error("extended key usage not accepted for this role")]
    WrongExtendedKeyUsage,
    /// An RSA key shorter than 2048 bits (spec 4.4 item 3).
    #[error("RSA key of {bits} bits is too short")]
    WeakKey {
        /// The modulus length found.
        bits: u32,
    },
    /// A key type or curve other than RSA, P-256 or P-384 (spec 4.4).
    #[error("unsupported public key type")]
    UnsupportedKey,
    /// A CA certificate was presented as the end entity.
    #[error("CA certificate used as end entity")]
    CaUsedAsEndEntity,
    /// An end-entity certificate was used as an issuer.
    #[error("end-entity certificate used as CA")]
    EndEntityUsedAsCa,
    /// A pathLenConstraint is exceeded.
    #[error("path length constraint violated")]
    PathLenConstraintViolated,
    /// A name constraint is violated.
    #[error("name constraint violated")]
    NameConstraintViolated,
    /// A critical extension is not understood.
    #[error("unsupported critical extension")]
    UnsupportedCriticalExtension,
    /// Path building exceeded its budget (too many candidates or too deep).
    #[error("certificate path too complex")]
    PathTooComplex,
    /// More certificates were offered than [`super::MAX_CHAIN_CERTS`]:
    /// refused before any of them is parsed.
    #[error("too many certificates offered")]
    TooManyCertificates,
    /// Two offered certificates are the same, or name the same subject: a
    /// path never needs both, and several candidates for one issuer name
    /// are what makes path building combinatorial.
    #[error("duplicate certificate or subject name offered")]
    DuplicateCertificate,
    /// Any other refusal by the path validator.
    #[error("certificate refused")]
    Other,
}

impl CertError {
    // The deprecated unit variants are still produced by some paths.
    #[allow(deprecated)]
    pub(crate) fn from_webpki(e: &webpki::Error) -> Self {
        use webpki::Error as E;
        match e {
            E::CertExpired { .. } => CertError::Expired,
            E::CertNotValidYet { .. } => CertError::NotYetValid,
            E::UnknownIssuer => CertError::UnknownIssuer,
            E::InvalidSignatureForPublicKey => CertError::BadSignature,
            E::UnsupportedSignatureAlgorithm | E::UnsupportedSignatureAlgorithmContext(_) => {
                CertError::UnsupportedSignatureAlgorithm
            }
            E::UnsupportedSignatureAlgorithmForPublicKey
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
            | E::SignatureAlgorithmMismatch => CertError::SignatureAlgorithmKeyMismatch,
            E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) => {
                CertError::WrongExtendedKeyUsage
            }
            E::CaUsedAsEndEntity => CertError::CaUsedAsEndEntity,
            E::EndEntityUsedAsCa => CertError::EndEntityUsedAsCa,
            E::PathLenConstraintViolated => CertError::PathLenConstraintViolated,
            E::NameConstraintViolation => CertError::NameConstraintViolated,
            E::UnsupportedCriticalExtension => CertError::UnsupportedCriticalExtension,
            E::MaximumPathBuildCallsExceeded
            | E::MaximumPathDepthExceeded
            | E::MaximumSignatureChecksExceeded
            | E::MaximumNameConstraintComparisonsExceeded => CertError::PathTooComplex,
            E::BadDer
            | E::BadDerTime
            | E::TrailingData(_)
            | E::UnsupportedCertVersion
            | E::MalformedExtensions
            | E::ExtensionValueInvalid
            | E::InvalidSerialNumber
            | E::InvalidCertValidity
            | E::EmptyEkuExtension => CertError::Malformed,
            _ => CertError::Other,
        }
    }
}

/// A refusal of OCSP stapling data (spec 9.1.1 `ocspdat`, 14.9; RFC 6960).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OcspError {
    /// No OCSP response was given for a certificate that needs one.
    #[error("no OCSP response for the certificate")]
    Missing,
    /// The response is not DER `OCSPResponse` / `BasicOCSPResponse`.
    #[error("malformed OCSP response")]
    Malformed,
    /// `responseStatus` is not successful (the value is RFC 6960's code).
    #[error("OCSP response status {0} is not successful")]
    NotSuccessful(u8),
    /// `responseType` is not id-pkix-ocsp-basic.
    #[error("OCSP response type is not basic")]
    NotBasic,
    /// The CertID uses a hash the provider does not offer (SHA-1 without a
    /// SHA-1 digest in the provider, or an unknown algorithm).
    #[error("unsupported CertID hash algorithm")]
    UnsupportedCertIdHash,
    /// No CertID names the certificate's issuer (name and key hashes).
    #[error("OCSP response is for another issuer")]
    IssuerMismatch,
    /// The CertID names the issuer but another serial number.
    #[error("OCSP response is for another serial number")]
    SerialMismatch,
    /// The signature algorithm is not offered by the provider or does not fit
    /// the signer's key.
    #[error("unsupported OCSP signature algorithm")]
    UnsupportedSignatureAlgorithm,
    /// Neither the issuing CA nor any certificate in the response verifies the
    /// signature, and the response names the CA as responder.
    #[error("bad OCSP response signature")]
    BadSignature,
    /// The response is signed by a responder whose certificate it does not
    /// carry.
    #[error("OCSP responder certificate missing")]
    ResponderCertificateMissing,
    /// The signer is neither the CA nor a responder the CA authorized
    /// (issued directly by it, with id-kp-OCSPSigning, currently valid).
    #[error("OCSP responder not authorized: {0}")]
    UnauthorizedResponder(CertError),
    /// thisUpdate is later than the validation time plus the allowed skew.
    #[error("OCSP response is not yet valid")]
    NotYetValid,
    /// nextUpdate is earlier than the validation time minus the allowed skew.
    #[error("OCSP response is stale")]
    Stale,
    /// The response has no nextUpdate (refused by default policy).
    #[error("OCSP response has no nextUpdate")]
    MissingNextUpdate,
    /// The certificate is revoked.
    #[error("certificate revoked")]
    Revoked,
    /// The responder does not know the certificate.
    #[error("certificate status unknown")]
    Unknown,
}

/// Any refusal of the PKI layer. [`PkiError::code`] gives the spec error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A certificate or path of `role` was refused.
    #[error("{role} certificate: {error}")]
    Certificate {
        /// Whose certificate.
        role: Role,
        /// Why.
        error: CertError,
    },
    /// The TAM chain's revocation status could not be established (14.9).
    #[error("OCSP: {0}")]
    Ocsp(OcspError),
    /// The TAM certificate carries no tamid (5.4): no subjectAltName with a
    /// URI or registeredID.
    #[error("TAM certificate has no tamid")]
    NoTamId,
    /// The TAM certificate carries more than one URI, so the tamid is ambiguous.
    #[error("TAM certificate has several tamid URIs")]
    AmbiguousTamId,
    /// The request's tamid is not the TAM certificate's (9.2.1.2).
    #[error("tamid does not match the TAM certificate")]
    TamIdMismatch,
    /// The request's did is not the hash of this TEE's certificate (9.2.1.2).
    #[error("did does not match this TEE's certificate")]
    DidMismatch,
    /// A certificate offered as a trust anchor is unusable (local
    /// configuration error).
    #[error("trust anchor refused: {0}")]
    TrustAnchor(CertError),
    /// The provider lacks an algorithm the PKI layer needs (SHA-256 for did).
    #[error("crypto: {0}")]
    Crypto(CryptoError),
}

impl From<CryptoError> for PkiError {
    fn from(e: CryptoError) -> Self {
        PkiError::Crypto(e)
    }
}

impl From<OcspError> for PkiError {
    fn from(e: OcspError) -> Self {
        PkiError::Ocsp(e)
    }
}

impl PkiError {
    /// The spec error code (13.1.1) this refusal implies. The one place the
    /// mapping lives:
    ///
    /// - a TAM certificate, its chain, its OCSP data or its tamid:
    ///   `ERR_TAM_NOT_TRUSTED` (9.1.2, 9.2.1.2, 14.9);
    /// - a TFW certificate: `ERR_TFW_NOT_TRUSTED` (9.1.3);
    /// - an `spcert`: `ERR_SPCERT_INVALID` (9.2.1.2);
    /// - a tamid claim that is not the signer's: `ERR_TAM_NOT_AUTHORIZED`;
    /// - a TEE certificate refused by a TAM (9.1.7) and a did mismatch:
    ///   `ERR_REQUEST_INVALID` (a TAM sends no code to a TEE; the value keeps
    ///   the mapping total);
    /// - an algorithm the provider lacks: `ERR_UNSUPPORTED_CRYPTO_ALG`;
    /// - a broken local trust store or provider: `ERR_TEE_FAIL`.
    pub fn code(&self) -> &'static str {
        match self {
            PkiError::Certificate { role, .. } => match role {
                Role::Tam => "ERR_TAM_NOT_TRUSTED",
                Role::Tfw => "ERR_TFW_NOT_TRUSTED",
                Role::Sp => "ERR_SPCERT_INVALID",
                Role::Tee => "ERR_REQUEST_INVALID",
            },
            PkiError::Ocsp(_) | PkiError::NoTamId | PkiError::AmbiguousTamId => {
                "ERR_TAM_NOT_TRUSTED"
            }
            PkiError::TamIdMismatch => "ERR_TAM_NOT_AUTHORIZED",
            PkiError::DidMismatch => "ERR_REQUEST_INVALID",
            PkiError::Crypto(CryptoError::Unsupported(_)) => "ERR_UNSUPPORTED_CRYPTO_ALG",
            PkiError::TrustAnchor(_) | PkiError::Crypto(_) => "ERR_TEE_FAIL",
        }
    }

    pub(crate) fn cert(role: Role, error: CertError) -> Self {
        PkiError::Certificate { role, error }
    }
}
