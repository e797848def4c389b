//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Mutex;

use otrp_core::crypto::{CryptoError, SecureRandom};

/// Hex to bytes (panics on bad input: test data only).
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// base64url (no padding) to bytes.
pub fn b64u(s: &str) -> Vec<u8> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(s).expect("base64url")
}

/// A file under the shared vectors directory.
pub fn vector(rel: &str) -> serde_json::Value {
    let path = format!("{}/../../shared/vectors/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("json")
}

/// A fixture under tests/data.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as text.
pub fn fixture_str(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("utf-8")
}

/// The OS random source.
pub fn rng() -> &'static dyn SecureRandom {
    &otrp_crypto_aws_lc::AWS_LC_RANDOM
}

/// A random source that hands out scripted bytes and records each `fill`
/// call's length; an unscripted call fails.
pub struct ScriptedRandom {
    script: Mutex<Vec<Vec<u8>>>,
    pub calls: Mutex<Vec<usize>>,
}

impl ScriptedRandom {
    pub fn new(script: Vec<Vec<u8>>) -> Self {
        let mut script = script;
        script.reverse();
        Self {
            script: Mutex::new(script),
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl SecureRandom for ScriptedRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        self.calls.lock().unwrap().push(dest.len());
        let next = self
            .script
            .lock()
            .unwrap()
            .pop()
            .ok_or(CryptoError::Random)?;
        if next.len() != dest.len() {
            return Err(CryptoError::Random);
        }
        dest.copy_from_slice(&next);
        Ok(())
    }
}
