//! A full lifecycle between the otrp TAM ([`TamSession`]) and the soft TEE,
//! one step per command (GetDeviceState, CreateSD, UpdateSD, InstallTA,
//! UpdateTA, DeleteTA, DeleteSD), keeping for every step the TEE storage
//! before the request and the TAM's state before the response, so that a
//! benchmark or fuzz target can replay any one step from its exact starting
//! point.

use otrp_core::message::{Base64Bytes, MessageKind, SdChanges};
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::{Command, DeviceState, Event, Tam, TamSession, TeeResult};

use crate::fixtures::{Kind, cert, fixture, now, private_key};
use crate::memfs::MemFs;
use crate::soft::{TEE_NAME, TeeParts};

/// One request/response exchange.
#[derive(Clone, Debug)]
pub struct Step {
    /// The command.
    pub kind: MessageKind,
    /// The TEE storage before the request.
    pub tee_before: MemFs,
    /// The request bytes.
    pub request: Vec<u8>,
    /// The TEE's response bytes.
    pub response: Vec<u8>,
    /// The TAM's device state with the request outstanding.
    pub tam_before: DeviceState,
}

/// The TAM and TEE of one hierarchy and the recorded lifecycle.
pub struct Scenario {
    /// The hierarchy.
    pub kind: Kind,
    /// The TAM.
    pub tam: Tam,
    /// The TEE.
    pub tee: TeeParts,
    /// One step per command, in order.
    pub steps: Vec<Step>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("kind", &self.kind)
            .field("steps", &self.steps.len())
            .finish_non_exhaustive()
    }
}

/// The TAM of `kind` (test-pki `tam`, chain of two, stapling its OCSP
/// response, trusting the TEE and TFW roots).
pub fn tam(kind: Kind, provider: otrp_core::crypto::Provider) -> Tam {
    let anchors =
        TrustAnchors::from_certificates([cert(kind, "tee-root").as_slice()]).expect("TEE root");
    let tfw =
        TrustAnchors::from_certificates([cert(kind, "tfw-root").as_slice()]).expect("TFW root");
    Tam::new(
        provider,
        private_key(&provider, kind, "tam"),
        vec![cert(kind, "tam"), cert(kind, "tam-root")],
        anchors,
    )
    .expect("TAM")
    .with_tfw_anchors(tfw)
    .with_ocspdat(vec![fixture(kind, "ocsp/tam-good-by-ca.der")])
}

/// A soft-TEE TA image of `ta1` at `version`, of about `size` bytes (a JWS
/// by the SP key over TA code of three quarters of `size`, base64url making
/// up the rest).
pub fn ta_image(
    kind: Kind,
    provider: &otrp_core::crypto::Provider,
    size: usize,
    version: u64,
) -> Vec<u8> {
    let code: Vec<u8> = (0..size * 3 / 4).map(|i| (i % 251) as u8).collect();
    let sp = private_key(provider, kind, "sp");
    otrp_soft_tee::sign_ta_image(
        &code,
        &otrp_soft_tee::TaImageInfo {
            taid: "ta1".into(),
            version,
            taname: Some("bench TA".into()),
        },
        sp.as_ref(),
        kind.sig_alg(),
        provider,
    )
    .expect("TA image")
}

/// The commands after GetDeviceState; the TA images are about `ta_size`
/// bytes.
pub fn commands(
    kind: Kind,
    provider: &otrp_core::crypto::Provider,
    ta_size: usize,
) -> Vec<Command> {
    vec![
        Command::CreateSd {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            spcert: cert(kind, "sp"),
        },
        Command::UpdateSd {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            changes: SdChanges {
                spcert: Some(vec![Base64Bytes(cert(kind, "sp"))]),
                ..SdChanges::default()
            },
        },
        Command::InstallTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: ta_image(kind, provider, ta_size, 1),
            pdata: Some(b"personalization data".to_vec()),
        },
        Command::UpdateTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: Some(ta_image(kind, provider, ta_size, 2)),
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

impl Scenario {
    /// Runs the lifecycle of `kind` on `provider` with TA images of about
    /// `ta_size` bytes, checking every step succeeds.
    pub fn run(kind: Kind, provider: otrp_core::crypto::Provider, ta_size: usize) -> Scenario {
        let tam = tam(kind, provider);
        let parts = TeeParts::new(kind, provider);
        let fs = MemFs::new();
        let mut raw_steps = Vec::new();
        {
            let mut tee = parts.open(fs.clone());
            let mut session = TamSession::new(&tam);
            let mut next: Option<Command> = None;
            let mut commands = commands(kind, &provider, ta_size).into_iter();
            loop {
                let tee_before = fs.snapshot();
                let (kind_of, request) = match next.take() {
                    None => (
                        MessageKind::GetDeviceState,
                        session.get_device_state().expect("GetDeviceState"),
                    ),
                    Some(c) => (c.kind(), session.command(TEE_NAME, c).expect("command")),
                };
                let tam_before = session.state().clone();
                let response = tee.handle(&request, now()).expect("a signed response");
                match session
                    .handle_response(&response, now())
                    .expect("TAM accepts")
                {
                    Event::DeviceState(r) => {
                        assert!(
                            matches!(r.as_slice(), [TeeResult::Accepted { .. }]),
                            "{kind_of:?}: {r:?}"
                        );
                    }
                    Event::Success { .. } => {}
                    other => panic!("{kind_of:?}: {other:?}"),
                }
                raw_steps.push(Step {
                    kind: kind_of,
                    tee_before,
                    request,
                    response,
                    tam_before,
                });
                match commands.next() {
                    Some(c) => next = Some(c),
                    None => break,
                }
            }
        }
        Scenario {
            kind,
            tam,
            tee: parts,
            steps: raw_steps,
        }
    }

    /// The step of `kind`.
    pub fn step(&self, kind: MessageKind) -> &Step {
        self.steps
            .iter()
            .find(|s| s.kind == kind)
            .expect("every command has a step")
    }
}
