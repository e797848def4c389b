//! The single-recipient JWE layout of OTrP (spec 7.5, issue 13 item 6):
//! what the builder emits (`enc` protected; `alg` and `epk` in the
//! recipient's own header), that the earlier otrp layout (everything
//! protected) still decrypts, and that the header rules hold for the new
//! layout; and, through a real `TamSession` and the soft TEE, that every
//! JWE of the protocol (`edsi`, `content`, `encrypted_ta.key`) has that
//! layout and is applied.

otrp_test_support::provider_under_test!(rustcrypto);

mod tam_support;

use otrp_conformance::keys::TestKeys;
use otrp_core::crypto::{ContentAlg, KeyAlg, Provider};
use otrp_core::jose::{Header, JoseError, Jwe, JwePolicy, b64};
use serde_json::{Value, json};

const ENC: ContentAlg = ContentAlg::A128CbcHs256;
const ALGS: [KeyAlg; 2] = [KeyAlg::Rsa1_5, KeyAlg::EcdhEsA128Kw];

fn provider() -> Provider {
    provider_under_test()
}

/// Asserts the layout of spec 7.5 on a JWE in general JSON form.
fn assert_drafts_layout(json: &Value, what: &str) {
    assert_eq!(
        protected_of(json),
        json!({"enc": "A128CBC-HS256"}),
        "{what}"
    );
    assert!(json.get("unprotected").is_none(), "{what}: {json}");
    let [recipient] = json["recipients"].as_array().unwrap().as_slice() else {
        panic!("{what}: one recipient expected: {json}");
    };
    let header = recipient["header"].as_object().unwrap();
    let alg = KeyAlg::from_name(header["alg"].as_str().unwrap()).unwrap();
    assert_eq!(header.contains_key("epk"), alg.uses_epk(), "{what}: {json}");
    assert_eq!(header.len(), 1 + usize::from(alg.uses_epk()), "{what}");
}

fn build(keys: &TestKeys, alg: KeyAlg, protected_recipient: bool) -> Jwe {
    let builder = Jwe::builder(ENC).recipient(alg, keys.recipient(alg).0, Header::new());
    let builder = if protected_recipient {
        builder.protected_recipient()
    } else {
        builder
    };
    builder
        .encrypt(b"{\"sdname\":\"sd1\"}", &provider())
        .unwrap()
}

fn general(jwe: &Jwe) -> Value {
    serde_json::from_str(&jwe.to_general_json()).unwrap()
}

fn protected_of(json: &Value) -> Value {
    let text = json["protected"].as_str().unwrap();
    serde_json::from_slice(&b64::decode_url(text, "protected").unwrap()).unwrap()
}

fn with_protected(json: &Value, header: &Value) -> Value {
    let mut out = json.clone();
    out["protected"] = b64::encode_url(&serde_json::to_vec(header).unwrap()).into();
    out
}

fn decrypt(json: &Value, keys: &TestKeys, alg: KeyAlg) -> Result<Vec<u8>, JoseError> {
    decrypt_with(json, keys, alg, &JwePolicy::ANY)
}

fn decrypt_with(
    json: &Value,
    keys: &TestKeys,
    alg: KeyAlg,
    policy: &JwePolicy<'_>,
) -> Result<Vec<u8>, JoseError> {
    Jwe::parse(&serde_json::to_vec(json).unwrap())?.decrypt(
        &provider(),
        keys.recipient(alg).1,
        policy,
    )
}

#[test]
fn the_builder_emits_the_drafts_layout() {
    let keys = TestKeys::load(&provider());
    for alg in ALGS {
        let json = general(&build(&keys, alg, false));
        // Exactly `{"enc":"A128CBC-HS256"}`: for RSA1_5 the very text of
        // spec 7.5 and its Appendix A samples.
        assert_eq!(json["protected"], "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2In0");
        assert_eq!(protected_of(&json), json!({"enc": "A128CBC-HS256"}));
        assert!(json.get("unprotected").is_none(), "{json}");
        let recipients = json["recipients"].as_array().unwrap();
        assert_eq!(recipients.len(), 1);
        let header = recipients[0]["header"].as_object().unwrap();
        let names: Vec<&str> = header.keys().map(String::as_str).collect();
        let expected: &[&str] = if alg.uses_epk() {
            &["alg", "epk"]
        } else {
            &["alg"]
        };
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected, "{alg}");
        assert_eq!(header["alg"], alg.name());
        assert!(recipients[0]["encrypted_key"].is_string());
        // Through the typed accessors too.
        let jwe = build(&keys, alg, false);
        assert!(jwe.protected().get("alg").is_none());
        assert!(jwe.protected().get("epk").is_none());
        let own = jwe.recipients()[0].header().unwrap();
        assert_eq!(own.get("alg"), Some(&Value::from(alg.name())));
        assert_eq!(own.get("epk").is_some(), alg.uses_epk());
        assert_eq!(own.get("enc"), None);
        // It has no compact form.
        assert_eq!(
            jwe.to_compact(),
            Err(JoseError::NotSerializable("compact JWE"))
        );
    }
}

#[test]
fn the_earlier_layout_keeps_every_parameter_protected() {
    let keys = TestKeys::load(&provider());
    for alg in ALGS {
        let jwe = build(&keys, alg, true);
        let json = general(&jwe);
        let protected = protected_of(&json);
        assert_eq!(protected["alg"], alg.name());
        assert_eq!(protected["enc"], ENC.name());
        assert_eq!(protected.get("epk").is_some(), alg.uses_epk());
        assert!(json["recipients"][0].get("header").is_none(), "{json}");
        assert!(jwe.to_compact().is_ok());
    }
}

#[test]
fn both_layouts_decrypt_in_every_serialization() {
    let keys = TestKeys::load(&provider());
    for alg in ALGS {
        for protected_recipient in [false, true] {
            let jwe = build(&keys, alg, protected_recipient);
            let mut forms = vec![jwe.to_general_json(), jwe.to_flattened_json().unwrap()];
            if protected_recipient {
                forms.push(jwe.to_compact().unwrap());
            }
            for form in forms {
                let parsed = Jwe::parse(form.as_bytes()).unwrap();
                let opened = parsed
                    .decrypt_detailed(&provider(), keys.recipient(alg).1, &JwePolicy::ANY)
                    .unwrap_or_else(|e| panic!("{alg} {form}: {e}"));
                assert_eq!(opened.plaintext, b"{\"sdname\":\"sd1\"}");
                assert_eq!((opened.enc, opened.key_alg), (ENC, alg));
                // The TAM's path: the answer under its own CEK.
                assert_eq!(
                    parsed
                        .decrypt_with_cek(&provider(), &opened.cek, ENC)
                        .unwrap(),
                    opened.plaintext
                );
            }
        }
    }
}

#[test]
fn header_rules_hold_for_the_drafts_layout() {
    let keys = TestKeys::load(&provider());
    for alg in ALGS {
        let json = general(&build(&keys, alg, false));
        let own = json["recipients"][0]["header"].clone();
        let edit_own = |f: &dyn Fn(&mut Value)| {
            let mut out = json.clone();
            f(&mut out["recipients"][0]["header"]);
            out
        };
        let parse = |v: &Value| Jwe::parse(&serde_json::to_vec(v).unwrap()).map(|_| ());

        // A name in two headers: `alg` (and `epk`) protected as well.
        let mut both = protected_of(&json);
        both["alg"] = own["alg"].clone();
        assert_eq!(
            parse(&with_protected(&json, &both)),
            Err(JoseError::DuplicateHeader("alg".into()))
        );
        if alg.uses_epk() {
            let mut both = protected_of(&json);
            both["epk"] = own["epk"].clone();
            assert_eq!(
                parse(&with_protected(&json, &both)),
                Err(JoseError::DuplicateHeader("epk".into()))
            );
        }
        // ... or in the shared unprotected header.
        let mut shared = json.clone();
        shared["unprotected"] = json!({"alg": alg.name()});
        assert_eq!(
            parse(&shared),
            Err(JoseError::DuplicateHeader("alg".into()))
        );
        // `enc` belongs to all recipients: never in a recipient's header.
        assert_eq!(
            parse(&edit_own(&|h| h["enc"] = ENC.name().into())),
            Err(JoseError::InvalidHeader("enc"))
        );
        // `crit` is refused wherever it is.
        assert_eq!(
            parse(&edit_own(&|h| h["crit"] = json!(["exp"]))),
            Err(JoseError::CriticalUnsupported("exp".into()))
        );
        // `alg` is required, and a known algorithm.
        assert_eq!(
            parse(&edit_own(&|h| {
                h.as_object_mut().unwrap().remove("alg");
            })),
            Err(JoseError::Missing("alg"))
        );
        let unknown = edit_own(&|h| h["alg"] = "RSA1_6".into());
        assert_eq!(
            decrypt(&unknown, &keys, alg),
            Err(JoseError::UnknownAlgorithm("RSA1_6".into()))
        );
        let none = edit_own(&|h| h["alg"] = "none".into());
        assert_eq!(decrypt(&none, &keys, alg), Err(JoseError::AlgNone));
        // An algorithm outside the caller's set is refused before any key
        // operation, although it is not integrity-protected here.
        let others: Vec<KeyAlg> = KeyAlg::ALL.iter().copied().filter(|a| *a != alg).collect();
        let policy = JwePolicy {
            key_algs: &others,
            content_algs: ContentAlg::ALL,
        };
        assert_eq!(
            decrypt_with(&json, &keys, alg, &policy),
            Err(JoseError::AlgorithmNotAllowed(alg.name()))
        );
        let policy = JwePolicy {
            key_algs: KeyAlg::ALL,
            content_algs: &[ContentAlg::A256Gcm],
        };
        assert_eq!(
            decrypt_with(&json, &keys, alg, &policy),
            Err(JoseError::AlgorithmNotAllowed(ENC.name()))
        );
        // ECDH-ES needs its `epk`; a changed one does not decrypt.
        if alg.uses_epk() {
            let no_epk = edit_own(&|h| {
                h.as_object_mut().unwrap().remove("epk");
            });
            assert_eq!(decrypt(&no_epk, &keys, alg), Err(JoseError::Missing("epk")));
        }
        // Relabelling the unprotected `alg` to another algorithm of the
        // same key kind yields the one decryption error, never plaintext.
        let relabelled = match alg {
            KeyAlg::Rsa1_5 => KeyAlg::RsaOaep,
            _ => KeyAlg::EcdhEsA256Kw,
        };
        let swapped = edit_own(&|h| h["alg"] = relabelled.name().into());
        assert!(
            matches!(
                decrypt(&swapped, &keys, alg),
                Err(JoseError::Decrypt | JoseError::Crypto(_))
            ),
            "{alg} relabelled {relabelled}"
        );
        // The untouched JWE decrypts.
        assert!(decrypt(&json, &keys, alg).is_ok());
    }
}

#[test]
fn the_protected_layout_takes_one_recipient_only() {
    let keys = TestKeys::load(&provider());
    let outcome = Jwe::builder(ENC)
        .recipient(
            KeyAlg::Rsa1_5,
            keys.recipient(KeyAlg::Rsa1_5).0,
            Header::new(),
        )
        .recipient(
            KeyAlg::EcdhEsA128Kw,
            keys.recipient(KeyAlg::EcdhEsA128Kw).0,
            Header::new(),
        )
        .protected_recipient()
        .encrypt(b"x", &provider());
    assert!(
        matches!(outcome, Err(JoseError::InvalidConstruction(_))),
        "{outcome:?}"
    );
}

/// The TBS object of a signed OTrP message (request or response), read
/// without verifying (the exchange verifies).
fn tbs_of(message: &[u8]) -> Value {
    fn find_jws(v: &Value) -> Option<&Value> {
        match v {
            Value::Object(m) if m.contains_key("payload") => Some(v),
            Value::Object(m) => m.values().find_map(find_jws),
            Value::Array(a) => a.iter().find_map(find_jws),
            _ => None,
        }
    }
    let value: Value = serde_json::from_slice(message).unwrap();
    let jws = find_jws(&value).expect("a JWS");
    let payload = b64::decode_url(jws["payload"].as_str().unwrap(), "payload").unwrap();
    let tbs: Value = serde_json::from_slice(&payload).unwrap();
    tbs.as_object().unwrap().values().next().unwrap().clone()
}

#[test]
fn tam_and_soft_tee_emit_the_drafts_layout() {
    use otrp_core::tam::{Command, Event, TamSession};
    use tam_support::soft::*;
    use tam_support::*;
    for kind in BOTH {
        let dir = fresh_dir(&format!("jwe-layout-{}", kind.dir()));
        let mut tee = open_tee(kind, &dir, "tee seed", TeeSetup::default());
        let tam = tam(kind);
        let mut session = TamSession::new(&tam);
        // The TEE's `edsi`.
        let request = session.get_device_state().unwrap();
        let response = tee.handle(&request, now()).unwrap();
        assert_drafts_layout(&tbs_of(&response)["edsi"], "edsi");
        session.handle_response(&response, now()).unwrap();
        // The TAM's `content`, and the TEE's answer under the same CEK.
        let request = session
            .command(
                soft::TEE_NAME,
                Command::CreateSd {
                    spid: "sp1".into(),
                    sdname: "sd1".into(),
                    spcert: cert(kind, "sp"),
                },
            )
            .unwrap();
        assert_drafts_layout(&tbs_of(&request)["content"], "CreateSD content");
        let response = tee.handle(&request, now()).unwrap();
        assert_drafts_layout(&tbs_of(&response)["content"], "CreateSD answer");
        let event = session.handle_response(&response, now()).unwrap();
        assert!(matches!(event, Event::Success { .. }), "{event:?}");
        // `encrypted_ta.key`, to the SP AIK.
        let request = session
            .command(
                soft::TEE_NAME,
                Command::InstallTa {
                    spid: "sp1".into(),
                    sdname: "sd1".into(),
                    taid: "ta1".into(),
                    spcert: None,
                    ta: ta_image(kind, "ta1", 1, b"code"),
                    pdata: None,
                },
            )
            .unwrap();
        let tbs = tbs_of(&request);
        assert_drafts_layout(&tbs["content"], "InstallTA content");
        assert_drafts_layout(&tbs["encrypted_ta"]["key"], "encrypted_ta.key");
        let event = exchange(&mut session, &mut tee, request);
        assert!(matches!(event, Event::Success { .. }), "{event:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
