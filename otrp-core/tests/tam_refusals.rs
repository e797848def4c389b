//! TEE refusals that happen before the request's signature is verified,
//! seen through a real `TamSession` against the soft TEE (issue 13 item 1):
//! the TEE echoes the ids it read from the unverified payload, so the
//! refusal reaches the TAM as a typed event instead of an id mismatch.
//! Also: a certificate whose revocation status the TEE has not established
//! (issue 13 item 4), and a TAM whose cached signer the TEE evicted.

otrp_test_support::provider_under_test!(rustcrypto);

mod tam_support;

use otrp_core::crypto::{JwsAlg, Provider, SignatureVerifier};
use otrp_core::message::{ErrorCode, SigAlg};
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::{Command, Event, TamSession, TeeFailure, TeeResult};
use otrp_core::tee::{Tee, TeeConfig};
use otrp_soft_tee::{SoftIdentity, SoftTeeOptions};
use tam_support::soft::*;
use tam_support::*;

/// The soft TEE of `kind` over `dir` with `provider` and `config` changes.
fn tee_with(
    kind: Kind,
    dir: &std::path::Path,
    provider: Provider,
    edit: impl FnOnce(&mut TeeConfig),
) -> Tee {
    let identity = SoftIdentity::from_der(
        &provider,
        cert(kind, "tee"),
        vec![cert(kind, "tee-ca"), cert(kind, "tee-root")],
        &pkcs8_der(kind, "tee"),
    )
    .unwrap();
    let anchors = TrustAnchors::from_certificates([cert(kind, "tam-root").as_slice()]).unwrap();
    let mut config = TeeConfig::new(TEE_NAME, anchors);
    edit(&mut config);
    otrp_soft_tee::open(dir, config, provider, identity, SoftTeeOptions::default()).unwrap()
}

fn failure_of(event: Event) -> TeeFailure {
    match event {
        Event::DeviceState(mut r) => match r.pop() {
            Some(TeeResult::Failed(f)) if r.is_empty() => f,
            other => panic!("one failed TEE expected: {other:?}"),
        },
        Event::TeeFailure(f) => f,
        other => panic!("a failure expected: {other:?}"),
    }
}

#[test]
fn an_untrusted_tam_learns_it_is_not_trusted() {
    for kind in BOTH {
        let dir = fresh_dir(&format!("refusal-untrusted-{}", kind.dir()));
        let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
        let stranger = tam_named(kind, "tam-unknown-root", kind, "stranger seed");
        let mut session = TamSession::new(&stranger);
        let request = session.get_device_state().unwrap();
        let f = failure_of(exchange(&mut session, &mut tee, request));
        assert_eq!(f.code, ErrorCode::TamNotTrusted);
        // The TEE is unknown to this TAM: the refusal cannot be
        // authenticated, but it is correlated and the session is idle.
        assert!(!f.authenticated);
        assert!(session.get_device_state().is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn unsupported_signature_algorithm_reaches_the_tam_with_supportedsigalgs() {
    let kind = Kind::Rsa;
    let dir = fresh_dir("refusal-alg");
    // A TEE whose provider verifies no RS256, the TAM's algorithm.
    let mut provider = provider("tee seed");
    let verifiers: Vec<&'static dyn SignatureVerifier> = provider
        .signature_verifiers
        .iter()
        .copied()
        .filter(|v| v.algorithm() != JwsAlg::Rs256)
        .collect();
    provider.signature_verifiers = Box::leak(verifiers.into_boxed_slice());
    let mut tee = tee_with(kind, &dir, provider, |_| {});
    let tam = tam(kind);
    assert_eq!(tam.sign_alg(), JwsAlg::Rs256);
    let mut session = TamSession::new(&tam);
    let request = session.get_device_state().unwrap();
    let f = failure_of(exchange(&mut session, &mut tee, request));
    assert_eq!(f.code, ErrorCode::UnsupportedCryptoAlg);
    let algs = f.supportedsigalgs.expect("supportedsigalgs (9.1.6)");
    assert!(algs.contains(&SigAlg::Known(JwsAlg::Ps256)), "{algs:?}");
    assert!(!algs.contains(&SigAlg::Known(JwsAlg::Rs256)), "{algs:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn delete_sd(sdname: &str) -> Command {
    Command::DeleteSd {
        sdname: sdname.into(),
        deleteta: true,
    }
}

fn create_sd(kind: Kind, sdname: &str) -> Command {
    Command::CreateSd {
        spid: "sp1".into(),
        sdname: sdname.into(),
        spcert: cert(kind, "sp"),
    }
}

#[test]
fn a_rotated_certificate_is_refused_until_its_status_is_established() {
    let kind = Kind::Ec;
    let dir = fresh_dir("refusal-rotation");
    let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
    let old = tam(kind);
    let mut session = TamSession::new(&old);
    discover(&mut session, &mut tee);
    let request = session.command(TEE_NAME, create_sd(kind, "sd1")).unwrap();
    assert!(matches!(
        exchange(&mut session, &mut tee, request),
        Event::Success { .. }
    ));
    // The TAM rotates its key: same tamid, new certificate and OCSP data.
    let new = tam_named(kind, "tam-renewed", kind, "renewed seed")
        .with_ocspdat(vec![fixture(kind, "ocsp/tam-renewed-good.der")]);
    assert_eq!(new.tamid(), old.tamid());
    let mut session = TamSession::resume(&new, session.into_state());
    // Without x5c the TEE knows no signer with the new key; the session
    // resends with x5c, and then the certificate's revocation status is
    // not established: that second refusal ends the command.
    assert!(!session.state().tee(TEE_NAME).unwrap().signerreq);
    let request = session.command(TEE_NAME, delete_sd("sd1")).unwrap();
    let resent = match exchange(&mut session, &mut tee, request) {
        Event::Resend { request, failure } => {
            assert_eq!(failure.code, ErrorCode::TamNotTrusted);
            request
        }
        other => panic!("a resend expected: {other:?}"),
    };
    let f = failure_of(exchange(&mut session, &mut tee, resent));
    assert_eq!(f.code, ErrorCode::TamNotTrusted);
    assert!(f.authenticated);
    assert!(session.state().outstanding().is_none());
    // Later requests carry x5c from the start, and are refused alike.
    assert!(session.state().tee(TEE_NAME).unwrap().signerreq);
    let request = session.command(TEE_NAME, delete_sd("sd1")).unwrap();
    let f = failure_of(exchange(&mut session, &mut tee, request));
    assert_eq!(f.code, ErrorCode::TamNotTrusted);
    // GetDeviceState establishes it; the SD stays the TAM's.
    discover(&mut session, &mut tee);
    let request = session.command(TEE_NAME, delete_sd("sd1")).unwrap();
    assert!(matches!(
        exchange(&mut session, &mut tee, request),
        Event::Success { .. }
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_tam_whose_signer_was_evicted_resends_with_x5c_in_the_same_session() {
    let kind = Kind::Ec;
    let dir = fresh_dir("refusal-evicted");
    let mut tee = tee_with(kind, &dir, provider("tee seed"), |c| c.signer_cache = 1);
    let first = tam(kind);
    let mut session = TamSession::new(&first);
    discover(&mut session, &mut tee);
    assert!(!session.state().tee(TEE_NAME).unwrap().signerreq);
    // Another TAM takes the only cache slot.
    let other = tam_named(kind, "tam-rid", kind, "other seed")
        .with_ocspdat(vec![fixture(kind, "ocsp/tam-rid-good.der")]);
    let mut other_session = TamSession::new(&other);
    discover(&mut other_session, &mut tee);
    // The first TAM's request without x5c is refused as from an unknown
    // signer; the session answers with the same request, now with x5c.
    let request = session.command(TEE_NAME, create_sd(kind, "sd1")).unwrap();
    let first_try =
        otrp_core::message::parse_request(&request, &otrp_core::message::Limits::DEFAULT).unwrap();
    let revision = session.state().revision();
    let resent = match exchange(&mut session, &mut tee, request.clone()) {
        Event::Resend { request, failure } => {
            assert_eq!(failure.code, ErrorCode::TamNotTrusted);
            assert!(failure.authenticated);
            request
        }
        other => panic!("a resend expected: {other:?}"),
    };
    assert!(session.state().revision() > revision);
    assert!(session.state().tee(TEE_NAME).unwrap().signerreq);
    // The very request (ids, payload, signature), with the TAM chain added.
    let again =
        otrp_core::message::parse_request(&resent, &otrp_core::message::Limits::DEFAULT).unwrap();
    assert_eq!(again.kind, first_try.kind);
    let (jws0, jws1) = (first_try.parse_jws().unwrap(), again.parse_jws().unwrap());
    assert_eq!(
        jws0.unverified_payload().unwrap(),
        jws1.unverified_payload().unwrap()
    );
    assert_eq!(
        jws0.signatures()[0].signature(),
        jws1.signatures()[0].signature()
    );
    assert_eq!(jws0.signatures()[0].x5c().unwrap(), None);
    assert_eq!(
        jws1.signatures()[0].x5c().unwrap(),
        Some(vec![cert(kind, "tam"), cert(kind, "tam-root")])
    );
    // The TEE applies it within the same session.
    let outstanding = session.state().outstanding().unwrap().clone();
    assert_eq!(outstanding.kind, otrp_core::message::MessageKind::CreateSd);
    match exchange(&mut session, &mut tee, resent) {
        Event::Success { dsi: Some(dsi), .. } => {
            assert!(dsi.tee.sdlist.sd.iter().any(|sd| sd.name == "sd1"));
        }
        other => panic!("the resent command applied expected: {other:?}"),
    }
    assert!(session.state().outstanding().is_none());
    assert!(tee.state().sds.iter().any(|sd| sd.name == "sd1"));
    // Later requests carry x5c from the start.
    let request = session.command(TEE_NAME, delete_sd("sd1")).unwrap();
    assert!(matches!(
        exchange(&mut session, &mut tee, request),
        Event::Success { .. }
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_state_read_back_cannot_resend_and_sends_x5c_next_time() {
    let kind = Kind::Ec;
    let dir = fresh_dir("refusal-evicted-stored");
    let mut tee = tee_with(kind, &dir, provider("tee seed"), |c| c.signer_cache = 1);
    let first = tam(kind);
    let mut session = TamSession::new(&first);
    discover(&mut session, &mut tee);
    let other = tam_named(kind, "tam-rid", kind, "other seed")
        .with_ocspdat(vec![fixture(kind, "ocsp/tam-rid-good.der")]);
    let mut other_session = TamSession::new(&other);
    discover(&mut other_session, &mut tee);
    let request = session.command(TEE_NAME, create_sd(kind, "sd1")).unwrap();
    // The state goes through a database between request and answer: the
    // kept request does not (it may be a TA of many MiB).
    let blob = session.into_state().to_bytes();
    let state = otrp_core::tam::DeviceState::from_bytes(
        &blob,
        first.provider(),
        &otrp_core::message::Limits::DEFAULT,
    )
    .unwrap();
    let mut session = TamSession::resume(&first, state);
    let f = failure_of(exchange(&mut session, &mut tee, request));
    assert_eq!(f.code, ErrorCode::TamNotTrusted);
    assert!(session.state().tee(TEE_NAME).unwrap().signerreq);
    let request = session.command(TEE_NAME, create_sd(kind, "sd1")).unwrap();
    assert!(matches!(
        exchange(&mut session, &mut tee, request),
        Event::Success { .. }
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cached_signer_chain_over_the_bound_is_refused_as_untrusted_and_resent_with_x5c() {
    // A state written before the offered-chain bound (at most 8
    // certificates, no duplicate subject) may cache a chain that no longer
    // passes it: the TEE refuses as for an untrusted signer
    // (ERR_TAM_NOT_TRUSTED), so that the TAM resends with x5c, and not as
    // a malformed request.
    let kind = Kind::Ec;
    let dir = fresh_dir("refusal-legacy-signer");
    let provider = provider("tee seed");
    let tam = tam(kind);
    let mut session = TamSession::new(&tam);
    {
        let mut tee = tee_with(kind, &dir, provider, |_| {});
        discover(&mut session, &mut tee);
    }
    let mut storage =
        otrp_soft_tee::SoftStorage::open(&dir, std::sync::Arc::new(otrp_soft_tee::StdFs), provider)
            .unwrap();
    use otrp_core::tee::SecureStorage;
    let mut state =
        otrp_core::tee::TeeState::from_bytes(&storage.load().unwrap().unwrap()).unwrap();
    let record = state.signers.first_mut().unwrap();
    let root = record.x5c.last().unwrap().clone();
    record.x5c.push(root);
    let bytes = state.to_bytes();
    storage
        .commit(&otrp_core::tee::Commit {
            state: &bytes,
            put: Vec::new(),
            delete: Vec::new(),
            staged: Vec::new(),
        })
        .unwrap();
    drop(storage);
    let mut tee = tee_with(kind, &dir, provider, |_| {});
    let request = session.command(TEE_NAME, create_sd(kind, "sd1")).unwrap();
    match exchange(&mut session, &mut tee, request) {
        Event::Resend { request, failure } => {
            assert_eq!(failure.code, ErrorCode::TamNotTrusted, "{failure:?}");
            // With x5c the command applies.
            match exchange(&mut session, &mut tee, request) {
                Event::Success { .. } => {}
                other => panic!("the resent command applied expected: {other:?}"),
            }
        }
        other => panic!("a resend expected: {other:?}"),
    }
}
