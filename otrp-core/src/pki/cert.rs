//! Certificate inspection without cryptography: parsing, key strength, key
//! usage, and signature checks delegated to the provider's
//! `webpki_algorithms`.

use alloc::vec::Vec;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ANY_EXTENDED_KEY_USAGE, ID_CE_KEY_USAGE, ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1,
    SECP_384_R_1,
};
use der::asn1::{AnyRef, UintRef};
use der::{Decode, Encode, Reader, SliceReader, Tag};
use rustls_pki_types::{SignatureVerificationAlgorithm, UnixTime};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::ext::pkix::KeyUsage;

use super::CertError;
use crate::crypto::{CryptoError, Curve, EcPublicKey, PublicKey, RsaPublicKey};

/// The smallest RSA modulus accepted for any key, in bits (spec 4.4 item 3).
pub const MIN_RSA_BITS: u32 = 2048;

/// Parses a DER X.509 certificate.
pub(crate) fn parse(der: &[u8]) -> Result<Certificate, CertError> {
    Certificate::from_der(der).map_err(|_| CertError::Malformed)
}

/// The DER SubjectPublicKeyInfo of a DER certificate, for
/// `KeyLoader::public_key_from_spki_der`: a TEE encrypts its responses to
/// the TAM key of the validated `x5c` leaf (spec 9.1.4, 9.2.1.2 step 3), and
/// verifies TA signatures with an SP certificate's key (9.3.1). The
/// certificate is only parsed here; validate it first.
pub fn spki_of_certificate(der: &[u8]) -> Result<Vec<u8>, CertError> {
    spki_der(&parse(der)?)
}

/// The spans of a DER certificate that the checks of an already validated
/// chain read (RFC 5280 4.1), each with its tag and length, sliced from
/// `der`: a cached chain's bound, and OCSP's CertID and signer. The fields
/// between them are stepped over, not decoded, and the extensions are not
/// read: this is no check of the certificate, which must have validated
/// before.
pub(crate) struct CertSpans<'a> {
    /// The `serialNumber` INTEGER.
    pub(crate) serial: &'a [u8],
    /// The `issuer` Name.
    pub(crate) issuer: &'a [u8],
    /// The `subject` Name.
    pub(crate) subject: &'a [u8],
    /// The `subjectPublicKeyInfo`.
    pub(crate) spki: &'a [u8],
}

impl<'a> CertSpans<'a> {
    /// The spans of `der` (see [`CertSpans`]).
    pub(crate) fn of(der: &'a [u8]) -> Result<Self, CertError> {
        let spans = Self::walk(der).map_err(|_| CertError::Malformed)?;
        let sequence = u8::from(Tag::Sequence);
        let tags_ok = spans.serial.first() == Some(&u8::from(Tag::Integer))
            && [spans.issuer, spans.subject, spans.spki]
                .iter()
                .all(|span| span.first() == Some(&sequence));
        if !tags_ok {
            return Err(CertError::Malformed);
        }
        Ok(spans)
    }

    fn walk(der: &'a [u8]) -> der::Result<Self> {
        let certificate = sequence_content(der)?;
        let tbs = sequence_content(SliceReader::new(certificate)?.tlv_bytes()?)?;
        let mut fields = SliceReader::new(tbs)?;
        if fields.peek_tag()? == VERSION_TAG {
            fields.tlv_bytes()?;
        }
        let serial = fields.tlv_bytes()?;
        let _signature = fields.tlv_bytes()?;
        let issuer = fields.tlv_bytes()?;
        let _validity = fields.tlv_bytes()?;
        let subject = fields.tlv_bytes()?;
        let spki = fields.tlv_bytes()?;
        Ok(Self {
            serial,
            issuer,
            subject,
            spki,
        })
    }

    /// The content octets of `serialNumber`, as a CertID carries them.
    pub(crate) fn serial_content(&self) -> Result<&'a [u8], CertError> {
        der::asn1::IntRef::from_der(self.serial)
            .map(|i| i.as_bytes())
            .map_err(|_| CertError::Malformed)
    }
}

/// A DER SubjectPublicKeyInfo as webpki's algorithms compare and take it:
/// the contents of its AlgorithmIdentifier and its key bits.
pub(crate) struct SpkiParts<'a> {
    /// The AlgorithmIdentifier without its SEQUENCE tag and length.
    pub(crate) alg: &'a [u8],
    /// The `subjectPublicKey` BIT STRING.
    pub(crate) key: der::asn1::BitStringRef<'a>,
}

impl<'a> SpkiParts<'a> {
    /// The parts of the DER SubjectPublicKeyInfo `spki`.
    pub(crate) fn of(spki: &'a [u8]) -> Result<Self, CertError> {
        let walk = || -> der::Result<Self> {
            let mut reader = SliceReader::new(sequence_content(spki)?)?;
            let alg = sequence_content(reader.tlv_bytes()?)?;
            let key = der::asn1::BitStringRef::decode(&mut reader)?;
            reader.finish(Self { alg, key })
        };
        walk().map_err(|_| CertError::Malformed)
    }
}

/// `version [0] EXPLICIT`, the optional first field of a TBSCertificate.
const VERSION_TAG: Tag = Tag::ContextSpecific {
    constructed: true,
    number: der::TagNumber::N0,
};

/// The content of the SEQUENCE that is all of `der`.
fn sequence_content(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der)?;
    let header = der::Header::decode(&mut reader)?;
    header.tag.assert_eq(Tag::Sequence)?;
    let content = reader.read_slice(header.length)?;
    reader.finish(content)
}

/// [`spki_of_certificate`] of a parsed certificate.
pub(crate) fn spki_der(cert: &Certificate) -> Result<Vec<u8>, CertError> {
    cert.tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| CertError::Malformed)
}

/// A DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7) as a [`PublicKey`]:
/// `rsaEncryption` with a PKCS#1 `RSAPublicKey`, or `id-ecPublicKey` on the
/// named curve P-256 or P-384 with an uncompressed point (spec 4.4). Format
/// only, for backends with no SPKI parser of their own (ring): the key size
/// policy and whether the point lies on the curve stay with the backend that
/// uses the key. Anything else is [`CryptoError::InvalidKey`].
pub fn public_key_from_spki_der(der: &[u8]) -> Result<PublicKey, CryptoError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(der).map_err(|_| CryptoError::InvalidKey)?;
    let alg = &spki.algorithm;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or(CryptoError::InvalidKey)?;
    if alg.oid == RSA_ENCRYPTION {
        // RFC 3279 2.3.1: the parameters are NULL.
        if alg.parameters.as_ref().is_some_and(|p| !p.is_null()) {
            return Err(CryptoError::InvalidKey);
        }
        let (n, e) = rsa_public_parts(key).ok_or(CryptoError::InvalidKey)?;
        return RsaPublicKey::new(n, e).map(PublicKey::Rsa);
    }
    if alg.oid == ID_EC_PUBLIC_KEY {
        let curve = alg
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or(CryptoError::InvalidKey)?;
        let curve = if curve == SECP_256_R_1 {
            Curve::P256
        } else if curve == SECP_384_R_1 {
            Curve::P384
        } else {
            return Err(CryptoError::InvalidKey);
        };
        return EcPublicKey::from_sec1_uncompressed(curve, key).map(PublicKey::Ec);
    }
    Err(CryptoError::InvalidKey)
}

/// Modulus and exponent of a PKCS#1 `RSAPublicKey` (RFC 8017 A.1.1).
fn rsa_public_parts(pkcs1: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut reader = SliceReader::new(pkcs1).ok()?;
    let (n, e) = reader
        .sequence(|seq| {
            let n = UintRef::decode(seq)?;
            let e = UintRef::decode(seq)?;
            Ok((n, e))
        })
        .ok()?;
    reader.finish(()).ok()?;
    Some((n.as_bytes(), e.as_bytes()))
}

/// RSA of at least [`MIN_RSA_BITS`], or EC on P-256 or P-384 (spec 4.4).
pub(crate) fn check_key(spki: &SubjectPublicKeyInfoOwned) -> Result<(), CertError> {
    let alg = &spki.algorithm;
    if alg.oid == RSA_ENCRYPTION {
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or(CertError::Malformed)?;
        let bits = rsa_modulus_bits(key).ok_or(CertError::Malformed)?;
        if bits < MIN_RSA_BITS {
            return Err(CertError::WeakKey { bits });
        }
        Ok(())
    } else if alg.oid == ID_EC_PUBLIC_KEY {
        let curve = alg
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or(CertError::UnsupportedKey)?;
        if curve == SECP_256_R_1 || curve == SECP_384_R_1 {
            Ok(())
        } else {
            Err(CertError::UnsupportedKey)
        }
    } else {
        Err(CertError::UnsupportedKey)
    }
}

/// Bit length of the modulus of a PKCS#1 `RSAPublicKey`.
fn rsa_modulus_bits(pkcs1: &[u8]) -> Option<u32> {
    let mut reader = SliceReader::new(pkcs1).ok()?;
    let n = reader
        .sequence(|seq| {
            let n = UintRef::decode(seq)?;
            let _e = UintRef::decode(seq)?;
            Ok(n)
        })
        .ok()?;
    reader.finish(()).ok()?;
    let bytes = n.as_bytes();
    let first = *bytes.first()?;
    let len = u32::try_from(bytes.len()).ok()?;
    Some((len - 1) * 8 + (8 - first.leading_zeros()))
}

/// A present keyUsage must allow digitalSignature (RFC 5280 4.2.1.3); an
/// absent one allows everything.
pub(crate) fn check_digital_signature(cert: &Certificate) -> Result<(), CertError> {
    let Some(exts) = cert.tbs_certificate.extensions.as_ref() else {
        return Ok(());
    };
    for ext in exts.iter().filter(|e| e.extn_id == ID_CE_KEY_USAGE) {
        let ku = KeyUsage::from_der(ext.extn_value.as_bytes()).map_err(|_| CertError::Malformed)?;
        if !ku.digital_signature() {
            return Err(CertError::WrongKeyUsage);
        }
    }
    Ok(())
}

/// The complete encoding (tag, length, value) of the first element of the
/// DER SEQUENCE `der`: the signed bytes, exactly as received.
pub(crate) fn raw_first_element(der: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(der).ok()?;
    let header = der::Header::decode(&mut reader).ok()?;
    if header.tag != der::Tag::Sequence {
        return None;
    }
    reader.tlv_bytes().ok()
}

/// notBefore <= `now` <= notAfter (RFC 5280 4.1.2.5).
pub(crate) fn check_validity(cert: &Certificate, now: UnixTime) -> Result<(), CertError> {
    let v = &cert.tbs_certificate.validity;
    let now = now.as_secs();
    if now < v.not_before.to_unix_duration().as_secs() {
        return Err(CertError::NotYetValid);
    }
    if now > v.not_after.to_unix_duration().as_secs() {
        return Err(CertError::Expired);
    }
    Ok(())
}

/// The certificate's own signature, as far as it can be checked without its
/// issuer: a self-issued certificate must verify with its own key; any
/// other must at least use a signature algorithm `algs` offers.
pub(crate) fn check_own_signature(
    algs: &[&dyn SignatureVerificationAlgorithm],
    der: &[u8],
    cert: &Certificate,
) -> Result<(), CertError> {
    let tbs = &cert.tbs_certificate;
    if tbs.issuer == tbs.subject {
        let raw = raw_first_element(der).ok_or(CertError::Malformed)?;
        let signature = cert.signature.as_bytes().ok_or(CertError::Malformed)?;
        let spki = SpkiParts::of(CertSpans::of(der)?.spki)?;
        return verify_signature(algs, &spki, &cert.signature_algorithm, raw, signature).map_err(
            |e| match e {
                SigError::UnsupportedAlgorithm => CertError::UnsupportedSignatureAlgorithm,
                SigError::KeyMismatch => CertError::SignatureAlgorithmKeyMismatch,
                SigError::Bad => CertError::BadSignature,
            },
        );
    }
    let sig_id = alg_id_contents(&cert.signature_algorithm)
        .ok_or(CertError::UnsupportedSignatureAlgorithm)?;
    if algs
        .iter()
        .any(|a| a.signature_alg_id().as_ref() == sig_id.as_slice())
    {
        Ok(())
    } else {
        Err(CertError::UnsupportedSignatureAlgorithm)
    }
}

/// The contents (without the outer SEQUENCE header) of an encoded
/// AlgorithmIdentifier, the form rustls-pki-types compares.
fn alg_id_contents(alg: &AlgorithmIdentifierOwned) -> Option<Vec<u8>> {
    let der = alg.to_der().ok()?;
    let any = AnyRef::from_der(&der).ok()?;
    Some(any.value().to_vec())
}

/// Why a signature check through the provider failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SigError {
    /// No provider algorithm has this signature algorithm identifier.
    UnsupportedAlgorithm,
    /// Algorithms exist for the signature but none for this key type.
    KeyMismatch,
    /// The signature does not verify.
    Bad,
}

/// Verifies `signature` over `message` with `spki` under signature
/// algorithm `alg`, choosing among `algs` exactly as rustls-webpki does (both
/// algorithm identifiers must match byte for byte).
pub(crate) fn verify_signature(
    algs: &[&dyn SignatureVerificationAlgorithm],
    spki: &SpkiParts<'_>,
    alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    let sig_id = alg_id_contents(alg).ok_or(SigError::UnsupportedAlgorithm)?;
    let key = spki.key.as_bytes().ok_or(SigError::Bad)?;
    let mut found_sig = false;
    for a in algs {
        if a.signature_alg_id().as_ref() != sig_id.as_slice() {
            continue;
        }
        found_sig = true;
        if a.public_key_alg_id().as_ref() != spki.alg {
            continue;
        }
        return a
            .verify_signature(key, message, signature)
            .map_err(|_| SigError::Bad);
    }
    Err(if found_sig {
        SigError::KeyMismatch
    } else {
        SigError::UnsupportedAlgorithm
    })
}

/// The extendedKeyUsage policy of one role, for rustls-webpki.
///
/// With `required == false`: an absent extension is accepted; a present one
/// must contain anyExtendedKeyUsage or one of `accepted`. With
/// `required == true`: the extension must be present and contain one of
/// `accepted` (anyExtendedKeyUsage does not count), as RFC 6960 4.2.2.2
/// demands of OCSP responders.
pub(crate) struct EkuPolicy {
    pub(crate) accepted: &'static [ObjectIdentifier],
    pub(crate) required: bool,
}

impl webpki::ExtendedKeyUsageValidator for EkuPolicy {
    // The context variant would need the policy as a webpki `KeyUsage`; the
    // caller maps either variant to `CertError::WrongExtendedKeyUsage`.
    #[allow(deprecated)]
    fn validate(&self, iter: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let mut present = false;
        for purpose in iter {
            let purpose = purpose?;
            present = true;
            if !self.required
                && purpose == webpki::KeyPurposeId::new(ANY_EXTENDED_KEY_USAGE.as_bytes())
            {
                return Ok(());
            }
            if self
                .accepted
                .iter()
                .any(|oid| purpose == webpki::KeyPurposeId::new(oid.as_bytes()))
            {
                return Ok(());
            }
        }
        if !present && !self.required {
            Ok(())
        } else {
            Err(webpki::Error::RequiredEkuNotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_CERT: &[u8] = include_bytes!("../../../test-pki/rsa/tam.der");
    const EC_CERT: &[u8] = include_bytes!("../../../test-pki/ec/tam.der");

    #[test]
    fn spki_parses_rsa_and_ec() {
        let rsa = public_key_from_spki_der(&spki_of_certificate(RSA_CERT).unwrap()).unwrap();
        assert!(matches!(rsa, PublicKey::Rsa(ref k) if k.bits() == 2048 && k.e() == [1, 0, 1]));
        let spki = spki_of_certificate(EC_CERT).unwrap();
        let ec = public_key_from_spki_der(&spki).unwrap();
        // The point is the last 65 bytes of a P-256 SPKI.
        let PublicKey::Ec(ec) = ec else {
            panic!("EC key expected")
        };
        assert_eq!(ec.curve(), Curve::P256);
        assert_eq!(ec.to_sec1_uncompressed(), &spki[spki.len() - 65..]);
    }

    #[test]
    fn spans_are_the_subject_and_key_of_the_decoded_certificate() {
        let ec_root: &[u8] = include_bytes!("../../../test-pki/ec/tam-root.der");
        let rsa_tee: &[u8] = include_bytes!("../../../test-pki/rsa/tee.der");
        for der in [RSA_CERT, EC_CERT, ec_root, rsa_tee] {
            let spans = CertSpans::of(der).unwrap();
            let cert = parse(der).unwrap();
            assert_eq!(
                spans.subject,
                cert.tbs_certificate.subject.to_der().unwrap()
            );
            assert_eq!(spans.spki, spki_der(&cert).unwrap());
        }
    }

    #[test]
    fn spans_of_a_cut_padded_or_altered_certificate_never_panic() {
        for len in 0..EC_CERT.len() {
            assert!(CertSpans::of(&EC_CERT[..len]).is_err(), "cut at {len}");
        }
        let mut padded = EC_CERT.to_vec();
        padded.push(0);
        assert!(CertSpans::of(&padded).is_err());
        // Every byte replaced by a few values: an error or spans inside the
        // input, never a panic.
        for i in 0..EC_CERT.len() {
            for b in [0x00, 0x30, 0x7f, 0x80, 0x81, 0xa0, 0xff] {
                let mut altered = EC_CERT.to_vec();
                altered[i] = b;
                if let Ok(spans) = CertSpans::of(&altered) {
                    assert!(spans.subject.len() + spans.spki.len() < altered.len());
                }
            }
        }
    }

    #[test]
    fn spki_refusals() {
        let spki = spki_of_certificate(EC_CERT).unwrap();
        // Truncated, trailing garbage, empty.
        assert!(public_key_from_spki_der(&spki[..spki.len() - 1]).is_err());
        let mut long = spki.clone();
        long.push(0);
        assert!(public_key_from_spki_der(&long).is_err());
        assert!(public_key_from_spki_der(&[]).is_err());
        // A compressed point (02 || x) is refused: JWK and OTrP use uncompressed.
        let mut compressed = spki.clone();
        let point = compressed.len() - 65;
        assert_eq!(compressed[point], 4);
        compressed[point] = 2;
        assert_eq!(
            public_key_from_spki_der(&compressed),
            Err(CryptoError::InvalidKey)
        );
    }
}
