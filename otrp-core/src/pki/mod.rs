//! The PKI layer: X.509 path validation, OCSP stapling, tamid and did.
//!
//! - Trust (spec 4.2, 4.3): [`TrustAnchors`] per role; [`validate_tam_chain`]
//!   (TAM `x5c`, 9.1.2), [`validate_tee_chain`] (TEE certificate and
//!   `cacert`, 9.1.7), [`validate_tfw_certificate`] (9.1.3) and
//!   [`check_sp_certificate`] (9.2.1.2), all over rustls-webpki with the
//!   provider's `webpki_algorithms`: no cryptography lives here.
//! - Revocation (9.1.1 `ocspdat`, 14.9): [`verify_ocsp_response`] for one
//!   stapled response, [`check_revocation`] for a TAM path, [`OcspCache`].
//! - Identifiers: [`Did`] (9.2.1.1) and [`TamId`] (5.4).
//!
//! Time is always an argument (`UnixTime`): nothing here reads a clock.
//! Every refusal is a [`PkiError`] variant; [`PkiError::code`] maps it to the
//! spec's error code. The per-role key-usage policy is in `docs/pki.md`.

mod cert;
mod chain;
mod der_strict;
mod error;
mod id;
mod ocsp;

pub(crate) use cert::CertSpans;
pub(crate) use chain::{
    ParsedChain, cached_chain_leaf_spki, validate_cached_tam_chain, validate_offered_tam_chain,
    validate_offered_tee_chain,
};

pub use cert::{MIN_RSA_BITS, public_key_from_spki_der, spki_of_certificate};
pub use chain::{
    CertPolicy, MAX_CHAIN_CERTS, TamCertificate, TeeCertificate, TrustAnchors, ValidatedChain,
    check_offered_chain, check_sp_certificate, validate_chain, validate_tam_chain,
    validate_tee_chain, validate_tfw_certificate,
};
pub use der_strict::{check_certificate_der, check_ocsp_response_der};
pub use error::{CertError, OcspError, PkiError, Role};
pub use id::{Did, TamId, tamid_from_certificate};
pub use ocsp::{
    OCSP_CACHE_PER_SCOPE, OcspAnswer, OcspCache, OcspGood, OcspPolicy, check_revocation,
    check_revocation_in, read_ocsp_response, verify_ocsp_response,
};
pub use rustls_pki_types::UnixTime;
