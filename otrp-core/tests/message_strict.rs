//! Strictness (section 9: every member mandatory unless marked optional; an
//! undefined member is ERR_REQUEST_INVALID, 9.1.6), version and algorithm
//! codes, envelope name checks (7.4), limits, and each tolerance listed in
//! `docs/interop.md`.

use otrp_core::jose::Jwe;
use otrp_core::message::*;
use serde_json::{Value, json};

const L: Limits = Limits::DEFAULT;
type R = Result<(), MessageError>;

fn jwe() -> Value {
    json!({"protected":"eyJlbmMiOiJBMTI4Q0JDLUhTMjU2In0","recipients":[{"header":{"alg":"RSA1_5"},"encrypted_key":"AAAA"}],"iv":"AAAA","ciphertext":"AAAA","tag":"AAAA"})
}
const H32: &str = "AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8=";

fn dsi() -> Value {
    json!({"tfwdata":{"tbs":"AAAA","cert":"AAAA","sigalg":"RS256","sig":"AAAA"},
           "tee":{"name":"T","ver":"1","cert":"AAAA","cacert":["AAAA"],
                  "sdlist":{"cnt":"1","sd":[{"name":"sd","spid":"sp","talist":[{"taid":"ta","taname":"n"}]}]},
                  "teeaiklist":[{"spaik":"AAAA","spaiktype":"RSA","spid":"sp"}]}})
}

fn mgmt(extra: Option<(&str, Value)>) -> Value {
    let mut v = json!({"ver":"1.0","rid":"r","tid":"t","tee":"T","nextdsi":false,"dsihash":H32,"content":jwe()});
    if let Some((k, x)) = extra {
        v[k] = x;
    }
    v
}

fn tbs<T: TbsMessage>(b: &[u8]) -> R {
    T::from_payload(b, &L).map(drop)
}
fn content<T: ContentPlaintext>(b: &[u8]) -> R {
    T::from_plaintext(b, &L).map(drop)
}
fn dsi_doc(b: &[u8]) -> R {
    DsiDocument::from_plaintext(b, &L).map(drop)
}
fn broker(b: &[u8]) -> R {
    BrokerError::parse(b, &L).map(drop)
}

struct Case {
    name: &'static str,
    doc: Value,
    at: &'static [&'static str],
    optional: &'static [&'static str],
    parse: fn(&[u8]) -> R,
}

fn wrap(name: &str, v: Value) -> Value {
    json!({ name: v })
}

fn cases() -> Vec<Case> {
    let install_ta = json!({"key":"AAAA","iv":"000102030405060708090A0B0C0D0E0F","alg":"AESCBC","ciphertadata":"AAAA","cipherpdata":"AAAA"});
    let update_ta = json!({"key":"AAAA","iv":"000102030405060708090A0B0C0D0E0F","alg":"AESCBC","ciphernewtadata":"AAAA","ciphernewpdata":"AAAA"});
    let pass = json!({"ver":"1.0","status":"pass","rid":"r","tid":"t","content":jwe()});
    let fail = json!({"ver":"1.0","status":"fail","rid":"r","tid":"t","reason":{"error-code":"ERR_TEE_FAIL","error-message":"m"},"supportedsigalgs":["RS256"]});
    let did = H32;
    vec![
        Case {
            name: "GetDeviceStateTBSRequest",
            doc: wrap(
                "GetDeviceStateTBSRequest",
                json!({"ver":"1.0","rid":"r","tid":"t","ocspdat":["AAAA"],"supportedsigalgs":["RS256"]}),
            ),
            at: &["GetDeviceStateTBSRequest"],
            optional: &["supportedsigalgs"],
            parse: tbs::<GetDeviceStateTbsRequest>,
        },
        Case {
            name: "GetDeviceTEEStateTBSResponse pass",
            doc: wrap(
                "GetDeviceTEEStateTBSResponse",
                json!({"ver":"1.0","status":"pass","rid":"r","tid":"t","signerreq":true,"edsi":jwe()}),
            ),
            at: &["GetDeviceTEEStateTBSResponse"],
            optional: &[],
            parse: tbs::<GetDeviceTeeStateTbsResponse>,
        },
        Case {
            name: "GetDeviceTEEStateTBSResponse fail",
            doc: wrap("GetDeviceTEEStateTBSResponse", fail.clone()),
            at: &["GetDeviceTEEStateTBSResponse"],
            optional: &["supportedsigalgs"],
            parse: tbs::<GetDeviceTeeStateTbsResponse>,
        },
        Case {
            name: "reason",
            doc: wrap("GetDeviceTEEStateTBSResponse", fail.clone()),
            at: &["GetDeviceTEEStateTBSResponse", "reason"],
            optional: &["error-message"],
            parse: tbs::<GetDeviceTeeStateTbsResponse>,
        },
        Case {
            name: "edsi JWE",
            doc: wrap(
                "GetDeviceTEEStateTBSResponse",
                json!({"ver":"1.0","status":"pass","rid":"r","tid":"t","signerreq":true,"edsi":jwe()}),
            ),
            at: &["GetDeviceTEEStateTBSResponse", "edsi"],
            // Without `protected` (which holds `enc`) or `recipients` (which
            // hold `alg`) it is no JWE: the JOSE layer refuses it whole.
            optional: &[],
            parse: tbs::<GetDeviceTeeStateTbsResponse>,
        },
        Case {
            name: "CreateSDTBSRequest",
            doc: wrap("CreateSDTBSRequest", mgmt(None)),
            at: &["CreateSDTBSRequest"],
            optional: &[],
            parse: tbs::<CreateSdTbsRequest>,
        },
        Case {
            name: "UpdateSDTBSRequest",
            doc: wrap("UpdateSDTBSRequest", mgmt(None)),
            at: &["UpdateSDTBSRequest"],
            optional: &[],
            parse: tbs::<UpdateSdTbsRequest>,
        },
        Case {
            name: "DeleteSDTBSRequest",
            doc: wrap("DeleteSDTBSRequest", mgmt(None)),
            at: &["DeleteSDTBSRequest"],
            optional: &[],
            parse: tbs::<DeleteSdTbsRequest>,
        },
        Case {
            name: "InstallTATBSRequest",
            doc: wrap(
                "InstallTATBSRequest",
                mgmt(Some(("encrypted_ta", install_ta.clone()))),
            ),
            at: &["InstallTATBSRequest"],
            optional: &[],
            parse: tbs::<InstallTaTbsRequest>,
        },
        Case {
            name: "InstallTA encrypted_ta",
            doc: wrap(
                "InstallTATBSRequest",
                mgmt(Some(("encrypted_ta", install_ta))),
            ),
            at: &["InstallTATBSRequest", "encrypted_ta"],
            optional: &["cipherpdata"],
            parse: tbs::<InstallTaTbsRequest>,
        },
        Case {
            name: "UpdateTATBSRequest",
            doc: wrap(
                "UpdateTATBSRequest",
                mgmt(Some(("encrypted_ta", update_ta.clone()))),
            ),
            at: &["UpdateTATBSRequest"],
            optional: &[],
            parse: tbs::<UpdateTaTbsRequest>,
        },
        Case {
            name: "UpdateTA encrypted_ta",
            doc: wrap(
                "UpdateTATBSRequest",
                mgmt(Some(("encrypted_ta", update_ta))),
            ),
            at: &["UpdateTATBSRequest", "encrypted_ta"],
            optional: &["ciphernewtadata", "ciphernewpdata"],
            parse: tbs::<UpdateTaTbsRequest>,
        },
        Case {
            name: "DeleteTATBSRequest",
            doc: wrap("DeleteTATBSRequest", mgmt(None)),
            at: &["DeleteTATBSRequest"],
            optional: &[],
            parse: tbs::<DeleteTaTbsRequest>,
        },
        Case {
            name: "CreateSDTBSResponse pass",
            doc: wrap("CreateSDTBSResponse", pass.clone()),
            at: &["CreateSDTBSResponse"],
            optional: &[],
            parse: tbs::<CreateSdTbsResponse>,
        },
        Case {
            name: "UpdateSDTBSResponse pass",
            doc: wrap("UpdateSDTBSResponse", pass.clone()),
            at: &["UpdateSDTBSResponse"],
            optional: &[],
            parse: tbs::<UpdateSdTbsResponse>,
        },
        Case {
            name: "DeleteSDTBSResponse pass",
            doc: wrap("DeleteSDTBSResponse", pass.clone()),
            at: &["DeleteSDTBSResponse"],
            optional: &[],
            parse: tbs::<DeleteSdTbsResponse>,
        },
        Case {
            name: "InstallTATBSResponse pass",
            doc: wrap("InstallTATBSResponse", pass.clone()),
            at: &["InstallTATBSResponse"],
            optional: &[],
            parse: tbs::<InstallTaTbsResponse>,
        },
        Case {
            name: "UpdateTATBSResponse pass",
            doc: wrap("UpdateTATBSResponse", pass.clone()),
            at: &["UpdateTATBSResponse"],
            optional: &[],
            parse: tbs::<UpdateTaTbsResponse>,
        },
        Case {
            name: "DeleteTATBSResponse pass",
            doc: wrap("DeleteTATBSResponse", pass),
            at: &["DeleteTATBSResponse"],
            optional: &[],
            parse: tbs::<DeleteTaTbsResponse>,
        },
        Case {
            name: "DeleteTATBSResponse fail",
            doc: wrap("DeleteTATBSResponse", fail),
            at: &["DeleteTATBSResponse"],
            optional: &["supportedsigalgs"],
            parse: tbs::<DeleteTaTbsResponse>,
        },
        Case {
            name: "CreateSD content",
            doc: json!({"spid":"s","sdname":"n","spcert":"AAAA","tamid":"t","did":did}),
            at: &[],
            optional: &[],
            parse: content::<CreateSdRequestContent>,
        },
        Case {
            name: "UpdateSD content",
            doc: json!({"tamid":"t","spid":"s","sdname":"n","changes":{"newsdname":"a","newspid":"b","spcert":["AAAA"],"deloldspcert":["00".repeat(32)],"renewteespaik":true}}),
            at: &[],
            optional: &[],
            parse: content::<UpdateSdRequestContent>,
        },
        Case {
            name: "UpdateSD changes",
            doc: json!({"tamid":"t","spid":"s","sdname":"n","changes":{"newsdname":"a","newspid":"b","spcert":["AAAA"],"deloldspcert":["00".repeat(32)],"renewteespaik":true}}),
            at: &["changes"],
            optional: &[
                "newsdname",
                "newspid",
                "spcert",
                "deloldspcert",
                "renewteespaik",
            ],
            parse: content::<UpdateSdRequestContent>,
        },
        Case {
            name: "DeleteSD content",
            doc: json!({"tamid":"t","sdname":"n","deleteta":true}),
            at: &[],
            optional: &["deleteta"],
            parse: content::<DeleteSdRequestContent>,
        },
        Case {
            name: "InstallTA content",
            doc: json!({"tamid":"t","spid":"s","sdname":"n","spcert":"AAAA","taid":"a"}),
            at: &[],
            optional: &["spcert"],
            parse: content::<InstallTaRequestContent>,
        },
        Case {
            name: "DeleteTA content",
            doc: json!({"tamid":"t","sdname":"n","taid":"a"}),
            at: &[],
            optional: &[],
            parse: content::<DeleteTaRequestContent>,
        },
        Case {
            name: "CreateSD response content",
            doc: json!({"reason":"r","did":did,"sdname":"n","teespaik":"AAAA","dsi":dsi()}),
            at: &[],
            optional: &["reason", "teespaik", "dsi"],
            parse: content::<CreateSdResponseContent>,
        },
        Case {
            name: "UpdateSD response content",
            doc: json!({"reason":{"error-code":"ERR_TEE_FAIL"},"did":did,"cert":"AAAA","teespaik":"AAAA","teespaiktype":"ECC","dsi":dsi()}),
            at: &[],
            optional: &["reason", "cert", "teespaik", "teespaiktype", "dsi"],
            parse: content::<UpdateSdResponseContent>,
        },
        Case {
            name: "response content",
            doc: json!({"reason":"r","did":did,"dsi":dsi()}),
            at: &[],
            optional: &["reason", "dsi"],
            parse: content::<ResponseContent>,
        },
        Case {
            name: "DSI document",
            doc: json!({"dsi":dsi()}),
            at: &[],
            optional: &[],
            parse: dsi_doc,
        },
        Case {
            name: "dsi",
            doc: json!({"dsi":dsi()}),
            at: &["dsi"],
            optional: &["tfwdata"],
            parse: dsi_doc,
        },
        Case {
            name: "tfwdata",
            doc: json!({"dsi":dsi()}),
            at: &["dsi", "tfwdata"],
            optional: &[],
            parse: dsi_doc,
        },
        Case {
            name: "tee",
            doc: json!({"dsi":dsi()}),
            at: &["dsi", "tee"],
            optional: &[],
            parse: dsi_doc,
        },
        Case {
            name: "sdlist",
            doc: json!({"dsi":dsi()}),
            at: &["dsi", "tee", "sdlist"],
            optional: &[],
            parse: dsi_doc,
        },
        Case {
            name: "sd",
            doc: json!({"dsi":dsi()}),
            at: &["dsi", "tee", "sdlist", "sd", "0"],
            optional: &[],
            parse: dsi_doc,
        },
        Case {
            name: "talist",
            doc: json!({"dsi":dsi()}),
            at: &["dsi", "tee", "sdlist", "sd", "0", "talist", "0"],
            optional: &["taname"],
            parse: dsi_doc,
        },
        Case {
            name: "teeaiklist",
            doc: json!({"dsi":dsi()}),
            at: &["dsi", "tee", "teeaiklist", "0"],
            optional: &[],
            parse: dsi_doc,
        },
        Case {
            name: "OTrPBrokerError",
            doc: wrap(
                "OTrPBrokerError",
                json!({"ver":"1.0","rid":"","tid":"","errcode":"ERR_AGENT_TEE_BUSY"}),
            ),
            at: &["OTrPBrokerError"],
            optional: &[],
            parse: broker,
        },
    ]
}

fn object_at<'a>(v: &'a mut Value, at: &[&str]) -> &'a mut serde_json::Map<String, Value> {
    let mut cur = v;
    for k in at {
        cur = match k.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*k],
        };
    }
    cur.as_object_mut().expect("object")
}

#[test]
fn every_valid_document_parses() {
    for c in cases() {
        (c.parse)(&serde_json::to_vec(&c.doc).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
}

#[test]
fn removing_a_mandatory_member_is_request_invalid_naming_it() {
    let mut checked = 0;
    for c in cases() {
        let keys: Vec<String> = object_at(&mut c.doc.clone(), c.at)
            .keys()
            .cloned()
            .collect();
        for k in keys {
            let mut doc = c.doc.clone();
            object_at(&mut doc, c.at).remove(&k);
            let r = (c.parse)(&serde_json::to_vec(&doc).unwrap());
            if c.optional.contains(&k.as_str()) {
                assert!(r.is_ok(), "{}: optional {k}: {r:?}", c.name);
                continue;
            }
            let e = r.expect_err(&format!("{}: without {k}", c.name));
            assert_eq!(
                e.error_code(),
                ErrorCode::RequestInvalid,
                "{}: {k}: {e}",
                c.name
            );
            match &e {
                MessageError::Missing { member } => {
                    assert!(member.ends_with(&format!(".{k}")), "{}: {member}", c.name)
                }
                MessageError::Invalid { member, .. }
                    if c.name == "edsi JWE" && (k == "protected" || k == "recipients") =>
                {
                    assert!(member.ends_with(".edsi"), "{member}")
                }
                // Without `status` nothing tells which members belong; an
                // sdlist without `sd` cannot be counted; a JWE without its
                // recipients is not a JWE.
                other => panic!("{}: without {k}: {other:?}", c.name),
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn an_extra_member_is_request_invalid_naming_it() {
    for c in cases() {
        let mut doc = c.doc.clone();
        object_at(&mut doc, c.at).insert("x-extra".into(), json!(1));
        let e = (c.parse)(&serde_json::to_vec(&doc).unwrap()).expect_err(c.name);
        assert_eq!(e.error_code(), ErrorCode::RequestInvalid);
        match e {
            MessageError::Undefined { member } => assert!(member.ends_with(".x-extra"), "{member}"),
            other => panic!("{}: {other:?}", c.name),
        }
    }
}

#[test]
fn update_ta_needs_new_ta_data_or_new_personalization_data() {
    let mut v = wrap(
        "UpdateTATBSRequest",
        mgmt(Some((
            "encrypted_ta",
            json!({"key":"AAAA","iv":"000102030405060708090A0B0C0D0E0F","alg":"AESCBC"}),
        ))),
    );
    let e = tbs::<UpdateTaTbsRequest>(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(matches!(e, MessageError::Missing { .. }), "{e:?}");
    v["UpdateTATBSRequest"]["encrypted_ta"]["ciphernewpdata"] = json!("AAAA");
    tbs::<UpdateTaTbsRequest>(&serde_json::to_vec(&v).unwrap()).unwrap();
}

#[test]
fn version_other_than_1_0_is_unsupported_msg_version_even_with_new_members() {
    for ver in [json!("2.0"), json!("1.1"), json!(1.0)] {
        let mut v = mgmt(None);
        v["ver"] = ver;
        // A later version may well define members this one does not.
        v["newmember"] = json!(true);
        let e =
            tbs::<CreateSdTbsRequest>(&serde_json::to_vec(&wrap("CreateSDTBSRequest", v)).unwrap())
                .unwrap_err();
        assert!(
            matches!(e, MessageError::UnsupportedVersion { .. }),
            "{e:?}"
        );
        assert_eq!(e.error_code(), ErrorCode::UnsupportedMsgVersion);
    }
}

#[test]
fn unknown_ta_cipher_is_unsupported_crypto_alg() {
    let eta = json!({"key":"AAAA","iv":"000102030405060708090A0B0C0D0E0F","alg":"DESCBC","ciphertadata":"AAAA"});
    let v = wrap("InstallTATBSRequest", mgmt(Some(("encrypted_ta", eta))));
    let e = tbs::<InstallTaTbsRequest>(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(e.error_code(), ErrorCode::UnsupportedCryptoAlg);
}

#[test]
fn error_codes_have_their_wire_strings() {
    let all = [
        "ERR_REQUEST_INVALID",
        "ERR_UNSUPPORTED_MSG_VERSION",
        "ERR_UNSUPPORTED_CRYPTO_ALG",
        "ERR_DEV_STATE_MISMATCH",
        "ERR_SD_ALREADY_EXISTS",
        "ERR_SD_NOT_FOUND",
        "ERR_SD_NOT_EMPTY",
        "ERR_SDNAME_ALREADY_USED",
        "ERR_SPCERT_INVALID",
        "ERR_TA_ALREADY_INSTALLED",
        "ERR_TA_INVALID",
        "ERR_TA_NOT_FOUND",
        "ERR_TEE_FAIL",
        "ERR_TEE_RESOURCE_FULL",
        "ERR_TFW_NOT_TRUSTED",
        "ERR_TAM_NOT_TRUSTED",
        "ERR_TAM_NOT_AUTHORIZED",
        "ERR_AGENT_TEE_UNKNOWN",
        "ERR_AGENT_TEE_BUSY",
    ];
    assert_eq!(ErrorCode::KNOWN.len(), all.len());
    for s in all {
        let c = ErrorCode::from_wire(s);
        assert!(!matches!(c, ErrorCode::Other(_)), "{s}");
        assert_eq!(c.as_str(), s);
        assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{s}\""));
    }
    // 9.2.1.4's spelling is accepted; 13.1's is emitted.
    assert_eq!(
        ErrorCode::from_wire("ERR_SD_ALREADY_EXIST"),
        ErrorCode::SdAlreadyExists
    );
    assert_eq!(ErrorCode::SdAlreadyExists.as_str(), "ERR_SD_ALREADY_EXISTS");
    // Unknown codes keep their text.
    let c: ErrorCode = serde_json::from_str("\"ERR_NEW_THING\"").unwrap();
    assert_eq!(c, ErrorCode::Other("ERR_NEW_THING".into()));
    assert_eq!(c.as_str(), "ERR_NEW_THING");
}

#[test]
fn the_signed_tbs_name_must_match_the_envelope() {
    let env = Envelope::parse(
        br#"{"CreateSDRequest":{"payload":"x","protected":"y","signature":"z"}}"#,
        &L,
    )
    .unwrap();
    assert_eq!(
        (env.kind, env.direction),
        (MessageKind::CreateSd, Direction::Request)
    );
    // The envelope says CreateSD; the signed payload is a DeleteSD.
    let payload = serde_json::to_vec(&wrap("DeleteSDTBSRequest", mgmt(None))).unwrap();
    let e = env
        .parse_payload::<CreateSdTbsRequest>(&payload, &L)
        .unwrap_err();
    assert!(
        matches!(
            e,
            MessageError::NameMismatch {
                expected: "CreateSDTBSRequest",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.error_code(), ErrorCode::RequestInvalid);
    // Asking for a type the envelope does not claim is refused too.
    let e = env
        .parse_payload::<DeleteSdTbsRequest>(&payload, &L)
        .unwrap_err();
    assert!(matches!(e, MessageError::NameMismatch { .. }));
    let e = TbsRequest::from_payload(MessageKind::CreateSd, &payload, &L).unwrap_err();
    assert!(matches!(e, MessageError::NameMismatch { .. }));
    let ok = TbsRequest::from_payload(MessageKind::DeleteSd, &payload, &L).unwrap();
    assert_eq!(ok.rid().as_str(), "r");
    // Unknown names, several members, responses where requests belong.
    assert!(matches!(
        Envelope::parse(br#"{"FooRequest":{}}"#, &L),
        Err(MessageError::UnknownMessage(_))
    ));
    assert!(Envelope::parse(br#"{"CreateSDRequest":{},"DeleteSDRequest":{}}"#, &L).is_err());
    assert!(parse_request(br#"{"CreateSDResponse":{}}"#, &L).is_err());
    assert!(Envelope::parse(br#"{"CreateSDRequest":"compact.jws.here"}"#, &L).is_err());
}

#[test]
fn envelopes_round_trip_and_responses_are_classified() {
    for kind in MessageKind::ALL {
        for dir in [Direction::Request, Direction::Response] {
            let env = Envelope::new(
                *kind,
                dir,
                json!({"payload":"p","protected":"q","signature":"s"}),
            );
            let back = Envelope::parse(&env.to_vec(), &L).unwrap();
            assert_eq!(back, env);
            assert_eq!(
                MessageKind::from_tbs_name(kind.tbs_name(dir)),
                Some((*kind, dir))
            );
        }
    }
    let b = BrokerError::new(
        MessageId::new(""),
        MessageId::new(""),
        ErrorCode::AgentTeeUnknown,
    );
    assert_eq!(
        ResponseMessage::parse(&b.to_vec(), &L).unwrap(),
        ResponseMessage::BrokerError(b)
    );
    assert!(ResponseMessage::parse(br#"{"CreateSDRequest":{}}"#, &L).is_err());
}

#[test]
fn limits_are_checked_before_parsing() {
    let small = Limits {
        max_ta_message_size: 4096,
        max_message_size: 256,
        max_depth: 8,
    };
    let payload = serde_json::to_vec(&wrap(
        "CreateSDTBSRequest",
        mgmt(Some(("tee", json!("x".repeat(300))))),
    ))
    .unwrap();
    let e = CreateSdTbsRequest::from_payload(&payload, &small).unwrap_err();
    assert!(
        matches!(e, MessageError::TooLarge { limit: 256, .. }),
        "{e:?}"
    );
    // InstallTA falls under the larger limit.
    let eta = json!({"key":"AAAA","iv":"000102030405060708090A0B0C0D0E0F","alg":"AESCBC","ciphertadata":"A".repeat(400)});
    let payload = serde_json::to_vec(&wrap(
        "InstallTATBSRequest",
        mgmt(Some(("encrypted_ta", eta))),
    ))
    .unwrap();
    InstallTaTbsRequest::from_payload(&payload, &small).unwrap();
    // Envelopes choose the limit from their (first) name.
    let big = format!(
        r#"{{"CreateSDRequest":{{"payload":"{}"}}}}"#,
        "A".repeat(300)
    );
    assert!(matches!(
        Envelope::parse(big.as_bytes(), &small),
        Err(MessageError::TooLarge { .. })
    ));
    let big = format!(
        r#"{{"InstallTARequest":{{"payload":"{}"}}}}"#,
        "A".repeat(300)
    );
    Envelope::parse(big.as_bytes(), &small).unwrap();
    // Depth: deeper than the limit is refused before serde_json sees it,
    // even far below serde_json's own limit of 128.
    let deep = format!("{}{}", "[".repeat(9), "]".repeat(9));
    let e = DsiDocument::from_plaintext(deep.as_bytes(), &small).unwrap_err();
    assert_eq!(e, MessageError::TooDeep { limit: 8 });
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        Envelope::parse(deep.as_bytes(), &L),
        Err(MessageError::TooDeep { .. })
    ));
    // Brackets inside strings do not count.
    let text = format!(r#"{{"dsi":"{}"}}"#, "[".repeat(100));
    assert!(matches!(
        DsiDocument::from_plaintext(text.as_bytes(), &small),
        Err(MessageError::Invalid { .. })
    ));
}

#[test]
fn duplicate_members_are_refused() {
    let text = br#"{"tamid":"a","sdname":"n","taid":"x","taid":"y"}"#;
    let e = DeleteTaRequestContent::from_plaintext(text, &L).unwrap_err();
    assert!(
        matches!(e, MessageError::Json(ref m) if m.contains("duplicate")),
        "{e:?}"
    );
}

// ---- Tolerances (docs/interop.md), each emitting the body's form.

#[test]
fn tolerance_flags_as_bool_or_string() {
    for (wire, want) in [
        (json!(true), true),
        (json!("true"), true),
        (json!("false"), false),
        (json!("1"), true),
        (json!("0"), false),
        (json!(false), false),
    ] {
        let v = wrap("DeleteSDTBSRequest", mgmt(Some(("nextdsi", wire.clone()))));
        let r = DeleteSdTbsRequest::from_payload(&serde_json::to_vec(&v).unwrap(), &L).unwrap();
        assert_eq!(r.nextdsi, want, "{wire}");
        let out: Value = serde_json::from_slice(&r.to_payload()).unwrap();
        assert_eq!(out["DeleteSDTBSRequest"]["nextdsi"], json!(want));
    }
    for wire in [json!(" false"), json!("yes"), json!(1), json!(null)] {
        let v = wrap("DeleteSDTBSRequest", mgmt(Some(("nextdsi", wire.clone()))));
        assert!(
            DeleteSdTbsRequest::from_payload(&serde_json::to_vec(&v).unwrap(), &L).is_err(),
            "{wire}"
        );
    }
    let r = GetDeviceTeeStateTbsResponse::from_payload(br#"{"GetDeviceTEEStateTBSResponse":{"ver":"1.0","status":"pass","rid":"r","tid":"t","signerreq":"true","edsi":{"unprotected":{"enc":"A128GCM"},"iv":"","ciphertext":"","tag":"","encrypted_key":"","header":{"alg":"RSA1_5"}}}}"#, &L).unwrap();
    assert!(matches!(
        r.outcome,
        TeeStateOutcome::Pass {
            signerreq: true,
            ..
        }
    ));
}

#[test]
fn tolerance_cnt_as_number_or_string_and_checked() {
    let mut d = json!({"dsi":dsi()});
    d["dsi"]["tee"]["sdlist"]["cnt"] = json!(1);
    let doc = DsiDocument::from_plaintext(&serde_json::to_vec(&d).unwrap(), &L).unwrap();
    let out = serde_json::to_value(doc.dsi()).unwrap();
    assert_eq!(out["tee"]["sdlist"]["cnt"], json!("1"));
    for bad in [json!(2), json!("2"), json!("-1"), json!("one"), json!(1.5)] {
        d["dsi"]["tee"]["sdlist"]["cnt"] = bad.clone();
        assert!(
            DsiDocument::from_plaintext(&serde_json::to_vec(&d).unwrap(), &L).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn tolerance_did_and_dsihash_in_base64_or_base64url() {
    let url = "AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8";
    for h in [H32, url] {
        let v = wrap("DeleteTATBSRequest", mgmt(Some(("dsihash", json!(h)))));
        let r = DeleteTaTbsRequest::from_payload(&serde_json::to_vec(&v).unwrap(), &L).unwrap();
        let out: Value = serde_json::from_slice(&r.to_payload()).unwrap();
        assert_eq!(out["DeleteTATBSRequest"]["dsihash"], json!(H32));
        let c =
            ResponseContent::from_plaintext(format!(r#"{{"did":"{h}"}}"#).as_bytes(), &L).unwrap();
        assert_eq!(
            String::from_utf8(c.to_plaintext()).unwrap(),
            format!(r#"{{"did":"{H32}"}}"#)
        );
    }
    // Too short, hex (64 hex digits decode as base64 to 48 bytes), padded
    // base64url.
    for bad in [
        "AAAA".to_string(),
        "00".repeat(32),
        format!("{}=", "_".repeat(43)),
    ] {
        let e = ResponseContent::from_plaintext(format!(r#"{{"did":"{bad}"}}"#).as_bytes(), &L)
            .unwrap_err();
        assert!(
            matches!(e, MessageError::Invalid { ref member, .. } if member == "content.did"),
            "{bad}: {e:?}"
        );
    }
}

#[test]
fn tolerance_lists_as_string_or_array() {
    let one = br#"{"GetDeviceStateTBSRequest":{"ver":"1.0","rid":"r","tid":"t","ocspdat":"AAAA","supportedsigalgs":"ES256"}}"#;
    let many = br#"{"GetDeviceStateTBSRequest":{"ver":"1.0","rid":"r","tid":"t","ocspdat":["AAAA"],"supportedsigalgs":["ES256"]}}"#;
    let a = GetDeviceStateTbsRequest::from_payload(one, &L).unwrap();
    let b = GetDeviceStateTbsRequest::from_payload(many, &L).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_payload(), many.to_vec());
    // UpdateSD changes.spcert (Appendix A.1.3.1 uses a string).
    let c = UpdateSdRequestContent::from_plaintext(
        br#"{"tamid":"t","spid":"s","sdname":"n","changes":{"spcert":"AAAA"}}"#,
        &L,
    )
    .unwrap();
    assert_eq!(c.changes.spcert.as_ref().map(Vec::len), Some(1));
    assert!(
        String::from_utf8(c.to_plaintext())
            .unwrap()
            .contains(r#""spcert":["AAAA"]"#)
    );
    // A failure's supportedsigalgs.
    let f = br#"{"CreateSDTBSResponse":{"ver":"1.0","status":"fail","rid":"r","tid":"t","reason":{"error-code":"ERR_UNSUPPORTED_CRYPTO_ALG"},"supportedsigalgs":"RS256"}}"#;
    let r = CreateSdTbsResponse::from_payload(f, &L).unwrap();
    let CommandOutcome::Fail(fail) = &r.outcome else {
        panic!()
    };
    assert_eq!(fail.supportedsigalgs.as_ref().map(Vec::len), Some(1));
    assert!(
        String::from_utf8(r.to_payload())
            .unwrap()
            .contains(r#""supportedsigalgs":["RS256"]"#)
    );
}

#[test]
fn tolerance_rid_tid_with_or_without_braces() {
    let a = MessageId::new("{8C6F9DBB}");
    let b = MessageId::new("8C6F9DBB");
    assert!(a.matches(&b) && b.matches(&a) && a.matches(&a));
    assert!(!a.matches(&MessageId::new("8C6F9DBC")));
    assert!(!MessageId::new("{x").matches(&MessageId::new("x")));
    // Kept exactly as received.
    assert_eq!(serde_json::to_string(&a).unwrap(), "\"{8C6F9DBB}\"");
}

#[test]
fn tolerance_jwe_in_general_or_flattened_json() {
    let flat = json!({"protected":"eyJlbmMiOiJBMTI4Q0JDLUhTMjU2In0","header":{"alg":"RSA1_5"},"encrypted_key":"AAAA","iv":"AAAA","ciphertext":"AAAA","tag":"AAAA"});
    let general = jwe();
    let a: Jwe = serde_json::from_value(flat).unwrap();
    let b: Jwe = serde_json::from_value(general.clone()).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        general,
        "emitted in general form"
    );
    for bad in [
        json!({"iv":"","ciphertext":"","tag":"","recipients":[{}],"encrypted_key":""}),
        json!({"iv":"","ciphertext":"","tag":"","recipients":[]}),
        json!({"iv":"","ciphertext":"","tag":"","recipients":[{"header":{},"other":1}]}),
        json!({"protected":{"enc":"A128CBC-HS256"},"iv":"","ciphertext":"","tag":"","recipients":[{}]}),
        json!({"iv":"","ciphertext":"","recipients":[{}]}),
        json!("compact.jwe.a.b.c"),
    ] {
        let eta = json!({"key":bad,"iv":"000102030405060708090a0b0c0d0e0f","alg":"AESCBC","ciphertadata":"AAAA"});
        assert!(
            serde_json::from_value::<InstallEncryptedTa>(eta).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn tolerance_ta_key_as_jwe_or_raw_wrapped_and_iv_as_hex_or_base64url() {
    let mut eta = json!({"key":jwe(),"iv":"000102030405060708090a0b0c0d0e0f","alg":"AESCBC","ciphertadata":"AAAA"});
    let t: InstallEncryptedTa = serde_json::from_value(eta.clone()).unwrap();
    assert!(matches!(t.key, TaKey::Jwe(_)));
    assert_eq!(
        t.iv.0,
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    );
    let out = serde_json::to_value(&t).unwrap();
    assert_eq!(out["iv"], json!("000102030405060708090A0B0C0D0E0F"));
    eta["key"] = json!("AAECAw==");
    eta["iv"] = json!("AAECAwQFBgcICQoLDA0ODw");
    let t: InstallEncryptedTa = serde_json::from_value(eta.clone()).unwrap();
    assert_eq!(t.key, TaKey::Wrapped(Base64Bytes(vec![0, 1, 2, 3])));
    assert_eq!(t.iv.0[15], 15);
    for bad in [
        "0001",
        "AAECAwQFBgcICQoLDA0O",
        "zz0102030405060708090a0b0c0d0e0f",
    ] {
        eta["iv"] = json!(bad);
        assert!(
            serde_json::from_value::<InstallEncryptedTa>(eta.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn tolerance_binary_members_in_either_alphabet_emitted_as_base64() {
    let c = CreateSdRequestContent::from_plaintext(
        format!(r#"{{"spid":"s","sdname":"n","spcert":"-_-_","tamid":"t","did":"{H32}"}}"#)
            .as_bytes(),
        &L,
    )
    .unwrap();
    assert_eq!(c.spcert.as_bytes(), &[0xfb, 0xff, 0xbf]);
    assert!(
        String::from_utf8(c.to_plaintext())
            .unwrap()
            .contains(r#""spcert":"+/+/""#)
    );
    assert!(serde_json::from_str::<Base64Bytes>("\"-_-_=\"").is_err());
    assert!(serde_json::from_str::<Base64UrlBytes>("\"+/+/\"").is_err());
    assert_eq!(
        serde_json::to_string(&Base64UrlBytes(vec![0xfb, 0xff, 0xbf])).unwrap(),
        "\"-_-_\""
    );
}

#[test]
fn content_reason_as_text_or_object() {
    let a = ResponseContent::from_plaintext(
        format!(r#"{{"reason":"why","did":"{H32}"}}"#).as_bytes(),
        &L,
    )
    .unwrap();
    assert_eq!(a.reason, Some(ContentReason::Text("why".into())));
    let b = ResponseContent::from_plaintext(
        format!(r#"{{"reason":{{"error-code":"ERR_TA_NOT_FOUND"}},"did":"{H32}"}}"#).as_bytes(),
        &L,
    )
    .unwrap();
    assert_eq!(
        b.reason,
        Some(ContentReason::Code(Reason::new(ErrorCode::TaNotFound)))
    );
}

#[test]
fn pass_and_fail_members_do_not_mix() {
    let v = br#"{"GetDeviceTEEStateTBSResponse":{"ver":"1.0","status":"pass","rid":"r","tid":"t","signerreq":true,"edsi":{"unprotected":{"alg":"RSA1_5","enc":"A128GCM"},"iv":"","ciphertext":"","tag":"","recipients":[{}]},"reason":{"error-code":"ERR_TEE_FAIL"}}}"#;
    let e = GetDeviceTeeStateTbsResponse::from_payload(v, &L).unwrap_err();
    assert!(
        matches!(e, MessageError::Undefined { ref member } if member.ends_with(".reason")),
        "{e:?}"
    );
    let v = br#"{"DeleteTATBSResponse":{"ver":"1.0","status":"fail","rid":"r","tid":"t","content":{"unprotected":{"alg":"RSA1_5","enc":"A128GCM"},"iv":"","ciphertext":"","tag":"","recipients":[{}]}}}"#;
    let r = DeleteTaTbsResponse::from_payload(v, &L).unwrap();
    assert!(matches!(r.outcome, CommandOutcome::FailEncrypted(_)));
    assert_eq!(r.status(), Status::Fail);
}
