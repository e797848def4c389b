//! Shared helpers of the tam_* tests: fixtures from test-pki/, a seeded
//! random source, a TAM, and a hand-built TEE that answers requests the way
//! sections 9.1.5 to 9.3.3.3 describe (decrypt the content, answer under
//! the same CEK, sign with the TEE key). It is deliberately independent of
//! the TEE agent, so the TAM is tested against the spec's text.
//!
//! Every test target that declares this module names its provider at its
//! root, e.g. `otrp_test_support::provider_under_test!(rustcrypto);`
//! (`docs/testing.md`).
#![allow(dead_code)]
// A test crate exports nothing: `pub` here means "for the test files".
#![allow(unreachable_pub)]

use der::{Decode, Encode};
use otrp_core::crypto::{Cek, ContentAlg, EncryptionKey, JwsAlg, PrivateKey, Provider, PublicKey};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
use otrp_core::message::*;
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::{Tam, TamSession};
use sha2::Digest as _;

pub use otrp_test_support::SeededRandom;
#[allow(unused_imports)] // pki_dir: only some targets
pub use otrp_test_support::fixtures::{Kind, cert, fixture, now, pki_dir};

/// Both fixture hierarchies.
pub const BOTH: [Kind; 2] = Kind::BOTH;

/// The tamid of test-pki's `tam` certificate (both hierarchies).
pub const TAMID: &str = "https://tam.example.com/tam1";

pub fn key(kind: Kind, name: &str) -> Box<dyn PrivateKey> {
    // `<name>.key` is PKCS#8 PEM (the `.pk8.der` files are PKCS#1/SEC1).
    let pem = String::from_utf8(fixture(kind, &format!("{name}.key"))).unwrap();
    otrp_crypto_rustcrypto::private_key_from_pem(&pem).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// DER SubjectPublicKeyInfo of a certificate.
pub fn spki(cert_der: &[u8]) -> Vec<u8> {
    x509_cert::Certificate::from_der(cert_der)
        .unwrap()
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap()
}

pub fn public_of(cert_der: &[u8]) -> PublicKey {
    use otrp_core::crypto::KeyLoader;
    otrp_crypto_rustcrypto::KEY_LOADER
        .public_key_from_spki_der(&spki(cert_der))
        .unwrap()
}

/// The provider under test (the one the test target names with
/// `otrp_test_support::provider_under_test!` at its root) over a seeded
/// random source (leaked: tests only).
pub fn provider(seed: &str) -> Provider {
    let random: &'static SeededRandom = Box::leak(Box::new(SeededRandom::new(seed.as_bytes())));
    crate::provider_under_test_with_random(random)
}

/// A TAM of `kind` with certificate `tam_name` (`tam`, `tam-rid`, ...),
/// trusting the TEE and TFW roots of `tee_kind`.
pub fn tam_named(kind: Kind, tam_name: &str, tee_kind: Kind, seed: &str) -> Tam {
    let anchors = TrustAnchors::from_certificates([cert(tee_kind, "tee-root").as_slice()]).unwrap();
    let tfw = TrustAnchors::from_certificates([cert(tee_kind, "tfw-root").as_slice()]).unwrap();
    Tam::new(
        provider(seed),
        key(kind, tam_name),
        vec![cert(kind, tam_name), cert(kind, "tam-root")],
        anchors,
    )
    .unwrap()
    .with_tfw_anchors(tfw)
    .with_ocspdat(vec![fixture(kind, "ocsp/tam-good-by-ca.der")])
}

pub fn tam(kind: Kind) -> Tam {
    tam_named(kind, "tam", kind, "tam seed")
}

/// Splits an envelope into (kind, JWS).
pub fn open_request(bytes: &[u8]) -> (MessageKind, Jws) {
    let env = parse_request(bytes, &Limits::DEFAULT).unwrap();
    (env.kind, Jws::parse_json(env.jws_bytes()).unwrap())
}

/// A hand-built TEE: the TEE certificate chain and key of `kind`, the
/// TFW key, and an SP AIK (the SP certificate's key pair).
pub struct FakeTee {
    pub kind: Kind,
    pub name: String,
    pub key: Box<dyn PrivateKey>,
    pub cert: Vec<u8>,
    pub cacert: Vec<Vec<u8>>,
    pub tfw_key: Box<dyn PrivateKey>,
    pub tfw_cert: Vec<u8>,
    pub spaik_key: Box<dyn PrivateKey>,
    pub spaik: Vec<u8>,
    pub provider: Provider,
    /// The TAM public key the TEE answers to (from the request's x5c).
    pub tam_key: Option<PublicKey>,
    pub sds: Vec<SdInfo>,
    pub with_tfw: bool,
    pub signerreq: bool,
}

impl FakeTee {
    pub fn new(kind: Kind) -> Self {
        let sp = cert(kind, "sp");
        Self {
            kind,
            name: "tee-1".into(),
            key: key(kind, "tee"),
            cert: cert(kind, "tee"),
            cacert: vec![cert(kind, "tee-ca")],
            tfw_key: key(kind, "tfw"),
            tfw_cert: cert(kind, "tfw"),
            spaik_key: key(kind, "sp"),
            spaik: spki(&sp),
            provider: provider("fake tee"),
            tam_key: None,
            sds: Vec::new(),
            with_tfw: true,
            signerreq: true,
        }
    }

    pub fn did(&self) -> DeviceId {
        DeviceId(sha2::Sha256::digest(&self.cert).into())
    }

    pub fn dsi(&self, tid: &str) -> Dsi {
        let tfwdata = self.with_tfw.then(|| self.tfw(tid.as_bytes()));
        Dsi {
            tfwdata,
            tee: TeeInfo {
                name: self.name.clone(),
                ver: "1.0".into(),
                cert: Base64Bytes(self.cert.clone()),
                cacert: self.cacert.iter().cloned().map(Base64Bytes).collect(),
                sdlist: SdList {
                    sd: self.sds.clone(),
                },
                teeaiklist: self
                    .sds
                    .iter()
                    .map(|sd| TeeAik {
                        spaik: Base64Bytes(self.spaik.clone()),
                        spaiktype: match self.kind {
                            Kind::Rsa => AikType::Rsa,
                            Kind::Ec => AikType::Ecc,
                        },
                        spid: sd.spid.clone(),
                    })
                    .collect(),
            },
        }
    }

    pub fn tfw(&self, tbs: &[u8]) -> TfwData {
        let alg = self.kind.sig_alg();
        TfwData {
            tbs: Base64Bytes(tbs.to_vec()),
            cert: Base64Bytes(self.tfw_cert.clone()),
            sigalg: alg.name().into(),
            sig: Base64Bytes(
                self.tfw_key
                    .sign(alg, tbs, self.provider.secure_random)
                    .unwrap(),
            ),
        }
    }

    /// Signs a TBS response and wraps it in its envelope.
    pub fn sign<T: TbsMessage>(&self, tbs: &T) -> Vec<u8> {
        sign_with(&*self.key, self.kind.sig_alg(), tbs, &self.provider)
    }

    fn learn_tam(&mut self, jws: &Jws) {
        if let Some(x5c) = jws.signatures()[0].x5c().unwrap() {
            self.tam_key = Some(public_of(&x5c[0]));
        }
    }

    pub fn tam_key(&self) -> &PublicKey {
        self.tam_key.as_ref().expect("no TAM key learnt")
    }

    /// Reads a GetDeviceState request: (rid, tid).
    pub fn read_gds(&mut self, request: &[u8]) -> GetDeviceStateTbsRequest {
        let (kind, jws) = open_request(request);
        assert_eq!(kind, MessageKind::GetDeviceState);
        self.learn_tam(&jws);
        GetDeviceStateTbsRequest::from_payload(&jws.unverified_payload().unwrap(), &Limits::DEFAULT)
            .unwrap()
    }

    /// The edsi JWE of a DSI document. This TEE answers in the earlier
    /// otrp layout (every parameter in the protected header), which a TAM
    /// keeps accepting besides the draft's (docs/interop.md).
    pub fn edsi(&self, doc: &DsiDocument) -> Jwe {
        Jwe::builder(ContentAlg::A128CbcHs256)
            .recipient(
                self.kind.key_alg(),
                EncryptionKey::Public(self.tam_key()),
                Header::new(),
            )
            .protected_recipient()
            .encrypt(doc.as_bytes(), &self.provider)
            .unwrap()
    }

    /// A GetDeviceTEEStateResponse envelope for the TBS.
    pub fn gds_envelope(&self, tbs: &GetDeviceTeeStateTbsResponse) -> serde_json::Value {
        serde_json::from_slice(&self.sign(tbs)).unwrap()
    }

    /// The broker's array around per-TEE envelopes.
    pub fn gds_array(entries: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "GetDeviceStateResponse": entries })).unwrap()
    }

    /// A full, valid GetDeviceStateResponse to `request`.
    pub fn answer_gds(&mut self, request: &[u8]) -> Vec<u8> {
        let req = self.read_gds(request);
        self.answer_gds_for(req)
    }

    /// A valid answer to a request already read.
    pub fn answer_gds_for(&self, req: GetDeviceStateTbsRequest) -> Vec<u8> {
        let dsi = self.dsi(req.tid.as_str());
        self.answer_dsi(req, dsi)
    }

    /// An answer carrying `dsi`.
    pub fn answer_dsi(&self, req: GetDeviceStateTbsRequest, dsi: Dsi) -> Vec<u8> {
        let doc = DsiDocument::new(dsi);
        let tbs =
            GetDeviceTeeStateTbsResponse::pass(req.rid, req.tid, self.signerreq, self.edsi(&doc));
        Self::gds_array(vec![self.gds_envelope(&tbs)])
    }

    /// Reads a command request: its kind, TBS JSON (payload inner object),
    /// the decrypted content JSON and the CEK.
    pub fn read_command(&mut self, request: &[u8]) -> Command {
        let (kind, jws) = open_request(request);
        self.learn_tam(&jws);
        let payload = jws.unverified_payload().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let tbs = value
            .get(kind.tbs_name(Direction::Request))
            .unwrap()
            .clone();
        let content: Jwe = serde_json::from_value(tbs["content"].clone()).unwrap();
        let decrypted = content
            .decrypt_detailed(&self.provider, &*self.key, &JwePolicy::ANY)
            .unwrap();
        Command {
            kind,
            rid: MessageId::new(tbs["rid"].as_str().unwrap()),
            tid: MessageId::new(tbs["tid"].as_str().unwrap()),
            tbs,
            content: serde_json::from_slice(&decrypted.plaintext).unwrap(),
            cek: decrypted.cek,
            enc: decrypted.enc,
            jws,
        }
    }

    /// The encrypted response content under the request's CEK (in the
    /// earlier otrp layout, like [`FakeTee::edsi`]).
    pub fn content(&self, cmd: &Command, plaintext: &[u8]) -> Jwe {
        Jwe::builder(cmd.enc)
            .cek(cmd.cek.clone())
            .recipient(
                self.kind.key_alg(),
                EncryptionKey::Public(self.tam_key()),
                Header::new(),
            )
            .protected_recipient()
            .encrypt(plaintext, &self.provider)
            .unwrap()
    }

    /// A signed response of `cmd.kind` with this outcome.
    pub fn respond(&self, cmd: &Command, outcome: CommandOutcome) -> Vec<u8> {
        let (rid, tid) = (cmd.rid.clone(), cmd.tid.clone());
        match cmd.kind {
            MessageKind::CreateSd => self.sign(&CreateSdTbsResponse::new(rid, tid, outcome)),
            MessageKind::UpdateSd => self.sign(&UpdateSdTbsResponse::new(rid, tid, outcome)),
            MessageKind::DeleteSd => self.sign(&DeleteSdTbsResponse::new(rid, tid, outcome)),
            MessageKind::InstallTa => self.sign(&InstallTaTbsResponse::new(rid, tid, outcome)),
            MessageKind::UpdateTa => self.sign(&UpdateTaTbsResponse::new(rid, tid, outcome)),
            MessageKind::DeleteTa => self.sign(&DeleteTaTbsResponse::new(rid, tid, outcome)),
            MessageKind::GetDeviceState => unreachable!(),
        }
    }

    /// The plaintext of a "pass" answer: did, the SD name for CreateSD,
    /// and the current DSI when `with_dsi`.
    pub fn pass_plaintext(&self, cmd: &Command, with_dsi: bool) -> Vec<u8> {
        let dsi = with_dsi.then(|| RawDsi::new(self.dsi(cmd.tid.as_str())));
        match cmd.kind {
            MessageKind::CreateSd => CreateSdResponseContent {
                reason: None,
                did: self.did(),
                sdname: cmd.content["sdname"].as_str().unwrap().into(),
                teespaik: Some(Base64Bytes(self.spaik.clone())),
                dsi,
            }
            .to_plaintext(),
            MessageKind::UpdateSd => UpdateSdResponseContent {
                reason: None,
                did: self.did(),
                cert: None,
                teespaik: None,
                teespaiktype: None,
                dsi,
            }
            .to_plaintext(),
            _ => ResponseContent {
                reason: None,
                did: self.did(),
                dsi,
            }
            .to_plaintext(),
        }
    }

    /// Applies a command to the fake device state (just enough for the DSI).
    pub fn apply(&mut self, cmd: &Command) {
        let c = &cmd.content;
        let s = |k: &str| c[k].as_str().unwrap().to_string();
        match cmd.kind {
            MessageKind::CreateSd => self.sds.push(SdInfo {
                name: s("sdname"),
                spid: s("spid"),
                talist: vec![],
            }),
            MessageKind::DeleteSd => self.sds.retain(|sd| sd.name != s("sdname")),
            MessageKind::InstallTa => {
                let name = s("sdname");
                let sd = self.sds.iter_mut().find(|sd| sd.name == name).unwrap();
                sd.talist.push(TaInfo::new(s("taid")));
            }
            MessageKind::DeleteTa => {
                let (name, taid) = (s("sdname"), s("taid"));
                let sd = self.sds.iter_mut().find(|sd| sd.name == name).unwrap();
                sd.talist.retain(|t| t.taid != taid);
            }
            _ => {}
        }
    }

    /// Carries out `request` and answers "pass" with the new DSI.
    pub fn answer(&mut self, request: &[u8]) -> Vec<u8> {
        let cmd = self.read_command(request);
        self.apply(&cmd);
        let plain = self.pass_plaintext(&cmd, true);
        let jwe = self.content(&cmd, &plain);
        self.respond(&cmd, CommandOutcome::Pass(jwe))
    }
}

/// A decrypted command request, as the fake TEE saw it.
#[derive(Clone)]
pub struct Command {
    pub kind: MessageKind,
    pub rid: MessageId,
    pub tid: MessageId,
    pub tbs: serde_json::Value,
    pub content: serde_json::Value,
    pub cek: Cek,
    pub enc: ContentAlg,
    pub jws: Jws,
}

pub fn sign_with<T: TbsMessage>(
    key: &dyn PrivateKey,
    alg: JwsAlg,
    tbs: &T,
    provider: &Provider,
) -> Vec<u8> {
    let jws = Jws::sign(&tbs.to_payload(), key, alg, Header::new(), None, provider).unwrap();
    let value: serde_json::Value = serde_json::from_str(&jws.to_flattened_json().unwrap()).unwrap();
    Envelope::new(T::KIND, Direction::Response, value).to_vec()
}

/// A session whose GetDeviceState has been answered by `tee`.
pub fn ready_session<'t>(tam: &'t Tam, tee: &mut FakeTee) -> TamSession<'t> {
    let mut session = TamSession::new(tam);
    let request = session.get_device_state().unwrap();
    let response = tee.answer_gds(&request);
    session.handle_response(&response, now()).unwrap();
    session
}
pub mod soft;
