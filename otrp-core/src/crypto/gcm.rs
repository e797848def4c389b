//! AES-GCM content encryption (RFC 7518 5.3: A128GCM, A256GCM), over a
//! backend's [`AesGcm`]: the length checks and the wiping of a message
//! that did not authenticate are written once, here, and each backend
//! supplies only the block-cipher mode. ring and aws-lc-rs share one
//! `aead` API, so their primitive is written once too
//! ([`aead_aes_gcm!`](crate::aead_aes_gcm)).

use alloc::vec::Vec;

use zeroize::Zeroize;

use super::{AesGcm, Cek, ContentAlg, ContentCipher, CryptoError};

/// A128GCM or A256GCM over a backend's AES-GCM.
pub struct AesGcmCipher {
    alg: ContentAlg,
    gcm: &'static dyn AesGcm,
}

impl core::fmt::Debug for AesGcmCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("AesGcmCipher").field(&self.alg).finish()
    }
}

impl AesGcmCipher {
    /// The content cipher for `alg` (A128GCM or A256GCM; any other
    /// algorithm refuses every key).
    pub const fn new(alg: ContentAlg, gcm: &'static dyn AesGcm) -> Self {
        Self { alg, gcm }
    }

    /// Whether `cek` and `iv` have the lengths of this algorithm (5.3).
    fn fits(&self, cek: &Cek, iv: &[u8]) -> bool {
        matches!(self.alg, ContentAlg::A128Gcm | ContentAlg::A256Gcm)
            && cek.len() == self.alg.key_len()
            && iv.len() == self.alg.iv_len()
    }
}

impl ContentCipher for AesGcmCipher {
    fn algorithm(&self) -> ContentAlg {
        self.alg
    }

    fn encrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u8>, CryptoError> {
        if !self.fits(cek, iv) {
            return Err(CryptoError::InvalidLength);
        }
        let tag = self
            .gcm
            .seal(cek.as_bytes(), iv, aad, buf)
            .map_err(|_| CryptoError::InvalidLength)?;
        Ok(tag.to_vec())
    }

    fn decrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        if !self.fits(cek, iv) || tag.len() != self.alg.tag_len() {
            return Err(CryptoError::Decrypt);
        }
        self.gcm
            .open(cek.as_bytes(), iv, aad, buf, tag)
            .map_err(|_| {
                // The buffer may hold unauthenticated output: release
                // nothing of it.
                buf.zeroize();
                CryptoError::Decrypt
            })
    }
}

/// Declares `$name`, the [`AesGcm`] primitive of a
/// backend whose crate `$krate` has ring's `aead` API (`ring`,
/// `aws_lc_rs`): the key and nonce types and sealing are the same in both;
/// opening with a separate tag differs, so the backend gives it as
/// `open(key, nonce, aad, tag, buf) => expression`, an expression over a
/// `LessSafeKey`, a `Nonce`, an `Aad<&[u8]>`, the tag `&[u8]` and the
/// buffer `&mut [u8]` whose `Ok` is success.
#[macro_export]
macro_rules! aead_aes_gcm {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident on $krate:ident;
        open($key:ident, $nonce:ident, $aad:ident, $tag:ident, $buf:ident) => $open:expr;
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        $vis struct $name;

        impl $name {
            /// AES-128-GCM or AES-256-GCM, by the length of `key`.
            fn aead_key(
                key: &[u8],
            ) -> Result<$krate::aead::LessSafeKey, $crate::crypto::CryptoError> {
                let alg = match key.len() {
                    16 => &$krate::aead::AES_128_GCM,
                    32 => &$krate::aead::AES_256_GCM,
                    _ => return Err($crate::crypto::CryptoError::InvalidLength),
                };
                $krate::aead::UnboundKey::new(alg, key)
                    .map($krate::aead::LessSafeKey::new)
                    .map_err(|_| $crate::crypto::CryptoError::InvalidLength)
            }

            /// A 12-byte nonce.
            fn aead_nonce(
                nonce: &[u8],
            ) -> Result<$krate::aead::Nonce, $crate::crypto::CryptoError> {
                $krate::aead::Nonce::try_assume_unique_for_key(nonce)
                    .map_err(|_| $crate::crypto::CryptoError::InvalidLength)
            }
        }

        impl $crate::crypto::AesGcm for $name {
            fn seal(
                &self,
                key: &[u8],
                nonce: &[u8],
                aad: &[u8],
                buf: &mut [u8],
            ) -> $crate::crypto::Sealed {
                let tag = Self::aead_key(key)?
                    .seal_in_place_separate_tag(
                        Self::aead_nonce(nonce)?,
                        $krate::aead::Aad::from(aad),
                        buf,
                    )
                    .map_err(|_| $crate::crypto::CryptoError::InvalidLength)?;
                <[u8; 16]>::try_from(tag.as_ref())
                    .map_err(|_| $crate::crypto::CryptoError::Backend)
            }

            fn open(
                &self,
                key: &[u8],
                nonce: &[u8],
                aad: &[u8],
                buf: &mut [u8],
                tag: &[u8],
            ) -> $crate::crypto::Verified {
                let $key = Self::aead_key(key)?;
                let $nonce = Self::aead_nonce(nonce)?;
                let $aad = $krate::aead::Aad::from(aad);
                let ($tag, $buf) = (tag, buf);
                match $open {
                    Ok(_) => Ok(()),
                    Err(_) => Err($crate::crypto::CryptoError::Decrypt),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Sealed, Verified};

    /// A fake mode: "encrypts" by XOR with the key's first byte, tags with
    /// 16 copies of it, and leaves garbage behind when a tag is wrong.
    struct Xor;

    impl AesGcm for Xor {
        fn seal(&self, key: &[u8], _: &[u8], _: &[u8], buf: &mut [u8]) -> Sealed {
            buf.iter_mut().for_each(|b| *b ^= key[0]);
            Ok([key[0]; 16])
        }
        fn open(&self, key: &[u8], _: &[u8], _: &[u8], buf: &mut [u8], tag: &[u8]) -> Verified {
            buf.iter_mut().for_each(|b| *b ^= key[0]);
            if tag == [key[0]; 16] {
                Ok(())
            } else {
                Err(CryptoError::Decrypt)
            }
        }
    }

    static A128: AesGcmCipher = AesGcmCipher::new(ContentAlg::A128Gcm, &Xor);

    #[test]
    fn lengths_are_checked_before_the_mode_runs() {
        let cek = Cek::from_slice(&[7; 16]);
        let mut buf = b"message".to_vec();
        let short = Cek::from_slice(&[7; 32]);
        assert_eq!(
            A128.encrypt(&short, &[0; 12], b"", &mut buf),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(
            A128.encrypt(&cek, &[0; 16], b"", &mut buf),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(buf, b"message");
        let tag = A128.encrypt(&cek, &[0; 12], b"", &mut buf).unwrap();
        assert_eq!(
            A128.decrypt(&cek, &[0; 12], b"", &mut buf, &tag[..15]),
            Err(CryptoError::Decrypt)
        );
        A128.decrypt(&cek, &[0; 12], b"", &mut buf, &tag).unwrap();
        assert_eq!(buf, b"message");
    }

    #[test]
    fn a_message_that_does_not_authenticate_is_wiped() {
        let cek = Cek::from_slice(&[7; 16]);
        let mut buf = b"message".to_vec();
        A128.encrypt(&cek, &[0; 12], b"", &mut buf).unwrap();
        assert_eq!(
            A128.decrypt(&cek, &[0; 12], b"", &mut buf, &[0; 16]),
            Err(CryptoError::Decrypt)
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn a_cbc_algorithm_refuses_every_key() {
        static WRONG: AesGcmCipher = AesGcmCipher::new(ContentAlg::A128CbcHs256, &Xor);
        let mut buf = b"m".to_vec();
        let cek = Cek::from_slice(&[7; 32]);
        assert_eq!(
            WRONG.encrypt(&cek, &[0; 16], b"", &mut buf),
            Err(CryptoError::InvalidLength)
        );
    }
}
