//! Writes the seed corpora of the fuzz targets into `fuzz/seeds/<target>/`
//! from the published transcripts (`test-vectors/`) and from the fuzzing
//! scenarios (`otrp_benches::fuzz::scenarios`, deterministic), so that
//! `tee_agent_signed` seeds meet the TEE state they were made for.
//!
//! `cargo run -p otrp-benches --bin fuzz-seeds`

use std::path::{Path, PathBuf};

use otrp_benches::fixtures::{Kind, cert, repo_dir};
use otrp_benches::fuzz::{
    HttpConnection, TAM_ARRAY, TAM_PLAINTEXT, TAM_TWICE, broker_selector, http_answer, http_input,
    http_open, http_post, plaintext_payload, scenarios, signed_selector, tam_selector,
    unverified_payload,
};
use otrp_core::crypto::{ContentAlg, EncryptionKey, KeyAlg};
use otrp_core::jose::{Header, Jwe, Jws};
use otrp_core::message::{
    Base64Bytes, Envelope, InstallEncryptedTa, Limits, MessageKind, TaIv, TaKey, UpdateEncryptedTa,
    parse_request,
};
use otrp_core::pki::spki_of_certificate;
use serde_json::Value;

fn write(dir: &Path, name: &str, sel: Option<u8>, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut data = sel.map(|s| vec![s]).unwrap_or_default();
    data.extend_from_slice(bytes);
    std::fs::write(dir.join(name), data).expect("write seed");
}

fn payload_of(message: &[u8]) -> (Envelope, Vec<u8>) {
    let env = Envelope::parse(message, &Limits::DEFAULT).expect("envelope");
    let jws = Jws::parse_json(env.jws_bytes()).expect("JWS");
    let payload = jws.unverified_payload().expect("payload");
    (env, payload)
}

fn main() {
    let out: PathBuf = repo_dir().join("fuzz/seeds");
    let _ = std::fs::remove_dir_all(&out);
    let d = |t: &str| out.join(t);
    // Seeded: every run writes the same seeds (the encrypted ones too).
    let provider = otrp_benches::random::seeded(otrp_crypto_rustcrypto::provider(), "fuzz-seeds");

    for kind in Kind::BOTH {
        let vdir = repo_dir().join("test-vectors").join(kind.dir());
        let mut names: Vec<String> = std::fs::read_dir(&vdir)
            .expect("test-vectors")
            .map(|e| e.expect("entry").file_name().into_string().expect("name"))
            .filter(|n| n != "keys.json")
            .collect();
        names.sort();
        let k = kind.dir();
        // Key selectors of jwe_decrypt: RSA TEE 0, RSA TAM 1, EC TEE 2, EC TAM 3.
        let (tee_sel, tam_sel) = match kind {
            Kind::Rsa => (0u8, 1u8),
            Kind::Ec => (2, 3),
        };
        for name in &names {
            let file: Value =
                serde_json::from_slice(&std::fs::read(vdir.join(name)).expect("read"))
                    .expect("JSON");
            let stem = format!("{k}-{}", name.trim_end_matches(".json"));
            let message = file["message"].as_str().expect("message").as_bytes();
            let request = file["from"] == "TAM";
            write(
                &d("message_parse"),
                &format!("{stem}-env"),
                Some(0),
                message,
            );
            write(
                &d("message_parse"),
                &format!("{stem}-msg"),
                Some(if request { 1 } else { 2 }),
                message,
            );
            if request {
                write(&d("tee_agent_bytes"), &stem, Some(tee_sel / 2), message);
                let env = parse_request(message, &Limits::DEFAULT).expect("request");
                let jws = Jws::parse_json(env.jws_bytes()).expect("JWS");
                let payload = jws.unverified_payload().expect("payload");
                let tbs_sel = 4 + [
                    "GetDeviceState",
                    "CreateSd",
                    "UpdateSd",
                    "DeleteSd",
                    "InstallTa",
                    "UpdateTa",
                    "DeleteTa",
                ]
                .iter()
                .position(|c| file["command"] == *c)
                .expect("command") as u8;
                write(
                    &d("message_parse"),
                    &format!("{stem}-tbs"),
                    Some(tbs_sel),
                    &payload,
                );
                write(&d("jws_verify"), &stem, None, env.jws_bytes());
                if let Ok(compact) = jws.to_compact() {
                    write(
                        &d("jws_verify"),
                        &format!("{stem}-compact"),
                        None,
                        compact.as_bytes(),
                    );
                }
                let v: Value = serde_json::from_slice(&payload).expect("payload JSON");
                let tbs = v.as_object().and_then(|o| o.values().next()).expect("TBS");
                if let Some(content) = tbs.get("content") {
                    let c = serde_json::to_vec(content).expect("JSON");
                    write(&d("jwe_decrypt"), &stem, Some(tee_sel), &c);
                }
                if let Some(eta) = tbs.get("encrypted_ta") {
                    let e = serde_json::to_vec(eta).expect("JSON");
                    let install = file["command"] == "InstallTa";
                    write(
                        &d("encrypted_ta"),
                        &stem,
                        Some(if install { 0 } else { 1 }),
                        &e,
                    );
                    write(&d("message_parse"), &format!("{stem}-eta"), Some(15), &e);
                }
                if let Some(p) = file["content_plaintext"].as_str() {
                    let csel = match file["command"].as_str() {
                        Some("InstallTa" | "UpdateTa" | "DeleteTa") => 12,
                        _ => 11,
                    };
                    write(
                        &d("message_parse"),
                        &format!("{stem}-content"),
                        Some(csel),
                        p.as_bytes(),
                    );
                }
            } else {
                if let Some(p) = file["edsi_plaintext"].as_str() {
                    write(
                        &d("message_parse"),
                        &format!("{stem}-dsi"),
                        Some(14),
                        p.as_bytes(),
                    );
                }
                if let Some(p) = file["content_plaintext"].as_str() {
                    write(
                        &d("message_parse"),
                        &format!("{stem}-content"),
                        Some(13),
                        p.as_bytes(),
                    );
                }
                let payload = &file["payload"];
                let tbs = payload
                    .as_object()
                    .and_then(|o| o.values().next())
                    .cloned()
                    .unwrap_or(Value::Null);
                for member in ["content", "edsi"] {
                    if let Some(jwe) = tbs.get(member) {
                        let c = serde_json::to_vec(jwe).expect("JSON");
                        write(&d("jwe_decrypt"), &stem, Some(tam_sel), &c);
                    }
                }
            }
        }
    }

    // encrypted_ta whose key the fuzz target's fixed keys unwrap: a JWE to
    // the EC TEE key (ECDH-ES+A128KW) and an RSA1_5-wrapped key to the RSA
    // TEE key.
    let ta_key = [7u8; 32];
    let iv = [9u8; 16];
    let data = Base64Bytes(otrp_soft_tee::encrypt_ta_data(
        &ta_key,
        &iv,
        b"TA image bytes",
    ));
    let ec_tee = provider
        .key_loader
        .public_key_from_spki_der(&spki_of_certificate(&cert(Kind::Ec, "tee")).expect("SPKI"))
        .expect("EC key");
    let rsa_tee = provider
        .key_loader
        .public_key_from_spki_der(&spki_of_certificate(&cert(Kind::Rsa, "tee")).expect("SPKI"))
        .expect("RSA key");
    let jwe = Jwe::builder(ContentAlg::A128CbcHs256)
        .recipient(
            KeyAlg::EcdhEsA128Kw,
            EncryptionKey::Public(&ec_tee),
            Header::new(),
        )
        .encrypt(&ta_key, &provider)
        .expect("JWE");
    let install = InstallEncryptedTa::new(TaKey::Jwe(jwe), TaIv(iv), data.clone())
        .with_cipherpdata(data.clone());
    write(
        &d("encrypted_ta"),
        "install-jwe-ec-tee",
        Some(0),
        &serde_json::to_vec(&install).expect("JSON"),
    );
    let wrapped = provider
        .key_encrypter(KeyAlg::Rsa1_5)
        .expect("RSA1_5")
        .encrypt_cek(
            EncryptionKey::Public(&rsa_tee),
            ContentAlg::A256Gcm,
            Some(&otrp_core::crypto::Cek::from_slice(&ta_key)),
            &Default::default(),
            provider.secure_random,
        )
        .expect("wrap");
    let update = UpdateEncryptedTa::new(
        TaKey::Wrapped(Base64Bytes(wrapped.encrypted_key)),
        TaIv(iv),
        data,
    );
    write(
        &d("encrypted_ta"),
        "update-wrapped-rsa-tee",
        Some(1),
        &serde_json::to_vec(&update).expect("JSON"),
    );

    // jwe_decrypt: the earlier otrp layout (a single recipient's `alg` and
    // `epk` in the protected header), which parsing still accepts besides
    // the draft's that every message above has (docs/interop.md).
    for (name, sel, alg, key) in [
        ("earlier-layout-rsa-tee", 0, KeyAlg::Rsa1_5, &rsa_tee),
        ("earlier-layout-ec-tee", 2, KeyAlg::EcdhEsA128Kw, &ec_tee),
    ] {
        let jwe = Jwe::builder(ContentAlg::A128CbcHs256)
            .recipient(alg, EncryptionKey::Public(key), Header::new())
            .protected_recipient()
            .encrypt(b"{\"sdname\":\"sd1\"}", &provider)
            .expect("JWE");
        write(
            &d("jwe_decrypt"),
            name,
            Some(sel),
            jwe.to_general_json().as_bytes(),
        );
    }

    // tee_agent_signed: every request payload of the fuzzing scenarios,
    // with the selector of the state it was made for.
    for s in scenarios() {
        for (i, step) in s.steps.iter().enumerate() {
            let (_, payload) = payload_of(&step.request);
            let name = format!("{}-{i}-{:?}", s.kind.dir(), step.kind);
            write(
                &d("tee_agent_signed"),
                &name,
                Some(signed_selector(s.kind, i)),
                &payload,
            );
            let sel = if s.kind == Kind::Ec { 1 } else { 0 };
            write(&d("tee_agent_bytes"), &name, Some(sel), &step.request);
        }
    }
    // tam_response: every answer of the fuzzing scenarios, signed as it
    // was, with edsi/content as plaintext, and GetDeviceState in the
    // broker's array (once, and twice: refused).
    for s in scenarios() {
        for (i, step) in s.steps.iter().enumerate() {
            let name = format!("{}-{i}-{:?}", s.kind.dir(), step.kind);
            let payload = unverified_payload(&step.response).expect("payload");
            let dir = d("tam_response");
            write(&dir, &name, Some(tam_selector(s.kind, 0, i)), &payload);
            let plain = plaintext_payload(s.kind, step).expect("plaintext payload");
            write(
                &dir,
                &format!("{name}-plain"),
                Some(tam_selector(s.kind, TAM_PLAINTEXT, i)),
                &plain,
            );
            if step.kind == MessageKind::GetDeviceState {
                for (flags, suffix) in [(TAM_ARRAY, "array"), (TAM_ARRAY | TAM_TWICE, "twice")] {
                    write(
                        &dir,
                        &format!("{name}-{suffix}"),
                        Some(tam_selector(s.kind, TAM_PLAINTEXT | flags, i)),
                        &plain,
                    );
                }
            }
        }
    }
    // broker_route: every request of the scenarios, with one real TEE,
    // three (real, busy, echo), two that fail, and none; a response and a
    // broker error as messages.
    let configs = [
        ("one", broker_selector(1, [0, 0, 0])),
        ("three", broker_selector(3, [0, 1, 3])),
        ("failing", broker_selector(2, [1, 2, 0])),
        ("none", broker_selector(0, [0, 0, 0])),
    ];
    for s in scenarios() {
        for (i, step) in s.steps.iter().enumerate() {
            for (c, sel) in configs {
                let name = format!("{}-{i}-{:?}-{c}", s.kind.dir(), step.kind);
                write(&d("broker_route"), &name, Some(sel), &step.request);
            }
        }
        let step = &s.steps[0];
        let name = format!("{}-response", s.kind.dir());
        write(
            &d("broker_route"),
            &name,
            Some(configs[0].1),
            &step.response,
        );
        let error = otrp_core::message::BrokerError::new(
            otrp_core::message::MessageId::new("rid"),
            otrp_core::message::MessageId::new("tid"),
            otrp_core::message::ErrorCode::AgentTeeBusy,
        );
        let name = format!("{}-broker-error", s.kind.dir());
        write(
            &d("broker_route"),
            &name,
            Some(configs[1].1),
            &error.to_vec(),
        );
    }
    // http_server: a whole lifecycle over HTTP (the answers are the soft
    // TEE's, made by the target), pipelined and keep-alive requests, a
    // session flood from two clients, a stolen cookie, malformed requests.
    let conn = |second_client: bool, bytes: Vec<u8>| HttpConnection {
        second_client,
        bytes,
    };
    let lifecycle: Vec<HttpConnection> = std::iter::once(conn(false, http_open()))
        .chain((0..7).map(|_| conn(false, http_answer())))
        .collect();
    let seeds: Vec<(&str, Vec<HttpConnection>)> = vec![
        ("lifecycle", lifecycle.clone()),
        (
            "stolen-cookie",
            vec![
                conn(false, http_open()),
                conn(false, http_answer()),
                conn(
                    true,
                    [
                        http_post(
                            "Cookie: otrp-session={cookie}\r\n\
                             Content-Type: application/otrp+json\r\nContent-Length: {len}\r\n",
                        ),
                        b"{\"OTrPBrokerError\":{}}".to_vec(),
                    ]
                    .concat(),
                ),
                conn(false, http_answer()),
            ],
        ),
        (
            "flood",
            (0..6).map(|i| conn(i % 3 == 0, http_open())).collect(),
        ),
        (
            "pipelined",
            vec![conn(false, [http_open(), http_open(), http_answer()].concat())],
        ),
        (
            "malformed",
            vec![
                conn(false, b"POST /tam HTTP/1.1\r\nAccept: application/otrp+json\r\n\r\n".to_vec()),
                conn(false, b"GET /tam HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
                conn(false, b"POST /other HTTP/1.0\r\n\r\n".to_vec()),
                conn(false, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec()),
                conn(false, http_post("Bad header\r\n")),
                conn(false, [http_post(&"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(120)), b"x".to_vec()].concat()),
                conn(
                    false,
                    [
                        http_post("Transfer-Encoding: chunked\r\nContent-Type: application/otrp+json\r\nCookie: otrp-session={cookie}\r\n"),
                        b"5\r\nhello\r\n0\r\n\r\n".to_vec(),
                    ]
                    .concat(),
                ),
                conn(false, http_post("Content-Length: 99999999\r\nContent-Type: application/otrp+json\r\n")),
            ],
        ),
    ];
    for (name, connections) in seeds {
        write(&d("http_server"), name, None, &http_input(&connections));
    }
    // jose_parse: every JWS and JWE above.
    for t in ["jws_verify", "jwe_decrypt"] {
        for e in std::fs::read_dir(d(t)).expect("dir") {
            let e = e.expect("entry");
            let bytes = std::fs::read(e.path()).expect("read");
            let body = if t == "jwe_decrypt" {
                &bytes[1..]
            } else {
                &bytes[..]
            };
            write(
                &d("jose_parse"),
                &format!("{t}-{}", e.file_name().to_string_lossy()),
                None,
                body,
            );
        }
    }
    for t in std::fs::read_dir(&out).expect("out") {
        let t = t.expect("entry");
        let n = std::fs::read_dir(t.path()).expect("dir").count();
        println!("{}: {n} seeds", t.file_name().to_string_lossy());
    }
}
