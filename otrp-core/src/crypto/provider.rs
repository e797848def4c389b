//! [`Provider`]: what one crypto backend (or a combination) offers.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use rustls_pki_types::SignatureVerificationAlgorithm;

use super::{
    ContentAlg, ContentCipher, CryptoError, Digest, HashAlg, JwsAlg, KeyAlg, KeyEncrypter,
    KeyLoader, SecureRandom, SignatureVerifier,
};

/// A crypto backend as data: lists of algorithm objects, a random source and
/// a key loader. Providers combine with struct update syntax:
///
/// ```
/// use otrp_core::crypto::{JwsAlg, Provider};
///
/// let rustcrypto = otrp_crypto_rustcrypto::provider();
/// // Another backend's verifiers with RustCrypto for everything else:
/// let composed = Provider { signature_verifiers: rustcrypto.signature_verifiers, ..rustcrypto };
/// assert!(composed.signature_verifier(JwsAlg::Es256).is_ok());
/// // A provider with no verifiers answers Unsupported, never panics.
/// let none = Provider { signature_verifiers: &[], ..rustcrypto };
/// assert!(none.signature_verifier(JwsAlg::Es256).is_err());
/// ```
///
/// Looking up an algorithm a provider lacks is [`CryptoError::Unsupported`].
#[derive(Clone, Copy)]
pub struct Provider {
    /// JWS verification algorithms.
    pub signature_verifiers: &'static [&'static dyn SignatureVerifier],
    /// JWE key management algorithms, encryption side.
    pub key_encrypters: &'static [&'static dyn KeyEncrypter],
    /// JWE content encryption algorithms.
    pub content_ciphers: &'static [&'static dyn ContentCipher],
    /// SHA-2 digests.
    pub digests: &'static [&'static dyn Digest],
    /// The random source used for CEKs, IVs and ephemeral keys.
    pub secure_random: &'static dyn SecureRandom,
    /// Loads software keys of this backend.
    pub key_loader: &'static dyn KeyLoader,
    /// X.509 signature algorithms for certificate chain and OCSP validation
    /// (the rustls-pki-types seam that rustls-webpki uses).
    pub webpki_algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
}

impl Provider {
    /// The verifier for `alg`.
    pub fn signature_verifier(
        &self,
        alg: JwsAlg,
    ) -> Result<&'static dyn SignatureVerifier, CryptoError> {
        find(self.signature_verifiers, |v| v.algorithm() == alg).ok_or(unsupported(alg.name()))
    }

    /// The key encrypter for `alg`.
    pub fn key_encrypter(&self, alg: KeyAlg) -> Result<&'static dyn KeyEncrypter, CryptoError> {
        find(self.key_encrypters, |v| v.algorithm() == alg).ok_or(unsupported(alg.name()))
    }

    /// The content cipher for `alg`.
    pub fn content_cipher(
        &self,
        alg: ContentAlg,
    ) -> Result<&'static dyn ContentCipher, CryptoError> {
        find(self.content_ciphers, |v| v.algorithm() == alg).ok_or(unsupported(alg.name()))
    }

    /// The digest function for `alg`.
    pub fn digest(&self, alg: HashAlg) -> Result<&'static dyn Digest, CryptoError> {
        find(self.digests, |v| v.algorithm() == alg).ok_or(unsupported(alg.name()))
    }

    /// The JWS algorithms this provider can verify, in the order listed.
    pub fn supported_jws_algs(&self) -> impl Iterator<Item = JwsAlg> + '_ {
        self.signature_verifiers.iter().map(|v| v.algorithm())
    }

    /// `len` fresh random bytes.
    pub fn random_bytes(&self, len: usize) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; len];
        self.secure_random.fill(&mut out)?;
        Ok(out)
    }
}

fn find<T: ?Sized>(list: &'static [&'static T], pred: impl Fn(&T) -> bool) -> Option<&'static T> {
    list.iter().copied().find(|item| pred(item))
}

fn unsupported(name: &'static str) -> CryptoError {
    CryptoError::Unsupported(name)
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field(
                "signature_verifiers",
                &Names(
                    self.signature_verifiers
                        .iter()
                        .map(|v| v.algorithm().name()),
                ),
            )
            .field(
                "key_encrypters",
                &Names(self.key_encrypters.iter().map(|v| v.algorithm().name())),
            )
            .field(
                "content_ciphers",
                &Names(self.content_ciphers.iter().map(|v| v.algorithm().name())),
            )
            .field(
                "digests",
                &Names(self.digests.iter().map(|v| v.algorithm().name())),
            )
            .finish_non_exhaustive()
    }
}

struct Names<I>(I);

impl<I: Iterator<Item = &'static str> + Clone> fmt::Debug for Names<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}
