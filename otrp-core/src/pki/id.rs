//! The identifiers OTrP derives from certificates: a TEE's `did` (9.2.1.1)
//! and a TAM's `tamid` (5.4).

use alloc::string::{String, ToString};
use core::fmt;

use const_oid::db::rfc5912::ID_CE_SUBJECT_ALT_NAME;
use der::Decode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use super::{CertError, PkiError, Role, cert};
use crate::crypto::{HashAlg, Provider};

/// A device id: "the SHA256 hash of the binary-encoded device TEE
/// certificate" (spec 9.2.1.1 `did`, 9.2.1.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Did([u8; 32]);

impl Did {
    /// SHA-256 over the DER TEE certificate, through the provider's digest.
    pub fn of_certificate(provider: &Provider, tee_cert_der: &[u8]) -> Result<Self, PkiError> {
        let digest = provider.digest(HashAlg::Sha256)?.digest(tee_cert_der);
        Self::from_slice(&digest).ok_or(PkiError::Crypto(crate::crypto::CryptoError::Backend))
    }

    /// A did from its 32 bytes (as decoded from a message); `None` for any
    /// other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Did)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The TEE side of 9.2.1.2: "Check did is the SHA256 hash of its TEEcert".
    /// A mismatch is [`PkiError::DidMismatch`].
    pub fn check(&self, provider: &Provider, own_tee_cert_der: &[u8]) -> Result<(), PkiError> {
        if Self::of_certificate(provider, own_tee_cert_der)? == *self {
            Ok(())
        } else {
            Err(PkiError::DidMismatch)
        }
    }
}

impl fmt::Debug for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Did(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// A TAM identifier (spec 5.4, 9.2.1.1 `tamid`): the attribute of the TAM
/// certificate that stays the same across renewals (14.15) and that the TEE
/// assigns as owner of the SDs it creates for the TAM.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TamId {
    /// A subjectAltName uniformResourceIdentifier, typically the TAM's
    /// service URL (5.4: "One common choice ... is the TAM's service URL").
    Uri(String),
    /// A subjectAltName registeredID in dotted-decimal form (5.4:
    /// "SubjectAltName:registeredID").
    RegisteredId(String),
}

impl TamId {
    /// The value as carried in the `tamid` field of a request.
    pub fn as_str(&self) -> &str {
        match self {
            TamId::Uri(s) | TamId::RegisteredId(s) => s,
        }
    }

    /// 9.2.1.2: "Check that the tamid in the request matches the TAM
    /// certificate's TAM ID attribute". Exact string comparison; a mismatch
    /// is [`PkiError::TamIdMismatch`] (`ERR_TAM_NOT_AUTHORIZED`).
    pub fn check_claim(&self, claimed: &str) -> Result<(), PkiError> {
        if self.as_str() == claimed {
            Ok(())
        } else {
            Err(PkiError::TamIdMismatch)
        }
    }
}

impl fmt::Display for TamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tamid of a DER TAM certificate (spec 5.4).
///
/// Rule: the subjectAltName uniformResourceIdentifier when there is exactly
/// one; when there is none, the first registeredID in dotted form (e.g.
/// `1.3.6.1.4.1.99999.1.2`). Several URIs are [`PkiError::AmbiguousTamId`];
/// neither URI nor registeredID (or no subjectAltName) is
/// [`PkiError::NoTamId`]. The certificate is only parsed here: validate its
/// chain first (the issuing CA vouches for the value, 9.2.1.1).
pub fn tamid_from_certificate(der: &[u8]) -> Result<TamId, PkiError> {
    let parsed = cert::parse(der).map_err(|e| PkiError::cert(Role::Tam, e))?;
    tamid_of(&parsed)
}

/// [`tamid_from_certificate`] of a parsed certificate.
pub(crate) fn tamid_of(parsed: &x509_cert::Certificate) -> Result<TamId, PkiError> {
    let exts = parsed
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    let mut uri: Option<String> = None;
    let mut rid: Option<String> = None;
    for ext in exts.iter().filter(|e| e.extn_id == ID_CE_SUBJECT_ALT_NAME) {
        let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
            .map_err(|_| PkiError::cert(Role::Tam, CertError::Malformed))?;
        for name in san.0 {
            match name {
                GeneralName::UniformResourceIdentifier(u) => {
                    if uri.is_some() {
                        return Err(PkiError::AmbiguousTamId);
                    }
                    uri = Some(u.as_str().to_string());
                }
                GeneralName::RegisteredId(oid) if rid.is_none() => {
                    rid = Some(oid.to_string());
                }
                _ => {}
            }
        }
    }
    match (uri, rid) {
        (Some(u), _) => Ok(TamId::Uri(u)),
        (None, Some(r)) => Ok(TamId::RegisteredId(r)),
        (None, None) => Err(PkiError::NoTamId),
    }
}
