//! Helpers the backends' own integration tests share (so that no backend
//! keeps a copy): base64url decoding, fixture files, and a scripted random
//! source that records each draw.

use std::sync::Mutex;

use otrp_core::crypto::{CryptoError, SecureRandom};

/// base64url (no padding) to bytes (panics on bad input: test data only).
pub fn b64u(s: &str) -> Vec<u8> {
    otrp_core::jose::b64::decode_url(s, "test data").expect("base64url")
}

/// The bytes of `name` under `manifest_dir/tests/data` (pass
/// `env!("CARGO_MANIFEST_DIR")`).
pub fn fixture(manifest_dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{manifest_dir}/tests/data/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as text.
pub fn fixture_str(manifest_dir: &str, name: &str) -> String {
    String::from_utf8(fixture(manifest_dir, name)).expect("utf-8")
}

/// A random source that hands out scripted bytes and records each `fill`
/// call's length; an unscripted call, or one of another length, fails with
/// [`CryptoError::Random`] (unlike [`QueueRandom`](crate::QueueRandom),
/// which panics), so tests can assert how a backend draws.
pub struct ScriptedRandom {
    script: Mutex<Vec<Vec<u8>>>,
    /// The length of each `fill` call, in order.
    pub calls: Mutex<Vec<usize>>,
}

impl ScriptedRandom {
    /// A source that answers with `script`, in order.
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
        self.calls
            .lock()
            .map_err(|_| CryptoError::Random)?
            .push(dest.len());
        let next = self
            .script
            .lock()
            .map_err(|_| CryptoError::Random)?
            .pop()
            .ok_or(CryptoError::Random)?;
        if next.len() != dest.len() {
            return Err(CryptoError::Random);
        }
        dest.copy_from_slice(&next);
        Ok(())
    }
}

/// The helpers of one backend's integration tests (`tests/common/mod.rs`),
/// over that backend's random source: `hex`, `vector` (a vendored vector
/// file), `b64u`, `ScriptedRandom`, `fixture`/`fixture_str` (this crate's
/// `tests/data`) and `rng()`.
#[macro_export]
macro_rules! backend_test_support {
    ($rng:expr) => {
        pub use $crate::hex;
        pub use $crate::load as vector;
        pub use $crate::support::{ScriptedRandom, b64u};

        /// A fixture under this crate's tests/data.
        pub fn fixture(name: &str) -> Vec<u8> {
            $crate::support::fixture(env!("CARGO_MANIFEST_DIR"), name)
        }

        /// A fixture as text.
        pub fn fixture_str(name: &str) -> String {
            $crate::support::fixture_str(env!("CARGO_MANIFEST_DIR"), name)
        }

        /// This backend's own random source.
        pub fn rng() -> &'static dyn $crate::otrp_core::crypto::SecureRandom {
            $rng
        }
    };
}
