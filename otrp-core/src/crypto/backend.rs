//! What every backend would otherwise write out again: its digests over
//! one hash function ([`HashDigest`], [`backend_digests!`]), its key
//! loader's dispatch ([`SoftwareKeyLoader`], [`software_key_loader!`]) and its provider tables
//! ([`complete_provider_tables!`]) and X.509 algorithm list
//! ([`all_webpki_algorithms!`]). A backend
//! supplies the primitives; the lists of what a complete provider offers
//! are OTrP's, so they are written once, here.
//!
//! [`backend_digests!`]: crate::backend_digests
//! [`complete_provider_tables!`]: crate::complete_provider_tables
//! [`software_key_loader!`]: crate::software_key_loader
//! [`all_webpki_algorithms!`]: crate::all_webpki_algorithms

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use super::{
    AesKw, CryptoError, Digest, DigestContext, EcPublicKey, HashAlg, KeyComponents, KeyLoader,
    PrivateKey, PublicKey, RsaKeyComponents, SymmetricKey,
};

/// A backend's hash function, over every [`HashAlg`].
pub type HashFn = fn(HashAlg, &[u8]) -> Vec<u8>;

/// A backend's incremental hash, over every [`HashAlg`] ([`Digest::start`]).
pub type StartFn = fn(HashAlg) -> Box<dyn DigestContext>;

/// One algorithm of a backend's hash function, as a [`Digest`].
#[derive(Clone, Copy)]
pub struct HashDigest {
    alg: HashAlg,
    hash: HashFn,
    start: StartFn,
}

impl HashDigest {
    /// The digest `alg` computed by `hash` in one piece and by `start` in
    /// several.
    pub const fn new(alg: HashAlg, hash: HashFn, start: StartFn) -> Self {
        Self { alg, hash, start }
    }
}

impl Digest for HashDigest {
    fn algorithm(&self) -> HashAlg {
        self.alg
    }

    fn digest(&self, data: &[u8]) -> Vec<u8> {
        (self.hash)(self.alg, data)
    }

    fn start(&self) -> Box<dyn DigestContext + '_> {
        (self.start)(self.alg)
    }
}

impl fmt::Debug for HashDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HashDigest").field(&self.alg).finish()
    }
}

/// A loaded private key, or why not.
pub type Loaded = Result<Box<dyn PrivateKey>, CryptoError>;

/// A backend's software key loader, from the functions that parse each
/// kind of key: the dispatch over PKCS#8 (RSA, then EC) and over
/// [`KeyComponents`] (RFC 7518 6: what a JWK reduces to), and the check
/// that an EC scalar is its public key's, are written once, here
/// ([`software_key_loader!`] declares one).
///
/// [`software_key_loader!`]: crate::software_key_loader
#[derive(Clone, Copy)]
pub struct SoftwareKeyLoader {
    /// Parses a PKCS#8 RSA private key.
    pub rsa_pkcs8: fn(&[u8]) -> Loaded,
    /// Parses a PKCS#8 EC private key.
    pub ec_pkcs8: fn(&[u8]) -> Loaded,
    /// Builds an RSA private key from its members.
    pub rsa: fn(&RsaKeyComponents) -> Loaded,
    /// Builds an EC private key from its public point (which a backend may
    /// need) and scalar `d`; the loader refuses the key unless its public
    /// key is that point.
    pub ec: fn(&EcPublicKey, &[u8]) -> Loaded,
    /// Parses a SubjectPublicKeyInfo.
    pub spki: fn(&[u8]) -> Result<PublicKey, CryptoError>,
    /// The AES key wrap that symmetric (`oct`) keys use; `None` if the
    /// backend holds no symmetric keys (they are then
    /// [`CryptoError::Unsupported`]).
    pub aes_kw: Option<&'static dyn AesKw>,
}

/// `key`, boxed as a [`PrivateKey`] (what a [`SoftwareKeyLoader`]'s
/// functions return).
pub fn boxed<K: PrivateKey + 'static>(key: Result<K, CryptoError>) -> Loaded {
    Ok(Box::new(key?))
}

impl KeyLoader for SoftwareKeyLoader {
    /// An RSA key, else an EC key; a document that is neither is
    /// [`CryptoError::InvalidKey`].
    fn private_key_from_pkcs8_der(&self, der: &[u8]) -> Loaded {
        (self.rsa_pkcs8)(der)
            .or_else(|_| (self.ec_pkcs8)(der))
            .map_err(|_| CryptoError::InvalidKey)
    }

    fn private_key_from_components(&self, key: &KeyComponents) -> Loaded {
        match key {
            KeyComponents::Rsa(c) => (self.rsa)(c),
            KeyComponents::Ec { public, d } => {
                let key = (self.ec)(public, d.as_bytes())?;
                match key.public_key() {
                    Some(PublicKey::Ec(p)) if p == *public => Ok(key),
                    _ => Err(CryptoError::InvalidKey),
                }
            }
            KeyComponents::Symmetric(k) => {
                let kw = self
                    .aes_kw
                    .ok_or(CryptoError::Unsupported("oct keys (AES key wrap)"))?;
                Ok(Box::new(SymmetricKey::new(k.clone(), kw)?))
            }
        }
    }

    fn public_key_from_spki_der(&self, der: &[u8]) -> Result<PublicKey, CryptoError> {
        (self.spki)(der)
    }
}

impl fmt::Debug for SoftwareKeyLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKeyLoader")
            .field("symmetric_keys", &self.aes_kw.is_some())
            .finish_non_exhaustive()
    }
}

/// Declares `KEY_LOADER`, the [`SoftwareKeyLoader`]
/// of a backend whose software keys are `$rsa` and `$ec` (each with a
/// `from_pkcs8_der(&[u8])`), from the functions it has in scope:
/// `rsa_from_components(&RsaKeyComponents)`,
/// `ec_from_components(&EcPublicKey, &[u8])` and
/// `public_from_spki(&[u8])`. `$aes_kw` is the AES key wrap of `oct` keys
/// (`None` if the backend holds none).
#[macro_export]
macro_rules! software_key_loader {
    ($rsa:ty, $ec:ty, $aes_kw:expr) => {
        /// The key loader of this backend (PKCS#8, SPKI, and JWK components).
        pub static KEY_LOADER: $crate::crypto::SoftwareKeyLoader =
            $crate::crypto::SoftwareKeyLoader {
                rsa_pkcs8: |der| $crate::crypto::boxed(<$rsa>::from_pkcs8_der(der)),
                ec_pkcs8: |der| $crate::crypto::boxed(<$ec>::from_pkcs8_der(der)),
                rsa: |c| $crate::crypto::boxed(rsa_from_components(c)),
                ec: |public, d| $crate::crypto::boxed(ec_from_components(public, d)),
                spki: public_from_spki,
                aes_kw: $aes_kw,
            };
    };
}

/// Declares a backend's `private_key_from_pem` and `public_key_from_pem`
/// (RFC 7468 labels: `PRIVATE KEY` through `KEY_LOADER`'s PKCS#8,
/// `RSA PRIVATE KEY` through `$rsa::from_pkcs1_der`, with `sec1 $ec` also
/// `EC PRIVATE KEY` through `$ec::from_pkcs8_der`, and `PUBLIC KEY` through
/// `public_from_spki`), over the backend's PEM decoder `$decode`
/// (`fn(&str) -> Result<(&str, Zeroizing<Vec<u8>>), CryptoError>`, label
/// and DER). Any other label is [`CryptoError::InvalidKey`](crate::crypto::CryptoError).
#[macro_export]
macro_rules! pem_key_loading {
    ($decode:path, $rsa:ty) => {
        $crate::pem_key_loading!(@private $decode, $rsa,
            "A private key from PEM: PKCS#8 (`PRIVATE KEY`: RSA, P-256, P-384) or PKCS#1 \
             (`RSA PRIVATE KEY`).");
        $crate::pem_key_loading!(@public $decode);
    };
    ($decode:path, $rsa:ty, sec1 $ec:ty) => {
        $crate::pem_key_loading!(@private $decode, $rsa,
            "A private key from PEM: PKCS#8 (`PRIVATE KEY`: RSA, P-256, P-384), PKCS#1 \
             (`RSA PRIVATE KEY`) or RFC 5915 (`EC PRIVATE KEY`).", $ec);
        $crate::pem_key_loading!(@public $decode);
    };
    (@private $decode:path, $rsa:ty, $doc:literal $(, $ec:ty)?) => {
        #[doc = $doc]
        pub fn private_key_from_pem(pem: &str) -> $crate::crypto::Loaded {
            let (label, der) = $decode(pem)?;
            match label {
                "PRIVATE KEY" => {
                    $crate::crypto::KeyLoader::private_key_from_pkcs8_der(&KEY_LOADER, &der)
                }
                "RSA PRIVATE KEY" => $crate::crypto::boxed(<$rsa>::from_pkcs1_der(&der)),
                $("EC PRIVATE KEY" => $crate::crypto::boxed(<$ec>::from_pkcs8_der(&der)),)?
                _ => Err($crate::crypto::CryptoError::InvalidKey),
            }
        }
    };
    (@public $decode:path) => {
        /// A public key from a PEM SubjectPublicKeyInfo (`PUBLIC KEY`).
        pub fn public_key_from_pem(
            pem: &str,
        ) -> Result<$crate::crypto::PublicKey, $crate::crypto::CryptoError> {
            let (label, der) = $decode(pem)?;
            match label {
                "PUBLIC KEY" => public_from_spki(&der),
                _ => Err($crate::crypto::CryptoError::InvalidKey),
            }
        }
    };
}

/// Declares a backend's digests `SHA256`, `SHA384`, `SHA512` and `SHA1`
/// (each a [`HashDigest`]) over its hash
/// function `$hash: fn(HashAlg, &[u8]) -> Vec<u8>` and its incremental
/// form `$start: fn(HashAlg) -> Box<dyn DigestContext>`.
///
/// SHA-1 is offered only so that OCSP CertIDs hashed with it (openssl's
/// default, RFC 6960 4.1.1) can be matched: comparing identifiers under a
/// verified signature is not a security use of SHA-1. No JWS algorithm
/// hashes with it and a backend offers no SHA-1 certificate signature
/// algorithm, so SHA-1 signatures stay refused.
#[macro_export]
macro_rules! backend_digests {
    ($hash:path, $start:path) => {
        /// SHA-256.
        pub static SHA256: $crate::crypto::HashDigest =
            $crate::crypto::HashDigest::new($crate::crypto::HashAlg::Sha256, $hash, $start);
        /// SHA-384.
        pub static SHA384: $crate::crypto::HashDigest =
            $crate::crypto::HashDigest::new($crate::crypto::HashAlg::Sha384, $hash, $start);
        /// SHA-512.
        pub static SHA512: $crate::crypto::HashDigest =
            $crate::crypto::HashDigest::new($crate::crypto::HashAlg::Sha512, $hash, $start);
        /// SHA-1, for matching OCSP CertIDs only (RFC 6960 4.1.1); never a
        /// signature hash.
        pub static SHA1: $crate::crypto::HashDigest =
            $crate::crypto::HashDigest::new($crate::crypto::HashAlg::Sha1, $hash, $start);
    };
}

/// Declares, at the crate root of a *complete* backend (one offering every
/// algorithm OTrP names), the algorithms otrp-core builds from its
/// primitives (`RSA1_5`, `RSA_OAEP`, `RSA_OAEP_256` over `RSA_ENCRYPT`;
/// `A128KW`, `A256KW` over `AES_KW`; `A128CBC_HS256`,
/// `A256CBC_HS512` over `AES_CBC` and `HMAC`; `A128GCM`, `A256GCM` over
/// `AES_GCM`; `ECDH_ES`,
/// `ECDH_ES_A128KW`, `ECDH_ES_A256KW` over `ECDH`, `AES_KW` and
/// `SHA256`), its provider tables and its `provider_with_random`
/// constructor. The crate root must have in scope the primitives above,
/// the backend's own algorithm objects under their JOSE names (`RS256` ...
/// `PS512`, `ES256`, `ES384`), its digests (`SHA256` ... `SHA1`), `KEY_LOADER`
/// and `webpki::ALL_WEBPKI_ALGORITHMS`.
#[macro_export]
macro_rules! complete_provider_tables {
    () => {
        /// RSAES-PKCS1-v1_5 (RFC 7518 4.2).
        pub static RSA1_5: $crate::crypto::RsaKeyEncryption =
            $crate::crypto::RsaKeyEncryption::new($crate::crypto::KeyAlg::Rsa1_5, &RSA_ENCRYPT);
        /// RSAES-OAEP with SHA-1 (RFC 7518 4.3).
        pub static RSA_OAEP: $crate::crypto::RsaKeyEncryption =
            $crate::crypto::RsaKeyEncryption::new($crate::crypto::KeyAlg::RsaOaep, &RSA_ENCRYPT);
        /// RSAES-OAEP with SHA-256 (RFC 7518 4.3).
        pub static RSA_OAEP_256: $crate::crypto::RsaKeyEncryption =
            $crate::crypto::RsaKeyEncryption::new($crate::crypto::KeyAlg::RsaOaep256, &RSA_ENCRYPT);

        /// AES-128 key wrap (RFC 7518 4.4).
        pub static A128KW: $crate::crypto::AesKeyWrap =
            $crate::crypto::AesKeyWrap::new($crate::crypto::KeyAlg::A128Kw, &AES_KW);
        /// AES-256 key wrap (RFC 7518 4.4).
        pub static A256KW: $crate::crypto::AesKeyWrap =
            $crate::crypto::AesKeyWrap::new($crate::crypto::KeyAlg::A256Kw, &AES_KW);

        /// AES-128-CBC with HMAC-SHA-256 truncated to 128 bits (RFC 7518 5.2.3).
        pub static A128CBC_HS256: $crate::crypto::AesCbcHmac = $crate::crypto::AesCbcHmac::new(
            $crate::crypto::ContentAlg::A128CbcHs256,
            &AES_CBC,
            &HMAC,
        );
        /// AES-256-CBC with HMAC-SHA-512 truncated to 256 bits (RFC 7518 5.2.5).
        pub static A256CBC_HS512: $crate::crypto::AesCbcHmac = $crate::crypto::AesCbcHmac::new(
            $crate::crypto::ContentAlg::A256CbcHs512,
            &AES_CBC,
            &HMAC,
        );

        /// AES-128-GCM (RFC 7518 5.3).
        pub static A128GCM: $crate::crypto::AesGcmCipher =
            $crate::crypto::AesGcmCipher::new($crate::crypto::ContentAlg::A128Gcm, &AES_GCM);
        /// AES-256-GCM (RFC 7518 5.3).
        pub static A256GCM: $crate::crypto::AesGcmCipher =
            $crate::crypto::AesGcmCipher::new($crate::crypto::ContentAlg::A256Gcm, &AES_GCM);

        /// ECDH-ES direct key agreement (RFC 7518 4.6).
        pub static ECDH_ES: $crate::crypto::EcdhEs =
            $crate::crypto::EcdhEs::new($crate::crypto::KeyAlg::EcdhEs, &ECDH, &AES_KW, &SHA256);
        /// ECDH-ES with A128KW (RFC 7518 4.6).
        pub static ECDH_ES_A128KW: $crate::crypto::EcdhEs = $crate::crypto::EcdhEs::new(
            $crate::crypto::KeyAlg::EcdhEsA128Kw,
            &ECDH,
            &AES_KW,
            &SHA256,
        );
        /// ECDH-ES with A256KW (RFC 7518 4.6).
        pub static ECDH_ES_A256KW: $crate::crypto::EcdhEs = $crate::crypto::EcdhEs::new(
            $crate::crypto::KeyAlg::EcdhEsA256Kw,
            &ECDH,
            &AES_KW,
            &SHA256,
        );

        /// Every JWS verification algorithm of this backend.
        pub static SIGNATURE_VERIFIERS: &[&dyn $crate::crypto::SignatureVerifier] = &[
            &RS256, &RS384, &RS512, &PS256, &PS384, &PS512, &ES256, &ES384,
        ];

        /// Every JWE key management algorithm of this backend.
        pub static KEY_ENCRYPTERS: &[&dyn $crate::crypto::KeyEncrypter] = &[
            &RSA1_5,
            &RSA_OAEP,
            &RSA_OAEP_256,
            &ECDH_ES,
            &ECDH_ES_A128KW,
            &ECDH_ES_A256KW,
            &A128KW,
            &A256KW,
        ];

        /// Every JWE content encryption algorithm of this backend.
        pub static CONTENT_CIPHERS: &[&dyn $crate::crypto::ContentCipher] =
            &[&A128CBC_HS256, &A256CBC_HS512, &A128GCM, &A256GCM];

        /// Every digest of this backend. SHA-1 is listed for OCSP CertIDs
        /// only (RFC 6960 4.1.1); no signature algorithm of this backend
        /// uses it.
        pub static DIGESTS: &[&dyn $crate::crypto::Digest] = &[&SHA256, &SHA384, &SHA512, &SHA1];

        /// The provider with a random source of your own (tests script it;
        /// a device or a trusted OS may have its own).
        pub const fn provider_with_random(
            random: &'static dyn $crate::crypto::SecureRandom,
        ) -> $crate::crypto::Provider {
            $crate::crypto::Provider {
                signature_verifiers: SIGNATURE_VERIFIERS,
                key_encrypters: KEY_ENCRYPTERS,
                content_ciphers: CONTENT_CIPHERS,
                digests: DIGESTS,
                secure_random: random,
                key_loader: &KEY_LOADER,
                webpki_algorithms: webpki::ALL_WEBPKI_ALGORITHMS,
            }
        }
    };
}

/// Declares, in a backend's `webpki` module, `ALL_WEBPKI_ALGORITHMS`: the
/// X.509 signature algorithms OTrP uses (spec 4.4), from the module's
/// statics `ECDSA_P256_SHA256`, `ECDSA_P384_SHA384`, `RSA_PKCS1_SHA256`,
/// `RSA_PKCS1_SHA384`, `RSA_PKCS1_SHA512`, `RSA_PSS_SHA256`,
/// `RSA_PSS_SHA384` and `RSA_PSS_SHA512`.
#[macro_export]
macro_rules! all_webpki_algorithms {
    () => {
        /// Every algorithm of this module, strongest hash first within each
        /// family.
        pub static ALL_WEBPKI_ALGORITHMS:
            &[&dyn ::rustls_pki_types::SignatureVerificationAlgorithm] = &[
            ECDSA_P256_SHA256,
            ECDSA_P384_SHA384,
            RSA_PKCS1_SHA256,
            RSA_PKCS1_SHA384,
            RSA_PKCS1_SHA512,
            RSA_PSS_SHA256,
            RSA_PSS_SHA384,
            RSA_PSS_SHA512,
        ];
    };
}
