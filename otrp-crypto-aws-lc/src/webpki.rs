//! X.509 signature verification for rustls-webpki (the
//! [`SignatureVerificationAlgorithm`] seam of rustls-pki-types), used by
//! `otrp_core::pki` for certificate chains (spec 4.2, 4.3) and OCSP responses
//! (spec 14.9) through `Provider::webpki_algorithms`.
//!
//! These are rustls-webpki's own aws-lc-rs algorithms (its `aws-lc-rs`
//! feature), chosen to the same policy as the other backends: RSA PKCS#1
//! v1.5 and RSA-PSS (on an rsaEncryption key) with SHA-256/384/512 and
//! 2048 to 8192-bit keys (spec 4.4 item 3), ECDSA P-256 with SHA-256 and
//! P-384 with SHA-384 only. SHA-1 is deliberately absent, so a SHA-1-signed
//! certificate finds no algorithm and is refused; so are the cross-size
//! ECDSA pairs (P-256 with SHA-384, ...) and ECDSA P-521.

use rustls_pki_types::SignatureVerificationAlgorithm;
use webpki::aws_lc_rs as algs;

otrp_core::all_webpki_algorithms!();

/// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption), 2048-8192 bits.
pub static RSA_PKCS1_SHA256: &dyn SignatureVerificationAlgorithm = algs::RSA_PKCS1_2048_8192_SHA256;
/// RSASSA-PKCS1-v1_5 with SHA-384 (sha384WithRSAEncryption), 2048-8192 bits.
pub static RSA_PKCS1_SHA384: &dyn SignatureVerificationAlgorithm = algs::RSA_PKCS1_2048_8192_SHA384;
/// RSASSA-PKCS1-v1_5 with SHA-512 (sha512WithRSAEncryption), 2048-8192 bits.
pub static RSA_PKCS1_SHA512: &dyn SignatureVerificationAlgorithm = algs::RSA_PKCS1_2048_8192_SHA512;
/// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt, on an rsaEncryption key.
pub static RSA_PSS_SHA256: &dyn SignatureVerificationAlgorithm =
    algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY;
/// RSASSA-PSS with SHA-384, MGF1-SHA-384, 48-byte salt, on an rsaEncryption key.
pub static RSA_PSS_SHA384: &dyn SignatureVerificationAlgorithm =
    algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY;
/// RSASSA-PSS with SHA-512, MGF1-SHA-512, 64-byte salt, on an rsaEncryption key.
pub static RSA_PSS_SHA512: &dyn SignatureVerificationAlgorithm =
    algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY;
/// ECDSA on P-256 with SHA-256 (ecdsa-with-SHA256), DER signature.
pub static ECDSA_P256_SHA256: &dyn SignatureVerificationAlgorithm = algs::ECDSA_P256_SHA256;
/// ECDSA on P-384 with SHA-384 (ecdsa-with-SHA384), DER signature.
pub static ECDSA_P384_SHA384: &dyn SignatureVerificationAlgorithm = algs::ECDSA_P384_SHA384;
