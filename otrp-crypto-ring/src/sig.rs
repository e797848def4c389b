//! JWS verification (RFC 7518 section 3) with ring.

use otrp_core::crypto::{CryptoError, JwsAlg, PublicKey, RsaPublicKey, SignatureVerifier};
use ring::signature::{RsaPublicKeyComponents, UnparsedPublicKey};

otrp_core::signature_api!(ring);

/// The smallest RSA modulus accepted, in bits (spec 4.4 item 3); ring's
/// `RSA_*_2048_8192_*` parameters enforce the same floor.
pub const MIN_RSA_BITS: usize = 2048;

/// The largest RSA modulus ring verifies, in bits.
pub const MAX_RSA_BITS: usize = 8192;

/// `key` as an RSA key of [`MIN_RSA_BITS`] to [`MAX_RSA_BITS`] bits, the
/// sizes ring verifies.
pub(crate) fn rsa_key(key: &PublicKey) -> Result<&RsaPublicKey, CryptoError> {
    let k = key.rsa_at_least(MIN_RSA_BITS)?;
    if k.bits() > MAX_RSA_BITS {
        return Err(CryptoError::InvalidKey);
    }
    Ok(k)
}

/// Verification of one JWS algorithm with ring.
#[derive(Clone, Copy, Debug)]
pub struct RingVerifier(JwsAlg);

/// RS256: RSASSA-PKCS1-v1_5 with SHA-256.
pub static RS256: RingVerifier = RingVerifier(JwsAlg::Rs256);
/// RS384: RSASSA-PKCS1-v1_5 with SHA-384.
pub static RS384: RingVerifier = RingVerifier(JwsAlg::Rs384);
/// RS512: RSASSA-PKCS1-v1_5 with SHA-512.
pub static RS512: RingVerifier = RingVerifier(JwsAlg::Rs512);
/// PS256: RSASSA-PSS with SHA-256 (MGF1-SHA-256, 32-byte salt).
pub static PS256: RingVerifier = RingVerifier(JwsAlg::Ps256);
/// PS384: RSASSA-PSS with SHA-384 (MGF1-SHA-384, 48-byte salt).
pub static PS384: RingVerifier = RingVerifier(JwsAlg::Ps384);
/// PS512: RSASSA-PSS with SHA-512 (MGF1-SHA-512, 64-byte salt).
pub static PS512: RingVerifier = RingVerifier(JwsAlg::Ps512);
/// ES256: ECDSA on P-256 with SHA-256, `r || s` signatures.
pub static ES256: RingVerifier = RingVerifier(JwsAlg::Es256);
/// ES384: ECDSA on P-384 with SHA-384, `r || s` signatures.
pub static ES384: RingVerifier = RingVerifier(JwsAlg::Es384);

impl SignatureVerifier for RingVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.0
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        match rsa_verification(self.0) {
            Some(params) => {
                let k = rsa_key(key)?;
                RsaPublicKeyComponents { n: k.n(), e: k.e() }
                    .verify(params, message, signature)
                    .map_err(|_| CryptoError::BadSignature)
            }
            None => {
                // ring checks that the point lies on the curve.
                let k = key.ec_for(self.0)?;
                UnparsedPublicKey::new(ecdsa_verification(k.curve()), k.to_sec1_uncompressed())
                    .verify(message, signature)
                    .map_err(|_| CryptoError::BadSignature)
            }
        }
    }
}
