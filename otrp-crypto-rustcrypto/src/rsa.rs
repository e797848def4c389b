//! RSA: RS*/PS* signatures, RSA1_5 and RSA-OAEP(-256) key encryption.

use alloc::vec;
use alloc::vec::Vec;

use otrp_core::crypto::{
    Ciphertext, CryptoError, HashAlg, JwsAlg, JwsSignature, KeyAlg, PublicKey, RsaDecryptingKey,
    RsaEncrypt, RsaPublicKey, RsaSigningKey, Secret, SecureRandom, SignatureVerifier, Verified,
};
use rsa::traits::{PaddingScheme, PublicKeyParts};
use rsa::{BoxedUint, Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, Pss};
use zeroize::Zeroizing;

use crate::digest::hash;
use crate::random::RngAdapter;

/// The smallest RSA modulus accepted, in bits.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// A big-endian unsigned integer as a `BoxedUint` of its own byte width.
pub(crate) fn uint(bytes: &[u8]) -> Result<BoxedUint, CryptoError> {
    let bits = u32::try_from(bytes.len().max(1) * 8).map_err(|_| CryptoError::InvalidKey)?;
    BoxedUint::from_be_slice(bytes, bits).map_err(|_| CryptoError::InvalidKey)
}

/// The `rsa` crate's public key as ours.
fn from_rsa_public(key: &impl PublicKeyParts) -> Result<RsaPublicKey, CryptoError> {
    RsaPublicKey::new(&key.n_bytes(), &key.e_bytes())
}

/// Our public key as the `rsa` crate's, refusing an EC key and an RSA key
/// under 2048 bits.
fn rsa_public_of(key: &PublicKey) -> Result<rsa::PublicKey, CryptoError> {
    let key = key.rsa_at_least(MIN_RSA_BITS)?;
    rsa::PublicKey::new(uint(key.n())?, uint(key.e())?).map_err(|_| CryptoError::InvalidKey)
}

/// Verification of RS256/384/512 and PS256/384/512.
#[derive(Clone, Copy, Debug)]
pub struct RsaVerifier(JwsAlg);

/// RSASSA-PKCS1-v1_5 with SHA-256.
pub static RS256: RsaVerifier = RsaVerifier(JwsAlg::Rs256);
/// RSASSA-PKCS1-v1_5 with SHA-384.
pub static RS384: RsaVerifier = RsaVerifier(JwsAlg::Rs384);
/// RSASSA-PKCS1-v1_5 with SHA-512.
pub static RS512: RsaVerifier = RsaVerifier(JwsAlg::Rs512);
/// RSASSA-PSS with SHA-256.
pub static PS256: RsaVerifier = RsaVerifier(JwsAlg::Ps256);
/// RSASSA-PSS with SHA-384.
pub static PS384: RsaVerifier = RsaVerifier(JwsAlg::Ps384);
/// RSASSA-PSS with SHA-512.
pub static PS512: RsaVerifier = RsaVerifier(JwsAlg::Ps512);

fn is_pss(alg: JwsAlg) -> bool {
    matches!(alg, JwsAlg::Ps256 | JwsAlg::Ps384 | JwsAlg::Ps512)
}

impl SignatureVerifier for RsaVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.0
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.verify_prehashed(key, &hash(self.0.hash(), message), signature)
    }

    fn verifies_prehashed(&self) -> bool {
        true
    }

    fn verify_prehashed(&self, key: &PublicKey, hashed: &[u8], signature: &[u8]) -> Verified {
        let key = rsa_public_of(key)?;
        if hashed.len() != self.0.hash().output_len() {
            return Err(CryptoError::BadSignature);
        }
        let res = match (is_pss(self.0), self.0.hash()) {
            (false, HashAlg::Sha256) => {
                key.verify(Pkcs1v15Sign::new::<sha2::Sha256>(), hashed, signature)
            }
            (false, HashAlg::Sha384) => {
                key.verify(Pkcs1v15Sign::new::<sha2::Sha384>(), hashed, signature)
            }
            (false, HashAlg::Sha512) => {
                key.verify(Pkcs1v15Sign::new::<sha2::Sha512>(), hashed, signature)
            }
            (true, HashAlg::Sha256) => key.verify(Pss::<sha2::Sha256>::new(), hashed, signature),
            (true, HashAlg::Sha384) => key.verify(Pss::<sha2::Sha384>::new(), hashed, signature),
            (true, HashAlg::Sha512) => key.verify(Pss::<sha2::Sha512>::new(), hashed, signature),
            // No JWS algorithm hashes with SHA-1 (JwsAlg::hash); refuse anyway.
            (_, HashAlg::Sha1) => return Err(CryptoError::Unsupported("SHA-1 signatures")),
        };
        res.map_err(|_| CryptoError::BadSignature)
    }
}

/// RSA encryption of a CEK on the `rsa` crate, the primitive under RSA1_5,
/// RSA-OAEP and RSA-OAEP-256 (composed in otrp-core).
#[derive(Clone, Copy, Debug)]
pub struct RustCryptoRsaEncrypt;

/// The RSA encryption primitive of this backend.
pub static RSA_ENCRYPT: RustCryptoRsaEncrypt = RustCryptoRsaEncrypt;

/// Encryption of `m` to `key` with `padding`.
fn encrypt(
    key: &RsaPublicKey,
    m: &[u8],
    rng: &dyn SecureRandom,
    padding: impl PaddingScheme,
) -> Ciphertext {
    let key =
        rsa::PublicKey::new(uint(key.n())?, uint(key.e())?).map_err(|_| CryptoError::InvalidKey)?;
    key.encrypt(&mut RngAdapter(rng), padding, m)
        .map_err(|_| CryptoError::Backend)
}

impl RsaEncrypt for RustCryptoRsaEncrypt {
    fn pkcs1v15(&self, key: &RsaPublicKey, m: &[u8], rng: &dyn SecureRandom) -> Ciphertext {
        encrypt(key, m, rng, Pkcs1v15Encrypt)
    }

    fn oaep_sha1(&self, key: &RsaPublicKey, m: &[u8], rng: &dyn SecureRandom) -> Ciphertext {
        encrypt(key, m, rng, Oaep::<sha1::Sha1>::new())
    }

    fn oaep_sha256(&self, key: &RsaPublicKey, m: &[u8], rng: &dyn SecureRandom) -> Ciphertext {
        encrypt(key, m, rng, Oaep::<sha2::Sha256>::new())
    }
}

/// An RSA private key (2048 bits or more) held in software.
#[derive(Clone)]
pub struct RsaPrivateKey {
    key: rsa::PrivateKey,
    public: RsaPublicKey,
}

impl RsaPrivateKey {
    /// Wraps a key of the `rsa` crate, refusing one under 2048 bits.
    pub(crate) fn from_rsa(key: rsa::PrivateKey) -> Result<Self, CryptoError> {
        let public = from_rsa_public(&key)?;
        if public.bits() < MIN_RSA_BITS {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self { key, public })
    }

    /// A key from PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        use rsa::pkcs8::DecodePrivateKey;
        Self::from_rsa(rsa::PrivateKey::from_pkcs8_der(der).map_err(|_| CryptoError::InvalidKey)?)
    }

    /// A key from PKCS#1 DER (`RSAPrivateKey`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        Self::from_rsa(rsa::PrivateKey::from_pkcs1_der(der).map_err(|_| CryptoError::InvalidKey)?)
    }

    /// A key from big-endian components. Without the primes they are
    /// recovered from `d` (NIST SP 800-56B appendix C.2).
    pub fn from_components(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        primes: Option<(&[u8], &[u8])>,
    ) -> Result<Self, CryptoError> {
        let primes = match primes {
            Some((p, q)) => vec![uint(p)?, uint(q)?],
            None => Vec::new(),
        };
        let key = rsa::PrivateKey::from_components(uint(n)?, uint(e)?, uint(d)?, primes)
            .map_err(|_| CryptoError::InvalidKey)?;
        Self::from_rsa(key)
    }

    /// The CRT values (dp, dq, qi) as big-endian bytes, when precomputed.
    pub(crate) fn crt_values(&self) -> Option<[Zeroizing<Vec<u8>>; 3]> {
        use rsa::traits::PrivateKeyParts;
        use zeroize::Zeroize;
        // Copy out, then wipe the temporaries (they are secret).
        fn take(mut bytes: alloc::boxed::Box<[u8]>) -> Zeroizing<Vec<u8>> {
            let out = Zeroizing::new(bytes.to_vec());
            bytes.zeroize();
            out
        }
        let dp = take(self.key.dp()?.to_be_bytes_trimmed_vartime());
        let dq = take(self.key.dq()?.to_be_bytes_trimmed_vartime());
        let mut qi_value = self.key.crt_coefficient()?;
        let qi = take(qi_value.to_be_bytes_trimmed_vartime());
        qi_value.zeroize();
        Some([dp, dq, qi])
    }

    /// The public key.
    pub fn rsa_public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Modulus length in bytes.
    fn k(&self) -> usize {
        self.key.size()
    }

    /// PKCS#1 v1.5 decryption with explicit rejection (for [`crate::hazmat`]).
    pub(crate) fn pkcs1v15_decrypt(
        &self,
        ciphertext: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        otrp_core::crypto::pkcs1v15_decode_explicit(&self.decrypt_raw(ciphertext, rng)?)
    }
}

impl RsaSigningKey for RsaPrivateKey {
    fn rsa_public(&self) -> &RsaPublicKey {
        &self.public
    }

    fn sign_rsa(&self, alg: JwsAlg, m: &[u8], rng: &dyn SecureRandom) -> JwsSignature {
        let hashed = hash(alg.hash(), m);
        let mut rng = RngAdapter(rng);
        let key = &self.key;
        let res = match (is_pss(alg), alg.hash()) {
            (false, HashAlg::Sha256) => {
                key.sign_with_rng(&mut rng, Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed)
            }
            (false, HashAlg::Sha384) => {
                key.sign_with_rng(&mut rng, Pkcs1v15Sign::new::<sha2::Sha384>(), &hashed)
            }
            (false, HashAlg::Sha512) => {
                key.sign_with_rng(&mut rng, Pkcs1v15Sign::new::<sha2::Sha512>(), &hashed)
            }
            (true, HashAlg::Sha256) => {
                key.sign_with_rng(&mut rng, Pss::<sha2::Sha256>::new(), &hashed)
            }
            (true, HashAlg::Sha384) => {
                key.sign_with_rng(&mut rng, Pss::<sha2::Sha384>::new(), &hashed)
            }
            (true, HashAlg::Sha512) => {
                key.sign_with_rng(&mut rng, Pss::<sha2::Sha512>::new(), &hashed)
            }
            // No JWS algorithm hashes with SHA-1 (JwsAlg::hash); refuse anyway.
            (_, HashAlg::Sha1) => return Err(CryptoError::Unsupported("SHA-1 signatures")),
        };
        res.map_err(|_| CryptoError::Backend)
    }
}

impl RsaDecryptingKey for RsaPrivateKey {
    /// Raw RSA decryption (with blinding and the CRT fault check) to the
    /// k-byte encoded message. Fails only on a ciphertext of the wrong length
    /// or out of range (public properties) or a fault.
    fn decrypt_raw(&self, c: &[u8], rng: &dyn SecureRandom) -> Secret {
        let k = self.k();
        if c.len() != k {
            return Err(CryptoError::Decrypt);
        }
        let c = BoxedUint::from_be_slice(c, self.key.n_bits_precision())
            .map_err(|_| CryptoError::Decrypt)?;
        let mut rng = RngAdapter(rng);
        let mut m = rsa::hazmat::rsa_decrypt_and_check(&self.key, Some(&mut rng), &c)
            .map_err(|_| CryptoError::Decrypt)?;
        let bytes = Zeroizing::new(m.to_be_bytes());
        // BoxedUint zeroizes on request, not on drop: the message holds the CEK.
        zeroize::Zeroize::zeroize(&mut m);
        let start = bytes.len().checked_sub(k).ok_or(CryptoError::Decrypt)?;
        let em = bytes.get(start..).ok_or(CryptoError::Decrypt)?;
        Ok(Zeroizing::new(em.to_vec()))
    }

    fn decrypt_oaep(&self, alg: KeyAlg, c: &[u8], rng: &dyn SecureRandom) -> Secret {
        let mut rng = RngAdapter(rng);
        let cek = match alg {
            KeyAlg::RsaOaep => self
                .key
                .decrypt_blinded(&mut rng, Oaep::<sha1::Sha1>::new(), c),
            KeyAlg::RsaOaep256 => {
                self.key
                    .decrypt_blinded(&mut rng, Oaep::<sha2::Sha256>::new(), c)
            }
            _ => return Err(CryptoError::KeyMismatch),
        };
        Ok(Zeroizing::new(cek.map_err(|_| CryptoError::Decrypt)?))
    }
}

otrp_core::software_key!(rsa signer RsaPrivateKey);
otrp_core::software_key!(rsa decrypter RsaPrivateKey);
