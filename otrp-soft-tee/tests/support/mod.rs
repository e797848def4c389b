//! Test support: a TAM built from test-pki fixtures that signs real requests
//! (message types + `Jws::sign` + `Jwe::builder`), a soft TEE in a temporary
//! directory, and response decoding (signature checked with the TEE key,
//! content decrypted with the TAM key).
//!
//! Every test target that declares this module names its provider at its
//! root, e.g. `otrp_test_support::provider_under_test!(rustcrypto);`
//! (`docs/testing.md`).
#![allow(dead_code)]
// A test crate exports nothing: `pub` here means "for the test files".
#![allow(unreachable_pub)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use otrp_core::crypto::{
    ContentAlg, EncryptionKey, JwsAlg, KeyAlg, PrivateKey, Provider, PublicKey,
};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
use otrp_core::message::{
    Base64Bytes, CreateSdRequestContent, CreateSdTbsRequest, DeleteSdRequestContent,
    DeleteSdTbsRequest, DeleteTaRequestContent, DeleteTaTbsRequest, DeviceId, Direction,
    DsiDocument, DsiHash, Envelope, ErrorCode, GetDeviceStateTbsRequest, InstallEncryptedTa,
    InstallTaRequestContent, InstallTaTbsRequest, Limits, MessageId, MessageKind, SdChanges, TaIv,
    TaKey, TbsMessage, UpdateEncryptedTa, UpdateSdRequestContent, UpdateSdTbsRequest,
    UpdateTaTbsRequest,
};
use otrp_core::pki::TrustAnchors;
use otrp_core::tee::{Tee, TeeConfig};
use otrp_soft_tee::{SoftIdentity, SoftTeeOptions};
use serde_json::Value;

pub const TEE_NAME: &str = "soft-tee";

pub use otrp_test_support::TempDir;
pub use otrp_test_support::fixtures::{Kind, fixture, now};

/// The tamid of test-pki's `tam` certificate (both hierarchies).
pub const TAMID: &str = "https://tam.example.com/tam1";

/// The provider under test: the one named with
/// `otrp_test_support::provider_under_test!` at the root of the running
/// test target.
pub fn provider() -> Provider {
    crate::provider_under_test()
}

/// The PKCS#8 DER of `name.key` (test-pki's `.pk8.der` files hold the
/// traditional PKCS#1 / SEC1 encodings, so the PEM is decoded instead).
pub fn pkcs8(kind: Kind, name: &str) -> Vec<u8> {
    otrp_test_support::fixtures::pkcs8_der(kind, name)
}

/// The private key `name` of `kind`, loaded by the provider under test.
pub fn private_key(kind: Kind, name: &str) -> Box<dyn PrivateKey> {
    otrp_test_support::fixtures::private_key(&provider(), kind, name)
}

/// The public key of a DER certificate, loaded by the provider under test.
pub fn public_key_of_cert(cert: &[u8]) -> PublicKey {
    otrp_test_support::fixtures::public_key_of_cert(&provider(), cert)
}

/// Copies every file of `from` into a fresh temporary directory.
pub fn copy_dir(from: &Path, tag: &str) -> TempDir {
    TempDir::copy_of(from, tag)
}

pub fn config(kind: Kind) -> TeeConfig {
    let anchors =
        TrustAnchors::from_certificates([fixture(kind, "tam-root.der").as_slice()]).unwrap();
    TeeConfig::new(TEE_NAME, anchors)
}

pub fn identity(kind: Kind) -> SoftIdentity {
    SoftIdentity::from_der(
        &provider(),
        fixture(kind, "tee.der"),
        vec![fixture(kind, "tee-ca.der"), fixture(kind, "tee-root.der")],
        &pkcs8(kind, "tee"),
    )
    .unwrap()
}

pub fn open_tee(kind: Kind, dir: &Path) -> Tee {
    open_tee_with(kind, dir, config(kind), SoftTeeOptions::default())
}

pub fn open_tee_with(kind: Kind, dir: &Path, config: TeeConfig, options: SoftTeeOptions) -> Tee {
    otrp_soft_tee::open(dir, config, provider(), identity(kind), options).unwrap()
}

/// What a TAM needs to talk to the soft TEE.
pub struct Tam {
    pub kind: Kind,
    pub key: Box<dyn PrivateKey>,
    pub x5c: Vec<Vec<u8>>,
    pub alg: JwsAlg,
    pub ocsp: Vec<Vec<u8>>,
    pub tamid: String,
    /// The TEE's public key and did (from test-pki, as a TAM learns them
    /// from the DSI).
    pub tee_key: PublicKey,
    pub did: DeviceId,
    /// The dsihash of the last DSI received.
    pub dsihash: DsiHash,
    /// The DSI last received.
    pub dsi: Option<otrp_core::message::Dsi>,
    counter: usize,
    /// Send x5c with SD/TA requests.
    pub send_x5c: bool,
}

impl Tam {
    pub fn new(kind: Kind) -> Self {
        Self::named(kind, "tam", "tam-good-by-ca.der")
    }

    /// The TAM `name` of test-pki with its OCSP response file.
    pub fn named(kind: Kind, name: &str, ocsp: &str) -> Self {
        let tee_cert = fixture(kind, "tee.der");
        let digest = otrp_core::message::sha256(&provider(), &tee_cert).unwrap();
        let x5c = vec![fixture(kind, &format!("{name}.der"))];
        let tamid = otrp_core::pki::tamid_from_certificate(&x5c[0])
            .map(|t| t.as_str().to_string())
            .unwrap_or_default();
        Tam {
            kind,
            key: private_key(kind, name),
            x5c,
            alg: kind.alg(),
            ocsp: vec![fixture(kind, &format!("ocsp/{ocsp}"))],
            tamid,
            tee_key: public_key_of_cert(&tee_cert),
            did: DeviceId(digest),
            dsihash: DsiHash([0; 32]),
            dsi: None,
            counter: 0,
            send_x5c: true,
        }
    }

    pub fn next_id(&mut self) -> MessageId {
        static IDS: AtomicUsize = AtomicUsize::new(0);
        self.counter += 1;
        MessageId::new(format!(
            "rid-{}-{}",
            self.kind.dir(),
            IDS.fetch_add(1, Ordering::SeqCst)
        ))
    }

    /// Signs a TBS payload into a request envelope.
    pub fn sign_payload(&self, kind: MessageKind, payload: &[u8], x5c: bool) -> Vec<u8> {
        let unprotected = if x5c {
            let chain: Vec<String> = self
                .x5c
                .iter()
                .map(|c| otrp_core::jose::b64::encode_std(c))
                .collect();
            Some(Header::new().with("x5c", chain))
        } else {
            None
        };
        let jws = Jws::sign(
            payload,
            self.key.as_ref(),
            self.alg,
            Header::new(),
            unprotected,
            &provider(),
        )
        .unwrap();
        let value: Value = serde_json::from_str(&jws.to_flattened_json().unwrap()).unwrap();
        Envelope::new(kind, Direction::Request, value).to_vec()
    }

    pub fn sign<T: TbsMessage>(&self, tbs: &T) -> Vec<u8> {
        self.sign_payload(T::KIND, &tbs.to_payload(), self.send_x5c)
    }

    pub fn gds_tbs(&mut self) -> GetDeviceStateTbsRequest {
        let id = self.next_id();
        GetDeviceStateTbsRequest::new(
            id.clone(),
            MessageId::new("tid-1"),
            self.ocsp.iter().cloned().map(Base64Bytes).collect(),
        )
    }

    pub fn gds(&mut self) -> Vec<u8> {
        let tbs = self.gds_tbs();
        self.sign_payload(MessageKind::GetDeviceState, &tbs.to_payload(), true)
    }

    /// Encrypts a content plaintext to the TEE key, in the earlier otrp
    /// layout (every parameter in the protected header): the TEE keeps
    /// accepting it besides the draft's, which `TamSession` sends
    /// (docs/interop.md).
    pub fn encrypt_to_tee(&self, plaintext: &[u8]) -> Jwe {
        let alg = match self.tee_key {
            PublicKey::Rsa(_) => KeyAlg::RsaOaep256,
            PublicKey::Ec(_) => KeyAlg::EcdhEsA128Kw,
        };
        Jwe::builder(ContentAlg::A128CbcHs256)
            .recipient(alg, EncryptionKey::Public(&self.tee_key), Header::new())
            .protected_recipient()
            .encrypt(plaintext, &provider())
            .unwrap()
    }

    pub fn create_sd_content(&self, spid: &str, sdname: &str) -> CreateSdRequestContent {
        CreateSdRequestContent {
            spid: spid.into(),
            sdname: sdname.into(),
            spcert: Base64Bytes(fixture(self.kind, "sp.der")),
            tamid: self.tamid.clone(),
            did: self.did,
        }
    }

    pub fn create_sd_with(&mut self, content: &CreateSdRequestContent, nextdsi: bool) -> Vec<u8> {
        use otrp_core::message::ContentPlaintext;
        let id = self.next_id();
        let jwe = self.encrypt_to_tee(&content.to_plaintext());
        let tbs = CreateSdTbsRequest::new(id, MessageId::new("tid-1"), TEE_NAME, self.dsihash, jwe)
            .with_nextdsi(nextdsi);
        self.sign(&tbs)
    }

    pub fn create_sd(&mut self, spid: &str, sdname: &str) -> Vec<u8> {
        let c = self.create_sd_content(spid, sdname);
        self.create_sd_with(&c, true)
    }

    pub fn update_sd(&mut self, spid: &str, sdname: &str, changes: SdChanges) -> Vec<u8> {
        use otrp_core::message::ContentPlaintext;
        let c = UpdateSdRequestContent {
            tamid: self.tamid.clone(),
            spid: spid.into(),
            sdname: sdname.into(),
            changes,
        };
        let id = self.next_id();
        let jwe = self.encrypt_to_tee(&c.to_plaintext());
        let tbs = UpdateSdTbsRequest::new(id, MessageId::new("tid-1"), TEE_NAME, self.dsihash, jwe)
            .with_nextdsi(true);
        self.sign(&tbs)
    }

    pub fn delete_sd(&mut self, sdname: &str, deleteta: Option<bool>) -> Vec<u8> {
        use otrp_core::message::ContentPlaintext;
        let c = DeleteSdRequestContent {
            tamid: self.tamid.clone(),
            sdname: sdname.into(),
            deleteta,
        };
        let id = self.next_id();
        let jwe = self.encrypt_to_tee(&c.to_plaintext());
        let tbs = DeleteSdTbsRequest::new(id, MessageId::new("tid-1"), TEE_NAME, self.dsihash, jwe)
            .with_nextdsi(true);
        self.sign(&tbs)
    }

    /// The SP AIK public key of `spid` from the last DSI.
    pub fn spaik(&self, spid: &str) -> PublicKey {
        let dsi = self.dsi.as_ref().expect("a DSI");
        let aik = dsi
            .tee
            .teeaiklist
            .iter()
            .find(|k| k.spid == spid)
            .expect("an SP AIK for the SP");
        provider()
            .key_loader
            .public_key_from_spki_der(aik.spaik.as_bytes())
            .unwrap()
    }

    /// `encrypted_ta.key`: the TA key in a JWE to the SP AIK (earlier otrp
    /// layout, like [`Tam::encrypt_to_tee`]).
    pub fn wrap_ta_key(&self, spid: &str, key: &[u8; 32]) -> TaKey {
        let aik = self.spaik(spid);
        let jwe = Jwe::builder(ContentAlg::A128CbcHs256)
            .recipient(
                KeyAlg::EcdhEsA128Kw,
                EncryptionKey::Public(&aik),
                Header::new(),
            )
            .protected_recipient()
            .encrypt(key, &provider())
            .unwrap();
        TaKey::Jwe(jwe)
    }

    pub fn ta_content(
        &self,
        spid: &str,
        sdname: &str,
        taid: &str,
        spcert: Option<Vec<u8>>,
    ) -> InstallTaRequestContent {
        InstallTaRequestContent {
            tamid: self.tamid.clone(),
            spid: spid.into(),
            sdname: sdname.into(),
            spcert: spcert.map(Base64Bytes),
            taid: taid.into(),
        }
    }

    pub fn install_ta_with(
        &mut self,
        content: &InstallTaRequestContent,
        eta: InstallEncryptedTa,
    ) -> Vec<u8> {
        use otrp_core::message::ContentPlaintext;
        let id = self.next_id();
        let jwe = self.encrypt_to_tee(&content.to_plaintext());
        let tbs = InstallTaTbsRequest::new(
            id,
            MessageId::new("tid-1"),
            TEE_NAME,
            self.dsihash,
            jwe,
            eta,
        )
        .with_nextdsi(true);
        self.sign(&tbs)
    }

    /// InstallTA of `image` (a soft-TEE TA image) with personalization data.
    pub fn install_ta(
        &mut self,
        spid: &str,
        sdname: &str,
        taid: &str,
        image: &[u8],
        pdata: Option<&[u8]>,
    ) -> Vec<u8> {
        let key = [7u8; 32];
        let iv = [9u8; 16];
        let mut eta = InstallEncryptedTa::new(
            self.wrap_ta_key(spid, &key),
            TaIv(iv),
            Base64Bytes(otrp_soft_tee::encrypt_ta_data(&key, &iv, image)),
        );
        if let Some(p) = pdata {
            eta = eta.with_cipherpdata(Base64Bytes(otrp_soft_tee::encrypt_ta_data(&key, &iv, p)));
        }
        let c = self.ta_content(spid, sdname, taid, None);
        self.install_ta_with(&c, eta)
    }

    pub fn update_ta_with(
        &mut self,
        content: &InstallTaRequestContent,
        eta: UpdateEncryptedTa,
    ) -> Vec<u8> {
        use otrp_core::message::ContentPlaintext;
        let id = self.next_id();
        let jwe = self.encrypt_to_tee(&content.to_plaintext());
        let tbs = UpdateTaTbsRequest::new(
            id,
            MessageId::new("tid-1"),
            TEE_NAME,
            self.dsihash,
            jwe,
            eta,
        )
        .with_nextdsi(true);
        self.sign(&tbs)
    }

    pub fn update_ta(
        &mut self,
        spid: &str,
        sdname: &str,
        taid: &str,
        image: Option<&[u8]>,
        pdata: Option<&[u8]>,
    ) -> Vec<u8> {
        let key = [5u8; 32];
        let iv = [3u8; 16];
        let wrapped = self.wrap_ta_key(spid, &key);
        let enc = |d: &[u8]| Base64Bytes(otrp_soft_tee::encrypt_ta_data(&key, &iv, d));
        let eta = UpdateEncryptedTa {
            key: wrapped,
            iv: TaIv(iv),
            alg: Default::default(),
            ciphernewtadata: image.map(enc),
            ciphernewpdata: pdata.map(enc),
        };
        let c = self.ta_content(spid, sdname, taid, None);
        self.update_ta_with(&c, eta)
    }

    pub fn delete_ta(&mut self, sdname: &str, taid: &str) -> Vec<u8> {
        use otrp_core::message::ContentPlaintext;
        let c = DeleteTaRequestContent {
            tamid: self.tamid.clone(),
            sdname: sdname.into(),
            taid: taid.into(),
        };
        let id = self.next_id();
        let jwe = self.encrypt_to_tee(&c.to_plaintext());
        let tbs = DeleteTaTbsRequest::new(id, MessageId::new("tid-1"), TEE_NAME, self.dsihash, jwe)
            .with_nextdsi(true);
        self.sign(&tbs)
    }

    /// Decodes a TEE response: checks the TEE signature, decrypts `edsi` or
    /// `content` with the TAM key, and remembers the DSI hash it carries.
    pub fn read(&mut self, response: &[u8]) -> Reply {
        let env = Envelope::parse(response, &Limits::DEFAULT).expect("a signed envelope");
        assert_eq!(env.direction, Direction::Response);
        let jws = Jws::parse_json(env.jws_bytes()).unwrap();
        let algs: Vec<JwsAlg> = provider().supported_jws_algs().collect();
        let payload = jws
            .verify(&provider(), &self.tee_key, &algs)
            .expect("signed by the TEE key");
        let sig_alg = jws.signatures()[0].alg().unwrap();
        let value: Value = serde_json::from_slice(&payload).unwrap();
        let inner = value.as_object().unwrap().values().next().unwrap().clone();
        let status = inner["status"].as_str().unwrap().to_string();
        let mut reply = Reply {
            kind: env.kind,
            status,
            tbs: inner.clone(),
            content: None,
            code: None,
            sig_alg,
        };
        if let Some(reason) = inner.get("reason") {
            reply.code = Some(ErrorCode::from_wire(reason["error-code"].as_str().unwrap()));
        }
        let enc = inner.get("edsi").or_else(|| inner.get("content"));
        if let Some(enc) = enc {
            let jwe = Jwe::parse_json(serde_json::to_string(enc).unwrap().as_bytes()).unwrap();
            let plain = jwe
                .decrypt(&provider(), self.key.as_ref(), &JwePolicy::ANY)
                .expect("the TAM key decrypts the response");
            if env.kind == MessageKind::GetDeviceState {
                let doc = DsiDocument::from_plaintext(&plain, &Limits::DEFAULT).unwrap();
                self.dsihash = doc.hash(&provider()).unwrap();
                self.dsi = Some(doc.dsi().clone());
            } else {
                let v: Value = serde_json::from_slice(&plain).unwrap();
                if let Some(reason) = v.get("reason") {
                    reply.code = Some(ErrorCode::from_wire(reason["error-code"].as_str().unwrap()));
                }
                if v.get("dsi").is_some() {
                    use otrp_core::message::{
                        ContentPlaintext, CreateSdResponseContent, ResponseContent,
                        UpdateSdResponseContent,
                    };
                    let l = &Limits::DEFAULT;
                    let raw = match env.kind {
                        MessageKind::CreateSd => {
                            CreateSdResponseContent::from_plaintext(&plain, l)
                                .unwrap()
                                .dsi
                        }
                        MessageKind::UpdateSd => {
                            UpdateSdResponseContent::from_plaintext(&plain, l)
                                .unwrap()
                                .dsi
                        }
                        _ => ResponseContent::from_plaintext(&plain, l).unwrap().dsi,
                    };
                    if let Some(raw) = raw {
                        self.dsihash = raw.hash(&provider()).unwrap();
                        self.dsi = Some(raw.dsi().clone());
                    }
                }
                reply.content = Some(v);
            }
        }
        reply
    }

    /// Sends `request` and decodes the answer.
    pub fn send(&mut self, tee: &mut Tee, request: &[u8]) -> Reply {
        let response = tee.handle(request, now()).expect("a signed response");
        self.read(&response)
    }

    /// GetDeviceState, expecting "pass".
    pub fn query(&mut self, tee: &mut Tee) -> Reply {
        let req = self.gds();
        let r = self.send(tee, &req);
        assert_eq!(r.status, "pass", "GetDeviceState failed: {:?}", r.code);
        r
    }
}

/// A decoded TEE response.
#[derive(Debug)]
pub struct Reply {
    pub kind: MessageKind,
    pub status: String,
    pub tbs: Value,
    pub content: Option<Value>,
    pub code: Option<ErrorCode>,
    pub sig_alg: JwsAlg,
}

impl Reply {
    pub fn pass(&self) -> &Self {
        assert_eq!(self.status, "pass", "expected pass, got {:?}", self.code);
        self
    }
    pub fn fails_with(&self, code: ErrorCode) {
        assert_eq!(self.status, "fail");
        assert_eq!(self.code.as_ref(), Some(&code), "{:?}", self.tbs);
    }
}

/// A soft-TEE TA image of TA `taid` at `version`, named `name`, signed by
/// the SP key of `kind`.
pub fn ta_image(kind: Kind, taid: &str, version: u64, code: &[u8], name: &str) -> Vec<u8> {
    let sp = private_key(kind, "sp");
    let info = otrp_soft_tee::TaImageInfo {
        taid: taid.into(),
        version,
        taname: Some(name.into()),
    };
    otrp_soft_tee::sign_ta_image(code, &info, sp.as_ref(), kind.alg(), &provider()).unwrap()
}
