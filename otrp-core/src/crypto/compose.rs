//! Composing two backends' software keys: one signs, the other decrypts.
//!
//! A provider built from two backends (ring signatures with RustCrypto key
//! management, say) needs keys that can do both jobs. [`ComposedKeyLoader`]
//! loads a key with both backends' loaders and returns a [`SplitKey`] that
//! signs with the signing backend's key and recovers CEKs with the
//! decrypting backend's key.

use alloc::boxed::Box;

use super::traits::CekDecrypter;
use super::{
    AgreementParams, Cek, ContentAlg, CryptoError, JwsAlg, JwsSigner, KeyAlg, KeyComponents,
    KeyKind, KeyLoader, PrivateKey, PublicKey, SecureRandom,
};

/// One key held by two backends: [`JwsSigner`] goes to `signer`,
/// [`CekDecrypter`] to `decrypter`. Both must be the same key (as
/// [`ComposedKeyLoader`] guarantees by loading one document twice).
pub struct SplitKey {
    signer: Box<dyn PrivateKey>,
    decrypter: Box<dyn PrivateKey>,
}

impl SplitKey {
    /// Pairs two backends' copies of the same key.
    pub fn new(signer: Box<dyn PrivateKey>, decrypter: Box<dyn PrivateKey>) -> Self {
        Self { signer, decrypter }
    }
}

impl core::fmt::Debug for SplitKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SplitKey")
            .field("kind", &JwsSigner::key_kind(self.signer.as_ref()))
            .finish_non_exhaustive()
    }
}

impl JwsSigner for SplitKey {
    fn key_kind(&self) -> KeyKind {
        JwsSigner::key_kind(self.signer.as_ref())
    }

    fn public_key(&self) -> Option<PublicKey> {
        self.signer.public_key()
    }

    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<alloc::vec::Vec<u8>, CryptoError> {
        self.signer.sign(alg, message, rng)
    }
}

impl CekDecrypter for SplitKey {
    fn key_kind(&self) -> KeyKind {
        CekDecrypter::key_kind(self.decrypter.as_ref())
    }

    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        enc: ContentAlg,
        params: &AgreementParams,
        encrypted_key: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        self.decrypter
            .decrypt_cek(alg, enc, params, encrypted_key, rng)
    }
}

/// A [`KeyLoader`] over two backends' loaders, for a composed [`Provider`]:
///
/// - a key both loaders accept becomes a [`SplitKey`] (signing with
///   `signing`'s copy, CEK recovery with `decrypting`'s);
/// - a key only one loader accepts (ring holds no symmetric keys, and no EC
///   PKCS#8 document without its public key) is that loader's key alone, for
///   both roles: its answers (`Unsupported` included) stand;
/// - a key neither accepts is refused with the first loader's error, unless
///   that is [`CryptoError::Unsupported`], then with the second's.
///
/// Public keys are parsed by `signing`, or by `decrypting` if `signing`
/// answers `Unsupported`.
///
/// [`Provider`]: super::Provider
#[derive(Clone, Copy)]
pub struct ComposedKeyLoader {
    signing: &'static dyn KeyLoader,
    decrypting: &'static dyn KeyLoader,
}

impl ComposedKeyLoader {
    /// Composes two loaders: keys sign with `signing`'s backend and recover
    /// CEKs with `decrypting`'s.
    pub const fn new(signing: &'static dyn KeyLoader, decrypting: &'static dyn KeyLoader) -> Self {
        Self {
            signing,
            decrypting,
        }
    }

    fn combine(
        signer: Result<Box<dyn PrivateKey>, CryptoError>,
        decrypter: Result<Box<dyn PrivateKey>, CryptoError>,
    ) -> Result<Box<dyn PrivateKey>, CryptoError> {
        match (signer, decrypter) {
            (Ok(s), Ok(d)) => Ok(Box::new(SplitKey::new(s, d))),
            (Ok(k), Err(_)) | (Err(_), Ok(k)) => Ok(k),
            (Err(CryptoError::Unsupported(_)), Err(e)) | (Err(e), Err(_)) => Err(e),
        }
    }
}

impl core::fmt::Debug for ComposedKeyLoader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ComposedKeyLoader")
    }
}

impl KeyLoader for ComposedKeyLoader {
    fn private_key_from_pkcs8_der(&self, der: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
        Self::combine(
            self.signing.private_key_from_pkcs8_der(der),
            self.decrypting.private_key_from_pkcs8_der(der),
        )
    }

    fn private_key_from_components(
        &self,
        key: &KeyComponents,
    ) -> Result<Box<dyn PrivateKey>, CryptoError> {
        Self::combine(
            self.signing.private_key_from_components(key),
            self.decrypting.private_key_from_components(key),
        )
    }

    fn public_key_from_spki_der(&self, der: &[u8]) -> Result<PublicKey, CryptoError> {
        match self.signing.public_key_from_spki_der(der) {
            Err(CryptoError::Unsupported(_)) => self.decrypting.public_key_from_spki_der(der),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    /// A fake backend key: signs and decrypts with a fixed answer naming
    /// its backend, or refuses as configured.
    struct Fake(&'static str);

    impl JwsSigner for Fake {
        fn key_kind(&self) -> KeyKind {
            KeyKind::Rsa
        }
        fn public_key(&self) -> Option<PublicKey> {
            None
        }
        fn sign(&self, _: JwsAlg, _: &[u8], _: &dyn SecureRandom) -> Result<Vec<u8>, CryptoError> {
            Ok(self.0.as_bytes().to_vec())
        }
    }

    impl CekDecrypter for Fake {
        fn key_kind(&self) -> KeyKind {
            KeyKind::Rsa
        }
        fn decrypt_cek(
            &self,
            _: KeyAlg,
            _: ContentAlg,
            _: &AgreementParams,
            _: &[u8],
            _: &dyn SecureRandom,
        ) -> Result<Cek, CryptoError> {
            Ok(Cek::from_slice(self.0.as_bytes()))
        }
    }

    /// Loads `Fake(name)` or refuses with `error`.
    struct Loader(&'static str, Option<CryptoError>);

    impl KeyLoader for Loader {
        fn private_key_from_pkcs8_der(&self, _: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
            match self.1 {
                Some(e) => Err(e),
                None => Ok(Box::new(Fake(self.0))),
            }
        }
        fn private_key_from_components(
            &self,
            _: &KeyComponents,
        ) -> Result<Box<dyn PrivateKey>, CryptoError> {
            self.private_key_from_pkcs8_der(&[])
        }
        fn public_key_from_spki_der(&self, _: &[u8]) -> Result<PublicKey, CryptoError> {
            Err(self.1.unwrap_or(CryptoError::Backend))
        }
    }

    struct NoRandom;
    impl SecureRandom for NoRandom {
        fn fill(&self, _: &mut [u8]) -> Result<(), CryptoError> {
            Err(CryptoError::Random)
        }
    }

    fn roles(loader: ComposedKeyLoader) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let key = loader.private_key_from_pkcs8_der(&[])?;
        let signed = key.sign(JwsAlg::Rs256, b"m", &NoRandom)?;
        let none = AgreementParams::default();
        let cek = key.decrypt_cek(KeyAlg::Rsa1_5, ContentAlg::A128Gcm, &none, &[], &NoRandom)?;
        Ok((signed, cek.as_bytes().to_vec()))
    }

    fn leak(l: Loader) -> &'static dyn KeyLoader {
        Box::leak(Box::new(l))
    }

    #[test]
    fn each_role_goes_to_its_backend() {
        let both = ComposedKeyLoader::new(leak(Loader("sig", None)), leak(Loader("dec", None)));
        assert_eq!(roles(both), Ok((b"sig".to_vec(), b"dec".to_vec())));
    }

    #[test]
    fn a_key_one_loader_refuses_is_the_other_loaders_alone() {
        let unsupported = Some(CryptoError::Unsupported("oct"));
        let no_sig =
            ComposedKeyLoader::new(leak(Loader("sig", unsupported)), leak(Loader("dec", None)));
        assert_eq!(roles(no_sig), Ok((b"dec".to_vec(), b"dec".to_vec())));
        let invalid = Some(CryptoError::InvalidKey);
        let no_dec =
            ComposedKeyLoader::new(leak(Loader("sig", None)), leak(Loader("dec", invalid)));
        assert_eq!(roles(no_dec), Ok((b"sig".to_vec(), b"sig".to_vec())));
    }

    #[test]
    fn a_key_neither_loads_reports_the_informative_error() {
        let cases = [
            (
                CryptoError::Unsupported("a"),
                CryptoError::InvalidKey,
                CryptoError::InvalidKey,
            ),
            (
                CryptoError::InvalidKey,
                CryptoError::Unsupported("b"),
                CryptoError::InvalidKey,
            ),
            (
                CryptoError::Unsupported("a"),
                CryptoError::Unsupported("b"),
                CryptoError::Unsupported("b"),
            ),
        ];
        for (first, second, expected) in cases {
            let loader = ComposedKeyLoader::new(
                leak(Loader("s", Some(first))),
                leak(Loader("d", Some(second))),
            );
            assert_eq!(roles(loader).err(), Some(expected));
            let spki = loader.public_key_from_spki_der(&[]);
            let want = match first {
                CryptoError::Unsupported(_) => second,
                other => other,
            };
            assert_eq!(spki, Err(want));
        }
    }
}
