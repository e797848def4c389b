//! TAs in the soft TEE: images in the format of [`crate::image`], checked
//! against the SD's SP certificates, whole or streamed in chunks
//! ([`crate::stream`]); the `encrypted_ta` data is AES-256-CBC with PKCS#7
//! padding (9.3.1.1).

use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use otrp_core::crypto::{Provider, SecretBytes};
use otrp_core::message::TaEncAlg;
use otrp_core::pki::UnixTime;
use otrp_core::tee::{TaError, TaPlatform, TaStream, VerifiedTa};
use zeroize::Zeroizing;

use crate::image::ParsedImage;
use crate::stream::ImageStream;

/// TA decryption and verification of the soft TEE. By default it offers
/// the streaming TA hook ([`TaPlatform::begin_ta`]: the image is checked
/// chunk by chunk as it is decrypted, never held whole) on providers whose
/// verifiers take a digest (RustCrypto, aws-lc; not ring);
/// [`SoftTaPlatform::whole_image`] offers only the whole-image hooks, as a
/// vendor that does not stream would.
#[derive(Clone, Copy, Debug)]
pub struct SoftTaPlatform {
    streaming: bool,
}

impl Default for SoftTaPlatform {
    fn default() -> Self {
        SoftTaPlatform { streaming: true }
    }
}

impl SoftTaPlatform {
    /// The platform with the whole-image hooks only
    /// ([`TaPlatform::decrypt_ta_data`], [`TaPlatform::verify_ta`]).
    pub fn whole_image() -> Self {
        SoftTaPlatform { streaming: false }
    }
}

impl TaPlatform for SoftTaPlatform {
    fn decrypt_ta_data(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        data: &[u8],
    ) -> Result<SecretBytes, TaError> {
        match alg {
            TaEncAlg::AesCbc => {
                let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(key.as_bytes(), iv)
                    .map_err(|_| TaError::Decrypt)?;
                // Wiped on every path, a padding failure included (the
                // buffer then holds decrypted blocks too).
                let mut buf = Zeroizing::new(data.to_vec());
                let len = dec
                    .decrypt_padded::<Pkcs7>(&mut buf)
                    .map_err(|_| TaError::Decrypt)?
                    .len();
                buf.truncate(len);
                Ok(SecretBytes::new(core::mem::take(&mut *buf)))
            }
        }
    }

    /// On providers whose verifiers take a digest the whole image goes
    /// through the streamed check (the one [`TaPlatform::begin_ta`]
    /// starts) in one piece: the signing input is hashed where it lies and
    /// the code is never decoded, so the check holds no copy of the TA. A
    /// whole-message verifier (ring) needs the signing input collected, a
    /// copy either way, so there the JWS check
    /// ([`crate::verify_ta_image`]'s) stays. Both give the same verdict
    /// (`tests/ta_image.rs`).
    fn verify_ta(
        &self,
        provider: &Provider,
        _taid: &str,
        image: &[u8],
        sp_certs: &[&[u8]],
        _now: UnixTime,
    ) -> Result<VerifiedTa, TaError> {
        if verifies_prehashed(provider) {
            let mut check = Box::new(ImageStream::new(provider, sp_certs));
            check.update(image)?;
            return check.finish();
        }
        let parsed = ParsedImage::parse(image)?;
        for (i, cert) in sp_certs.iter().enumerate() {
            match parsed.check(provider, cert) {
                Ok(()) => {
                    let info = parsed.into_info();
                    return Ok(VerifiedTa {
                        signer: i,
                        taid: info.taid,
                        version: info.version,
                        taname: info.taname,
                    });
                }
                Err(TaError::UntrustedSigner) => {}
                Err(e) => return Err(e),
            }
        }
        Err(TaError::UntrustedSigner)
    }

    fn begin_ta<'a>(
        &'a self,
        provider: &'a Provider,
        _taid: &'a str,
        sp_certs: &'a [&'a [u8]],
        _now: UnixTime,
    ) -> Option<Box<dyn TaStream + 'a>> {
        // Streaming pays only when the signature is checked over a digest
        // fed in pieces: a provider whose verifiers take whole messages
        // only (ring) would collect the image's signing input anyway, on
        // top of the TA data, so it keeps the whole-image hooks.
        (self.streaming && verifies_prehashed(provider))
            .then(|| Box::new(ImageStream::new(provider, sp_certs)) as Box<dyn TaStream + 'a>)
    }

    fn decrypt_ta_blocks(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        blocks: &mut [u8],
    ) -> Result<(), TaError> {
        match alg {
            TaEncAlg::AesCbc => {
                let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(key.as_bytes(), iv)
                    .map_err(|_| TaError::Decrypt)?;
                dec.decrypt_padded::<NoPadding>(blocks)
                    .map_err(|_| TaError::Decrypt)?;
                Ok(())
            }
        }
    }
}

/// Whether every signature verifier of `provider` checks a digest (so a
/// signature is checked over a message fed in pieces without collecting it).
fn verifies_prehashed(provider: &Provider) -> bool {
    provider
        .signature_verifiers
        .iter()
        .all(|v| v.verifies_prehashed())
}

/// Encrypts TA data the way `encrypted_ta` carries it (9.3.1.1: AES-256-CBC,
/// PKCS#7 padding, the request's 16-byte `iv`): the TAM side of
/// [`SoftTaPlatform::decrypt_ta_data`], for tools and tests.
pub fn encrypt_ta_data(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    use cbc::cipher::BlockModeEncrypt;
    let len = plaintext.len();
    let mut buf = plaintext.to_vec();
    buf.resize((len / 16 + 1) * 16, 0);
    match cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv) {
        Ok(enc) => enc
            .encrypt_padded::<Pkcs7>(&mut buf, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}
