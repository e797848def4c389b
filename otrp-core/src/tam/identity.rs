//! A TEE's and a TAM's identity from their certificates: the public key
//! (through the provider's key loader) and the TEE's did (spec 4.3). Used
//! by the session, the device state and the TAM configuration, so that none
//! of them imports another for it.

use super::TamError;
use crate::crypto::{Provider, PublicKey};
use crate::message::DeviceId;
use crate::pki::{CertError, Did, ParsedChain, spki_of_certificate};
use alloc::vec::Vec;

/// The public key of a DER certificate, through the provider's key loader.
pub(crate) fn spki_public_key(provider: &Provider, cert_der: &[u8]) -> Result<PublicKey, TamError> {
    key_of(provider, spki_of_certificate(cert_der))
}

/// The key of a SubjectPublicKeyInfo read from a certificate.
fn key_of(provider: &Provider, spki: Result<Vec<u8>, CertError>) -> Result<PublicKey, TamError> {
    let spki = spki.map_err(|_| TamError::InvalidRequest("not a DER certificate"))?;
    Ok(provider.key_loader.public_key_from_spki_der(&spki)?)
}

/// A TEE certificate's did and public key.
pub(crate) fn tee_identity(
    provider: &Provider,
    cert_der: &[u8],
) -> Result<(DeviceId, PublicKey), TamError> {
    let did = Did::of_certificate(provider, cert_der)?;
    Ok((
        DeviceId(*did.as_bytes()),
        spki_public_key(provider, cert_der)?,
    ))
}

/// [`tee_identity`] of `cert_der`, the first certificate of `chain`,
/// already parsed.
pub(crate) fn tee_identity_parsed(
    provider: &Provider,
    cert_der: &[u8],
    chain: &ParsedChain,
) -> Result<(DeviceId, PublicKey), TamError> {
    let did = Did::of_certificate(provider, cert_der)?;
    Ok((
        DeviceId(*did.as_bytes()),
        key_of(provider, chain.leaf_spki())?,
    ))
}
