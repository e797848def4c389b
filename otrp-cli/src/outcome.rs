//! What a TEE's signed response says: whether it is a refusal (`status`
//! "fail", spec 9.1.6) and with which error code, for exit status 3 and the
//! stderr line of `tee handle` and `agent`.
//!
//! The response is our own TEE's output, so its payload is read without
//! verifying the signature; only what the user is told depends on it.

use otrp_core::jose::Jws;
use serde_json::Value;

/// One refusal: the response's TBS name, error code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `CreateSDTBSResponse`, ...
    pub message: String,
    /// `ERR_...` (section 10); `None` when the reason is in the content
    /// encrypted for the TAM (9.2.1.3) and the TEE did not say otherwise.
    pub code: Option<String>,
    /// The TEE's `error-message`, when it sent one.
    pub detail: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self
            .message
            .strip_suffix("TBSResponse")
            .unwrap_or(&self.message);
        match &self.code {
            Some(code) => write!(f, "{name} {code}")?,
            None => write!(f, "{name} (the reason is encrypted for the TAM)")?,
        }
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

/// The refusals in `response`: a signed envelope, or the
/// GetDeviceStateResponse holding one per TEE. Empty when every response passed (or none could be read).
pub fn refusals(response: &[u8]) -> Vec<Refusal> {
    let Ok(value) = serde_json::from_slice::<Value>(response) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect(&value, &mut out);
    out
}

/// `{"GetDeviceStateResponse": [envelope, ...]}` holds one envelope per
/// TEE (9.1.5); any other envelope is `{"<Name>Response": <JWS>}`.
fn collect(envelope: &Value, out: &mut Vec<Refusal>) {
    let Some((_, inner)) = envelope.as_object().and_then(|o| o.iter().next()) else {
        return;
    };
    match inner {
        Value::Array(each) => each.iter().for_each(|e| collect(e, out)),
        jws => out.extend(refusal(jws)),
    }
}

fn refusal(jws: &Value) -> Option<Refusal> {
    let jws = Jws::parse_json(&serde_json::to_vec(jws).ok()?).ok()?;
    let payload = jws.unverified_payload().ok()?;
    let tbs: Value = serde_json::from_slice(&payload).ok()?;
    let (name, body) = tbs.as_object()?.iter().next()?;
    if body.get("status")?.as_str()? != "fail" {
        return None;
    }
    let reason = body.get("reason");
    let text = |member: &str| {
        reason
            .and_then(|r| r.get(member))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(Refusal {
        message: name.clone(),
        code: text("error-code"),
        detail: text("error-message"),
    })
}

/// Fills in the code and message of a refusal whose reason is encrypted,
/// from what the TEE reported ([`otrp_core::tee::Tee::last_refusal`]).
pub fn with_tee_reason(
    mut refusals: Vec<Refusal>,
    tee: Option<&otrp_core::tee::Tee>,
) -> Vec<Refusal> {
    if let Some((code, message)) = tee.and_then(|t| t.last_refusal()) {
        for r in refusals.iter_mut().filter(|r| r.code.is_none()) {
            r.code = Some(code.as_str().to_string());
            if r.detail.is_none() && !message.is_empty() {
                r.detail = Some(message.to_string());
            }
        }
    }
    refusals
}

/// One line naming every refusal.
pub fn describe(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(Refusal::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
