//! Certificates: profiles per OTrP role (spec 4.4), issuance with rcgen,
//! and reading back a CA certificate (ours or openssl's) to issue under it.

use std::time::Duration;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER;
use der07::{Decode, Encode, Tag, Tagged};
use otrp_core::pki::UnixTime;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, SanType, SerialNumber,
};
use sha2::Digest as _;
use x509_cert::Certificate as X509;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{SubjectAltName, SubjectKeyIdentifier};

use crate::{Error, Key, KeyType};

/// The tamid a TAM certificate carries in its subjectAltName (spec 5.4,
/// 9.2.1.1); `otrp_core::pki::tamid_from_certificate` reads it back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TamIdSan {
    /// A uniformResourceIdentifier, e.g. `https://tam.example.com/tam1`.
    Uri(String),
    /// A registeredID in dotted form, e.g. `1.3.6.1.4.1.99999.1.2`.
    RegisteredId(String),
}

impl TamIdSan {
    /// The tamid as `otrp_core::pki::TamId::as_str` reports it.
    pub fn as_str(&self) -> &str {
        match self {
            TamIdSan::Uri(s) | TamIdSan::RegisteredId(s) => s,
        }
    }
}

impl core::fmt::Display for TamIdSan {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a certificate is for; each profile carries the extensions of the
/// matching section of `test-pki/openssl.cnf` (the policy of `docs/pki.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A self-signed root: CA, keyCertSign + cRLSign (`v3_root`).
    Root,
    /// An intermediate CA: CA with pathLen 0, keyCertSign + cRLSign
    /// (`v3_intermediate`).
    Intermediate,
    /// A TAM signer with its tamid in the subjectAltName: digitalSignature
    /// (`v3_tam`, spec 4.4 item 3, 5.4).
    Tam(TamIdSan),
    /// A TEE device certificate: digitalSignature plus keyEncipherment (RSA)
    /// or keyAgreement (EC), since TAMs encrypt to it (`v3_leaf`, 4.4 item 2).
    Tee,
    /// An SP (TA signer) certificate: digitalSignature (4.4 item 4).
    Sp,
    /// A TFW certificate: digitalSignature (4.4 item 1).
    Tfw,
    /// A delegated OCSP responder: digitalSignature and id-kp-OCSPSigning
    /// (`v3_ocsp`, RFC 6960 4.2.2.2).
    OcspResponder,
}

/// The shape of one certificate: subject, serial number, validity, profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSpec {
    /// Subject organizationName (omitted when `None`).
    pub organization: Option<String>,
    /// Subject commonName.
    pub common_name: String,
    /// Serial number (positive).
    pub serial: u64,
    /// notBefore.
    pub not_before: UnixTime,
    /// notAfter.
    pub not_after: UnixTime,
    /// Extensions by role.
    pub profile: Profile,
}

impl CertSpec {
    /// A spec with subject `O=OTrP Test, CN=common_name`.
    pub fn new(
        common_name: &str,
        serial: u64,
        not_before: UnixTime,
        not_after: UnixTime,
        profile: Profile,
    ) -> Self {
        CertSpec {
            organization: Some("OTrP Test".into()),
            common_name: common_name.into(),
            serial,
            not_before,
            not_after,
            profile,
        }
    }

    /// The rcgen parameters of this spec for a subject key of `key_type`,
    /// with the subject key identifier derived from `spki`. Adjust them and
    /// pass them to [`Cert::issue_params`] for shapes the profiles lack.
    pub fn to_params(&self, key_type: KeyType, spki: &[u8]) -> Result<CertificateParams, Error> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        if let Some(o) = &self.organization {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        dn.push(DnType::CommonName, self.common_name.as_str());
        p.distinguished_name = dn;
        p.serial_number = Some(SerialNumber::from(self.serial));
        p.not_before = datetime(self.not_before)?;
        p.not_after = datetime(self.not_after)?;
        p.key_identifier_method = KeyIdMethod::PreSpecified(key_id(spki));
        p.use_authority_key_identifier_extension = self.profile != Profile::Root;
        let signing = vec![KeyUsagePurpose::DigitalSignature];
        match &self.profile {
            Profile::Root => {
                p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
                p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            }
            Profile::Intermediate => {
                p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
                p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            }
            Profile::Tam(tamid) => {
                p.is_ca = IsCa::NoCa;
                p.custom_extensions.extend(end_entity_extensions(spki));
                p.key_usages = signing;
                match tamid {
                    TamIdSan::Uri(uri) => {
                        let uri = rcgen::string::Ia5String::try_from(uri.as_str())
                            .map_err(|_| Error::TamId(uri.clone()))?;
                        p.subject_alt_names = vec![SanType::URI(uri)];
                    }
                    TamIdSan::RegisteredId(dotted) => {
                        p.custom_extensions.push(registered_id_san(dotted)?);
                    }
                }
            }
            Profile::Tee => {
                p.is_ca = IsCa::NoCa;
                p.custom_extensions.extend(end_entity_extensions(spki));
                p.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    match key_type {
                        KeyType::Rsa2048 => KeyUsagePurpose::KeyEncipherment,
                        KeyType::P256 => KeyUsagePurpose::KeyAgreement,
                    },
                ];
            }
            Profile::Sp | Profile::Tfw => {
                p.is_ca = IsCa::NoCa;
                p.custom_extensions.extend(end_entity_extensions(spki));
                p.key_usages = signing;
            }
            Profile::OcspResponder => {
                p.is_ca = IsCa::NoCa;
                p.custom_extensions.extend(end_entity_extensions(spki));
                p.key_usages = signing;
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
            }
        }
        Ok(p)
    }
}

/// BasicConstraints of an end entity, critical: `SEQUENCE {}`, the DER of
/// `cA FALSE` (a DEFAULT value is omitted, X.690 11.5). rcgen's
/// `IsCa::ExplicitNoCa` encodes `BOOLEAN FALSE` explicitly, which is BER
/// that strict parsers refuse (issue 14).
/// With `IsCa::NoCa` rcgen writes no subjectKeyIdentifier either, so it is
/// added here (the same key identifier, RFC 5280 4.2.1.2).
fn end_entity_extensions(spki: &[u8]) -> [CustomExtension; 2] {
    let mut basic = CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
    basic.set_criticality(true);
    let id = key_id(spki);
    let mut ski = vec![0x04, id.len() as u8];
    ski.extend_from_slice(&id);
    [
        basic,
        CustomExtension::from_oid_content(&[2, 5, 29, 14], ski),
    ]
}

/// A subjectAltName extension holding one registeredID (rcgen's SanType has
/// no registeredID, so the extension is encoded here).
fn registered_id_san(dotted: &str) -> Result<CustomExtension, Error> {
    let oid = ObjectIdentifier::new(dotted).map_err(|_| Error::TamId(dotted.into()))?;
    let der = SubjectAltName(vec![GeneralName::RegisteredId(oid)])
        .to_der()
        .map_err(|_| Error::TamId(dotted.into()))?;
    Ok(CustomExtension::from_oid_content(&[2, 5, 29, 17], der))
}

/// RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the
/// SubjectPublicKeyInfo.
fn key_id(spki: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(spki)[..20].to_vec()
}

fn datetime(t: UnixTime) -> Result<time::OffsetDateTime, Error> {
    let secs = i64::try_from(t.as_secs()).map_err(|_| Error::Time)?;
    time::OffsetDateTime::from_unix_timestamp(secs).map_err(|_| Error::Time)
}

/// A certificate (DER) with, optionally, its private key. A certificate
/// with a key can issue others ([`Cert::issue`]) and sign OCSP responses.
#[derive(Debug)]
pub struct Cert {
    der: Vec<u8>,
    key: Option<Key>,
    /// Issuer view for rcgen: subject DN, subject key identifier.
    issuer_params: CertificateParams,
}

impl Cert {
    /// A self-signed certificate for `key` (normally [`Profile::Root`]).
    pub fn self_signed(spec: &CertSpec, key: Key) -> Result<Cert, Error> {
        let params = spec.to_params(key.key_type(), key.spki_der())?;
        let cert = params.self_signed(&key)?;
        Cert::from_der(cert.der().to_vec(), Some(key))
    }

    /// Issues a certificate for `subject_key` under this certificate, which
    /// must hold its private key.
    pub fn issue(&self, spec: &CertSpec, subject_key: Key) -> Result<Cert, Error> {
        let params = spec.to_params(subject_key.key_type(), subject_key.spki_der())?;
        self.issue_params(&params, subject_key)
    }

    /// Issues a certificate from raw rcgen parameters (for shapes the
    /// profiles do not cover, e.g. negative test cases).
    pub fn issue_params(
        &self,
        params: &CertificateParams,
        subject_key: Key,
    ) -> Result<Cert, Error> {
        let key = self.key.as_ref().ok_or(Error::MissingKey)?;
        let issuer = Issuer::from_params(&self.issuer_params, key);
        let cert = params.signed_by(&subject_key, &issuer)?;
        Cert::from_der(cert.der().to_vec(), Some(subject_key))
    }

    /// Reads a certificate (made here or elsewhere, e.g. by openssl) so that
    /// it can issue certificates (with `key`) or be named in OCSP responses.
    /// Its subject must use one attribute per RDN in UTF8String,
    /// PrintableString or IA5String, so that issued certificates repeat it
    /// byte for byte as their issuer.
    pub fn from_der(der: Vec<u8>, key: Option<Key>) -> Result<Cert, Error> {
        let x509 = X509::from_der(&der).map_err(|_| Error::Certificate("not a DER certificate"))?;
        if let Some(k) = &key {
            let spki = x509
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .map_err(|_| Error::Certificate("subject public key"))?;
            if spki != k.spki_der() {
                return Err(Error::Certificate("the key does not match the certificate"));
            }
        }
        let issuer_params = issuer_params(&x509)?;
        Ok(Cert {
            der,
            key,
            issuer_params,
        })
    }

    /// Reads a PEM certificate (`-----BEGIN CERTIFICATE-----`); see
    /// [`Cert::from_der`].
    pub fn from_pem(pem: &str, key: Option<Key>) -> Result<Cert, Error> {
        let (label, der) = pkcs8::der::Document::from_pem(pem)
            .map_err(|_| Error::Certificate("not a PEM document"))?;
        if label != "CERTIFICATE" {
            return Err(Error::Certificate("PEM label is not CERTIFICATE"));
        }
        Cert::from_der(der.into_vec(), key)
    }

    /// The certificate in DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate in PEM (LF line endings, trailing newline).
    pub fn pem(&self) -> String {
        pem_block("CERTIFICATE", &self.der)
    }

    /// The private key, if held.
    pub fn key(&self) -> Option<&Key> {
        self.key.as_ref()
    }

    /// Parses the certificate (x509-cert, the der 0.7 generation otrp-core
    /// uses).
    pub fn x509(&self) -> Result<X509, Error> {
        X509::from_der(&self.der).map_err(|_| Error::Certificate("not a DER certificate"))
    }
}

/// `label` PEM armour around `der` (64-column base64, LF).
pub(crate) fn pem_block(label: &str, der: &[u8]) -> String {
    use base64ct::Encoding as _;
    let b64 = base64ct::Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn issuer_params(x509: &X509) -> Result<CertificateParams, Error> {
    let tbs = &x509.tbs_certificate;
    let mut dn = DistinguishedName::new();
    for rdn in tbs.subject.0.iter() {
        let [atv] = rdn.0.as_slice() else {
            return Err(Error::Certificate("multi-valued RDN in subject"));
        };
        let arcs: Vec<u64> = atv.oid.arcs().map(u64::from).collect();
        let bytes = atv.value.value();
        let text = || {
            core::str::from_utf8(bytes).map_err(|_| Error::Certificate("subject string encoding"))
        };
        let value = match atv.value.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?.into()),
            Tag::PrintableString => DnValue::PrintableString(
                rcgen::string::PrintableString::try_from(text()?)
                    .map_err(|_| Error::Certificate("subject PrintableString"))?,
            ),
            Tag::Ia5String => DnValue::Ia5String(
                rcgen::string::Ia5String::try_from(text()?)
                    .map_err(|_| Error::Certificate("subject IA5String"))?,
            ),
            _ => return Err(Error::Certificate("unsupported subject string type")),
        };
        dn.push(DnType::from_oid(&arcs), value);
    }
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|_| Error::Certificate("subject public key"))?;
    let ski = tbs
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_CE_SUBJECT_KEY_IDENTIFIER)
        .map(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()))
        .transpose()
        .map_err(|_| Error::Certificate("subjectKeyIdentifier"))?
        .map(|s| s.0.as_bytes().to_vec())
        .unwrap_or_else(|| key_id(&spki));
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.key_identifier_method = KeyIdMethod::PreSpecified(ski);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(p)
}

/// `t` plus `secs` seconds (saturating).
pub(crate) fn plus(t: UnixTime, secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(t.as_secs().saturating_add(secs)))
}
