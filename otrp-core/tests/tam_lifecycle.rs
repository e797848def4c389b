//! In-process lifecycle of the TAM session against the soft TEE
//! (otrp-soft-tee) with the RustCrypto backend: every command, both key
//! types, two SPs, a TEE restart, a second TAM, every TEE failure as a
//! typed event, and the device state the TAM sees after each step checked
//! against the TEE's own state.

// The RustCrypto target. `tam_lifecycle_aws_lc.rs` and
// `tam_lifecycle_composed.rs` include this file as a module; the support
// module builds everything with the provider named at the root of the
// running target (`crate::provider_under_test_with_random`).
otrp_test_support::provider_under_test!(rustcrypto);

mod tam_support;

use otrp_core::message::{ErrorCode, MessageKind, SdChanges};
use otrp_core::tam::{Command, Event, TamError, TamSession, TeeFailure};
use otrp_core::tee::Tee;
use tam_support::soft::*;
use tam_support::*;

fn create_sd(kind: Kind, spid: &str, sdname: &str) -> Command {
    Command::CreateSd {
        spid: spid.into(),
        sdname: sdname.into(),
        spcert: cert(kind, "sp"),
    }
}

fn install_ta(kind: Kind, spid: &str, sdname: &str, taid: &str, code: &[u8]) -> Command {
    Command::InstallTa {
        spid: spid.into(),
        sdname: sdname.into(),
        taid: taid.into(),
        spcert: None,
        ta: ta_image(kind, taid, 1, code),
        pdata: Some(format!("pdata of {taid}").into_bytes()),
    }
}

fn update_ta(
    kind: Kind,
    spid: &str,
    sdname: &str,
    taid: &str,
    version: u64,
    code: &[u8],
) -> Command {
    Command::UpdateTa {
        spid: spid.into(),
        sdname: sdname.into(),
        taid: taid.into(),
        spcert: None,
        ta: Some(ta_image(kind, taid, version, code)),
        pdata: None,
    }
}

fn delete_ta(sdname: &str, taid: &str) -> Command {
    Command::DeleteTa {
        sdname: sdname.into(),
        taid: taid.into(),
    }
}

fn delete_sd(sdname: &str) -> Command {
    Command::DeleteSd {
        sdname: sdname.into(),
        deleteta: false,
    }
}

/// Runs `command`, expecting success, and returns the TAM's view of the
/// SDs afterwards as (sdname, spid, [taid]).
fn run(
    session: &mut TamSession<'_>,
    tee: &mut Tee,
    command: Command,
) -> Vec<(String, String, Vec<String>)> {
    let kind = command.kind();
    let request = session.command(TEE_NAME, command).unwrap();
    match exchange(session, tee, request) {
        Event::Success {
            kind: k,
            dsi: Some(_),
            ..
        } if k == kind => {}
        other => panic!("{kind:?}: {other:?}"),
    }
    view(session)
}

fn view(session: &TamSession<'_>) -> Vec<(String, String, Vec<String>)> {
    let dsi = session.state().dsi(TEE_NAME).unwrap();
    dsi.tee
        .sdlist
        .sd
        .iter()
        .map(|sd| {
            (
                sd.name.clone(),
                sd.spid.clone(),
                sd.talist.iter().map(|t| t.taid.clone()).collect(),
            )
        })
        .collect()
}

fn sds(list: &[(&str, &str, &[&str])]) -> Vec<(String, String, Vec<String>)> {
    list.iter()
        .map(|(n, s, t)| {
            (
                n.to_string(),
                s.to_string(),
                t.iter().map(|x| x.to_string()).collect(),
            )
        })
        .collect()
}

/// The TEE's own record agrees with the TAM's view.
fn tee_agrees(tee: &Tee, session: &TamSession<'_>) {
    for (name, spid, tas) in view(session) {
        let sd = tee
            .state()
            .sd(TAMID, &name)
            .unwrap_or_else(|| panic!("TEE lacks {name}"));
        assert_eq!(sd.spid, spid);
        let mut on_tee: Vec<String> = sd.tas.iter().map(|t| t.taid.clone()).collect();
        on_tee.sort();
        let mut seen = tas.clone();
        seen.sort();
        assert_eq!(on_tee, seen, "TAs of {name}");
    }
}

#[test]
fn full_lifecycle_with_rsa_and_ec_keys() {
    for kind in BOTH {
        let dir = fresh_dir(&format!("lifecycle-{}", kind.dir()));
        let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
        let tam = tam(kind);
        let mut session = TamSession::new(&tam);

        discover(&mut session, &mut tee);
        assert_eq!(view(&session), sds(&[]));
        let known = session.state().tee(TEE_NAME).unwrap();
        assert_eq!(known.did, tee.did());

        let v = run(&mut session, &mut tee, create_sd(kind, "sp1", "sd1"));
        assert_eq!(v, sds(&[("sd1", "sp1", &[])]));
        let dsi = session.state().dsi(TEE_NAME).unwrap();
        assert_eq!(dsi.tee.teeaiklist.len(), 1);
        assert_eq!(dsi.tee.teeaiklist[0].spid, "sp1");
        tee_agrees(&tee, &session);

        let v = run(
            &mut session,
            &mut tee,
            install_ta(kind, "sp1", "sd1", "ta1", b"code v1"),
        );
        assert_eq!(v, sds(&[("sd1", "sp1", &["ta1"])]));
        tee_agrees(&tee, &session);

        let v = run(
            &mut session,
            &mut tee,
            update_ta(kind, "sp1", "sd1", "ta1", 2, b"code v2"),
        );
        assert_eq!(v, sds(&[("sd1", "sp1", &["ta1"])]));
        tee_agrees(&tee, &session);

        let v = run(&mut session, &mut tee, delete_ta("sd1", "ta1"));
        assert_eq!(v, sds(&[("sd1", "sp1", &[])]));
        tee_agrees(&tee, &session);

        let v = run(&mut session, &mut tee, delete_sd("sd1"));
        assert_eq!(v, sds(&[]));
        assert!(tee.state().sd(TAMID, "sd1").is_none());

        // A fresh GetDeviceState sees the same (empty) device.
        discover(&mut session, &mut tee);
        assert_eq!(view(&session), sds(&[]));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn update_sd_through_the_soft_tee() {
    let kind = Kind::Ec;
    let dir = fresh_dir("update-sd");
    let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
    let tam = tam(kind);
    let mut session = TamSession::new(&tam);
    discover(&mut session, &mut tee);
    run(&mut session, &mut tee, create_sd(kind, "sp1", "sd1"));
    let v = run(
        &mut session,
        &mut tee,
        Command::UpdateSd {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            changes: SdChanges {
                newsdname: Some("sd1-renamed".into()),
                ..SdChanges::default()
            },
        },
    );
    assert_eq!(v, sds(&[("sd1-renamed", "sp1", &[])]));
    tee_agrees(&tee, &session);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_sps_with_their_own_sds_and_a_tee_restart() {
    for kind in BOTH {
        let dir = fresh_dir(&format!("two-sps-{}", kind.dir()));
        let tam = tam(kind);
        let mut session = TamSession::new(&tam);
        let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
        discover(&mut session, &mut tee);
        run(&mut session, &mut tee, create_sd(kind, "sp1", "sd-a"));
        run(&mut session, &mut tee, create_sd(kind, "sp2", "sd-b"));
        run(
            &mut session,
            &mut tee,
            install_ta(kind, "sp1", "sd-a", "ta-a", b"A"),
        );

        // The TEE restarts: the store is reopened from its directory. The
        // session carries on without a new GetDeviceState.
        drop(tee);
        let mut tee = open_tee(kind, &dir, "tee seed after restart", TeeSetup::default());
        let v = run(
            &mut session,
            &mut tee,
            install_ta(kind, "sp2", "sd-b", "ta-b", b"B"),
        );
        assert_eq!(
            v,
            sds(&[("sd-a", "sp1", &["ta-a"]), ("sd-b", "sp2", &["ta-b"])])
        );
        tee_agrees(&tee, &session);
        // One SP AIK per SP.
        let dsi = session.state().dsi(TEE_NAME).unwrap();
        let mut spids: Vec<&str> = dsi.tee.teeaiklist.iter().map(|a| a.spid.as_str()).collect();
        spids.sort();
        assert_eq!(spids, ["sp1", "sp2"]);
        assert_ne!(dsi.tee.teeaiklist[0].spaik, dsi.tee.teeaiklist[1].spaik);

        // Each SP's TA in its own SD, updated and deleted independently.
        run(
            &mut session,
            &mut tee,
            update_ta(kind, "sp2", "sd-b", "ta-b", 2, b"B2"),
        );
        run(&mut session, &mut tee, delete_ta("sd-a", "ta-a"));
        assert_eq!(
            view(&session),
            sds(&[("sd-a", "sp1", &[]), ("sd-b", "sp2", &["ta-b"])])
        );
        tee_agrees(&tee, &session);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_second_tam_neither_sees_nor_touches_the_first_tams_sd() {
    for kind in BOTH {
        let dir = fresh_dir(&format!("two-tams-{}", kind.dir()));
        let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
        let tam1 = tam(kind);
        let mut first = TamSession::new(&tam1);
        discover(&mut first, &mut tee);
        run(&mut first, &mut tee, create_sd(kind, "sp1", "sd1"));
        run(
            &mut first,
            &mut tee,
            install_ta(kind, "sp1", "sd1", "ta1", b"one"),
        );

        // Another TAM (tamid RID:1.3.6.1.4.1.99999.1.2), same roots.
        let tam2 = tam_named(kind, "tam-rid", kind, "tam2 seed")
            .with_ocspdat(vec![fixture(kind, "ocsp/tam-rid-good.der")]);
        assert_ne!(tam1.tamid(), tam2.tamid());
        let mut second = TamSession::new(&tam2);
        discover(&mut second, &mut tee);
        // The DSI of the second TAM lists none of the first TAM's SDs.
        assert_eq!(view(&second), sds(&[]));
        for command in [delete_sd("sd1"), delete_ta("sd1", "ta1")] {
            let k = command.kind();
            let request = second.command(TEE_NAME, command).unwrap();
            match exchange(&mut second, &mut tee, request) {
                // SD names are scoped to their TAM (5.5, 9.2): for the
                // second TAM there is no SD "sd1", exactly as for a name
                // nobody uses.
                Event::TeeFailure(TeeFailure { code, .. }) => {
                    assert_eq!(code, ErrorCode::SdNotFound, "{k:?}")
                }
                other => panic!("{k:?}: {other:?}"),
            }
        }
        // The second TAM has no SP AIK of sp1 to install with.
        assert_eq!(
            second.command(TEE_NAME, install_ta(kind, "sp1", "sd1", "ta2", b"x")),
            Err(TamError::NoSpAik("sp1".into()))
        );
        // It may use the same SD name for its own SD.
        run(&mut second, &mut tee, create_sd(kind, "sp9", "sd1"));
        assert_eq!(view(&second), sds(&[("sd1", "sp9", &[])]));
        // The first TAM's SD and TA are intact.
        discover(&mut first, &mut tee);
        assert_eq!(view(&first), sds(&[("sd1", "sp1", &["ta1"])]));
        tee_agrees(&tee, &first);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Runs `command` and returns the failure code it must produce, checking
/// the TAM's view of the device did not change.
fn fails(session: &mut TamSession<'_>, tee: &mut Tee, command: Command) -> ErrorCode {
    let kind = command.kind();
    let before = session.state().tee(TEE_NAME).unwrap().dsi.clone();
    let request = session.command(TEE_NAME, command).unwrap();
    match exchange(session, tee, request) {
        Event::TeeFailure(f) => {
            assert_eq!(f.kind, kind);
            assert!(f.authenticated);
            let after = session.state().tee(TEE_NAME).unwrap();
            assert!(!after.stale);
            assert_eq!(after.dsi.dsi(), before.dsi(), "{kind:?} changed the DSI");
            f.code
        }
        other => panic!("{kind:?}: {other:?}"),
    }
}

#[test]
fn tee_failures_surface_as_typed_events() {
    for kind in BOTH {
        let dir = fresh_dir(&format!("failures-{}", kind.dir()));
        let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
        let tam = tam(kind);
        let mut s = TamSession::new(&tam);
        discover(&mut s, &mut tee);
        run(&mut s, &mut tee, create_sd(kind, "sp1", "sd1"));
        run(
            &mut s,
            &mut tee,
            install_ta(kind, "sp1", "sd1", "ta1", b"one"),
        );

        assert_eq!(
            fails(&mut s, &mut tee, create_sd(kind, "sp1", "sd1")),
            ErrorCode::SdAlreadyExists
        );
        assert_eq!(
            fails(
                &mut s,
                &mut tee,
                install_ta(kind, "sp1", "sd1", "ta1", b"again")
            ),
            ErrorCode::TaAlreadyInstalled
        );
        assert_eq!(
            fails(&mut s, &mut tee, delete_ta("sd1", "nope")),
            ErrorCode::TaNotFound
        );
        assert_eq!(
            fails(&mut s, &mut tee, delete_sd("nope")),
            ErrorCode::SdNotFound
        );
        assert_eq!(
            fails(&mut s, &mut tee, delete_sd("sd1")),
            ErrorCode::SdNotEmpty
        );
        // A TA image signed by a key that is not the SD's SP certificate's.
        let bad = Command::InstallTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta-bad".into(),
            spcert: None,
            ta: otrp_soft_tee::sign_ta_image(
                b"evil",
                &otrp_soft_tee::TaImageInfo {
                    taid: "ta-bad".into(),
                    version: 1,
                    taname: None,
                },
                &*key(kind, "tfw"),
                kind.sig_alg(),
                &provider("evil"),
            )
            .unwrap(),
            pdata: None,
        };
        assert_eq!(fails(&mut s, &mut tee, bad), ErrorCode::TaInvalid);
        assert_eq!(
            fails(
                &mut s,
                &mut tee,
                update_ta(kind, "sp1", "sd1", "nope", 2, b"x")
            ),
            ErrorCode::TaNotFound
        );

        // Two front ends with one state: the second request's dsihash is
        // stale once the first has changed the device.
        let mut other = TamSession::resume(&tam, s.state().clone());
        run(&mut s, &mut tee, create_sd(kind, "sp1", "sd2"));
        assert_eq!(
            fails(&mut other, &mut tee, create_sd(kind, "sp1", "sd3")),
            ErrorCode::DevStateMismatch
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_full_tee_and_untrusted_firmware() {
    let kind = Kind::Ec;
    // Storage quota: a large TA does not fit.
    let dir = fresh_dir("full");
    let mut tee = open_tee(
        kind,
        &dir,
        "tee seed",
        TeeSetup {
            firmware: true,
            max_bytes: Some(64 * 1024),
        },
    );
    let tam = tam(kind);
    let mut s = TamSession::new(&tam);
    discover(&mut s, &mut tee);
    run(&mut s, &mut tee, create_sd(kind, "sp1", "sd1"));
    let big = vec![0x5a; 256 * 1024];
    assert_eq!(
        fails(
            &mut s,
            &mut tee,
            install_ta(kind, "sp1", "sd1", "big", &big)
        ),
        ErrorCode::TeeResourceFull
    );
    let _ = std::fs::remove_dir_all(&dir);

    // Without firmware data the default policy still accepts the TEE, and
    // RequireVerifiedTfw refuses it.
    let dir = fresh_dir("no-tfw");
    let mut tee = open_tee(
        kind,
        &dir,
        "tee seed",
        TeeSetup {
            firmware: false,
            max_bytes: None,
        },
    );
    let strict = tam_support::tam(kind).with_policy(Box::new(otrp_core::tam::RequireVerifiedTfw));
    let mut s = TamSession::new(&strict);
    let request = s.get_device_state().unwrap();
    match exchange(&mut s, &mut tee, request) {
        Event::DeviceState(r) => assert!(matches!(
            r.as_slice(),
            [otrp_core::tam::TeeResult::NotAccepted { .. }]
        )),
        other => panic!("{other:?}"),
    }
    assert!(s.state().tees().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn responses_from_the_soft_tee_cannot_be_replayed_or_reordered() {
    let kind = Kind::Rsa;
    let dir = fresh_dir("replay");
    let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
    let tam = tam(kind);
    let mut s = TamSession::new(&tam);
    discover(&mut s, &mut tee);
    let request = s.command(TEE_NAME, create_sd(kind, "sp1", "sd1")).unwrap();
    let create_response = tee.handle(&request, now()).unwrap();
    s.handle_response(&create_response, now()).unwrap();
    // Replay of the CreateSD answer against the next request.
    let request = s.command(TEE_NAME, create_sd(kind, "sp1", "sd2")).unwrap();
    let before = s.state().clone();
    assert!(matches!(
        s.handle_response(&create_response, now()),
        Err(TamError::IdMismatch { member: "rid" })
    ));
    assert_eq!(s.state(), &before);
    let genuine = tee.handle(&request, now()).unwrap();
    s.handle_response(&genuine, now()).unwrap();
    // Re-ordered: a DeleteSD answer while an InstallTA is outstanding.
    let delete = s.command(TEE_NAME, delete_sd("sd2")).unwrap();
    let delete_response = tee.handle(&delete, now()).unwrap();
    s.handle_response(&delete_response, now()).unwrap();
    let _install = s
        .command(TEE_NAME, install_ta(kind, "sp1", "sd1", "ta1", b"x"))
        .unwrap();
    let before = s.state().clone();
    assert!(matches!(
        s.handle_response(&delete_response, now()),
        Err(TamError::UnexpectedResponse {
            expected: MessageKind::InstallTa,
            found: MessageKind::DeleteSd
        })
    ));
    assert_eq!(s.state(), &before);
    let _ = std::fs::remove_dir_all(&dir);
}
