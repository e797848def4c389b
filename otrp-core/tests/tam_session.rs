//! The TAM session against a hand-built TEE (tam_support::FakeTee): request
//! contents as sections 9.1.1 to 9.3.3.1 describe them, response validation
//! (9.1.7, 9.2.1.3 ...), and refusal of tampered, replayed, re-ordered and
//! mis-addressed responses without any change to the session's state.

otrp_test_support::provider_under_test!(rustcrypto);

mod tam_support;

use otrp_core::crypto::{ContentAlg, JwsAlg, KeyLoader};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws, b64};
use otrp_core::message::*;
use otrp_core::tam::*;
use serde_json::json;
use tam_support::*;

fn create_sd(spid: &str, sdname: &str, kind: Kind) -> otrp_core::tam::Command {
    otrp_core::tam::Command::CreateSd {
        spid: spid.into(),
        sdname: sdname.into(),
        spcert: cert(kind, "sp"),
    }
}

fn install_ta(spid: &str, sdname: &str, taid: &str, ta: &[u8]) -> otrp_core::tam::Command {
    otrp_core::tam::Command::InstallTa {
        spid: spid.into(),
        sdname: sdname.into(),
        taid: taid.into(),
        spcert: None,
        ta: ta.to_vec(),
        pdata: Some(b"personalization".to_vec()),
    }
}

#[test]
fn get_device_state_request_carries_ids_ocsp_algs_and_chain() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut session = TamSession::new(&tam);
        let bytes = session.get_device_state().unwrap();
        let (k, jws) = open_request(&bytes);
        assert_eq!(k, MessageKind::GetDeviceState);
        // Signed by the TAM certificate's key with the profile's algorithm.
        let sig = &jws.signatures()[0];
        assert_eq!(sig.alg().unwrap(), kind.sig_alg());
        let x5c = sig.x5c().unwrap().unwrap();
        assert_eq!(x5c, vec![cert(kind, "tam"), cert(kind, "tam-root")]);
        let payload = jws
            .verify(tam.provider(), &public_of(&x5c[0]), &[kind.sig_alg()])
            .unwrap();
        let tbs = GetDeviceStateTbsRequest::from_payload(&payload, &Limits::DEFAULT).unwrap();
        assert_eq!(
            tbs.ocspdat,
            vec![Base64Bytes(fixture(kind, "ocsp/tam-good-by-ca.der"))]
        );
        assert_eq!(
            tbs.supportedsigalgs,
            Some(vec![
                SigAlg::from(JwsAlg::Rs256),
                SigAlg::from(JwsAlg::Es256)
            ])
        );
        let out = session.state().outstanding().unwrap();
        assert_eq!(out.rid, tbs.rid);
        assert_eq!(out.tid, tbs.tid);
        assert_ne!(tbs.rid, tbs.tid);
        // One request at a time.
        assert_eq!(
            session.get_device_state(),
            Err(TamError::RequestOutstanding(MessageKind::GetDeviceState))
        );
    }
}

#[test]
fn device_state_is_decrypted_validated_and_accepted() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        let mut session = TamSession::new(&tam);
        let request = session.get_device_state().unwrap();
        let response = tee.answer_gds(&request);
        let event = session.handle_response(&response, now()).unwrap();
        let Event::DeviceState(results) = event else {
            panic!("{event:?}")
        };
        assert_eq!(results.len(), 1);
        match &results[0] {
            TeeResult::Accepted {
                name,
                did,
                tfw,
                dsi,
            } => {
                assert_eq!(name, "tee-1");
                assert_eq!(*did, tee.did());
                assert_eq!(*tfw, TfwStatus::Verified);
                assert_eq!(dsi.tee.cert.as_bytes(), tee.cert.as_slice());
            }
            other => panic!("{other:?}"),
        }
        let known = session.state().tee("tee-1").unwrap();
        assert_eq!(known.did, tee.did());
        assert!(known.signerreq);
        assert!(!known.stale);
        assert!(session.state().outstanding().is_none());
        // The same response again is a replay.
        let before = session.state().clone();
        assert_eq!(
            session.handle_response(&response, now()),
            Err(TamError::NoOutstandingRequest)
        );
        assert_eq!(session.state(), &before);
    }
}

#[test]
fn a_single_tee_envelope_is_accepted_too() {
    let tam = tam(Kind::Rsa);
    let mut tee = FakeTee::new(Kind::Rsa);
    let mut session = TamSession::new(&tam);
    let request = session.get_device_state().unwrap();
    let req = tee.read_gds(&request);
    let doc = DsiDocument::new(tee.dsi(req.tid.as_str()));
    let tbs = GetDeviceTeeStateTbsResponse::pass(req.rid, req.tid, false, tee.edsi(&doc));
    let event = session.handle_response(&tee.sign(&tbs), now()).unwrap();
    assert!(matches!(&event, Event::DeviceState(r) if matches!(r[0], TeeResult::Accepted { .. })));
    assert!(!session.state().tee("tee-1").unwrap().signerreq);
}

/// Runs one GetDeviceState whose answer `build` makes, and returns the
/// session's result with the state before and after.
fn gds_with(
    kind: Kind,
    tam: &Tam,
    build: impl FnOnce(&mut FakeTee, GetDeviceStateTbsRequest) -> Vec<u8>,
) -> (Result<Event, TamError>, bool) {
    let mut tee = FakeTee::new(kind);
    let mut session = TamSession::new(tam);
    let request = session.get_device_state().unwrap();
    let req = tee.read_gds(&request);
    let response = build(&mut tee, req);
    let before = session.state().clone();
    let result = session.handle_response(&response, now());
    let unchanged = session.state() == &before;
    (result, unchanged)
}

#[test]
fn device_state_refusals_change_nothing() {
    for kind in BOTH {
        let tam = tam(kind);
        // Signed by a key that is not the DSI certificate's (the TFW key).
        let (r, unchanged) = gds_with(kind, &tam, |tee, req| {
            let doc = DsiDocument::new(tee.dsi(req.tid.as_str()));
            let tbs = GetDeviceTeeStateTbsResponse::pass(req.rid, req.tid, true, tee.edsi(&doc));
            let env = sign_with(&*tee.tfw_key, kind.sig_alg(), &tbs, &tee.provider);
            FakeTee::gds_array(vec![serde_json::from_slice(&env).unwrap()])
        });
        assert!(matches!(r, Err(TamError::Jose(_))), "{r:?}");
        assert!(unchanged);

        // A TEE certificate that does not chain to the TEE anchors (the TFW
        // certificate, and its key, pose as the TEE).
        let (r, unchanged) = gds_with(kind, &tam, |tee, req| {
            tee.cert = tee.tfw_cert.clone();
            tee.key = key(kind, "tfw");
            tee.answer_gds_for(req)
        });
        assert!(matches!(r, Err(TamError::Pki(_))), "{r:?}");
        assert!(unchanged);

        // Firmware data that signs another tid: replayed attestation.
        let (r, unchanged) = gds_with(kind, &tam, |tee, req| {
            let mut dsi = tee.dsi(req.tid.as_str());
            dsi.tfwdata = Some(tee.tfw(b"an older tid"));
            tee.answer_dsi(req, dsi)
        });
        assert_eq!(r, Err(TamError::TfwNotFresh));
        assert!(unchanged);

        // Firmware data with a bad signature.
        let (r, unchanged) = gds_with(kind, &tam, |tee, req| {
            let mut dsi = tee.dsi(req.tid.as_str());
            let mut tfw = tee.tfw(req.tid.as_str().as_bytes());
            tfw.sig.0[5] ^= 1;
            dsi.tfwdata = Some(tfw);
            tee.answer_dsi(req, dsi)
        });
        assert!(matches!(r, Err(TamError::Crypto(_))), "{r:?}");
        assert!(unchanged);

        // Another rid (an answer to an earlier request).
        let (r, unchanged) = gds_with(kind, &tam, |tee, mut req| {
            req.rid = MessageId::new("0123");
            tee.answer_gds_for(req)
        });
        assert_eq!(r, Err(TamError::IdMismatch { member: "rid" }));
        assert!(unchanged);

        // edsi encrypted to someone else (the TEE's own key).
        let (r, unchanged) = gds_with(kind, &tam, |tee, req| {
            tee.tam_key = Some(public_of(&tee.cert));
            tee.answer_gds_for(req)
        });
        assert!(matches!(r, Err(TamError::Jose(_))), "{r:?}");
        assert!(unchanged);

        // A payload byte changed after signing.
        let (r, unchanged) = gds_with(kind, &tam, |tee, req| {
            let bytes = tee.answer_gds_for(req);
            tamper_payload(&bytes)
        });
        assert!(r.is_err(), "{r:?}");
        assert!(unchanged);
    }
}

/// Re-signs nothing: replaces the JWS payload by one with `"ver"` changed
/// to another value of the same length, keeping the old signature.
fn tamper_payload(bytes: &[u8]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let jws = if let Some(arr) = v.get_mut("GetDeviceStateResponse") {
        arr[0].as_object_mut().unwrap().values_mut().next().unwrap()
    } else {
        v.as_object_mut().unwrap().values_mut().next().unwrap()
    };
    let payload = b64::decode_url(jws["payload"].as_str().unwrap(), "payload").unwrap();
    let text = String::from_utf8(payload).unwrap();
    let changed = text.replacen("\"status\":\"pass\"", "\"status\":\"pass\" ", 1);
    assert_ne!(text, changed);
    jws["payload"] = json!(b64::encode_url(changed.as_bytes()));
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn the_tee_acceptance_policy_decides() {
    let kind = Kind::Ec;
    let tam = tam(kind).with_policy(Box::new(RequireVerifiedTfw));
    let mut tee = FakeTee::new(kind);
    tee.with_tfw = false;
    let mut session = TamSession::new(&tam);
    let request = session.get_device_state().unwrap();
    let response = tee.answer_gds(&request);
    let event = session.handle_response(&response, now()).unwrap();
    assert_eq!(
        event,
        Event::DeviceState(vec![TeeResult::NotAccepted {
            name: "tee-1".into(),
            reason: "no firmware data".into()
        }])
    );
    assert!(session.state().tees().is_empty());
    assert_eq!(
        session.command("tee-1", create_sd("sp1", "sd1", kind)),
        Err(TamError::UnknownTee("tee-1".into()))
    );
}

#[test]
fn create_sd_request_is_encrypted_to_the_tee_and_bound_to_the_dsi() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        let mut session = ready_session(&tam, &mut tee);
        let dsihash = session
            .state()
            .tee("tee-1")
            .unwrap()
            .dsi
            .hash(tam.provider())
            .unwrap();
        let request = session
            .command("tee-1", create_sd("sp1", "sd1", kind))
            .unwrap();
        let cmd = tee.read_command(&request);
        assert_eq!(cmd.kind, MessageKind::CreateSd);
        // 9.2.1.1: tee, nextdsi, dsihash; the same tid as GetDeviceState.
        assert_eq!(cmd.tbs["tee"], "tee-1");
        assert_eq!(cmd.tbs["nextdsi"], true);
        assert_eq!(
            cmd.tbs["dsihash"],
            json!(b64::encode_std(dsihash.as_bytes()))
        );
        assert_eq!(&cmd.tid, session.state().tid().unwrap());
        // Content: spid, sdname, spcert, tamid, did.
        assert_eq!(cmd.content["spid"], "sp1");
        assert_eq!(cmd.content["sdname"], "sd1");
        assert_eq!(cmd.content["tamid"], "https://tam.example.com/tam1");
        assert_eq!(
            cmd.content["did"],
            json!(b64::encode_std(tee.did().as_bytes()))
        );
        assert_eq!(
            cmd.content["spcert"],
            json!(b64::encode_std(&cert(kind, "sp")))
        );
        // Basic profile (section 11).
        let content: Jwe = serde_json::from_value(cmd.tbs["content"].clone()).unwrap();
        let header = content.recipient_header(0).unwrap().unwrap();
        assert_eq!(header.key_alg().unwrap(), kind.key_alg());
        assert_eq!(header.content_alg().unwrap(), ContentAlg::A128CbcHs256);
        assert_eq!(cmd.enc, ContentAlg::A128CbcHs256);
        // The CEK is the one the session keeps for the answer.
        assert_eq!(
            session.state().outstanding().unwrap().cek.as_ref(),
            Some(&cmd.cek)
        );
        // signerreq was true: the TAM chain travels in x5c.
        assert!(cmd.jws.signatures()[0].x5c().unwrap().is_some());
    }
}

#[test]
fn no_x5c_when_the_tee_caches_the_signer() {
    let kind = Kind::Rsa;
    let tam = tam(kind);
    let mut tee = FakeTee::new(kind);
    tee.signerreq = false;
    let mut session = ready_session(&tam, &mut tee);
    let request = session
        .command("tee-1", create_sd("sp1", "sd1", kind))
        .unwrap();
    let (_, jws) = open_request(&request);
    assert_eq!(jws.signatures()[0].x5c().unwrap(), None);
    assert!(jws.signatures()[0].unprotected().is_none());
}

#[test]
fn create_sd_success_updates_the_dsi_and_the_next_dsihash() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        let mut session = ready_session(&tam, &mut tee);
        let request = session
            .command("tee-1", create_sd("sp1", "sd1", kind))
            .unwrap();
        let response = tee.answer(&request);
        let event = session.handle_response(&response, now()).unwrap();
        let Event::Success {
            kind: k,
            tee: name,
            dsi,
            teespaik,
        } = event
        else {
            panic!("{event:?}")
        };
        assert_eq!(k, MessageKind::CreateSd);
        assert_eq!(name, "tee-1");
        assert_eq!(dsi.unwrap().tee.sdlist.sd[0].name, "sd1");
        assert_eq!(teespaik, Some(tee.spaik.clone()));
        let known = session.state().tee("tee-1").unwrap();
        assert!(matches!(known.dsi, LastDsi::Member(_)));
        assert_eq!(known.dsi.dsi().tee.sdlist.sd.len(), 1);
        // The next request's dsihash is over the new DSI's exact bytes.
        let expected = known.dsi.hash(tam.provider()).unwrap();
        let request = session
            .command("tee-1", install_ta("sp1", "sd1", "ta1", b"TA"))
            .unwrap();
        let cmd = tee.read_command(&request);
        assert_eq!(
            cmd.tbs["dsihash"],
            json!(b64::encode_std(expected.as_bytes()))
        );
    }
}

#[test]
fn success_without_dsi_makes_the_dsi_stale() {
    let kind = Kind::Ec;
    let tam = tam(kind);
    let mut tee = FakeTee::new(kind);
    let mut session = ready_session(&tam, &mut tee);
    let request = session
        .command("tee-1", create_sd("sp1", "sd1", kind))
        .unwrap();
    let cmd = tee.read_command(&request);
    let plain = tee.pass_plaintext(&cmd, false);
    let response = tee.respond(&cmd, CommandOutcome::Pass(tee.content(&cmd, &plain)));
    let event = session.handle_response(&response, now()).unwrap();
    assert!(matches!(event, Event::Success { dsi: None, .. }));
    assert!(session.state().tee("tee-1").unwrap().stale);
    assert_eq!(
        session.command("tee-1", create_sd("sp1", "sd2", kind)),
        Err(TamError::StaleDsi("tee-1".into()))
    );
    // A new GetDeviceState refreshes it.
    let request = session.get_device_state().unwrap();
    let response = tee.answer_gds(&request);
    session.handle_response(&response, now()).unwrap();
    assert!(!session.state().tee("tee-1").unwrap().stale);
    session
        .command("tee-1", create_sd("sp1", "sd2", kind))
        .unwrap();
}

/// A session with a CreateSD outstanding, the decrypted request, and the
/// state before any response.
fn outstanding_create<'t>(
    tam: &'t Tam,
    tee: &mut FakeTee,
) -> (TamSession<'t>, tam_support::Command, DeviceState) {
    let kind = tee.kind;
    let mut session = ready_session(tam, tee);
    let request = session
        .command("tee-1", create_sd("sp1", "sd1", kind))
        .unwrap();
    let cmd = tee.read_command(&request);
    let before = session.state().clone();
    (session, cmd, before)
}

#[test]
fn command_responses_that_are_not_the_answer_are_refused() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        let (mut session, cmd, before) = outstanding_create(&tam, &mut tee);
        let plain = tee.pass_plaintext(&cmd, true);
        let good = tee.respond(&cmd, CommandOutcome::Pass(tee.content(&cmd, &plain)));
        let mut check = |bytes: &[u8], want: &dyn Fn(&TamError) -> bool, what: &str| {
            let r = session.handle_response(bytes, now());
            assert!(matches!(&r, Err(e) if want(e)), "{what}: {r:?}");
            assert_eq!(session.state(), &before, "{what}");
        };

        // Tampered: the signature no longer covers the payload.
        check(
            &tamper_payload(&good),
            &|e| matches!(e, TamError::Jose(_)),
            "tampered",
        );
        // Signed by another TEE (the other hierarchy's device key).
        let other = FakeTee::new(kind.other());
        let mut foreign = tee_with_key(&tee, other.key, kind.other().sig_alg());
        foreign.tam_key = tee.tam_key.clone();
        check(
            &foreign.respond(&cmd, CommandOutcome::Pass(tee.content(&cmd, &plain))),
            &|e| matches!(e, TamError::Jose(_)),
            "signed by another TEE",
        );
        // Mis-addressed: encrypted under another CEK (another request's).
        let mut other_cmd = tee.read_command(&good_request_copy(&cmd));
        other_cmd.cek = otrp_core::crypto::Cek::new(vec![7; 32]);
        check(
            &tee.respond(&cmd, CommandOutcome::Pass(tee.content(&other_cmd, &plain))),
            &|e| matches!(e, TamError::Jose(_)),
            "another CEK",
        );
        // Another device's did.
        let mut c: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        c["did"] = json!(b64::encode_std(&[9u8; 32]));
        let wrong_did = serde_json::to_vec(&c).unwrap();
        check(
            &tee.respond(&cmd, CommandOutcome::Pass(tee.content(&cmd, &wrong_did))),
            &|e| matches!(e, TamError::DidMismatch),
            "did",
        );
        // Another SD name than requested.
        let mut c: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        c["sdname"] = json!("sd-other");
        let wrong_sd = serde_json::to_vec(&c).unwrap();
        check(
            &tee.respond(&cmd, CommandOutcome::Pass(tee.content(&cmd, &wrong_sd))),
            &|e| matches!(e, TamError::SdNameMismatch),
            "sdname",
        );
        // Replayed/re-ordered: another rid, another tid.
        let mut old = cmd.clone();
        old.rid = MessageId::new("AAAA");
        check(
            &tee.respond(&old, CommandOutcome::Pass(tee.content(&cmd, &plain))),
            &|e| matches!(e, TamError::IdMismatch { member: "rid" }),
            "rid",
        );
        let mut old = cmd.clone();
        old.tid = MessageId::new("BBBB");
        check(
            &tee.respond(&old, CommandOutcome::Pass(tee.content(&cmd, &plain))),
            &|e| matches!(e, TamError::IdMismatch { member: "tid" }),
            "tid",
        );
        // Re-ordered: the answer to another command.
        let mut other_kind = cmd.clone();
        other_kind.kind = MessageKind::DeleteSd;
        check(
            &tee.respond(&other_kind, CommandOutcome::Pass(tee.content(&cmd, &plain))),
            &|e| {
                matches!(
                    e,
                    TamError::UnexpectedResponse {
                        expected: MessageKind::CreateSd,
                        found: MessageKind::DeleteSd
                    }
                )
            },
            "kind",
        );
        // A GetDeviceState answer while a command is outstanding.
        check(
            &FakeTee::gds_array(vec![]),
            &|e| matches!(e, TamError::UnexpectedResponse { .. }),
            "gds",
        );
        // Garbage.
        check(
            b"{\"x\":1}",
            &|e| matches!(e, TamError::Message(_)),
            "garbage",
        );
        // A broker error for another request.
        let broker = BrokerError::new(
            MessageId::new("other"),
            cmd.tid.clone(),
            ErrorCode::AgentTeeBusy,
        );
        check(
            &broker.to_vec(),
            &|e| matches!(e, TamError::IdMismatch { member: "rid" }),
            "broker rid",
        );

        // After all that, the genuine answer is still accepted, once.
        assert!(matches!(
            session.handle_response(&good, now()),
            Ok(Event::Success { .. })
        ));
        assert_eq!(
            session.handle_response(&good, now()),
            Err(TamError::NoOutstandingRequest)
        );
    }
}

fn tee_with_key(
    tee: &FakeTee,
    key: Box<dyn otrp_core::crypto::PrivateKey>,
    _alg: JwsAlg,
) -> FakeTee {
    let mut t = FakeTee::new(tee.kind.other());
    t.key = key;
    t
}

fn good_request_copy(cmd: &tam_support::Command) -> Vec<u8> {
    // Rebuild a request envelope from the JWS the fake TEE read.
    let value: serde_json::Value =
        serde_json::from_str(&cmd.jws.to_flattened_json().unwrap()).unwrap();
    Envelope::new(cmd.kind, Direction::Request, value).to_vec()
}

#[test]
fn every_tee_failure_surfaces_as_its_code() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        for code in ErrorCode::KNOWN {
            // The signed 9.1.6 form.
            let (mut session, cmd, before) = outstanding_create(&tam, &mut tee);
            let failure =
                Failure::new(code.clone()).with_supportedsigalgs([SigAlg::from(JwsAlg::Rs256)]);
            let event = session
                .handle_response(&tee.respond(&cmd, CommandOutcome::Fail(failure)), now())
                .unwrap();
            assert_eq!(
                event,
                Event::TeeFailure(TeeFailure {
                    kind: MessageKind::CreateSd,
                    code: code.clone(),
                    message: None,
                    supportedsigalgs: Some(vec![SigAlg::from(JwsAlg::Rs256)]),
                    authenticated: true,
                })
            );
            // The device did not change: same DSI, not stale, no request.
            let after = session.state().tee("tee-1").unwrap();
            assert_eq!(after.dsi, before.tee("tee-1").unwrap().dsi);
            assert!(!after.stale);
            assert!(session.state().outstanding().is_none());

            // The encrypted form: status fail with `reason` in the content.
            let (mut session, cmd, _) = outstanding_create(&tam, &mut tee);
            let plain = CreateSdResponseContent {
                reason: Some(ContentReason::Code(
                    Reason::new(code.clone()).with_message("because"),
                )),
                did: tee.did(),
                sdname: "sd1".into(),
                teespaik: None,
                dsi: None,
            }
            .to_plaintext();
            let event = session
                .handle_response(
                    &tee.respond(
                        &cmd,
                        CommandOutcome::FailEncrypted(tee.content(&cmd, &plain)),
                    ),
                    now(),
                )
                .unwrap();
            let Event::TeeFailure(f) = event else {
                panic!("{event:?}")
            };
            assert_eq!(&f.code, code);
            assert_eq!(f.message.as_deref(), Some("because"));
            assert!(!session.state().tee("tee-1").unwrap().stale);
        }
    }
}

#[test]
fn a_failure_signed_by_someone_else_is_refused() {
    let kind = Kind::Rsa;
    let tam = tam(kind);
    let mut tee = FakeTee::new(kind);
    let (mut session, cmd, before) = outstanding_create(&tam, &mut tee);
    let forged = sign_with(
        &*tee.tfw_key,
        kind.sig_alg(),
        &CreateSdTbsResponse::new(
            cmd.rid.clone(),
            cmd.tid.clone(),
            CommandOutcome::Fail(Failure::new(ErrorCode::SdAlreadyExists)),
        ),
        &tee.provider,
    );
    assert!(matches!(
        session.handle_response(&forged, now()),
        Err(TamError::Jose(_))
    ));
    assert_eq!(session.state(), &before);
}

#[test]
fn get_device_state_failures_and_broker_errors() {
    let kind = Kind::Ec;
    let tam = tam(kind);
    let mut tee = FakeTee::new(kind);
    // A TEE never seen before: the failure cannot be authenticated.
    let mut session = TamSession::new(&tam);
    let request = session.get_device_state().unwrap();
    let req = tee.read_gds(&request);
    let tbs = GetDeviceTeeStateTbsResponse::fail(
        req.rid.clone(),
        req.tid.clone(),
        Failure::new(ErrorCode::TamNotTrusted),
    );
    let event = session
        .handle_response(&FakeTee::gds_array(vec![tee.gds_envelope(&tbs)]), now())
        .unwrap();
    let Event::DeviceState(results) = event else {
        panic!()
    };
    assert!(matches!(
        &results[0],
        TeeResult::Failed(TeeFailure {
            code: ErrorCode::TamNotTrusted,
            authenticated: false,
            ..
        })
    ));

    // A known TEE: authenticated.
    let mut session = ready_session(&tam, &mut tee);
    let request = session.get_device_state().unwrap();
    let req = tee.read_gds(&request);
    let tbs =
        GetDeviceTeeStateTbsResponse::fail(req.rid, req.tid, Failure::new(ErrorCode::TeeFail));
    let event = session
        .handle_response(&FakeTee::gds_array(vec![tee.gds_envelope(&tbs)]), now())
        .unwrap();
    assert!(matches!(
        &event,
        Event::DeviceState(r) if matches!(&r[0], TeeResult::Failed(TeeFailure { code: ErrorCode::TeeFail, authenticated: true, .. }))
    ));

    // Broker errors: with the request's ids or with empty ones.
    for empty in [false, true] {
        let mut session = ready_session(&tam, &mut tee);
        let request = session
            .command("tee-1", create_sd("sp1", "sd1", kind))
            .unwrap();
        let cmd = tee.read_command(&request);
        let (rid, tid) = if empty {
            (MessageId::new(""), MessageId::new(""))
        } else {
            (cmd.rid.clone(), cmd.tid.clone())
        };
        let err = BrokerError::new(rid, tid, ErrorCode::AgentTeeUnknown);
        let event = session.handle_response(&err.to_vec(), now()).unwrap();
        assert_eq!(event, Event::BrokerError(err));
        assert!(session.state().outstanding().is_none());
        assert!(!session.state().tee("tee-1").unwrap().stale);
    }
}

#[test]
fn abandon_forgets_the_request_and_refuses_the_late_answer() {
    let kind = Kind::Rsa;
    let tam = tam(kind);
    let mut tee = FakeTee::new(kind);
    let mut session = ready_session(&tam, &mut tee);
    let request = session
        .command("tee-1", create_sd("sp1", "sd1", kind))
        .unwrap();
    assert_eq!(
        session.command("tee-1", create_sd("sp1", "sd2", kind)),
        Err(TamError::RequestOutstanding(MessageKind::CreateSd))
    );
    let late = tee.answer(&request);
    session.abandon();
    assert_eq!(
        session.handle_response(&late, now()),
        Err(TamError::NoOutstandingRequest)
    );
}

#[test]
fn install_ta_packages_the_ta_for_the_sp_aik() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        let mut session = ready_session(&tam, &mut tee);
        // No SD yet, so no SP AIK in the DSI.
        assert_eq!(
            session.command("tee-1", install_ta("sp1", "sd1", "ta1", b"x")),
            Err(TamError::NoSpAik("sp1".into()))
        );
        let request = session
            .command("tee-1", create_sd("sp1", "sd1", kind))
            .unwrap();
        session
            .handle_response(&tee.answer(&request), now())
            .unwrap();
        let ta: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let request = session
            .command("tee-1", install_ta("sp1", "sd1", "ta1", &ta))
            .unwrap();
        let cmd = tee.read_command(&request);
        assert_eq!(cmd.content["taid"], "ta1");
        assert_eq!(cmd.content["tamid"], "https://tam.example.com/tam1");
        let enc: InstallEncryptedTa =
            serde_json::from_value(cmd.tbs["encrypted_ta"].clone()).unwrap();
        assert_eq!(enc.alg, TaEncAlg::AesCbc);
        let TaKey::Jwe(key_jwe) = &enc.key else {
            panic!("key must be a JWE")
        };
        let h = key_jwe.recipient_header(0).unwrap().unwrap();
        assert_eq!(h.key_alg().unwrap(), kind.key_alg());
        // The SP AIK private key unwraps a 256-bit key...
        let key = key_jwe
            .decrypt(&tee.provider, &*tee.spaik_key, &JwePolicy::ANY)
            .unwrap();
        assert_eq!(key.len(), 32);
        // ... and the data is AES-256-CBC with PKCS#7 under it and the IV.
        assert_eq!(enc.ciphertadata.0, aes256_cbc(&key, &enc.iv.0, &ta));
        assert_eq!(
            enc.cipherpdata.as_ref().unwrap().0,
            aes256_cbc(&key, &enc.iv.0, b"personalization")
        );
        assert_eq!(enc.ciphertadata.0.len(), (ta.len() / 16 + 1) * 16);
    }
}

/// AES-256-CBC/PKCS#7 computed independently of the TAM's code path: the
/// ciphertext half of the RustCrypto CBC-HMAC hazmat function with a MAC
/// key of ones (the TAM uses zeros), so only the AES-CBC part is shared.
fn aes256_cbc(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut k = vec![1u8; 32];
    k.extend_from_slice(key);
    otrp_crypto_rustcrypto::hazmat::cbc_hmac_encrypt(
        ContentAlg::A256CbcHs512,
        &k,
        iv,
        b"",
        plaintext,
    )
    .unwrap()
    .0
}

#[test]
fn sealed_ta_is_fresh_each_time_and_refuses_empty_updates() {
    let kind = Kind::Rsa;
    let provider = provider("seal");
    let spaik = public_of(&cert(kind, "sp"));
    let a = SealedTa::seal(&provider, &spaik, Some(b"TA".to_vec()), None).unwrap();
    let b = SealedTa::seal(&provider, &spaik, Some(b"TA".to_vec()), None).unwrap();
    assert_ne!(a.iv, b.iv);
    assert_ne!(a.ta, b.ta);
    assert!(a.clone().into_install().unwrap().cipherpdata.is_none());
    let empty = SealedTa::seal(&provider, &spaik, None, None).unwrap();
    assert!(matches!(
        empty.clone().into_update(),
        Err(TamError::InvalidRequest(_))
    ));
    assert!(matches!(
        empty.into_install(),
        Err(TamError::InvalidRequest(_))
    ));
    let p384 = otrp_crypto_rustcrypto::KEY_LOADER
        .private_key_from_pkcs8_der(
            &std::fs::read(pki_dir().join("../otrp-conformance/data/p384.pk8.der")).unwrap(),
        )
        .unwrap()
        .public_key()
        .unwrap();
    assert_eq!(key_alg_for(&p384), Err(TamError::UnsupportedKey));
}

#[test]
fn every_command_builds_and_round_trips_through_the_fake_tee() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        let mut session = ready_session(&tam, &mut tee);
        let commands = vec![
            create_sd("sp1", "sd1", kind),
            otrp_core::tam::Command::UpdateSd {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                changes: SdChanges {
                    newsdname: None,
                    newspid: None,
                    spcert: Some(vec![Base64Bytes(cert(kind, "sp"))]),
                    deloldspcert: None,
                    renewteespaik: Some(false),
                },
            },
            install_ta("sp1", "sd1", "ta1", b"TA v1"),
            otrp_core::tam::Command::UpdateTa {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                taid: "ta1".into(),
                spcert: None,
                ta: Some(b"TA v2".to_vec()),
                pdata: None,
            },
            otrp_core::tam::Command::DeleteTa {
                sdname: "sd1".into(),
                taid: "ta1".into(),
            },
            otrp_core::tam::Command::DeleteSd {
                sdname: "sd1".into(),
                deleteta: true,
            },
        ];
        let expected_sds = [1, 1, 1, 1, 1, 0];
        let expected_tas = [0, 0, 1, 1, 0, 0];
        for (i, command) in commands.into_iter().enumerate() {
            let kind_of = command.kind();
            let request = session.command("tee-1", command).unwrap();
            let cmd = tee.read_command(&request);
            assert_eq!(cmd.kind, kind_of);
            let response = tee.answer(&request);
            let event = session.handle_response(&response, now()).unwrap();
            assert!(
                matches!(&event, Event::Success { kind: k, .. } if *k == kind_of),
                "{event:?}"
            );
            let dsi = session.state().dsi("tee-1").unwrap();
            assert_eq!(dsi.tee.sdlist.sd.len(), expected_sds[i], "{kind_of:?}");
            let tas: usize = dsi.tee.sdlist.sd.iter().map(|s| s.talist.len()).sum();
            assert_eq!(tas, expected_tas[i], "{kind_of:?}");
        }
        assert!(matches!(
            session.command(
                "tee-1",
                otrp_core::tam::Command::UpdateTa {
                    spid: "sp1".into(),
                    sdname: "sd1".into(),
                    taid: "ta1".into(),
                    spcert: None,
                    ta: None,
                    pdata: None,
                }
            ),
            Err(TamError::InvalidRequest(_))
        ));
    }
}

#[test]
fn state_round_trips_through_a_store_and_a_stateless_front_end() {
    for kind in BOTH {
        let tam = tam(kind);
        let mut tee = FakeTee::new(kind);
        let mut store = MemoryStore::new();
        // Front end 1: GetDeviceState request.
        let mut session = TamSession::new(&tam);
        let request = session.get_device_state().unwrap();
        store.save("device-42", session.state()).unwrap();
        drop(session);
        // Front end 2: its answer, then a CreateSD request; the state goes
        // through the byte form a database would keep.
        let state = store.load("device-42").unwrap().unwrap();
        let mut session = TamSession::resume(&tam, state);
        session
            .handle_response(&tee.answer_gds(&request), now())
            .unwrap();
        let request = session
            .command("tee-1", create_sd("sp1", "sd1", kind))
            .unwrap();
        let blob = session.state().to_bytes();
        let revision = session.state().revision();
        drop(session);
        let state = DeviceState::from_bytes(&blob, tam.provider(), &Limits::DEFAULT).unwrap();
        assert_eq!(state.revision(), revision);
        assert_eq!(state.outstanding().unwrap().kind, MessageKind::CreateSd);
        // Front end 3: the answer, decrypted with the stored CEK.
        let mut session = TamSession::resume(&tam, state);
        let event = session
            .handle_response(&tee.answer(&request), now())
            .unwrap();
        assert!(matches!(event, Event::Success { .. }));
        assert!(session.state().revision() > revision);
        // And again through bytes with a Member DSI.
        let blob = session.state().to_bytes();
        let state = DeviceState::from_bytes(&blob, tam.provider(), &Limits::DEFAULT).unwrap();
        assert_eq!(&state, session.state());
        store.save("device-42", &state).unwrap();
        assert_eq!(store.len(), 1);
        store.remove("device-42").unwrap();
        assert!(store.is_empty());
        assert!(matches!(
            DeviceState::from_bytes(b"{}", tam.provider(), &Limits::DEFAULT),
            Err(TamError::InvalidState(_))
        ));
    }
}

#[test]
fn tam_configuration_is_checked() {
    let kind = Kind::Rsa;
    let anchors = otrp_core::pki::TrustAnchors::new();
    // The key must be the certificate's.
    let r = Tam::new(
        provider("cfg"),
        key(kind, "tam-other"),
        vec![cert(kind, "tam")],
        anchors.clone(),
    );
    assert!(matches!(r, Err(TamError::InvalidRequest(_))));
    // A chain is needed.
    assert!(matches!(
        Tam::new(provider("cfg"), key(kind, "tam"), vec![], anchors.clone()),
        Err(TamError::InvalidRequest(_))
    ));
    // ES256 for a P-256 TAM, and the tamid of its certificate.
    let tam = Tam::new(
        provider("cfg"),
        key(Kind::Ec, "tam-rid"),
        vec![cert(Kind::Ec, "tam-rid")],
        anchors,
    )
    .unwrap();
    assert_eq!(tam.sign_alg(), JwsAlg::Es256);
    assert_eq!(tam.tamid().as_str(), "1.3.6.1.4.1.99999.1.2");
    let _ = Header::new();
    let _ = Jws::parse;
}

#[test]
fn two_answers_from_one_tee_refuse_the_whole_response() {
    let kind = Kind::Rsa;
    let tam = tam(kind);
    let (r, unchanged) = gds_with(kind, &tam, |fake, req| {
        let doc = DsiDocument::new(fake.dsi(req.tid.as_str()));
        let tbs = GetDeviceTeeStateTbsResponse::pass(req.rid, req.tid, true, fake.edsi(&doc));
        let entry = fake.gds_envelope(&tbs);
        FakeTee::gds_array(vec![entry.clone(), entry])
    });
    assert!(matches!(r, Err(TamError::Message(_))), "{r:?}");
    assert!(unchanged);
}
