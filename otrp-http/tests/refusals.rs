//! TEE refusals made before the request's signature verified, over HTTP
//! (issue 13 item 1): the TEE echoes the ids of the unverified payload, so
//! the TAM server's session receives the refusal as a typed event
//! (ERR_TAM_NOT_TRUSTED) instead of refusing the answer as an id mismatch.
//! And (issue 13 item 5) a request the TEE refuses because it evicted the
//! TAM's cached signer goes again with `x5c` within the same session.

mod support;

use std::sync::Arc;
use std::time::Duration;

use otrp_core::broker::routing_info;
use otrp_core::message::{ErrorCode, Limits, MessageKind};
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::{Command, Event, Tam, TamSession, TeeResult};
use otrp_http::{Agent, DeviceHandler, HandlerError, Step, TamServer};
use support::*;

/// A TAM whose certificate chains to a root the TEE does not trust.
fn untrusted_tam(kind: Kind) -> Arc<Tam> {
    let tee_roots = TrustAnchors::from_certificates([cert(kind, "tee-root").as_slice()]).unwrap();
    let tam = Tam::new(
        otrp_crypto_rustcrypto::provider(),
        private_key(kind, "tam-unknown-root"),
        vec![cert(kind, "tam-unknown-root")],
        tee_roots,
    )
    .unwrap()
    .with_ocspdat(vec![fixture(kind, "ocsp/tam-good-by-ca.der")]);
    Arc::new(tam)
}

#[test]
fn an_untrusted_tam_receives_the_tees_refusal_over_http() {
    let kind = Kind::Ec;
    let app = Scripted::new(vec![Step::GetDeviceState]);
    let server = TamServer::start(
        "127.0.0.1:0".parse().unwrap(),
        untrusted_tam(kind),
        app.clone(),
        test_config(),
    )
    .unwrap();
    let dir = TempDir::new("refusal-http");
    let mut device = Device::new(kind, dir.path());
    Agent::new(&server.url())
        .unwrap()
        .with_request_timeout(Duration::from_secs(30))
        .run_blocking(&mut device)
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || app
        .done
        .lock()
        .unwrap()
        .len()
        == 1));
    let done = app.done.lock().unwrap();
    assert_eq!(done[0].end, "completed", "{:?}", done[0].events);
    match done[0].events.as_slice() {
        [Event::DeviceState(results)] => match results.as_slice() {
            [TeeResult::Failed(f)] => {
                assert_eq!(f.code, ErrorCode::TamNotTrusted);
                assert!(!f.authenticated);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // The TEE changed nothing.
    assert!(device.tee.state().sds.is_empty());
    assert!(device.tee.state().seen.is_empty());
}

/// A device whose TEE caches one TAM signer, and where another TAM runs
/// GetDeviceState just before the first command arrives, evicting the
/// served TAM's certificate.
struct Evicting {
    device: Device,
    other: Arc<Tam>,
    evicted: bool,
}

impl DeviceHandler for Evicting {
    fn process(&mut self, message: &[u8]) -> Result<Vec<u8>, HandlerError> {
        let kind = routing_info(message, &Limits::DEFAULT).map(|i| i.kind);
        if !self.evicted && kind.is_ok_and(|k| k != MessageKind::GetDeviceState) {
            self.evicted = true;
            let mut other = TamSession::new(&self.other);
            let request = other.get_device_state().unwrap();
            let answer = self.device.tee.handle(&request, now()).unwrap();
            let event = other.handle_response(&answer, now()).unwrap();
            assert!(matches!(event, Event::DeviceState(_)), "{event:?}");
        }
        self.device.process(message)
    }
}

#[test]
fn an_evicted_signer_costs_one_resend_with_x5c_over_http() {
    let kind = Kind::Ec;
    let app = Scripted::new(vec![
        Step::GetDeviceState,
        Step::Command {
            tee: TEE_NAME.into(),
            command: Command::CreateSd {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                spcert: cert(kind, "sp"),
            },
        },
    ]);
    let server = start(kind, app.clone(), test_config());
    let dir = TempDir::new("refusal-evicted-http");
    let mut device = Evicting {
        device: Device {
            tee: open_tee_with(kind, dir.path(), |c| c.signer_cache = 1),
            seen: Vec::new(),
            errors: Vec::new(),
        },
        other: tam_named(kind, "tam-rid", "ocsp/tam-rid-good.der"),
        evicted: false,
    };
    Agent::new(&server.url())
        .unwrap()
        .with_request_timeout(Duration::from_secs(30))
        .run_blocking(&mut device)
        .unwrap();
    assert!(device.evicted);
    assert!(wait_until(Duration::from_secs(5), || app
        .done
        .lock()
        .unwrap()
        .len()
        == 1));
    let done = app.done.lock().unwrap();
    assert_eq!(done[0].end, "completed", "{:?}", done[0].events);
    // The application saw the device state and the success: the refusal
    // and the resend stayed inside the server's session.
    match done[0].events.as_slice() {
        [Event::DeviceState(_), Event::Success { kind, .. }] => {
            assert_eq!(*kind, MessageKind::CreateSd);
        }
        other => panic!("{other:?}"),
    }
    // Three TAM messages reached the TEE: GetDeviceState, the refused
    // CreateSD and the same CreateSD with x5c.
    assert_eq!(device.device.seen.len(), 3);
    assert!(
        device
            .device
            .tee
            .state()
            .sds
            .iter()
            .any(|sd| sd.name == "sd1")
    );
}
