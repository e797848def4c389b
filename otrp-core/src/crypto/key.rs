//! Key material as plain data: public keys any backend can read, and secrets
//! that are zeroized on drop.

use alloc::vec::Vec;
use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{CryptoError, Curve, KeyKind};

/// A public key, in the form JWK and X.509 both reduce to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PublicKey {
    /// An RSA public key.
    Rsa(RsaPublicKey),
    /// An elliptic-curve public key.
    Ec(EcPublicKey),
}

impl PublicKey {
    /// The kind of this key.
    pub fn kind(&self) -> KeyKind {
        match self {
            PublicKey::Rsa(_) => KeyKind::Rsa,
            PublicKey::Ec(k) => KeyKind::Ec(k.curve()),
        }
    }
}

/// An RSA public key: modulus and exponent as big-endian unsigned integers
/// without leading zero bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RsaPublicKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl RsaPublicKey {
    /// Builds a key from big-endian modulus and exponent, stripping leading
    /// zeros. Refuses an empty, even or tiny modulus, a modulus with the ROCA
    /// fingerprint (CVE-2017-15361, [`has_roca_fingerprint`]) and an even or
    /// one-valued exponent; size policy (2048 bits and up) is the caller's.
    /// Every RSA public key of every backend (JWK, SPKI, certificate,
    /// private key) is built here, so each of them refuses a ROCA key.
    ///
    /// [`has_roca_fingerprint`]: super::has_roca_fingerprint
    pub fn new(n: &[u8], e: &[u8]) -> Result<Self, CryptoError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let odd = |v: &[u8]| v.last().is_some_and(|b| b & 1 == 1);
        if n.len() < 64 || !odd(n) || !odd(e) || e == [1] || e.len() > 8 {
            return Err(CryptoError::InvalidKey);
        }
        if super::has_roca_fingerprint(n) {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self {
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    /// The modulus, big-endian, no leading zeros.
    pub fn n(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian, no leading zeros.
    pub fn e(&self) -> &[u8] {
        &self.e
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        let top = self.n.first().copied().unwrap_or(0);
        self.n.len() * 8 - top.leading_zeros() as usize
    }
}

fn strip_leading_zeros(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    &v[start..]
}

/// An elliptic-curve public key as affine coordinates of fixed length.
/// Whether the point lies on the curve is checked by the backend that uses
/// it (a point off the curve is refused there, never used).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EcPublicKey {
    curve: Curve,
    x: Vec<u8>,
    y: Vec<u8>,
}

impl EcPublicKey {
    /// Builds a key from big-endian coordinates of exactly the curve's field
    /// length (JWK requires the full length, RFC 7518 section 6.2.1.2).
    pub fn new(curve: Curve, x: &[u8], y: &[u8]) -> Result<Self, CryptoError> {
        let len = curve.field_len();
        if x.len() != len || y.len() != len {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self {
            curve,
            x: x.to_vec(),
            y: y.to_vec(),
        })
    }

    /// Builds a key from an uncompressed SEC1 point (`04 || x || y`).
    pub fn from_sec1_uncompressed(curve: Curve, point: &[u8]) -> Result<Self, CryptoError> {
        let len = curve.field_len();
        match point.split_first() {
            Some((4, xy)) if xy.len() == 2 * len => {
                let (x, y) = xy.split_at(len);
                Self::new(curve, x, y)
            }
            _ => Err(CryptoError::InvalidKey),
        }
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The x coordinate, big-endian, full field length.
    pub fn x(&self) -> &[u8] {
        &self.x
    }

    /// The y coordinate, big-endian, full field length.
    pub fn y(&self) -> &[u8] {
        &self.y
    }

    /// The uncompressed SEC1 encoding `04 || x || y`.
    pub fn to_sec1_uncompressed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.x.len() + self.y.len());
        out.push(4);
        out.extend_from_slice(&self.x);
        out.extend_from_slice(&self.y);
        out
    }
}

/// Secret bytes (a CEK, a derived key, a symmetric key): zeroized on drop and
/// never printed.
#[derive(Clone, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

/// Compares without an early exit on the first differing byte (the length
/// is not secret).
impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl SecretBytes {
    /// Takes ownership of the bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies the bytes out of a slice.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(mut z: Zeroizing<Vec<u8>>) -> Self {
        Self(core::mem::take(&mut *z))
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes, redacted)", self.0.len())
    }
}

/// A content encryption key.
pub type Cek = SecretBytes;

/// A private key as its components: what a JWK (RFC 7518 section 6) and
/// any other key format reduce to, for
/// [`KeyLoader::private_key_from_components`](super::KeyLoader::private_key_from_components).
/// Secret members are zeroized on drop and redacted in debug output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyComponents {
    /// An RSA private key.
    Rsa(RsaKeyComponents),
    /// An elliptic-curve private key: the public point and the scalar `d`
    /// (big-endian, the curve's field length).
    Ec {
        /// The public key, which must match `d`.
        public: EcPublicKey,
        /// The private scalar.
        d: SecretBytes,
    },
    /// A symmetric key (a key-encryption key for A128KW / A256KW).
    Symmetric(SecretBytes),
}

/// The members of an RSA private key (RFC 7518 section 6.3.2), big-endian.
/// Only `d` is required; a backend that needs the primes or the CRT values
/// refuses a key without them, and one that is given them checks them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaKeyComponents {
    /// The public key (modulus and exponent).
    pub public: RsaPublicKey,
    /// The private exponent.
    pub d: SecretBytes,
    /// The first prime factor.
    pub p: Option<SecretBytes>,
    /// The second prime factor.
    pub q: Option<SecretBytes>,
    /// The first factor's CRT exponent.
    pub dp: Option<SecretBytes>,
    /// The second factor's CRT exponent.
    pub dq: Option<SecretBytes>,
    /// The first CRT coefficient.
    pub qi: Option<SecretBytes>,
}

impl RsaKeyComponents {
    /// All five of `p`, `q`, `dp`, `dq`, `qi`, or `None` if any is absent.
    pub fn crt(&self) -> Option<[&SecretBytes; 5]> {
        Some([
            self.p.as_ref()?,
            self.q.as_ref()?,
            self.dp.as_ref()?,
            self.dq.as_ref()?,
            self.qi.as_ref()?,
        ])
    }
}

/// The key a CEK is wrapped to: a recipient's public key, or a shared
/// symmetric key for A128KW / A256KW.
#[derive(Clone, Copy, Debug)]
pub enum EncryptionKey<'a> {
    /// A recipient's public key (RSA or EC).
    Public(&'a PublicKey),
    /// A shared symmetric key-encryption key.
    Symmetric(&'a SecretBytes),
}

impl EncryptionKey<'_> {
    /// The kind of this key.
    pub fn kind(&self) -> KeyKind {
        match self {
            EncryptionKey::Public(k) => k.kind(),
            EncryptionKey::Symmetric(k) => KeyKind::Oct(k.len()),
        }
    }
}

/// Header parameters that key agreement reads or writes (RFC 7518 4.6.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgreementParams {
    /// The ephemeral public key (`epk`).
    pub epk: Option<EcPublicKey>,
    /// Agreement PartyUInfo (`apu`), decoded.
    pub apu: Option<Vec<u8>>,
    /// Agreement PartyVInfo (`apv`), decoded.
    pub apv: Option<Vec<u8>>,
}

/// The result of encrypting a CEK for one recipient.
#[derive(Debug)]
pub struct WrappedCek {
    /// The CEK the content is encrypted with (agreed, for ECDH-ES direct).
    pub cek: Cek,
    /// The JWE Encrypted Key (empty for ECDH-ES direct).
    pub encrypted_key: Vec<u8>,
    /// The ephemeral public key to publish as `epk`, for ECDH-ES variants.
    pub epk: Option<EcPublicKey>,
}
