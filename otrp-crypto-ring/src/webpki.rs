//! X.509 signature verification for rustls-webpki with ring (the
//! [`SignatureVerificationAlgorithm`] seam of rustls-pki-types), used by
//! `otrp_core::pki` for certificate chains (spec 4.2, 4.3) and OCSP
//! responses (spec 14.9) through `Provider::webpki_algorithms`.
//!
//! These are rustls-webpki's own ring algorithms, restricted to OTrP's set:
//! RSA PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512 on 2048 to 8192-bit keys
//! (spec 4.4 item 3), ECDSA P-256 with SHA-256 and P-384 with SHA-384. SHA-1
//! and the mixed-curve ECDSA pairs are absent, so a certificate signed with
//! them finds no algorithm and is refused.

use rustls_pki_types::SignatureVerificationAlgorithm;

pub use webpki::ring::{
    ECDSA_P256_SHA256, ECDSA_P384_SHA384, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384,
    RSA_PKCS1_2048_8192_SHA512, RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    RSA_PSS_2048_8192_SHA384_LEGACY_KEY, RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
};

/// Every algorithm of this module.
pub static WEBPKI_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
    RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA384,
    RSA_PKCS1_2048_8192_SHA512,
    RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];
