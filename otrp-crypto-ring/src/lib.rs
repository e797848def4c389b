//! ring-based crypto provider for otrp: what ring does well (signatures,
//! digests, AES-GCM, chain validation), and a documented composition with
//! `otrp-crypto-rustcrypto` for the JWE key management ring cannot do.
//!
//! [`provider()`] offers:
//!
//! | role | algorithms | objects |
//! |------|------------|---------|
//! | JWS verification | RS256/384/512, PS256/384/512, ES256, ES384 | [`RS256`] .. [`ES384`] |
//! | JWS signing (software keys) | the same | [`RingRsaKey`], [`RingEcKey`] from [`KEY_LOADER`] |
//! | JWE content encryption | A128GCM, A256GCM | [`A128GCM`], [`A256GCM`] |
//! | digests | SHA-256/384/512; SHA-1 for OCSP CertID matching only | [`SHA256`] .. [`SHA1`] |
//! | random | ring's `SystemRandom` | [`RING_RANDOM`] |
//! | X.509 chains, OCSP | RSA PKCS#1 / PSS 2048-8192 bits with SHA-256/384/512, ECDSA P-256/SHA-256, P-384/SHA-384 | [`WEBPKI_ALGORITHMS`] |
//!
//! What ring cannot do is reported as
//! [`CryptoError::Unsupported`](otrp_core::crypto::CryptoError::Unsupported) (the
//! protocol's ERR_UNSUPPORTED_CRYPTO_ALG), never a panic: RSA1_5 and
//! RSA-OAEP decryption, AES-CBC (so A128CBC-HS256 and A256CBC-HS512), AES key
//! wrap (A128KW, A256KW), and ECDH with a stored private key (all ECDH-ES
//! variants). Hence every JWE key management algorithm: [`KEY_ENCRYPTERS`]
//! is empty, keys answer `Unsupported` to `decrypt_cek`, and `oct` keys do
//! not load. ring's RSA keys are 2048 to 4096 bits with e >= 65537; an RSA
//! JWK must carry its CRT members, and an EC PKCS#8 document its public key.
//!
//! **Randomness.** ring's own random trait is sealed, so the random source
//! passed to [`JwsSigner::sign`](otrp_core::crypto::JwsSigner::sign) (and the
//! provider's `secure_random`) cannot reach it: RSA-PSS salts and ECDSA
//! nonces always come from ring's `SystemRandom` (ECDSA nonces are also
//! hedged with the key and message). RS256/384/512 need no randomness and
//! are reproducible. A device without an OS random source should sign with
//! its own [`JwsSigner`](otrp_core::crypto::JwsSigner) instead.
//!
//! # Composing with RustCrypto
//!
//! A provider is a struct of lists, so ring's verifiers, digests and chain
//! algorithms go over RustCrypto's key management in one line:
//!
//! ```
//! use otrp_core::crypto::{ComposedKeyLoader, JwsAlg, KeyAlg, Provider};
//!
//! let composed = Provider {
//!     signature_verifiers: otrp_crypto_ring::SIGNATURE_VERIFIERS,
//!     digests: otrp_crypto_ring::DIGESTS,
//!     webpki_algorithms: otrp_crypto_ring::WEBPKI_ALGORITHMS,
//!     ..otrp_crypto_rustcrypto::provider()
//! };
//! assert!(composed.signature_verifier(JwsAlg::Ps256).is_ok()); // ring
//! assert!(composed.key_encrypter(KeyAlg::Rsa1_5).is_ok()); // RustCrypto
//!
//! // Keys from that provider are RustCrypto's: they sign and decrypt. To
//! // sign with ring too, load keys with both backends (a `SplitKey` signs
//! // with ring's copy and recovers CEKs with RustCrypto's):
//! static KEYS: ComposedKeyLoader =
//!     ComposedKeyLoader::new(&otrp_crypto_ring::KEY_LOADER, &otrp_crypto_rustcrypto::KEY_LOADER);
//! let composed = Provider { key_loader: &KEYS, ..composed };
//! # let _ = composed;
//! ```
//!
//! With the `rustcrypto` feature, [`composed_provider()`] is that provider,
//! with ring's AES-GCM beside RustCrypto's AES-CBC-HMAC as well, and
//! verifiers ([`ComposedVerifier`]) that hand a message longer than
//! [`WHOLE_MESSAGE_LIMIT`] to RustCrypto as a digest instead of collecting
//! it for ring. The
//! composed provider passes the whole conformance suite exactly as the
//! RustCrypto provider does (`tests/conformance.rs`). How to choose and
//! compose providers: `docs/providers.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod content;
mod digest;
mod keys;
mod random;
mod sig;
pub mod webpki;

pub use content::{A128GCM, A256GCM, AES_GCM, RingAesGcm};
pub use digest::{RingDigest, SHA1, SHA256, SHA384, SHA512};
pub use keys::{KEY_LOADER, RingEcKey, RingRsaKey};
pub use random::{RING_RANDOM, RingRandom};
pub use sig::{
    ES256, ES384, MAX_RSA_BITS, MIN_RSA_BITS, PS256, PS384, PS512, RS256, RS384, RS512,
    RingVerifier,
};

use otrp_core::crypto::{ContentCipher, Digest, KeyEncrypter, Provider, SignatureVerifier};
use rustls_pki_types::SignatureVerificationAlgorithm;

/// Every JWS verification algorithm of this backend.
pub static SIGNATURE_VERIFIERS: &[&dyn SignatureVerifier] = &[
    &RS256, &RS384, &RS512, &PS256, &PS384, &PS512, &ES256, &ES384,
];

/// JWE key management: none (see the crate documentation).
pub static KEY_ENCRYPTERS: &[&dyn KeyEncrypter] = &[];

/// Every JWE content encryption algorithm of this backend (AES-GCM only:
/// ring has no AES-CBC).
pub static CONTENT_CIPHERS: &[&dyn ContentCipher] = &[&A128GCM, &A256GCM];

/// Every digest of this backend. SHA-1 is listed for OCSP CertIDs only
/// (RFC 6960 4.1.1); no signature algorithm of this backend uses it.
pub static DIGESTS: &[&dyn Digest] = &[&SHA256, &SHA384, &SHA512, &SHA1];

/// The X.509 signature algorithms for chain and OCSP validation.
pub static WEBPKI_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = webpki::WEBPKI_ALGORITHMS;

/// The ring provider: signatures, digests, AES-GCM and chain validation;
/// every JWE key management algorithm is `Unsupported`.
pub fn provider() -> Provider {
    Provider {
        signature_verifiers: SIGNATURE_VERIFIERS,
        key_encrypters: KEY_ENCRYPTERS,
        content_ciphers: CONTENT_CIPHERS,
        digests: DIGESTS,
        secure_random: &RING_RANDOM,
        key_loader: &KEY_LOADER,
        webpki_algorithms: WEBPKI_ALGORITHMS,
    }
}

#[cfg(feature = "rustcrypto")]
mod composed {
    use otrp_core::crypto::{
        ComposedKeyLoader, ContentCipher, CryptoError, JwsAlg, KeyKind, Provider, PublicKey,
        SignatureVerifier, Verified,
    };

    use crate::RingVerifier;

    /// Messages up to this many bytes are verified by ring whole; longer
    /// ones (a large TA image or InstallTA request, fed in pieces) are
    /// hashed and their digest verified by RustCrypto, so that no copy of
    /// them is collected.
    pub const WHOLE_MESSAGE_LIMIT: usize = 64 * 1024;

    /// One JWS algorithm verified by ring, and by RustCrypto over the
    /// digest of a message longer than [`WHOLE_MESSAGE_LIMIT`]
    /// (`SignatureVerifier::prehashed_from`). The key policy is ring's
    /// either way.
    pub struct ComposedVerifier {
        ring: &'static RingVerifier,
        prehashed: &'static dyn SignatureVerifier,
    }

    impl core::fmt::Debug for ComposedVerifier {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_tuple("ComposedVerifier")
                .field(&self.algorithm())
                .finish()
        }
    }

    impl SignatureVerifier for ComposedVerifier {
        fn algorithm(&self) -> JwsAlg {
            self.ring.algorithm()
        }

        fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Verified {
            self.ring.verify(key, message, signature)
        }

        fn verifies_prehashed(&self) -> bool {
            true
        }

        fn prehashed_from(&self) -> usize {
            WHOLE_MESSAGE_LIMIT
        }

        fn verify_prehashed(&self, key: &PublicKey, digest: &[u8], signature: &[u8]) -> Verified {
            // ring's key checks, and its one error for anything else.
            if self.algorithm().key_kind() == KeyKind::Rsa {
                crate::sig::rsa_key(key)?;
            } else {
                key.ec_for(self.algorithm())?;
            }
            self.prehashed
                .verify_prehashed(key, digest, signature)
                .map_err(|_| CryptoError::BadSignature)
        }
    }

    macro_rules! composed_verifiers {
        ($($name:ident),*) => {
            $(
                #[doc = concat!("ring's ", stringify!($name), ", RustCrypto's over a digest.")]
                pub static $name: ComposedVerifier = ComposedVerifier {
                    ring: &crate::$name,
                    prehashed: &otrp_crypto_rustcrypto::$name,
                };
            )*
            /// Every JWS verification algorithm of the composed provider.
            pub static COMPOSED_SIGNATURE_VERIFIERS: &[&dyn SignatureVerifier] = &[$(&$name),*];
        };
    }

    /// The composed verifiers, named as ring's.
    pub mod verifiers {
        use super::ComposedVerifier;
        use otrp_core::crypto::SignatureVerifier;
        composed_verifiers!(RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384);
    }

    /// Keys that sign with ring and recover CEKs with RustCrypto (a key
    /// only one backend loads, such as an `oct` key, is that backend's).
    pub static COMPOSED_KEY_LOADER: ComposedKeyLoader =
        ComposedKeyLoader::new(&crate::KEY_LOADER, &otrp_crypto_rustcrypto::KEY_LOADER);

    /// RustCrypto's AES-CBC-HMAC and ring's AES-GCM.
    pub static COMPOSED_CONTENT_CIPHERS: &[&dyn ContentCipher] = &[
        &otrp_crypto_rustcrypto::A128CBC_HS256,
        &otrp_crypto_rustcrypto::A256CBC_HS512,
        &crate::A128GCM,
        &crate::A256GCM,
    ];

    /// ring for JWS verification and signing, digests, AES-GCM and chain
    /// validation; RustCrypto for JWE key management, AES-CBC-HMAC and the
    /// random source. Offers every algorithm OTrP names.
    pub fn composed_provider() -> Provider {
        Provider {
            signature_verifiers: verifiers::COMPOSED_SIGNATURE_VERIFIERS,
            digests: crate::DIGESTS,
            webpki_algorithms: crate::WEBPKI_ALGORITHMS,
            content_ciphers: COMPOSED_CONTENT_CIPHERS,
            key_loader: &COMPOSED_KEY_LOADER,
            ..otrp_crypto_rustcrypto::provider()
        }
    }
}

#[cfg(feature = "rustcrypto")]
pub use composed::{
    COMPOSED_CONTENT_CIPHERS, COMPOSED_KEY_LOADER, ComposedVerifier, WHOLE_MESSAGE_LIMIT,
    composed_provider, verifiers as composed_verifiers,
};
