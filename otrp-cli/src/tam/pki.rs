//! The TAM of a test PKI directory (`otrp pki init`).

use std::path::Path;

use otrp_core::crypto::Provider;
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::Tam;
use otrp_test_pki::{Cert, Key, OcspResponseBuilder};

use crate::util::{Error, Result, now, read_certificates, read_pkcs8, read_text};

/// The TAM of the PKI in `dir`: `tam.key.pem` and `tam.chain.pem`, a fresh
/// OCSP response for its certificate signed by `tam-root` (the `ocspdat`
/// of GetDeviceState, 9.1.1), trusting `tee-root` and `tfw-root`.
pub fn tam_from_pki(dir: &Path, provider: &Provider) -> Result<Tam> {
    let key = provider
        .key_loader
        .private_key_from_pkcs8_der(&read_pkcs8(&dir.join("tam.key.pem"))?)?;
    let chain = read_certificates(&dir.join("tam.chain.pem"))?;
    let root = Cert::from_pem(
        &read_text(&dir.join("tam-root.cert.pem"))?,
        Some(Key::from_pkcs8_pem(&read_text(
            &dir.join("tam-root.key.pem"),
        )?)?),
    )?;
    let leaf = chain
        .first()
        .ok_or_else(|| Error::msg("tam.chain.pem is empty"))?;
    let ocsp = OcspResponseBuilder::new(leaf, &root, now()).build()?;
    let tee_roots = read_certificates(&dir.join("tee-root.cert.pem"))?;
    let tfw_roots = read_certificates(&dir.join("tfw-root.cert.pem"))?;
    Ok(Tam::new(
        *provider,
        key,
        chain,
        TrustAnchors::from_certificates(tee_roots.iter().map(Vec::as_slice))?,
    )?
    .with_tfw_anchors(TrustAnchors::from_certificates(
        tfw_roots.iter().map(Vec::as_slice),
    )?)
    .with_ocspdat(vec![ocsp]))
}
