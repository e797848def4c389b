//! The soft TEE's TA image (9.3.1 leaves the TA format to the TEE): a
//! single-signature flattened-JSON JWS by the SP's TA-signer key whose
//! payload is the TA code and whose **protected** header names the TA:
//!
//! - `taid` (string): the TA the image is, checked by the TEE against the
//!   command's `taid`;
//! - `taversion` (JSON integer, u64): the SP's monotonic version, the
//!   TEE's anti-rollback floor compares it;
//! - `taname` (string, optional): the friendly name the DSI shows.
//!
//! Everything the TEE learns about a TA comes from what the SP's verified
//! signature covers: these members in an unprotected header, or a second
//! signature (whose header would be covered by another key), are refused.

use otrp_core::crypto::{JwsAlg, JwsSigner, Provider, PublicKey};
use otrp_core::jose::{Header, JoseError, Jws, JwsRef};
use otrp_core::pki::spki_of_certificate;
use otrp_core::tee::TaError;
use serde_json::Value;
use zeroize::Zeroizing;

/// The protected header member naming the TA.
const TAID: &str = "taid";
/// The protected header member carrying the version.
const TAVERSION: &str = "taversion";
/// The protected header member carrying the friendly name.
const TANAME: &str = "taname";

/// What a TA image says about itself, as signed by the SP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaImageInfo {
    /// The TA application identifier (`taid`).
    pub taid: String,
    /// The SP's version number of this build (`taversion`).
    pub version: u64,
    /// The friendly name (`taname`), if any.
    pub taname: Option<String>,
}

/// Builds a soft-TEE TA image: `code` signed by the SP key `signer` with
/// `alg`, `info` in the protected header.
pub fn sign_ta_image(
    code: &[u8],
    info: &TaImageInfo,
    signer: &dyn JwsSigner,
    alg: JwsAlg,
    provider: &Provider,
) -> Result<Vec<u8>, JoseError> {
    let mut header = Header::new();
    header.set(TAID, info.taid.as_str());
    header.set(TAVERSION, info.version);
    if let Some(name) = &info.taname {
        header.set(TANAME, name.as_str());
    }
    let jws = Jws::sign(code, signer, alg, header, None, provider)?;
    // The protected header is written before the payload, so that a TEE
    // checking the image as it streams in hashes the signing input
    // (`protected.payload`) in order and never holds the payload.
    let flat: Value = serde_json::from_str(&jws.to_flattened_json()?)?;
    let member = |name: &str| {
        flat.get(name)
            .map(Value::to_string)
            .ok_or(JoseError::Malformed("flattened JWS"))
    };
    Ok(format!(
        r#"{{"protected":{},"payload":{},"signature":{}}}"#,
        member("protected")?,
        member("payload")?,
        member("signature")?
    )
    .into_bytes())
}

/// The public key of an SP certificate (DER), as the TA signature check
/// uses it; one that does not load is [`TaError::UntrustedSigner`].
pub(crate) fn sp_key(provider: &Provider, sp_cert_der: &[u8]) -> Result<PublicKey, TaError> {
    let spki = spki_of_certificate(sp_cert_der).map_err(|_| TaError::UntrustedSigner)?;
    provider
        .key_loader
        .public_key_from_spki_der(&spki)
        .map_err(|_| TaError::UntrustedSigner)
}

/// Verifies a soft-TEE TA image against one SP certificate (DER) and
/// returns what its protected header says. Refuses an image that is not a
/// single-signature JWS, names the TA outside the protected header, lacks
/// `taid` or `taversion`, or carries no code ([`TaError::Malformed`]), and
/// one the certificate's key did not sign ([`TaError::UntrustedSigner`]).
pub fn verify_ta_image(
    provider: &Provider,
    image: &[u8],
    sp_cert_der: &[u8],
) -> Result<TaImageInfo, TaError> {
    ParsedImage::parse(image)?.verify(provider, sp_cert_der)
}

/// An image that parsed: the JWS and the info its protected header claims
/// (not yet trusted). The JWS borrows its payload from the image bytes: a
/// large TA is not copied to be verified.
pub(crate) struct ParsedImage<'a> {
    jws: JwsRef<'a>,
    info: TaImageInfo,
}

impl<'a> ParsedImage<'a> {
    /// Parses the image and reads the claimed info, without verifying.
    pub(crate) fn parse(image: &'a [u8]) -> Result<Self, TaError> {
        let jws =
            JwsRef::parse_json_borrowed(image).map_err(|_| TaError::Malformed("not a JWS"))?;
        let [sig] = jws.signatures() else {
            return Err(TaError::Malformed("a TA image has exactly one signature"));
        };
        if let Some(h) = sig.unprotected()
            && [TAID, TAVERSION, TANAME].iter().any(|m| h.get(m).is_some())
        {
            return Err(TaError::Malformed(
                "taid, taversion and taname belong in the protected header",
            ));
        }
        let protected = sig.protected();
        let taid = match protected.get(TAID) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(TaError::Malformed("the image has no taid")),
        };
        let version = protected
            .get(TAVERSION)
            .and_then(Value::as_u64)
            .ok_or(TaError::Malformed("the image has no integer taversion"))?;
        let taname = match protected.get(TANAME) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(TaError::Malformed("taname is not a string")),
        };
        Ok(ParsedImage {
            jws,
            info: TaImageInfo {
                taid,
                version,
                taname,
            },
        })
    }

    /// Verifies the signature with the key of `sp_cert_der` (any algorithm
    /// the provider supports) and returns the info.
    pub(crate) fn verify(
        self,
        provider: &Provider,
        sp_cert_der: &[u8],
    ) -> Result<TaImageInfo, TaError> {
        self.check(provider, sp_cert_der)?;
        Ok(self.info)
    }

    /// Whether the key of `sp_cert_der` signed the image (its code non-empty).
    pub(crate) fn check(&self, provider: &Provider, sp_cert_der: &[u8]) -> Result<(), TaError> {
        let key = sp_key(provider, sp_cert_der)?;
        let algs: Vec<JwsAlg> = provider.supported_jws_algs().collect();
        // The code is the decrypted TA: wiped when dropped.
        let code = Zeroizing::new(
            self.jws
                .verify(provider, &key, &algs)
                .map_err(|_| TaError::UntrustedSigner)?,
        );
        if code.is_empty() {
            return Err(TaError::Malformed("empty TA code"));
        }
        Ok(())
    }

    /// The image's one signature (checked at parse).
    pub(crate) fn signature(&self) -> Result<&[u8], TaError> {
        match self.jws.signatures() {
            [sig] => Ok(sig.signature()),
            _ => Err(TaError::Malformed("a TA image has exactly one signature")),
        }
    }

    /// The claimed info (trusted only after [`ParsedImage::check`]).
    pub(crate) fn into_info(self) -> TaImageInfo {
        self.info
    }
}

/// The TA code of a soft-TEE image, without verification (for tests and
/// tools that inspect an installed TA).
pub fn ta_code(image: &[u8]) -> Option<Vec<u8>> {
    Jws::parse_json(image).ok()?.unverified_payload().ok()
}
