//! The soft TEE (otrp-soft-tee) for in-process lifecycle tests: opened over
//! a fresh directory with the test-pki keys and a seeded random source.

use std::path::{Path, PathBuf};

use otrp_core::crypto::Provider;
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::{Event, TamSession, TeeResult};
use otrp_core::tee::{Tee, TeeConfig};
use otrp_soft_tee::{SoftFirmware, SoftIdentity, SoftTeeOptions};

use super::*;

/// The routing name of the soft TEE.
pub const TEE_NAME: &str = "soft-tee";

pub use otrp_test_support::fixtures::pkcs8_der;

/// A fresh, empty directory for one test's TEE state.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otrp-tam-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Options for [`open_tee`].
#[derive(Clone, Copy, Debug)]
pub struct TeeSetup {
    pub firmware: bool,
    pub max_bytes: Option<u64>,
}

impl Default for TeeSetup {
    fn default() -> Self {
        TeeSetup {
            firmware: true,
            max_bytes: None,
        }
    }
}

/// Opens the soft TEE of hierarchy `kind` over `dir`, trusting both TAM
/// roots' hierarchies of `kind`, with randomness from `seed`.
pub fn open_tee(kind: Kind, dir: &Path, seed: &str, setup: TeeSetup) -> Tee {
    let provider = provider(seed);
    open_tee_with(kind, dir, provider, setup)
}

pub fn open_tee_with(kind: Kind, dir: &Path, provider: Provider, setup: TeeSetup) -> Tee {
    let identity = SoftIdentity::from_der(
        &provider,
        cert(kind, "tee"),
        vec![cert(kind, "tee-ca"), cert(kind, "tee-root")],
        &pkcs8_der(kind, "tee"),
    )
    .unwrap();
    let anchors = TrustAnchors::from_certificates([cert(kind, "tam-root").as_slice()]).unwrap();
    let config = TeeConfig::new(TEE_NAME, anchors);
    let firmware = setup.firmware.then(|| {
        SoftFirmware::new(
            provider,
            cert(kind, "tfw"),
            &pkcs8_der(kind, "tfw"),
            kind.sig_alg(),
        )
        .unwrap()
    });
    let options = SoftTeeOptions {
        firmware,
        max_bytes: setup.max_bytes,
        ..SoftTeeOptions::default()
    };
    otrp_soft_tee::open(dir, config, provider, identity, options).unwrap()
}

/// A TA image of the soft TEE: `code` of TA `taid` at `version`, signed by
/// the SP key of `kind`.
pub fn ta_image(kind: Kind, taid: &str, version: u64, code: &[u8]) -> Vec<u8> {
    let provider = provider("sp signer");
    let info = otrp_soft_tee::TaImageInfo {
        taid: taid.into(),
        version,
        taname: None,
    };
    otrp_soft_tee::sign_ta_image(code, &info, &*key(kind, "sp"), kind.sig_alg(), &provider).unwrap()
}

/// Sends `request` to the TEE and hands the answer to the session.
pub fn exchange(session: &mut TamSession<'_>, tee: &mut Tee, request: Vec<u8>) -> Event {
    let response = tee.handle(&request, now()).unwrap();
    session.handle_response(&response, now()).unwrap()
}

/// GetDeviceState, asserting the TEE was accepted.
pub fn discover(session: &mut TamSession<'_>, tee: &mut Tee) {
    let request = session.get_device_state().unwrap();
    match exchange(session, tee, request) {
        Event::DeviceState(r) if matches!(r.as_slice(), [TeeResult::Accepted { .. }]) => {}
        other => panic!("GetDeviceState: {other:?}"),
    }
}
