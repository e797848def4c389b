//! TA images for the catalog (issue 15, item 2): building one (`otrp ta
//! build`) and verifying one at upload.
//!
//! The image is the soft TEE's (`otrp_soft_tee::sign_ta_image`: a JWS by
//! the SP's key over the TA code, `taid` and `taversion` in the protected
//! header), with the SP's certificate chain added as `x5c` in the
//! signature's unprotected header, so that the service can check the
//! signature and the chain at upload. The TEE ignores `x5c`: it verifies
//! with the SP certificates of the SD (CreateSD's `spcert`).

use std::time::{Duration, SystemTime};

use otrp_core::crypto::{JwsAlg, JwsSigner, KeyKind, Provider};
use otrp_core::jose::{Jws, b64};
use otrp_core::pki::{TrustAnchors, UnixTime, check_sp_certificate};
use otrp_soft_tee::{TaImageInfo, sign_ta_image, verify_ta_image};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::policy::check_name;
use crate::store::NewImage;

/// The largest image the catalog takes.
pub const MAX_IMAGE: usize = 16 << 20;

/// Builds an SP-signed image of `code` as `info` says, with `chain` (the
/// SP certificate first, DER) as `x5c`.
pub fn build_image(
    provider: &Provider,
    code: &[u8],
    info: &TaImageInfo,
    sp_key: &dyn JwsSigner,
    chain: &[Vec<u8>],
) -> Result<Vec<u8>> {
    check_name("taid", &info.taid)?;
    if code.is_empty() {
        return Err(Error::input("the TA code is empty"));
    }
    if chain.is_empty() {
        return Err(Error::input("the SP certificate chain is empty"));
    }
    let alg = match sp_key.key_kind() {
        KeyKind::Rsa => JwsAlg::Rs256,
        _ => JwsAlg::Es256,
    };
    let signed = sign_ta_image(code, info, sp_key, alg, provider)
        .map_err(|e| Error::input(format!("signing the image: {e}")))?;
    let mut json: Value =
        serde_json::from_slice(&signed).map_err(|e| Error::input(format!("signed image: {e}")))?;
    let x5c: Vec<Value> = chain
        .iter()
        .map(|c| Value::from(b64::encode_std(c)))
        .collect();
    if let Some(o) = json.as_object_mut() {
        o.insert("header".into(), serde_json::json!({ "x5c": x5c }));
    }
    Ok(json.to_string().into_bytes())
}

/// Verifies an upload of SP `spid`: the image carries the SP certificate
/// chain (`x5c`); the certificate must chain to `anchors` (with no anchor
/// configured, only its format and key are checked, as a TEE without SP
/// roots does, and the SP's first certificate is pinned by the store); the
/// SP's signature must verify with it; `taid` and the version come from
/// the signed header only.
pub fn verify_upload(
    provider: &Provider,
    spid: &str,
    image: &[u8],
    anchors: &[Vec<u8>],
) -> Result<NewImage> {
    check_name("spid", spid)?;
    if image.len() > MAX_IMAGE {
        return Err(Error::input(format!(
            "the image is larger than {MAX_IMAGE} bytes"
        )));
    }
    let bad = |why: String| Error::input(format!("the image does not verify: {why}"));
    let jws = Jws::parse_json(image).map_err(|e| bad(format!("not a signed TA image ({e})")))?;
    let [signature] = jws.signatures() else {
        return Err(bad("a TA image has exactly one signature".into()));
    };
    let chain = signature
        .x5c()
        .map_err(|e| bad(e.to_string()))?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            bad("it carries no SP certificate (x5c); build it with `otrp ta build`".into())
        })?;
    let (spcert, intermediates) = chain.split_first().ok_or_else(|| bad("empty x5c".into()))?;
    let anchors = TrustAnchors::from_certificates(anchors.iter().map(Vec::as_slice))
        .map_err(|e| Error::Database(format!("stored SP anchors: {e}")))?;
    let intermediates: Vec<&[u8]> = intermediates.iter().map(Vec::as_slice).collect();
    check_sp_certificate(provider, &anchors, spcert, &intermediates, now())
        .map_err(|e| bad(format!("SP certificate: {e}")))?;
    let info = verify_ta_image(provider, image, spcert).map_err(|e| bad(e.to_string()))?;
    check_name("taid", &info.taid)?;
    if info.version == 0 || i64::try_from(info.version).is_err() {
        return Err(bad(format!("version {} is out of range", info.version)));
    }
    Ok(NewImage {
        spid: spid.to_string(),
        taid: info.taid,
        version: info.version,
        taname: info.taname,
        spcert: spcert.clone(),
        image: image.to_vec(),
        sha256: crate::audit::hex(&Sha256::digest(image)),
    })
}

fn now() -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO),
    )
}

/// `otrp tam ta add` and `POST /v1/tas`: verifies the image of SP `spid`
/// against the store's SP anchors and adds it. Nothing changes when it is
/// refused.
pub async fn add(
    store: &crate::Store,
    provider: &Provider,
    spid: &str,
    image: &[u8],
    actor: &str,
    now: i64,
) -> Result<NewImage> {
    let anchors = store.sp_anchors().await?;
    let new = verify_upload(provider, spid, image, &anchors)?;
    store.add_image(&new, actor, now).await?;
    Ok(new)
}
