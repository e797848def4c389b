//! OCSP responses (RFC 6960 `OCSPResponse` carrying a `BasicOCSPResponse`)
//! for stapling in `ocspdat` (spec 9.1.1, 14.9), built with the x509-ocsp
//! types otrp-core parses and signed here over the DER of `ResponseData`.

use std::time::Duration;

use const_oid::db::rfc5912::{ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512};
use const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
use der07::asn1::{BitString, GeneralizedTime, Null, OctetString};
use der07::{Decode, Encode};
use otrp_core::pki::UnixTime;
use sha2::Digest as _;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspResponse, OcspResponseStatus,
    ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, Version,
};

pub use x509_cert::ext::pkix::CrlReason;

use crate::cert::plus;
use crate::{Cert, Error};

/// The status a response reports (RFC 6960 4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    /// good.
    Good,
    /// revoked at `time`, with an optional reason.
    Revoked {
        /// revocationTime.
        time: UnixTime,
        /// revocationReason.
        reason: Option<CrlReason>,
    },
    /// unknown.
    Unknown,
}

/// The hash of the CertID (RFC 6960 4.1.1). SHA-256 by default; SHA-1 is
/// what `openssl ocsp` and most responders send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CertIdHash {
    /// SHA-1.
    Sha1,
    /// SHA-256 (default).
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl CertIdHash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            CertIdHash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            CertIdHash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            CertIdHash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            CertIdHash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn algorithm(self) -> AlgorithmIdentifierOwned {
        let oid = match self {
            CertIdHash::Sha1 => ID_SHA_1,
            CertIdHash::Sha256 => ID_SHA_256,
            CertIdHash::Sha384 => ID_SHA_384,
            CertIdHash::Sha512 => ID_SHA_512,
        };
        // NULL parameters, as openssl writes them.
        AlgorithmIdentifierOwned {
            oid,
            parameters: Some(Null.into()),
        }
    }
}

/// Builds one signed OCSP response for one certificate.
///
/// Defaults: status good, nextUpdate one day after thisUpdate, producedAt =
/// thisUpdate, SHA-256 CertID, signed by the issuing CA (which must hold its
/// key), no certificates included, responderID byName.
#[derive(Clone, Debug)]
#[must_use = "an OcspResponseBuilder signs nothing until `build` is called"]
pub struct OcspResponseBuilder<'a> {
    cert: &'a [u8],
    issuer: &'a Cert,
    responder: Option<&'a Cert>,
    include_responder_cert: bool,
    status: OcspStatus,
    this_update: UnixTime,
    next_update: Option<UnixTime>,
    produced_at: Option<UnixTime>,
    hash: CertIdHash,
}

/// One day, the default validity of a response.
pub const DEFAULT_VALIDITY_SECS: u64 = 86_400;

impl<'a> OcspResponseBuilder<'a> {
    /// A response about `cert` (DER) issued by `issuer`, with thisUpdate
    /// `this_update`.
    pub fn new(cert: &'a [u8], issuer: &'a Cert, this_update: UnixTime) -> Self {
        OcspResponseBuilder {
            cert,
            issuer,
            responder: None,
            include_responder_cert: true,
            status: OcspStatus::Good,
            this_update,
            next_update: Some(plus(this_update, DEFAULT_VALIDITY_SECS)),
            produced_at: None,
            hash: CertIdHash::default(),
        }
    }

    /// The status reported.
    pub fn status(mut self, status: OcspStatus) -> Self {
        self.status = status;
        self
    }

    /// nextUpdate (`None`: omitted).
    pub fn next_update(mut self, next_update: Option<UnixTime>) -> Self {
        self.next_update = next_update;
        self
    }

    /// producedAt (default: thisUpdate).
    pub fn produced_at(mut self, produced_at: UnixTime) -> Self {
        self.produced_at = Some(produced_at);
        self
    }

    /// The CertID hash.
    pub fn cert_id_hash(mut self, hash: CertIdHash) -> Self {
        self.hash = hash;
        self
    }

    /// Signs with a delegated responder (it must hold its key; to be
    /// accepted it must be issued by the CA with id-kp-OCSPSigning, see
    /// [`crate::Profile::OcspResponder`]). Its certificate is included
    /// unless [`Self::include_responder_cert`] says otherwise.
    pub fn signed_by(mut self, responder: &'a Cert) -> Self {
        self.responder = Some(responder);
        self
    }

    /// Whether a delegated responder's certificate goes into `certs`.
    pub fn include_responder_cert(mut self, include: bool) -> Self {
        self.include_responder_cert = include;
        self
    }

    /// The DER `OCSPResponse`.
    pub fn build(&self) -> Result<Vec<u8>, Error> {
        let cert = x509_cert::Certificate::from_der(self.cert)
            .map_err(|_| Error::Certificate("not a DER certificate"))?;
        let issuer = self.issuer.x509()?;
        let issuer_name = issuer
            .tbs_certificate
            .subject
            .to_der()
            .map_err(|_| Error::Certificate("issuer name"))?;
        let issuer_key = issuer
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        let cert_id = CertId {
            hash_algorithm: self.hash.algorithm(),
            issuer_name_hash: octets(self.hash.digest(&issuer_name))?,
            issuer_key_hash: octets(self.hash.digest(issuer_key))?,
            serial_number: cert.tbs_certificate.serial_number.clone(),
        };
        let cert_status = match self.status {
            OcspStatus::Good => CertStatus::good(),
            OcspStatus::Unknown => CertStatus::unknown(),
            OcspStatus::Revoked { time, reason } => CertStatus::revoked(RevokedInfo {
                revocation_time: gtime(time)?,
                revocation_reason: reason,
            }),
        };
        let signer = self.responder.unwrap_or(self.issuer);
        let signer_x509 = signer.x509()?;
        let key = signer.key().ok_or(Error::MissingKey)?;
        let tbs = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByName(signer_x509.tbs_certificate.subject.clone()),
            produced_at: gtime(self.produced_at.unwrap_or(self.this_update))?,
            responses: vec![SingleResponse {
                cert_id,
                cert_status,
                this_update: gtime(self.this_update)?,
                next_update: self.next_update.map(gtime).transpose()?,
                single_extensions: None,
            }],
            response_extensions: None,
        };
        let tbs_der = tbs.to_der().map_err(|_| Error::Encoding)?;
        let signature = key.sign(&tbs_der)?;
        let certs = match self.responder {
            Some(_) if self.include_responder_cert => Some(vec![signer_x509]),
            _ => None,
        };
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: AlgorithmIdentifierOwned::from_der(
                key.key_type().signature_algorithm_der(),
            )
            .map_err(|_| Error::Encoding)?,
            signature: BitString::from_bytes(&signature).map_err(|_| Error::Encoding)?,
            certs,
        };
        let response = OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: ID_PKIX_OCSP_BASIC,
                response: octets(basic.to_der().map_err(|_| Error::Encoding)?)?,
            }),
        };
        response.to_der().map_err(|_| Error::Encoding)
    }
}

fn octets(v: Vec<u8>) -> Result<OctetString, Error> {
    OctetString::new(v).map_err(|_| Error::Encoding)
}

fn gtime(t: UnixTime) -> Result<OcspGeneralizedTime, Error> {
    GeneralizedTime::from_unix_duration(Duration::from_secs(t.as_secs()))
        .map(OcspGeneralizedTime)
        .map_err(|_| Error::Time)
}
