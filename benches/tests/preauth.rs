//! The TAM's side of issue 18's first attack: a GetDeviceState answer whose
//! `edsi` (which anyone can encrypt to the TAM) offers a `cacert` bomb is
//! refused as malformed before any path is built, and leaves the device
//! state as it was. (The TEE's side, `x5c`, is
//! `otrp-soft-tee/tests/tee_protocol.rs::x5c_is_bounded_and_without_duplicates`.)

use otrp_benches::fixtures::{Kind, now};
use otrp_benches::fuzz::scenarios;
use otrp_benches::preauth::{bomb_610, device_state_step, forged_answer, named_x, tee_root};
use otrp_core::pki::{CertError, PkiError};
use otrp_core::tam::{TamError, TamSession};

#[test]
fn the_tam_refuses_cacert_bombs_before_building_a_path() {
    for kind in Kind::BOTH {
        let s = &scenarios()[usize::from(kind == Kind::Ec)];
        let step = &s.steps[device_state_step(kind)];
        let root = tee_root(kind);
        for (cacert, want) in [
            (bomb_610(&root), CertError::TooManyCertificates),
            (named_x(7, &root), CertError::DuplicateCertificate),
        ] {
            let answer = forged_answer(kind, Some(cacert));
            let mut session = TamSession::resume(&s.tam, step.tam_before.clone());
            let started = std::time::Instant::now();
            let err = session.handle_response(&answer, now()).unwrap_err();
            let elapsed = started.elapsed();
            match &err {
                TamError::Pki(PkiError::Certificate { error, .. }) => {
                    assert_eq!(*error, want, "{kind:?}: {err}")
                }
                other => panic!("{kind:?}: {other}"),
            }
            assert_eq!(session.state(), &step.tam_before);
            eprintln!("{kind:?} {want:?}: refused in {elapsed:?}");
        }
        // The valid DSI with a zero signature: refused by the signature.
        let answer = forged_answer(kind, None);
        let mut session = TamSession::resume(&s.tam, step.tam_before.clone());
        let err = session.handle_response(&answer, now()).unwrap_err();
        assert!(matches!(err, TamError::Jose(_)), "{kind:?}: {err}");
    }
}
