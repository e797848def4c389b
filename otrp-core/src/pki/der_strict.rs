//! Strict DER (X.690 10-11) for what the profile requires in DER:
//! certificates (RFC 5280 4.1) and OCSP responses (RFC 6960 4.2.1). The
//! parsers beneath (`x509-cert`, rustls-webpki) accept some BER, notably a
//! DEFAULT value encoded explicitly (`cA FALSE` in BasicConstraints), which
//! strict parsers such as pyca/cryptography refuse; so an object is DER here
//! only if it, and each extension value we know, re-encodes to the very same
//! bytes (issue 14).

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_EXT_KEY_USAGE, ID_CE_KEY_USAGE,
    ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_IDENTIFIER,
};
use const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_ocsp::{BasicOcspResponse, OcspResponse};

use super::{CertError, OcspError};

/// A [`der::Writer`] that compares what is written with the bytes left of
/// those it was made from instead of keeping it: a re-encoding check
/// allocates and copies nothing, and stops at the first difference.
struct Compare<'a>(&'a [u8]);

impl der::Writer for Compare<'_> {
    fn write(&mut self, slice: &[u8]) -> der::Result<()> {
        match self.0.split_at_checked(slice.len()) {
            Some((head, rest)) if head == slice => {
                self.0 = rest;
                Ok(())
            }
            _ => Err(der::ErrorKind::Failed.into()),
        }
    }
}

/// Whether `value` encodes to exactly `der`.
fn encodes_to<T: Encode>(value: &T, der: &[u8]) -> bool {
    let mut rest = Compare(der);
    value.encode(&mut rest).is_ok() && rest.0.is_empty()
}

/// Whether `T` decodes from `der` and encodes back to exactly `der`.
fn reencodes<T: for<'a> Decode<'a> + Encode>(der: &[u8]) -> bool {
    T::from_der(der).is_ok_and(|v| encodes_to(&v, der))
}

/// A check that bytes are the DER of one ASN.1 type.
type DerCheck = fn(&[u8]) -> bool;

/// An extension value we know, in DER (unknown extensions are opaque).
fn extension_is_der(ext: &Extension) -> bool {
    let v = ext.extn_value.as_bytes();
    let known: [(ObjectIdentifier, DerCheck); 6] = [
        (ID_CE_BASIC_CONSTRAINTS, reencodes::<BasicConstraints>),
        (ID_CE_KEY_USAGE, reencodes::<KeyUsage>),
        (ID_CE_EXT_KEY_USAGE, reencodes::<ExtendedKeyUsage>),
        (ID_CE_SUBJECT_ALT_NAME, reencodes::<SubjectAltName>),
        (
            ID_CE_AUTHORITY_KEY_IDENTIFIER,
            reencodes::<AuthorityKeyIdentifier>,
        ),
        (
            ID_CE_SUBJECT_KEY_IDENTIFIER,
            reencodes::<SubjectKeyIdentifier>,
        ),
    ];
    known
        .iter()
        .find(|(oid, _)| *oid == ext.extn_id)
        .is_none_or(|(_, check)| check(v))
}

/// Whether `cert`, parsed from `der`, is DER down to its known extensions.
fn parsed_certificate_is_der(cert: &Certificate, der: &[u8]) -> bool {
    encodes_to(cert, der) && extensions_are_der(cert)
}

/// Whether every extension value of `cert` that we know is DER.
fn extensions_are_der(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .all(extension_is_der)
}

/// Refuses a certificate that is not DER, down to its known extensions
/// ([`CertError::Malformed`]).
pub fn check_certificate_der(der: &[u8]) -> Result<(), CertError> {
    let cert = Certificate::from_der(der).map_err(|_| CertError::Malformed)?;
    check_parsed_certificate_der(&cert, der)
}

/// [`check_certificate_der`] of a certificate already parsed from `der`.
pub(crate) fn check_parsed_certificate_der(
    cert: &Certificate,
    der: &[u8],
) -> Result<(), CertError> {
    if parsed_certificate_is_der(cert, der) {
        Ok(())
    } else {
        Err(CertError::Malformed)
    }
}

/// Refuses an OCSP response that is not DER: the `OCSPResponse`, its
/// `BasicOCSPResponse` and every certificate it carries
/// ([`OcspError::Malformed`]).
pub fn check_ocsp_response_der(der: &[u8]) -> Result<(), OcspError> {
    parse_ocsp_response_der(der).map(drop)
}

/// [`check_ocsp_response_der`] that keeps what it parsed: the response and,
/// when it is a basic one, the `BasicOCSPResponse`.
pub(crate) fn parse_ocsp_response_der(
    der: &[u8],
) -> Result<(OcspResponse, Option<BasicOcspResponse>), OcspError> {
    let ok = (|| {
        let response = OcspResponse::from_der(der).ok()?;
        if !encodes_to(&response, der) {
            return None;
        }
        let basic = match &response.response_bytes {
            Some(bytes) if bytes.response_type == ID_PKIX_OCSP_BASIC => {
                let basic_der = bytes.response.as_bytes();
                let basic = BasicOcspResponse::from_der(basic_der).ok()?;
                if !encodes_to(&basic, basic_der) {
                    return None;
                }
                // The basic response re-encodes identically, so each
                // certificate's encoding is the one carried; its extensions
                // are checked here.
                if !basic.certs.iter().flatten().all(extensions_are_der) {
                    return None;
                }
                Some(basic)
            }
            _ => None,
        };
        Some((response, basic))
    })();
    ok.ok_or(OcspError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BasicConstraints `SEQUENCE { BOOLEAN FALSE }`: BER, not DER.
    const EXPLICIT_CA_FALSE: [u8; 5] = [0x30, 0x03, 0x01, 0x01, 0x00];
    /// BasicConstraints `SEQUENCE {}`: the DER of cA FALSE.
    const DEFAULT_CA_FALSE: [u8; 2] = [0x30, 0x00];

    #[test]
    fn an_explicit_default_is_refused() {
        assert!(!reencodes::<BasicConstraints>(&EXPLICIT_CA_FALSE));
        assert!(reencodes::<BasicConstraints>(&DEFAULT_CA_FALSE));
        // cA TRUE is not a default.
        assert!(reencodes::<BasicConstraints>(&[
            0x30, 0x03, 0x01, 0x01, 0xff
        ]));
    }

    #[test]
    fn garbage_is_not_der() {
        assert!(check_certificate_der(b"").is_err());
        assert!(check_certificate_der(&[0x30, 0x00]).is_err());
        assert!(check_ocsp_response_der(&[0x30, 0x80, 0x00, 0x00]).is_err());
    }
}
