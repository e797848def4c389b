//! Requests and answers that fail authentication, built once for the
//! pre-authentication benchmark (`benches/preauth.rs`) and its tests
//! (`tests/preauth.rs`), issue 18: chains of many or same-name
//! certificates with a zero signature, at the TEE (`x5c` of a request) and
//! at the TAM (`cacert` in the DSI of an `edsi` anyone can encrypt to it).

use otrp_core::jose::b64;
use otrp_core::message::MessageKind;
use serde_json::Value;

use crate::fixtures::{Kind, cert};
use crate::fuzz::{
    TAM_PLAINTEXT, plaintext_payload, scenarios, tam_response_message, tam_selector,
};

/// `message` (a single envelope) with a zero signature.
pub fn zero_signature(message: &[u8]) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(message).expect("JSON");
    if let Some(jws) = v.as_object_mut().and_then(|o| o.values_mut().next()) {
        jws["signature"] = b64::encode_url(&[0u8; 256]).into();
    }
    v.to_string().into_bytes()
}

/// `request` with a zero signature and, when given, its `x5c` replaced.
pub fn forged_request(request: &[u8], x5c: Option<Vec<Vec<u8>>>) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&zero_signature(request)).expect("JSON");
    if let (Some(chain), Some(jws)) = (x5c, v.as_object_mut().and_then(|o| o.values_mut().next())) {
        let list: Vec<String> = chain.iter().map(|c| b64::encode_std(c)).collect();
        jws["header"]["x5c"] = list.into();
    }
    v.to_string().into_bytes()
}

/// `n` distinct CA certificates sharing one subject name ("X" of the
/// issue): copies of `template` whose signature's last byte differs
/// (parseable, distinct bytes, the same name and issuer).
pub fn named_x(n: usize, template: &[u8]) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut c = template.to_vec();
            if let Some(last) = c.last_mut() {
                *last = last.wrapping_add(i as u8 + 1);
            }
            c
        })
        .collect()
}

/// The bomb after the signer's certificate: 10 CA certificates
/// named alike (copies of `template`) and 600 copies of a junk one.
pub fn bomb_610(template: &[u8]) -> Vec<Vec<u8>> {
    let mut list = named_x(10, template);
    list.extend(std::iter::repeat_n(vec![0x30, 0x03, 0x02, 0x01, 0x00], 600));
    list
}

/// The index of the GetDeviceState step in the fuzzing scenario of `kind`.
pub fn device_state_step(kind: Kind) -> usize {
    scenarios()[usize::from(kind == Kind::Ec)]
        .steps
        .iter()
        .position(|st| st.kind == MessageKind::GetDeviceState)
        .expect("GetDeviceState step")
}

/// The TAM-side attack: the fuzzing scenario's GetDeviceState answer
/// (`kind`) with its DSI's `cacert` replaced by `cacert` (when given),
/// encrypted to the TAM key (which anyone can do), with a zero signature.
pub fn forged_answer(kind: Kind, cacert: Option<Vec<Vec<u8>>>) -> Vec<u8> {
    let i = device_state_step(kind);
    let s = &scenarios()[usize::from(kind == Kind::Ec)];
    let plain = plaintext_payload(kind, &s.steps[i]).expect("plaintext");
    let mut v: Value = serde_json::from_slice(&plain).expect("JSON");
    if let (Some(list), Some(tbs)) = (
        cacert,
        v.as_object_mut().and_then(|o| o.values_mut().next()),
    ) {
        let mut dsi: Value =
            serde_json::from_str(tbs["edsi"].as_str().expect("edsi")).expect("DSI");
        let list: Vec<String> = list.iter().map(|c| b64::encode_std(c)).collect();
        dsi["dsi"]["tee"]["cacert"] = list.into();
        tbs["edsi"] = dsi.to_string().into();
    }
    let mut input = vec![tam_selector(kind, TAM_PLAINTEXT, i)];
    input.extend_from_slice(v.to_string().as_bytes());
    let (_, _, message) = tam_response_message(&input).expect("message");
    zero_signature(&message)
}

/// The TEE root of `kind`, the template of the TAM-side bombs.
pub fn tee_root(kind: Kind) -> Vec<u8> {
    cert(kind, "tee-root")
}
