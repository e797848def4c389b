//! What every backend's software keys would otherwise write out again:
//! ephemeral key generation and ECDH with its curve check ([`EcScalar`],
//! [`ephemeral_agree`], [`ephemeral_ecdh!`]), and [`JwsSigner`] and
//! [`CekDecrypter`] for RSA and EC keys ([`software_key!`]) over the
//! backend's own operations ([`RsaSigningKey`], [`EcSigningKey`],
//! [`RsaDecryptingKey`]), so that the checks that an algorithm fits the
//! key, RSA key decryption's dispatch (RFC 7516 11.5 for RSA1_5) and
//! ECDH-ES's are written once, here.
//!
//! [`JwsSigner`]: super::JwsSigner
//! [`CekDecrypter`]: super::CekDecrypter
//! [`ephemeral_ecdh!`]: crate::ephemeral_ecdh
//! [`software_key!`]: crate::software_key

use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::{
    Cek, ContentAlg, CryptoError, Curve, EcPublicKey, KeyAlg, RsaPublicKey, SecretBytes,
    SecureRandom, SharedSecret, rsa1_5_decrypt_cek,
};
use super::{JwsAlg, KeyKind, PublicKey};

/// How many times key generation draws again after an invalid scalar
/// (probability about 2^-32 per draw on P-256, far less on P-384).
const KEYGEN_ATTEMPTS: usize = 16;

/// A backend's P-256 or P-384 private scalar, as ECDH uses it.
pub trait EcScalar: Sized {
    /// A scalar of exactly the curve's field length, in `[1, n-1]`;
    /// anything else is [`CryptoError::InvalidKey`].
    fn from_scalar(curve: Curve, d: &[u8]) -> Result<Self, CryptoError>;

    /// The curve.
    fn curve(&self) -> Curve;

    /// The public key.
    fn public(&self) -> Result<EcPublicKey, CryptoError>;

    /// The raw ECDH secret (the x coordinate) with `peer`, a key on this
    /// scalar's curve, refusing a point off the curve.
    fn diffie_hellman(&self, peer: &EcPublicKey) -> Result<SharedSecret, CryptoError>;

    /// A fresh key: exactly `curve.field_len()` bytes drawn from `rng` in
    /// one `fill` call become the scalar; only an invalid scalar draws
    /// again.
    fn generate(curve: Curve, rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        let mut buf = Zeroizing::new([0u8; 48]);
        let d = buf
            .get_mut(..curve.field_len())
            .ok_or(CryptoError::Backend)?;
        for _ in 0..KEYGEN_ATTEMPTS {
            rng.fill(d)?;
            if let Ok(key) = Self::from_scalar(curve, d) {
                return Ok(key);
            }
        }
        Err(CryptoError::Random)
    }

    /// The raw ECDH secret with `peer`, refusing a peer on another curve
    /// or off the curve ([`CryptoError::InvalidKey`]).
    fn ecdh(&self, peer: &EcPublicKey) -> Result<SharedSecret, CryptoError> {
        if peer.curve() != self.curve() {
            return Err(CryptoError::InvalidKey);
        }
        self.diffie_hellman(peer)
    }
}

/// The sender's half of ECDH-ES with `S`'s scalars: a fresh key on
/// `peer`'s curve from `rng`, its public key and the secret it agrees with
/// `peer`.
pub fn ephemeral_agree<S: EcScalar>(
    peer: &EcPublicKey,
    rng: &dyn SecureRandom,
) -> Result<(EcPublicKey, SharedSecret), CryptoError> {
    let ephemeral = S::generate(peer.curve(), rng)?;
    let z = ephemeral.ecdh(peer)?;
    Ok((ephemeral.public()?, z))
}

/// A backend's RSA private key as a signer (RS256 ... PS512).
pub trait RsaSigningKey: Send + Sync {
    /// The public key.
    fn rsa_public(&self) -> &RsaPublicKey;
    /// Signs `m` with `alg`, an RSA algorithm (checked before the call).
    fn sign_rsa(&self, alg: JwsAlg, m: &[u8], rng: &dyn SecureRandom) -> JwsSignature;
}

/// A backend's EC private key as a signer (ES256 on P-256, ES384 on
/// P-384).
pub trait EcSigningKey: Send + Sync {
    /// The public key.
    fn ec_public(&self) -> &EcPublicKey;
    /// Signs `m` with the ECDSA of the key's curve (its algorithm checked
    /// before the call), in JWS form (`r || s`).
    fn sign_ecdsa(&self, m: &[u8]) -> JwsSignature;
}

/// Whether a check passed (a signature verified, a tag authenticated),
/// or why not.
pub type Verified = Result<(), CryptoError>;

/// A signature in JWS form, or why not.
pub type JwsSignature = Result<Vec<u8>, CryptoError>;

/// A backend's RSA private key as a CEK decrypter (RSA1_5, RSA-OAEP,
/// RSA-OAEP-256).
pub trait RsaDecryptingKey: Send + Sync {
    /// The raw private operation (blinded, in constant time) on `c`: the
    /// k-byte encoded message, which [`rsa1_5_decrypt_cek`] decodes.
    fn decrypt_raw(&self, c: &[u8], rng: &dyn SecureRandom) -> Secret;
    /// RSAES-OAEP decryption of `c` with SHA-1 (RSA-OAEP) or SHA-256
    /// (RSA-OAEP-256); any failure is [`CryptoError::Decrypt`].
    fn decrypt_oaep(&self, alg: KeyAlg, c: &[u8], rng: &dyn SecureRandom) -> Secret;
}

/// Secret bytes a primitive computed (a MAC, a decrypted CEK), wiped on
/// drop, or why not.
pub type Secret = Result<Zeroizing<Vec<u8>>, CryptoError>;

/// Recovers the CEK for `enc` from `encrypted_key` with an RSA key: RSA1_5
/// by [`rsa1_5_decrypt_cek`] (a random CEK on any failure, RFC 7516 11.5),
/// the OAEP variants by the backend, refusing a CEK of the wrong length;
/// any other algorithm is [`CryptoError::KeyMismatch`].
pub fn rsa_decrypt_cek(
    key: &dyn RsaDecryptingKey,
    alg: KeyAlg,
    enc: ContentAlg,
    encrypted_key: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Cek, CryptoError> {
    match alg {
        KeyAlg::Rsa1_5 => rsa1_5_decrypt_cek(enc, rng, || key.decrypt_raw(encrypted_key, rng)),
        KeyAlg::RsaOaep | KeyAlg::RsaOaep256 => {
            let cek = key.decrypt_oaep(alg, encrypted_key, rng)?;
            if cek.len() != enc.key_len() {
                return Err(CryptoError::Decrypt);
            }
            Ok(SecretBytes::from(cek))
        }
        _ => Err(CryptoError::KeyMismatch),
    }
}

/// Declares `$name`, a backend's [`Ecdh`](crate::crypto::Ecdh) primitive
/// over its [`EcScalar`] `$scalar`
/// ([`ephemeral_agree`]).
#[macro_export]
macro_rules! ephemeral_ecdh {
    ($(#[$meta:meta])* $vis:vis struct $name:ident over $scalar:ty;) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        $vis struct $name;

        impl $crate::crypto::Ecdh for $name {
            fn ephemeral_agree(
                &self,
                peer: &$crate::crypto::EcPublicKey,
                rng: &dyn $crate::crypto::SecureRandom,
            ) -> Result<
                ($crate::crypto::EcPublicKey, $crate::crypto::SharedSecret),
                $crate::crypto::CryptoError,
            > {
                $crate::crypto::ephemeral_agree::<$scalar>(peer, rng)
            }
        }
    };
}

/// Implements, for a backend's software key type, what otrp-core can say
/// over the backend's operations:
///
/// - `software_key!(rsa signer Type)`: [`JwsSigner`] over
///   [`RsaSigningKey`], refusing a non-RSA algorithm, and a `Debug` that
///   shows the modulus size only;
/// - `software_key!(ec signer Type)`: [`JwsSigner`] over [`EcSigningKey`],
///   refusing an algorithm of another curve, and a `Debug` that shows the
///   curve only;
/// - `software_key!(rsa decrypter Type)`: [`CekDecrypter`] over
///   [`RsaDecryptingKey`] ([`rsa_decrypt_cek`]);
/// - `software_key!(ecdh_es decrypter Type, field, aes_kw, sha256)`:
///   [`CekDecrypter`] for ECDH-ES and its key-wrap variants
///   ([`ecdh_es_decrypt_cek`]) with the [`EcScalar`] in `self.field`, the
///   backend's [`AesKw`] and SHA-256 (the type is an [`EcSigningKey`] too).
///
/// A mismatch is [`CryptoError::KeyMismatch`](crate::crypto::CryptoError).
///
/// [`JwsSigner`]: crate::crypto::JwsSigner
/// [`CekDecrypter`]: crate::crypto::CekDecrypter
/// [`RsaSigningKey`]: crate::crypto::RsaSigningKey
/// [`EcSigningKey`]: crate::crypto::EcSigningKey
/// [`RsaDecryptingKey`]: crate::crypto::RsaDecryptingKey
/// [`EcScalar`]: crate::crypto::EcScalar
/// [`AesKw`]: crate::crypto::AesKw
/// [`rsa_decrypt_cek`]: crate::crypto::rsa_decrypt_cek
/// [`ecdh_es_decrypt_cek`]: crate::crypto::ecdh_es_decrypt_cek
#[macro_export]
macro_rules! software_key {
    (rsa signer $ty:ty) => {
        $crate::software_key!(@signer $ty,
            |_key| $crate::crypto::KeyKind::Rsa,
            |key| $crate::crypto::PublicKey::Rsa(
                $crate::crypto::RsaSigningKey::rsa_public(key).clone()),
            |key, alg, message, rng| {
                $crate::crypto::RsaSigningKey::sign_rsa(key, alg, message, rng)
            },
            "bits" |key| $crate::crypto::RsaSigningKey::rsa_public(key).bits());
    };
    (ec signer $ty:ty) => {
        $crate::software_key!(@signer $ty,
            |key| $crate::crypto::KeyKind::Ec($crate::crypto::EcSigningKey::ec_public(key).curve()),
            |key| $crate::crypto::PublicKey::Ec(
                $crate::crypto::EcSigningKey::ec_public(key).clone()),
            |key, _alg, message, _rng| $crate::crypto::EcSigningKey::sign_ecdsa(key, message),
            "curve" |key| $crate::crypto::EcSigningKey::ec_public(key).curve());
    };
    (@signer $ty:ty,
        |$k1:ident| $kind:expr,
        |$k2:ident| $public:expr,
        |$k3:ident, $alg:ident, $message:ident, $rng:ident| $sign:expr,
        $label:literal |$k4:ident| $shown:expr) => {
        /// Shows what is public about the key, never its secret.
        impl ::core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let $k4 = self;
                f.debug_struct(stringify!($ty))
                    .field($label, &$shown)
                    .finish_non_exhaustive()
            }
        }

        impl $crate::crypto::JwsSigner for $ty {
            fn key_kind(&self) -> $crate::crypto::KeyKind {
                let $k1 = self;
                $kind
            }

            fn public_key(&self) -> Option<$crate::crypto::PublicKey> {
                let $k2 = self;
                Some($public)
            }

            fn sign(
                &self,
                alg: $crate::crypto::JwsAlg,
                message: &[u8],
                rng: &dyn $crate::crypto::SecureRandom,
            ) -> $crate::crypto::JwsSignature {
                if alg.key_kind() != $crate::crypto::JwsSigner::key_kind(self) {
                    return Err($crate::crypto::CryptoError::KeyMismatch);
                }
                let ($k3, $alg, $message, $rng) = (self, alg, message, rng);
                $sign
            }
        }
    };
    (rsa decrypter $ty:ty) => {
        impl $crate::crypto::CekDecrypter for $ty {
            fn key_kind(&self) -> $crate::crypto::KeyKind {
                $crate::crypto::KeyKind::Rsa
            }

            fn decrypt_cek(
                &self,
                alg: $crate::crypto::KeyAlg,
                enc: $crate::crypto::ContentAlg,
                _params: &$crate::crypto::AgreementParams,
                encrypted_key: &[u8],
                rng: &dyn $crate::crypto::SecureRandom,
            ) -> Result<$crate::crypto::Cek, $crate::crypto::CryptoError> {
                $crate::crypto::rsa_decrypt_cek(self, alg, enc, encrypted_key, rng)
            }
        }
    };
    (ecdh_es decrypter $ty:ty, $field:ident, $aes_kw:expr, $sha256:expr) => {
        impl $crate::crypto::CekDecrypter for $ty {
            fn key_kind(&self) -> $crate::crypto::KeyKind {
                $crate::crypto::KeyKind::Ec($crate::crypto::EcSigningKey::ec_public(self).curve())
            }

            fn decrypt_cek(
                &self,
                alg: $crate::crypto::KeyAlg,
                enc: $crate::crypto::ContentAlg,
                params: &$crate::crypto::AgreementParams,
                encrypted_key: &[u8],
                _rng: &dyn $crate::crypto::SecureRandom,
            ) -> Result<$crate::crypto::Cek, $crate::crypto::CryptoError> {
                let agree = |epk: &$crate::crypto::EcPublicKey| {
                    $crate::crypto::EcScalar::ecdh(&self.$field, epk)
                };
                $crate::crypto::ecdh_es_decrypt_cek(
                    alg,
                    enc,
                    params,
                    encrypted_key,
                    agree,
                    $aes_kw,
                    $sha256,
                )
            }
        }
    };
}

impl PublicKey {
    /// This key as the EC key of `alg`'s curve (ES256: P-256, ES384:
    /// P-384); an RSA key, a key on another curve and an RSA `alg` are
    /// [`CryptoError::KeyMismatch`].
    pub fn ec_for(&self, alg: JwsAlg) -> Result<&EcPublicKey, CryptoError> {
        match self {
            PublicKey::Ec(k) if alg.key_kind() == KeyKind::Ec(k.curve()) => Ok(k),
            _ => Err(CryptoError::KeyMismatch),
        }
    }

    /// This key as an RSA key of at least `min_bits`: an EC key is
    /// [`CryptoError::KeyMismatch`], a smaller RSA key
    /// [`CryptoError::InvalidKey`].
    pub fn rsa_at_least(&self, min_bits: usize) -> Result<&RsaPublicKey, CryptoError> {
        match self {
            PublicKey::Rsa(k) if k.bits() < min_bits => Err(CryptoError::InvalidKey),
            PublicKey::Rsa(k) => Ok(k),
            PublicKey::Ec(_) => Err(CryptoError::KeyMismatch),
        }
    }
}

/// Declares, `pub(crate)`, what a backend whose crate `$krate` has ring's
/// `signature` API (`ring`, `aws_lc_rs`) would otherwise write out again:
/// the tables `rsa_verification(JwsAlg)` (2048 to 8192 bits; PSS with
/// MGF1 of the same hash and a salt of the hash length, RFC 7518 3.5),
/// `rsa_signing(JwsAlg)` (both `None` for a non-RSA algorithm),
/// `ecdsa_verification(Curve)` and `ecdsa_signing(Curve)` (fixed-length
/// `r || s` signatures, the JWS form), and signing with a key pair,
/// `rsa_sign(&RsaKeyPair, &RsaPublicKey, JwsAlg, message)` and
/// `ecdsa_sign(&EcdsaKeyPair, message)`, whose randomness (PSS salts,
/// ECDSA nonces) comes from `$krate`'s own `SystemRandom`: neither crate
/// takes a random source of ours.
#[macro_export]
macro_rules! signature_api {
    ($krate:ident) => {
        /// Signs `message` with `alg` (an RSA algorithm, else
        /// `KeyMismatch`) and `pair`, whose public key is `public`.
        pub(crate) fn rsa_sign(
            pair: &$krate::signature::RsaKeyPair,
            public: &$crate::crypto::RsaPublicKey,
            alg: $crate::crypto::JwsAlg,
            message: &[u8],
        ) -> $crate::crypto::JwsSignature {
            let encoding = rsa_signing(alg).ok_or($crate::crypto::CryptoError::KeyMismatch)?;
            // The modulus has no leading zero byte: its length is the
            // signature's.
            let mut sig = vec![0u8; public.n().len()];
            let rng = $krate::rand::SystemRandom::new();
            pair.sign(encoding, &rng, message, &mut sig)
                .map_err(|_| $crate::crypto::CryptoError::Backend)?;
            Ok(sig)
        }

        /// Signs `message` with the ECDSA of `pair`'s curve, `r || s`.
        pub(crate) fn ecdsa_sign(
            pair: &$krate::signature::EcdsaKeyPair,
            message: &[u8],
        ) -> $crate::crypto::JwsSignature {
            let sig = pair
                .sign(&$krate::rand::SystemRandom::new(), message)
                .map_err(|_| $crate::crypto::CryptoError::Backend)?;
            Ok(sig.as_ref().to_vec())
        }

        /// The verification parameters of an RSA JWS algorithm.
        pub(crate) fn rsa_verification(
            alg: $crate::crypto::JwsAlg,
        ) -> Option<&'static $krate::signature::RsaParameters> {
            use $crate::crypto::JwsAlg;
            Some(match alg {
                JwsAlg::Rs256 => &$krate::signature::RSA_PKCS1_2048_8192_SHA256,
                JwsAlg::Rs384 => &$krate::signature::RSA_PKCS1_2048_8192_SHA384,
                JwsAlg::Rs512 => &$krate::signature::RSA_PKCS1_2048_8192_SHA512,
                JwsAlg::Ps256 => &$krate::signature::RSA_PSS_2048_8192_SHA256,
                JwsAlg::Ps384 => &$krate::signature::RSA_PSS_2048_8192_SHA384,
                JwsAlg::Ps512 => &$krate::signature::RSA_PSS_2048_8192_SHA512,
                _ => return None,
            })
        }

        /// The signing encoding of an RSA JWS algorithm.
        pub(crate) fn rsa_signing(
            alg: $crate::crypto::JwsAlg,
        ) -> Option<&'static dyn $krate::signature::RsaEncoding> {
            use $crate::crypto::JwsAlg;
            Some(match alg {
                JwsAlg::Rs256 => &$krate::signature::RSA_PKCS1_SHA256,
                JwsAlg::Rs384 => &$krate::signature::RSA_PKCS1_SHA384,
                JwsAlg::Rs512 => &$krate::signature::RSA_PKCS1_SHA512,
                JwsAlg::Ps256 => &$krate::signature::RSA_PSS_SHA256,
                JwsAlg::Ps384 => &$krate::signature::RSA_PSS_SHA384,
                JwsAlg::Ps512 => &$krate::signature::RSA_PSS_SHA512,
                _ => return None,
            })
        }

        /// ECDSA verification on `curve` with its JWS hash.
        pub(crate) fn ecdsa_verification(
            curve: $crate::crypto::Curve,
        ) -> &'static $krate::signature::EcdsaVerificationAlgorithm {
            match curve {
                $crate::crypto::Curve::P256 => &$krate::signature::ECDSA_P256_SHA256_FIXED,
                $crate::crypto::Curve::P384 => &$krate::signature::ECDSA_P384_SHA384_FIXED,
            }
        }

        /// ECDSA signing on `curve` with its JWS hash.
        pub(crate) fn ecdsa_signing(
            curve: $crate::crypto::Curve,
        ) -> &'static $krate::signature::EcdsaSigningAlgorithm {
            match curve {
                $crate::crypto::Curve::P256 => &$krate::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                $crate::crypto::Curve::P384 => &$krate::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use core::sync::atomic::{AtomicU8, Ordering};

    use super::*;

    /// A scalar that refuses a first byte of zero (as a backend refuses
    /// zero or a value of at least the order) and "agrees" by echoing it.
    struct Fake(Curve, Vec<u8>);

    impl EcScalar for Fake {
        fn from_scalar(curve: Curve, d: &[u8]) -> Result<Self, CryptoError> {
            match d.first() {
                Some(0) | None => Err(CryptoError::InvalidKey),
                Some(_) if d.len() == curve.field_len() => Ok(Fake(curve, d.to_vec())),
                Some(_) => Err(CryptoError::InvalidKey),
            }
        }
        fn curve(&self) -> Curve {
            self.0
        }
        fn public(&self) -> Result<EcPublicKey, CryptoError> {
            EcPublicKey::new(self.0, &self.1, &self.1)
        }
        fn diffie_hellman(&self, _: &EcPublicKey) -> Result<SharedSecret, CryptoError> {
            Ok(Zeroizing::new(self.1.clone()))
        }
    }

    /// Fills with 0, then 1, 2, ... (one value a call), counting calls.
    struct Counting(AtomicU8);

    impl SecureRandom for Counting {
        fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
            dest.fill(self.0.fetch_add(1, Ordering::Relaxed));
            Ok(())
        }
    }

    fn p256_point(byte: u8) -> EcPublicKey {
        EcPublicKey::new(Curve::P256, &[byte; 32], &[byte; 32]).unwrap()
    }

    #[test]
    fn generation_draws_again_only_after_an_invalid_scalar() {
        let rng = Counting(AtomicU8::new(0));
        let (public, z) = ephemeral_agree::<Fake>(&p256_point(9), &rng).unwrap();
        assert_eq!(
            rng.0.load(Ordering::Relaxed),
            2,
            "one refused draw, one accepted"
        );
        assert_eq!(public, p256_point(1));
        assert_eq!(*z, vec![1; 32]);
    }

    #[test]
    fn ecdh_refuses_a_peer_on_another_curve() {
        let key = Fake::from_scalar(Curve::P384, &[1; 48]).unwrap();
        assert_eq!(key.ecdh(&p256_point(9)), Err(CryptoError::InvalidKey));
    }

    #[test]
    fn a_key_fits_an_algorithm_or_is_refused_by_kind_then_size() {
        let ec = PublicKey::Ec(p256_point(9));
        assert!(ec.ec_for(JwsAlg::Es256).is_ok());
        assert_eq!(ec.ec_for(JwsAlg::Es384), Err(CryptoError::KeyMismatch));
        assert_eq!(ec.ec_for(JwsAlg::Rs256), Err(CryptoError::KeyMismatch));
        assert_eq!(ec.rsa_at_least(2048).err(), Some(CryptoError::KeyMismatch));
        let mut n = vec![0xC3; 256];
        n[255] = 0x01;
        let rsa = PublicKey::Rsa(RsaPublicKey::new(&n, &[1, 0, 1]).unwrap());
        assert_eq!(rsa.ec_for(JwsAlg::Es256), Err(CryptoError::KeyMismatch));
        assert!(rsa.rsa_at_least(2048).is_ok());
        assert_eq!(rsa.rsa_at_least(4096).err(), Some(CryptoError::InvalidKey));
    }
}
