//! RSA: RS*/PS* signatures, RSA1_5 and RSA-OAEP(-256) key encryption.

use alloc::vec;
use alloc::vec::Vec;

use otrp_core::crypto::{
    AgreementParams, Cek, CekDecrypter, ContentAlg, CryptoError, EncryptionKey, HashAlg, JwsAlg,
    JwsSigner, KeyAlg, KeyEncrypter, KeyKind, PublicKey, RsaPublicKey, SecretBytes, SecureRandom,
    SignatureVerifier, WrappedCek,
};
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, Pss};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};
use zeroize::Zeroizing;

use crate::aeskw::require_cek;
use crate::digest::hash;
use crate::random::RngAdapter;

/// The smallest RSA modulus accepted, in bits.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// A big-endian unsigned integer as a `BoxedUint` of its own byte width.
pub(crate) fn uint(bytes: &[u8]) -> Result<BoxedUint, CryptoError> {
    let bits = u32::try_from(bytes.len().max(1) * 8).map_err(|_| CryptoError::InvalidKey)?;
    BoxedUint::from_be_slice(bytes, bits).map_err(|_| CryptoError::InvalidKey)
}

/// Our public key as the `rsa` crate's, refusing keys under 2048 bits.
fn to_rsa_public(key: &RsaPublicKey) -> Result<rsa::PublicKey, CryptoError> {
    if key.bits() < MIN_RSA_BITS {
        return Err(CryptoError::InvalidKey);
    }
    rsa::PublicKey::new(uint(key.n())?, uint(key.e())?).map_err(|_| CryptoError::InvalidKey)
}

/// The `rsa` crate's public key as ours.
fn from_rsa_public(key: &impl PublicKeyParts) -> Result<RsaPublicKey, CryptoError> {
    RsaPublicKey::new(&key.n_bytes(), &key.e_bytes())
}

fn rsa_public_of(key: &PublicKey) -> Result<rsa::PublicKey, CryptoError> {
    match key {
        PublicKey::Rsa(k) => to_rsa_public(k),
        PublicKey::Ec(_) => Err(CryptoError::KeyMismatch),
    }
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

fn is_rsa_sig(alg: JwsAlg) -> bool {
    alg.key_kind() == KeyKind::Rsa
}

impl SignatureVerifier for RsaVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.0
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let key = rsa_public_of(key)?;
        let hashed = hash(self.0.hash(), message);
        let res = match (is_pss(self.0), self.0.hash()) {
            (false, HashAlg::Sha256) => {
                key.verify(Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed, signature)
            }
            (false, HashAlg::Sha384) => {
                key.verify(Pkcs1v15Sign::new::<sha2::Sha384>(), &hashed, signature)
            }
            (false, HashAlg::Sha512) => {
                key.verify(Pkcs1v15Sign::new::<sha2::Sha512>(), &hashed, signature)
            }
            (true, HashAlg::Sha256) => key.verify(Pss::<sha2::Sha256>::new(), &hashed, signature),
            (true, HashAlg::Sha384) => key.verify(Pss::<sha2::Sha384>::new(), &hashed, signature),
            (true, HashAlg::Sha512) => key.verify(Pss::<sha2::Sha512>::new(), &hashed, signature),
            // No JWS algorithm hashes with SHA-1 (JwsAlg::hash); refuse anyway.
            (_, HashAlg::Sha1) => return Err(CryptoError::Unsupported("SHA-1 signatures")),
        };
        res.map_err(|_| CryptoError::BadSignature)
    }
}

/// RSA1_5, RSA-OAEP and RSA-OAEP-256 key encryption.
#[derive(Clone, Copy, Debug)]
pub struct RsaKeyEncrypter(KeyAlg);

/// RSAES-PKCS1-v1_5.
pub static RSA1_5: RsaKeyEncrypter = RsaKeyEncrypter(KeyAlg::Rsa1_5);
/// RSAES-OAEP with SHA-1.
pub static RSA_OAEP: RsaKeyEncrypter = RsaKeyEncrypter(KeyAlg::RsaOaep);
/// RSAES-OAEP with SHA-256.
pub static RSA_OAEP_256: RsaKeyEncrypter = RsaKeyEncrypter(KeyAlg::RsaOaep256);

impl KeyEncrypter for RsaKeyEncrypter {
    fn algorithm(&self) -> KeyAlg {
        self.0
    }

    fn encrypt_cek(
        &self,
        key: EncryptionKey<'_>,
        enc: ContentAlg,
        cek: Option<&Cek>,
        _params: &AgreementParams,
        rng: &dyn SecureRandom,
    ) -> Result<WrappedCek, CryptoError> {
        let EncryptionKey::Public(key) = key else {
            return Err(CryptoError::KeyMismatch);
        };
        let key = rsa_public_of(key)?;
        let cek = require_cek(cek, enc)?;
        let mut rng = RngAdapter(rng);
        let msg = cek.as_bytes();
        let encrypted_key = match self.0 {
            KeyAlg::Rsa1_5 => key.encrypt(&mut rng, Pkcs1v15Encrypt, msg),
            KeyAlg::RsaOaep => key.encrypt(&mut rng, Oaep::<sha1::Sha1>::new(), msg),
            KeyAlg::RsaOaep256 => key.encrypt(&mut rng, Oaep::<sha2::Sha256>::new(), msg),
            _ => return Err(CryptoError::Unsupported(self.0.name())),
        }
        .map_err(|_| CryptoError::Backend)?;
        Ok(WrappedCek {
            cek: cek.clone(),
            encrypted_key,
            epk: None,
        })
    }
}

/// An RSA private key (2048 bits or more) held in software.
#[derive(Clone)]
pub struct RsaPrivateKey {
    key: rsa::PrivateKey,
    public: RsaPublicKey,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &self.public.bits())
            .finish_non_exhaustive()
    }
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

    /// Raw RSA decryption (with blinding and the CRT fault check) to the
    /// k-byte encoded message. Fails only on a ciphertext of the wrong length
    /// or out of range (public properties) or a fault.
    fn decrypt_raw(
        &self,
        ciphertext: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let k = self.k();
        if ciphertext.len() != k {
            return Err(CryptoError::Decrypt);
        }
        let c = BoxedUint::from_be_slice(ciphertext, self.key.n_bits_precision())
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

    /// PKCS#1 v1.5 decryption with explicit rejection (for [`crate::hazmat`]).
    pub(crate) fn pkcs1v15_decrypt(
        &self,
        ciphertext: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let em = self.decrypt_raw(ciphertext, rng)?;
        let (valid, start) = pkcs1v15_unpad_ct(&em);
        if !bool::from(valid) {
            return Err(CryptoError::Decrypt);
        }
        let msg = em.get(start..).ok_or(CryptoError::Decrypt)?;
        Ok(Zeroizing::new(msg.to_vec()))
    }

    /// RSA1_5 CEK decryption per RFC 7516 section 11.5: a random CEK is
    /// drawn first and returned, selected in constant time, whenever the
    /// padding is bad or the CEK has the wrong length.
    fn rsa1_5_decrypt_cek(
        &self,
        enc: ContentAlg,
        ciphertext: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        let key_len = enc.key_len();
        let mut cek = Zeroizing::new(vec![0u8; key_len]);
        rng.fill(&mut cek)?;
        let Ok(em) = self.decrypt_raw(ciphertext, rng) else {
            return Ok(SecretBytes::from(cek));
        };
        let (valid, start) = pkcs1v15_unpad_ct(&em);
        let k = em.len();
        // The message has key_len bytes exactly when it starts at k - key_len.
        let (Some(expected_start), Ok(start32)) = (k.checked_sub(key_len), u32::try_from(start))
        else {
            return Ok(SecretBytes::from(cek));
        };
        let expected32 = u32::try_from(expected_start).unwrap_or(u32::MAX);
        let valid = valid & start32.ct_eq(&expected32);
        if let Some(tail) = em.get(expected_start..) {
            for (out, &m) in cek.iter_mut().zip(tail) {
                *out = u8::conditional_select(out, &m, valid);
            }
        }
        Ok(SecretBytes::from(cek))
    }
}

/// Constant-time EME-PKCS1-v1_5 decoding of `em` (k bytes): whether the
/// padding is valid (`00 02 PS 00 M` with at least 8 bytes of nonzero PS)
/// and the index where M starts. Runs in time independent of the contents.
pub(crate) fn pkcs1v15_unpad_ct(em: &[u8]) -> (Choice, usize) {
    if em.len() < 11 {
        return (Choice::from(0), em.len());
    }
    let mut head = Choice::from(1);
    let mut found = Choice::from(0);
    let mut zero_index = 0u32;
    for (i, &b) in em.iter().enumerate() {
        let i32 = u32::try_from(i).unwrap_or(u32::MAX);
        match i {
            0 => head &= b.ct_eq(&0),
            1 => head &= b.ct_eq(&2),
            _ => {
                let is_zero = b.ct_eq(&0);
                let first = is_zero & !found;
                zero_index = u32::conditional_select(&zero_index, &i32, first);
                found |= is_zero;
            }
        }
    }
    // PS is em[2..zero_index]: at least 8 bytes, so zero_index >= 10.
    let valid = head & found & zero_index.ct_gt(&9);
    let start = usize::try_from(zero_index).unwrap_or(em.len()) + 1;
    (valid, start.min(em.len()))
}

impl JwsSigner for RsaPrivateKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Rsa
    }

    fn public_key(&self) -> Option<PublicKey> {
        Some(PublicKey::Rsa(self.public.clone()))
    }

    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError> {
        if !is_rsa_sig(alg) {
            return Err(CryptoError::KeyMismatch);
        }
        let hashed = hash(alg.hash(), message);
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

impl CekDecrypter for RsaPrivateKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Rsa
    }

    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        enc: ContentAlg,
        _params: &AgreementParams,
        encrypted_key: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        let mut adapter = RngAdapter(rng);
        let cek = match alg {
            KeyAlg::Rsa1_5 => return self.rsa1_5_decrypt_cek(enc, encrypted_key, rng),
            KeyAlg::RsaOaep => {
                self.key
                    .decrypt_blinded(&mut adapter, Oaep::<sha1::Sha1>::new(), encrypted_key)
            }
            KeyAlg::RsaOaep256 => {
                self.key
                    .decrypt_blinded(&mut adapter, Oaep::<sha2::Sha256>::new(), encrypted_key)
            }
            _ => return Err(CryptoError::KeyMismatch),
        };
        let cek = Zeroizing::new(cek.map_err(|_| CryptoError::Decrypt)?);
        if cek.len() != enc.key_len() {
            return Err(CryptoError::Decrypt);
        }
        Ok(SecretBytes::from(cek))
    }
}
