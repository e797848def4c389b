//! The benchmark support: the lifecycle runs on both hierarchies, every
//! step replays from its snapshots, and a recording captures the primitive
//! calls a request needs (and replays them).

use otrp_benches::record::{Call, record, recording, wrap_tee_hooks};
use otrp_benches::{Kind, MemFs, Scenario, TeeParts, now};
use otrp_core::message::MessageKind;
use otrp_core::tam::{Event, TamSession};
use otrp_core::tee::Tee;

fn provider() -> otrp_core::crypto::Provider {
    otrp_crypto_rustcrypto::provider()
}

#[test]
fn lifecycle_steps_replay_from_their_snapshots() {
    for (name, provider) in otrp_benches::providers::all() {
        for kind in Kind::BOTH {
            lifecycle(name, kind, provider);
        }
    }
}

fn lifecycle(name: &str, kind: Kind, provider: otrp_core::crypto::Provider) {
    {
        let s = Scenario::run(kind, provider, 4096);
        let kinds: Vec<MessageKind> = s.steps.iter().map(|s| s.kind).collect();
        assert_eq!(kinds.len(), 7, "{name} {kind:?}");
        for step in &s.steps {
            // The TEE answers the request again from its snapshot...
            let mut tee = s.tee.open(step.tee_before.snapshot());
            let answer = tee.handle(&step.request, now()).unwrap();
            // ...and the TAM accepts the recorded answer from its state.
            let mut session = TamSession::resume(&s.tam, step.tam_before.clone());
            match session.handle_response(&answer, now()).unwrap() {
                Event::DeviceState(_) | Event::Success { .. } => {}
                other => panic!("{name} {kind:?} {:?}: {other:?}", step.kind),
            }
            // The same request twice is a replay: refused.
            let again = tee.handle(&step.request, now()).unwrap();
            assert_ne!(again, answer);
            // The raw baselines record and replay on this provider.
            let calls = otrp_benches::measure::tee_calls(&s, step);
            assert!(
                calls.0.iter().any(|c| matches!(c, Call::Sign(..))),
                "{name}"
            );
            calls.replay(provider.secure_random);
            otrp_benches::measure::tam_calls(&s, step).replay(provider.secure_random);
        }
    }
}

#[test]
fn recording_captures_the_primitives_of_a_request() {
    let base = provider();
    let rec = recording(base);
    let s = Scenario::run(Kind::Rsa, base, 4096);
    let parts = TeeParts::new(Kind::Rsa, rec);
    let step = s.step(MessageKind::InstallTa);
    let hooks = wrap_tee_hooks(parts.hooks(step.tee_before.snapshot(), rec), base);
    let mut tee = Tee::open(parts.config().clone(), rec, hooks).unwrap();
    let (answer, calls) = record(|| tee.handle(&step.request, now()).unwrap());
    assert!(!answer.is_empty());
    let count = |f: &dyn Fn(&Call) -> bool| calls.0.iter().filter(|c| f(c)).count();
    // The TAM chain (one certificate signature) and the JWS signature.
    assert_eq!(count(&|c| matches!(c, Call::Webpki(..))), 1, "{calls:?}");
    assert!(count(&|c| matches!(c, Call::Verify(..))) >= 2, "{calls:?}");
    // The firmware signs the new DSI's tid (nextdsi), the TEE the response.
    assert_eq!(count(&|c| matches!(c, Call::Sign(..))), 2, "{calls:?}");
    assert_eq!(count(&|c| matches!(c, Call::TaDecrypt(..))), 2, "{calls:?}");
    calls.replay(base.secure_random);
    // Nothing is recorded outside `record`.
    let (_, none) = record(|| ());
    assert!(none.0.is_empty());
    let _ = MemFs::new();
}

/// The heap benchmark's TEE on disk: the state of a snapshot is copied
/// into a real directory, the InstallTA passes there, and the sealed TA
/// lands in that directory (not in the snapshot).
#[test]
fn a_step_replays_on_disk() {
    let s = Scenario::run(Kind::Rsa, provider(), 4096);
    let step = s.step(MessageKind::InstallTa);
    let dir = tempfile::tempdir().unwrap();
    let before = step.tee_before.bytes();
    let mut tee = s.tee.open_on_disk(&step.tee_before, dir.path());
    let answer = tee.handle(&step.request, now()).unwrap();
    let mut session = TamSession::resume(&s.tam, step.tam_before.clone());
    assert!(matches!(
        session.handle_response(&answer, now()).unwrap(),
        Event::Success { .. }
    ));
    let on_disk: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(on_disk > before as u64 + 4096, "{on_disk} B on disk");
    assert_eq!(step.tee_before.bytes(), before);
}
