//! Published test vectors (test-vectors/): a full-lifecycle transcript
//! (GetDeviceState, CreateSD, InstallTA, UpdateTA, DeleteTA, DeleteSD)
//! between the TAM session and the soft TEE, for RSA and for EC keys, with
//! fixed keys (test-pki/), seeded random sources and a fixed time.
//!
//! - `transcript_regenerates_byte_for_byte`: runs the exchange again and
//!   compares every file byte for byte. Set `OTRP_WRITE_VECTORS=1` to
//!   (re)write the files instead.
//! - `soft_tee_replays_the_recorded_responses`: feeds the recorded requests
//!   in order to a fresh soft TEE with the same keys and seed, and checks it
//!   answers with the recorded responses.

otrp_test_support::provider_under_test!(rustcrypto);

mod tam_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use otrp_core::crypto::{CryptoError, SecureRandom};
use otrp_core::jose::{Jwe, JwePolicy, Jws};
use otrp_core::message::{Limits, MessageKind, ResponseMessage, parse_request};
use otrp_core::tam::{Command, Event, Tam, TamSession};
use serde_json::{Value, json};
use tam_support::soft::*;
use tam_support::*;

const TAM_SEED: &str = "otrp test vectors: TAM";
const TEE_SEED: &str = "otrp test vectors: TEE";
const SP_SEED: &str = "otrp test vectors: SP";

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors")
}

/// A seeded random source that records every draw.
struct Recording {
    inner: SeededRandom,
    draws: Mutex<Vec<Vec<u8>>>,
}

impl SecureRandom for Recording {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        self.inner.fill(dest)?;
        self.draws.lock().unwrap().push(dest.to_vec());
        Ok(())
    }
}

impl Recording {
    fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.draws.lock().unwrap())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ta_code(kind: Kind, version: u8) -> Vec<u8> {
    format!(
        "soft-TEE TA 'ta1' for the {} transcript, version {version}",
        kind.dir()
    )
    .into_bytes()
}

fn ta_image_seeded(kind: Kind, version: u64, code: &[u8]) -> Vec<u8> {
    let provider = provider(SP_SEED);
    otrp_soft_tee::sign_ta_image(
        code,
        &otrp_soft_tee::TaImageInfo {
            taid: "ta1".into(),
            version,
            taname: Some("Test TA".into()),
        },
        &*key(kind, "sp"),
        kind.sig_alg(),
        &provider,
    )
    .unwrap()
}

fn lifecycle(kind: Kind) -> Vec<Command> {
    vec![
        Command::CreateSd {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            spcert: cert(kind, "sp"),
        },
        Command::InstallTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: ta_image_seeded(kind, 1, &ta_code(kind, 1)),
            pdata: Some(b"personalization data v1".to_vec()),
        },
        Command::UpdateTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: Some(ta_image_seeded(kind, 2, &ta_code(kind, 2))),
            pdata: None,
        },
        Command::DeleteTa {
            sdname: "sd1".into(),
            taid: "ta1".into(),
        },
        Command::DeleteSd {
            sdname: "sd1".into(),
            deleteta: false,
        },
    ]
}

fn pem(kind: Kind, name: &str) -> String {
    String::from_utf8(fixture(kind, &format!("{name}.key"))).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    otrp_core::jose::b64::encode_std(bytes)
}

fn keys_file(kind: Kind) -> Value {
    json!({
        "description": "Inputs of this transcript. Private keys are PKCS#8 PEM (test fixtures, never use them elsewhere); certificates are DER, standard base64.",
        "time_unix": 2_082_758_400u64,
        "random": "SHA-256(seed || 64-bit big-endian counter) blocks, truncated to each draw's length; one source per party",
        "tam_seed": TAM_SEED,
        "tee_seed": TEE_SEED,
        "sp_signer_seed": SP_SEED,
        "tam_key": pem(kind, "tam"),
        "tam_chain": [b64(&cert(kind, "tam")), b64(&cert(kind, "tam-root"))],
        "tam_ocsp": [b64(&fixture(kind, "ocsp/tam-good-by-ca.der"))],
        "tee_name": TEE_NAME,
        "tee_key": pem(kind, "tee"),
        "tee_chain": [b64(&cert(kind, "tee")), b64(&cert(kind, "tee-ca")), b64(&cert(kind, "tee-root"))],
        "tfw_key": pem(kind, "tfw"),
        "tfw_cert": b64(&cert(kind, "tfw")),
        "sp_key": pem(kind, "sp"),
        "sp_cert": b64(&cert(kind, "sp")),
        "tam_trusts_tee_root": b64(&cert(kind, "tee-root")),
        "tam_trusts_tfw_root": b64(&cert(kind, "tfw-root")),
        "tee_trusts_tam_root": b64(&cert(kind, "tam-root")),
        "ta_code_v1": String::from_utf8(ta_code(kind, 1)).unwrap(),
        "ta_code_v2": String::from_utf8(ta_code(kind, 2)).unwrap(),
    })
}

/// The decoded JWS payload of a signed message (for reading; not trusted).
fn payload_of(jws_json: &serde_json::value::RawValue) -> Value {
    let jws = Jws::parse_json(jws_json.get().as_bytes()).unwrap();
    serde_json::from_slice(&jws.unverified_payload().unwrap()).unwrap()
}

fn content_iv(jwe: &Value) -> String {
    let iv = jwe["iv"].as_str().unwrap();
    hex(&otrp_core::jose::b64::decode_url(iv, "iv").unwrap())
}

/// Runs the lifecycle and returns file name -> file bytes.
fn transcript(kind: Kind) -> BTreeMap<String, Vec<u8>> {
    let recording: &'static Recording = Box::leak(Box::new(Recording {
        inner: SeededRandom::new(TAM_SEED.as_bytes()),
        draws: Mutex::new(Vec::new()),
    }));
    let tam_provider = otrp_crypto_rustcrypto::provider_with_random(recording);
    let tam = Tam::new(
        tam_provider,
        key(kind, "tam"),
        vec![cert(kind, "tam"), cert(kind, "tam-root")],
        otrp_core::pki::TrustAnchors::from_certificates([cert(kind, "tee-root").as_slice()])
            .unwrap(),
    )
    .unwrap()
    .with_tfw_anchors(
        otrp_core::pki::TrustAnchors::from_certificates([cert(kind, "tfw-root").as_slice()])
            .unwrap(),
    )
    .with_ocspdat(vec![fixture(kind, "ocsp/tam-good-by-ca.der")]);
    let dir = fresh_dir(&format!("vectors-{}", kind.dir()));
    let mut tee = open_tee(kind, &dir, TEE_SEED, TeeSetup::default());
    let mut session = TamSession::new(&tam);

    let mut files = BTreeMap::new();
    files.insert(
        "keys.json".to_string(),
        (serde_json::to_string_pretty(&keys_file(kind)).unwrap() + "\n").into_bytes(),
    );
    let mut step = 0;
    let mut record = |name: &str, value: Value| {
        step += 1;
        files.insert(
            format!("{step:02}-{name}.json"),
            (serde_json::to_string_pretty(&value).unwrap() + "\n").into_bytes(),
        );
    };

    let mut commands = lifecycle(kind).into_iter();
    let mut next: Option<Command> = None; // None: GetDeviceState first
    loop {
        let kind_of = next
            .as_ref()
            .map_or(MessageKind::GetDeviceState, |c| c.kind());
        let request = match next.take() {
            None => session.get_device_state().unwrap(),
            Some(c) => session.command(TEE_NAME, c).unwrap(),
        };
        let draws = recording.take();
        let cek = session
            .state()
            .outstanding()
            .unwrap()
            .cek
            .as_ref()
            .map(|c| c.as_bytes().to_vec());

        // The request file.
        let env = parse_request(&request, &Limits::DEFAULT).unwrap();
        let payload = payload_of(env.jws);
        let tbs = &payload[kind_of.tbs_name(otrp_core::message::Direction::Request)];
        let mut req = json!({
            "from": "TAM",
            "command": format!("{kind_of:?}"),
            "message": String::from_utf8(request.clone()).unwrap(),
            "payload": payload,
            "tam_random_draws": draws.iter().map(|d| hex(d)).collect::<Vec<_>>(),
        });
        if let Some(cek) = &cek {
            let jwe: Jwe = serde_json::from_value(tbs["content"].clone()).unwrap();
            let plain = jwe
                .decrypt_with_cek(
                    tam.provider(),
                    &otrp_core::crypto::Cek::from_slice(cek),
                    otrp_core::crypto::ContentAlg::A128CbcHs256,
                )
                .unwrap();
            req["cek"] = json!(hex(cek));
            req["content_iv"] = json!(content_iv(&tbs["content"]));
            req["content_plaintext"] = json!(String::from_utf8(plain).unwrap());
        }
        if let Some(enc) = tbs.get("encrypted_ta") {
            let iv = enc["iv"].as_str().unwrap().to_lowercase();
            // Draw order of SealedTa::seal: the 32-byte TA key, then the IV.
            let at = draws.iter().position(|d| hex(d) == iv).unwrap();
            req["ta_key"] = json!(hex(&draws[at - 1]));
            req["ta_iv"] = json!(iv);
        }
        record(env.name(), req);

        // The TEE's answer.
        let response = tee.handle(&request, now()).unwrap();
        let mut resp = json!({
            "from": "TEE",
            "command": format!("{kind_of:?}"),
            "message": String::from_utf8(response.clone()).unwrap(),
        });
        let name = match ResponseMessage::parse(&response, &Limits::DEFAULT).unwrap() {
            ResponseMessage::DeviceState(array) => {
                let payload = payload_of(&array.tees[0].jws);
                let edsi: Jwe =
                    serde_json::from_value(payload["GetDeviceTEEStateTBSResponse"]["edsi"].clone())
                        .unwrap();
                let tam_key = key(kind, "tam");
                let d = edsi
                    .decrypt_detailed(tam.provider(), &*tam_key, &JwePolicy::ANY)
                    .unwrap();
                resp["edsi_cek"] = json!(hex(d.cek.as_bytes()));
                resp["edsi_iv"] =
                    json!(content_iv(&payload["GetDeviceTEEStateTBSResponse"]["edsi"]));
                resp["edsi_plaintext"] = json!(String::from_utf8(d.plaintext).unwrap());
                resp["payload"] = payload;
                "GetDeviceStateResponse".to_string()
            }
            ResponseMessage::Signed(env) => {
                let payload = payload_of(&env.jws);
                let tbs = &payload[env.kind.tbs_name(otrp_core::message::Direction::Response)];
                if let (Some(content), Some(cek)) = (tbs.get("content"), &cek) {
                    let jwe: Jwe = serde_json::from_value(content.clone()).unwrap();
                    let plain = jwe
                        .decrypt_with_cek(
                            tam.provider(),
                            &otrp_core::crypto::Cek::from_slice(cek),
                            otrp_core::crypto::ContentAlg::A128CbcHs256,
                        )
                        .unwrap();
                    resp["cek"] = json!(hex(cek));
                    resp["content_iv"] = json!(content_iv(content));
                    resp["content_plaintext"] = json!(String::from_utf8(plain).unwrap());
                }
                resp["payload"] = payload;
                env.name().to_string()
            }
            ResponseMessage::BrokerError(e) => panic!("{e:?}"),
        };
        record(&name, resp);
        match session.handle_response(&response, now()).unwrap() {
            Event::DeviceState(_) | Event::Success { .. } => {}
            other => panic!("{other:?}"),
        }
        match commands.next() {
            Some(c) => next = Some(c),
            None => break,
        }
    }
    assert!(
        session
            .state()
            .dsi(TEE_NAME)
            .unwrap()
            .tee
            .sdlist
            .sd
            .is_empty()
    );
    let _ = std::fs::remove_dir_all(&dir);
    files
}

#[test]
fn transcript_regenerates_byte_for_byte() {
    let write = std::env::var_os("OTRP_WRITE_VECTORS").is_some();
    for kind in BOTH {
        let files = transcript(kind);
        assert_eq!(files.len(), 13, "keys.json and 12 messages");
        // Twice in one process: nothing depends on state outside the seeds.
        assert_eq!(files, transcript(kind));
        let dir = vectors_dir().join(kind.dir());
        if write {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in &files {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
            continue;
        }
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (run with OTRP_WRITE_VECTORS=1)", dir.display()))
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, files.keys().cloned().collect::<Vec<_>>());
        for (name, bytes) in &files {
            let recorded = std::fs::read(dir.join(name)).unwrap();
            assert!(
                &recorded == bytes,
                "{}/{name} differs from the regenerated transcript",
                kind.dir()
            );
        }
    }
}

#[test]
fn soft_tee_replays_the_recorded_responses() {
    for kind in BOTH {
        let dir = vectors_dir().join(kind.dir());
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != "keys.json")
            .collect();
        names.sort();
        assert_eq!(names.len(), 12);
        let state = fresh_dir(&format!("replay-{}", kind.dir()));
        let mut tee = open_tee(kind, &state, TEE_SEED, TeeSetup::default());
        for pair in names.chunks(2) {
            let read = |n: &String| -> Value {
                serde_json::from_slice(&std::fs::read(dir.join(n)).unwrap()).unwrap()
            };
            let (request, response) = (read(&pair[0]), read(&pair[1]));
            assert_eq!(request["from"], "TAM", "{}", pair[0]);
            assert_eq!(response["from"], "TEE", "{}", pair[1]);
            let answer = tee
                .handle(request["message"].as_str().unwrap().as_bytes(), now())
                .unwrap();
            assert_eq!(
                String::from_utf8(answer).unwrap(),
                response["message"].as_str().unwrap(),
                "{}: the soft TEE answered differently",
                pair[1]
            );
        }
        let _ = std::fs::remove_dir_all(&state);
    }
}
