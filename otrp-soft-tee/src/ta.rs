//! TAs in the soft TEE: an image is a flattened-JSON JWS whose payload is
//! the TA code, signed by the SP's TA-signer key (9.3.1 leaves the format to
//! the TEE); its protected header may name the TA (`taname`). The
//! `encrypted_ta` data is AES-256-CBC with PKCS#7 padding (9.3.1.1).

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use otrp_core::crypto::{JwsAlg, JwsSigner, Provider, SecretBytes};
use otrp_core::jose::{Header, JoseError, Jws};
use otrp_core::message::TaEncAlg;
use otrp_core::pki::{UnixTime, spki_of_certificate};
use otrp_core::tee::{TaError, TaPlatform, VerifiedTa};

/// Builds a soft-TEE TA image: `code` signed by the SP key `signer` with
/// `alg`, optionally carrying a friendly name.
pub fn sign_ta_image(
    code: &[u8],
    taname: Option<&str>,
    signer: &dyn JwsSigner,
    alg: JwsAlg,
    provider: &Provider,
) -> Result<Vec<u8>, JoseError> {
    let mut header = Header::new();
    if let Some(name) = taname {
        header.set("taname", name);
    }
    let jws = Jws::sign(code, signer, alg, header, None, provider)?;
    Ok(jws.to_flattened_json()?.into_bytes())
}

/// The TA code of a soft-TEE image, without verification (for tests and
/// tools that inspect an installed TA).
pub fn ta_code(image: &[u8]) -> Option<Vec<u8>> {
    Jws::parse_json(image).ok()?.unverified_payload().ok()
}

/// TA decryption and verification of the soft TEE.
#[derive(Clone, Copy, Debug, Default)]
pub struct SoftTaPlatform;

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
                let mut buf = data.to_vec();
                let len = dec
                    .decrypt_padded::<Pkcs7>(&mut buf)
                    .map_err(|_| TaError::Decrypt)?
                    .len();
                buf.truncate(len);
                Ok(SecretBytes::new(buf))
            }
        }
    }

    fn verify_ta(
        &self,
        provider: &Provider,
        _taid: &str,
        image: &[u8],
        sp_certs: &[&[u8]],
        _now: UnixTime,
    ) -> Result<VerifiedTa, TaError> {
        let jws = Jws::parse_json(image).map_err(|_| TaError::Malformed("not a JWS"))?;
        let taname = jws
            .signatures()
            .first()
            .and_then(|s| s.protected().get("taname"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let algs: Vec<JwsAlg> = provider.supported_jws_algs().collect();
        for (i, cert) in sp_certs.iter().enumerate() {
            let Ok(spki) = spki_of_certificate(cert) else {
                continue;
            };
            let Ok(key) = provider.key_loader.public_key_from_spki_der(&spki) else {
                continue;
            };
            if let Ok(code) = jws.verify(provider, &key, &algs) {
                if code.is_empty() {
                    return Err(TaError::Malformed("empty TA code"));
                }
                return Ok(VerifiedTa { signer: i, taname });
            }
        }
        Err(TaError::UntrustedSigner)
    }
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
