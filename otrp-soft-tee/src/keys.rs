//! Software keys: the TEE identity from PKCS#8 and certificate files, SP
//! AIKs generated on P-256 and kept as PKCS#8 blobs in the sealed storage,
//! and a software "firmware" that signs the `tid` (9.1.3).

use std::path::Path;

use otrp_core::crypto::{CekDecrypter, JwsAlg, JwsSigner, PrivateKey, Provider, SecretBytes};
use otrp_core::message::{AikType, Base64Bytes, TfwData};
use otrp_core::tee::{Firmware, FirmwareError, HookError, NewSpAik, SpAikKeys, TeeIdentity};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};

use crate::SoftTeeError;

/// The TEE identity in software: a PKCS#8 private key with its certificate
/// chain.
pub struct SoftIdentity {
    cert: Vec<u8>,
    cacerts: Vec<Vec<u8>>,
    key: Box<dyn PrivateKey>,
}

impl std::fmt::Debug for SoftIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftIdentity").finish_non_exhaustive()
    }
}

impl SoftIdentity {
    /// From DER: the TEE certificate, its CA certificates (issuer first, up
    /// to the root) and the PKCS#8 private key.
    pub fn from_der(
        provider: &Provider,
        cert: Vec<u8>,
        cacerts: Vec<Vec<u8>>,
        key_pkcs8: &[u8],
    ) -> Result<Self, SoftTeeError> {
        let key = provider.key_loader.private_key_from_pkcs8_der(key_pkcs8)?;
        // A key beside the wrong certificate would sign what no TAM
        // verifies: refuse it here (issue 14).
        let certified = provider
            .key_loader
            .public_key_from_spki_der(&otrp_core::pki::spki_of_certificate(&cert)?)?;
        if key.public_key().is_some_and(|k| k != certified) {
            return Err(SoftTeeError::KeyMismatch);
        }
        Ok(SoftIdentity { cert, cacerts, key })
    }

    /// From files: `key` (PKCS#8 DER), `cert` and `cacerts` (DER).
    pub fn from_files(
        provider: &Provider,
        key: &Path,
        cert: &Path,
        cacerts: &[&Path],
    ) -> Result<Self, SoftTeeError> {
        let key = std::fs::read(key)?;
        let cert = std::fs::read(cert)?;
        let cacerts = cacerts
            .iter()
            .map(std::fs::read)
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_der(provider, cert, cacerts, &key)
    }
}

impl TeeIdentity for SoftIdentity {
    fn certificate(&self) -> &[u8] {
        &self.cert
    }

    fn ca_certificates(&self) -> &[Vec<u8>] {
        &self.cacerts
    }

    fn signer(&self) -> &dyn JwsSigner {
        self.key.as_ref()
    }

    fn decrypter(&self) -> &dyn CekDecrypter {
        self.key.as_ref()
    }
}

/// SP AIKs in software: P-256 key pairs (`spaiktype` "ECC"), sealed as
/// PKCS#8 DER (the storage encrypts blobs at rest).
#[derive(Clone, Copy, Debug)]
pub struct SoftSpAik {
    provider: Provider,
}

impl SoftSpAik {
    /// SP AIKs loaded through `provider`'s key loader.
    pub fn new(provider: Provider) -> Self {
        SoftSpAik { provider }
    }
}

impl SpAikKeys for SoftSpAik {
    fn generate(&self, rng: &dyn otrp_core::crypto::SecureRandom) -> Result<NewSpAik, HookError> {
        // A uniformly random scalar: retry the rare out-of-range draw.
        for _ in 0..16 {
            let mut d = zeroize::Zeroizing::new([0u8; 32]);
            rng.fill(d.as_mut())
                .map_err(|_| HookError::Failed("random"))?;
            let Ok(secret) = p256::SecretKey::from_slice(d.as_ref()) else {
                continue;
            };
            let pkcs8 = secret
                .to_pkcs8_der()
                .map_err(|_| HookError::Failed("PKCS#8 encoding"))?;
            let spki = secret
                .public_key()
                .to_public_key_der()
                .map_err(|_| HookError::Failed("SPKI encoding"))?;
            return Ok(NewSpAik {
                public_spki: spki.as_bytes().to_vec(),
                kind: AikType::Ecc,
                sealed: SecretBytes::from_slice(pkcs8.as_bytes()),
            });
        }
        Err(HookError::Failed("no valid P-256 scalar drawn"))
    }

    fn decrypter(&self, sealed: &[u8]) -> Result<Box<dyn CekDecrypter>, HookError> {
        let key = self
            .provider
            .key_loader
            .private_key_from_pkcs8_der(sealed)
            .map_err(|_| HookError::Failed("sealed SP AIK"))?;
        Ok(key)
    }

    fn signer(&self, sealed: &[u8]) -> Result<Box<dyn JwsSigner>, HookError> {
        let key = self
            .provider
            .key_loader
            .private_key_from_pkcs8_der(sealed)
            .map_err(|_| HookError::Failed("sealed SP AIK"))?;
        Ok(key)
    }
}

/// Firmware attestation in software (9.1.3): a TFW key signs the UTF-8
/// `tid` (RS256 or ES256; the signature in JWS form, ECDSA as `r || s`).
pub struct SoftFirmware {
    cert: Vec<u8>,
    key: Box<dyn PrivateKey>,
    alg: JwsAlg,
    provider: Provider,
    trusted: bool,
}

impl std::fmt::Debug for SoftFirmware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftFirmware")
            .field("alg", &self.alg)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl SoftFirmware {
    /// A firmware signing with `key_pkcs8` under `alg`, certified by `cert`.
    pub fn new(
        provider: Provider,
        cert: Vec<u8>,
        key_pkcs8: &[u8],
        alg: JwsAlg,
    ) -> Result<Self, SoftTeeError> {
        let key = provider.key_loader.private_key_from_pkcs8_der(key_pkcs8)?;
        Ok(SoftFirmware {
            cert,
            key,
            alg,
            provider,
            trusted: true,
        })
    }

    /// Marks the firmware as untrustworthy (for `ERR_TFW_NOT_TRUSTED`).
    pub fn untrusted(mut self) -> Self {
        self.trusted = false;
        self
    }
}

impl Firmware for SoftFirmware {
    fn attest(&self, tbs: &[u8]) -> Result<TfwData, FirmwareError> {
        if !self.trusted {
            return Err(FirmwareError::NotTrusted);
        }
        let sig = self
            .key
            .sign(self.alg, tbs, self.provider.secure_random)
            .map_err(|_| FirmwareError::Unavailable)?;
        Ok(TfwData {
            tbs: Base64Bytes(tbs.to_vec()),
            cert: Base64Bytes(self.cert.clone()),
            sigalg: self.alg.name().to_string(),
            sig: Base64Bytes(sig),
        })
    }
}
