//! A model-checked TEE (issue 13): random sequences of all seven commands
//! from two TAMs and two SPs, valid and not (replayed, stale `dsihash`,
//! wrong owner, wrong SD, oversized, storage crashes injected at a random
//! operation through `FaultyFs`), checked after every step against a small
//! reference model of the TEE's state (SDs and their owners and SPs, TAs and
//! their versions, SP AIKs, anti-rollback floors):
//!
//! - every DSI a TAM receives equals the model's view for that TAM;
//! - the TEE's state equals the model after every step;
//! - every refusal leaves the state (and its blobs) unchanged;
//! - after a crash the state is the model before or after the command.
//!
//! `OTRP_MODEL_CASES` sets the number of cases (default 64, the CI size;
//! docs/testing.md describes a long run).

otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use otrp_core::crypto::{ContentAlg, EncryptionKey, KeyAlg};
use otrp_core::jose::{Header, Jwe};
use otrp_core::message::{
    Base64Bytes, DsiHash, InstallEncryptedTa, SdChanges, TaIv, TaKey, UpdateEncryptedTa,
};
use otrp_core::tee::Tee;
use otrp_soft_tee::{FaultyFs, SoftTeeOptions};
use proptest::prelude::*;
use support::*;

const KIND: Kind = Kind::Ec;
const SPS: [&str; 2] = ["sp1", "sp2"];
const TAS: [&str; 2] = ["ta1", "ta2"];
/// SD names of each TAM (a TAM only creates its own; the other TAM's names
/// make the wrong-owner cases).
const SDS: [[&str; 2]; 2] = [["a-sd1", "a-sd2"], ["b-sd1", "b-sd2"]];

/// One step.
#[derive(Clone, Debug)]
enum Op {
    Gds {
        tam: usize,
    },
    /// A command from `tam`; SD names come from `owner`'s set.
    Cmd {
        tam: usize,
        owner: usize,
        cmd: Cmd,
    },
    /// `tam` sends its last request again.
    Replay {
        tam: usize,
    },
    /// A command from `tam` (on its own SDs) with a `dsihash` from an
    /// earlier view.
    Stale {
        tam: usize,
        cmd: Cmd,
    },
    /// A CreateSD above the 256 KiB message limit.
    Oversized {
        tam: usize,
    },
    /// A command from `tam` (on its own SDs) whose storage crashes at
    /// operation `at`.
    Crash {
        tam: usize,
        cmd: Cmd,
        at: usize,
    },
}

#[derive(Clone, Debug)]
enum Cmd {
    CreateSd {
        sp: usize,
        sd: usize,
    },
    UpdateSd {
        sp: usize,
        sd: usize,
    },
    DeleteSd {
        sd: usize,
        deleteta: bool,
    },
    InstallTa {
        sp: usize,
        sd: usize,
        ta: usize,
        version: u64,
    },
    UpdateTa {
        sp: usize,
        sd: usize,
        ta: usize,
        version: Option<u64>,
    },
    DeleteTa {
        sd: usize,
        ta: usize,
    },
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let sp = 0..2usize;
    let sd = 0..2usize;
    let ta = 0..2usize;
    prop_oneof![
        3 => (sp.clone(), sd.clone()).prop_map(|(sp, sd)| Cmd::CreateSd { sp, sd }),
        1 => (sp.clone(), sd.clone()).prop_map(|(sp, sd)| Cmd::UpdateSd { sp, sd }),
        1 => (sd.clone(), any::<bool>()).prop_map(|(sd, deleteta)| Cmd::DeleteSd { sd, deleteta }),
        4 => (sp.clone(), sd.clone(), ta.clone(), 0..6u64)
            .prop_map(|(sp, sd, ta, version)| Cmd::InstallTa { sp, sd, ta, version }),
        3 => (sp, sd.clone(), ta.clone(), proptest::option::weighted(0.8, 0..8u64))
            .prop_map(|(sp, sd, ta, version)| Cmd::UpdateTa { sp, sd, ta, version }),
        2 => (sd, ta).prop_map(|(sd, ta)| Cmd::DeleteTa { sd, ta }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let tam = 0..2usize;
    prop_oneof![
        1 => tam.clone().prop_map(|tam| Op::Gds { tam }),
        10 => (tam.clone(), cmd()).prop_map(|(tam, cmd)| Op::Cmd { tam, owner: tam, cmd }),
        2 => (tam.clone(), cmd()).prop_map(|(tam, cmd)| Op::Cmd { tam, owner: 1 - tam, cmd }),
        1 => tam.clone().prop_map(|tam| Op::Replay { tam }),
        1 => (tam.clone(), cmd()).prop_map(|(tam, cmd)| Op::Stale { tam, cmd }),
        1 => tam.clone().prop_map(|tam| Op::Oversized { tam }),
        2 => (tam, cmd(), 0..16usize).prop_map(|(tam, cmd, at)| Op::Crash { tam, cmd, at }),
    ]
}

// ---- the reference model ----

#[derive(Clone, Debug, PartialEq, Eq)]
struct SdModel {
    tam: usize,
    sp: usize,
    /// taid index -> current version.
    tas: BTreeMap<usize, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Model {
    /// SD name -> SD.
    sds: BTreeMap<String, SdModel>,
    /// taid index -> floor.
    floors: BTreeMap<usize, u64>,
}

/// TAs with their versions, sorted.
type TaList = Vec<(String, u64)>;
/// A DSI in the model's terms: (name, spid, TAs) per SD, and AIK spids.
type DsiView = (BTreeSet<(String, String, TaList)>, BTreeSet<String>);

/// What the TEE holds, in the model's terms.
#[derive(Debug, PartialEq, Eq)]
struct View {
    sds: BTreeSet<(String, String, String, TaList)>,
    aiks: BTreeSet<(String, String)>,
    floors: BTreeSet<(String, u64)>,
}

impl Model {
    fn aiks(&self) -> BTreeSet<(usize, usize)> {
        self.sds.values().map(|sd| (sd.tam, sd.sp)).collect()
    }

    fn view(&self, tamids: &[String; 2]) -> View {
        View {
            sds: self
                .sds
                .iter()
                .map(|(name, sd)| {
                    (
                        tamids[sd.tam].clone(),
                        name.clone(),
                        SPS[sd.sp].to_string(),
                        sd.tas
                            .iter()
                            .map(|(t, v)| (TAS[*t].to_string(), *v))
                            .collect(),
                    )
                })
                .collect(),
            aiks: self
                .aiks()
                .into_iter()
                .map(|(t, s)| (tamids[t].clone(), SPS[s].to_string()))
                .collect(),
            floors: self
                .floors
                .iter()
                .map(|(t, v)| (TAS[*t].to_string(), *v))
                .collect(),
        }
    }

    /// The DSI `tam` should see: its SDs (name, spid, TAs with versions)
    /// and the spids of its SP AIKs.
    fn dsi_of(&self, tam: usize) -> DsiView {
        let sds = self
            .sds
            .iter()
            .filter(|(_, sd)| sd.tam == tam)
            .map(|(name, sd)| {
                (
                    name.clone(),
                    SPS[sd.sp].to_string(),
                    sd.tas
                        .iter()
                        .map(|(t, v)| (TAS[*t].to_string(), *v))
                        .collect(),
                )
            })
            .collect();
        let aiks = self
            .aiks()
            .into_iter()
            .filter(|(t, _)| *t == tam)
            .map(|(_, s)| SPS[s].to_string())
            .collect();
        (sds, aiks)
    }

    /// The model after `tam` sends `cmd` on `owner`'s SD names, or `None`
    /// if the TEE must refuse it.
    fn apply(&self, tam: usize, owner: usize, cmd: &Cmd) -> Option<Model> {
        let mut m = self.clone();
        let owned = |name: &str| self.sds.get(name).filter(|sd| sd.tam == tam);
        match *cmd {
            Cmd::CreateSd { sp, sd } => {
                let name = SDS[owner][sd];
                if self.sds.contains_key(name) {
                    return None;
                }
                m.sds.insert(
                    name.into(),
                    SdModel {
                        tam,
                        sp,
                        tas: BTreeMap::new(),
                    },
                );
            }
            Cmd::UpdateSd { sp, sd } => {
                let rec = owned(SDS[owner][sd])?;
                if rec.sp != sp {
                    return None;
                }
            }
            Cmd::DeleteSd { sd, deleteta } => {
                let rec = owned(SDS[owner][sd])?;
                if !rec.tas.is_empty() && !deleteta {
                    return None;
                }
                m.sds.remove(SDS[owner][sd]);
            }
            Cmd::InstallTa {
                sp,
                sd,
                ta,
                version,
            } => {
                let rec = owned(SDS[owner][sd])?;
                if rec.sp != sp
                    || rec.tas.contains_key(&ta)
                    || self.floors.get(&ta).is_some_and(|f| version <= *f)
                {
                    return None;
                }
                m.sds.get_mut(SDS[owner][sd])?.tas.insert(ta, version);
                m.floors.insert(ta, version);
            }
            Cmd::UpdateTa {
                sp,
                sd,
                ta,
                version,
            } => {
                let rec = owned(SDS[owner][sd])?;
                if rec.sp != sp || !rec.tas.contains_key(&ta) {
                    return None;
                }
                if let Some(v) = version {
                    if self.floors.get(&ta).is_some_and(|f| v <= *f) {
                        return None;
                    }
                    m.sds.get_mut(SDS[owner][sd])?.tas.insert(ta, v);
                    m.floors.insert(ta, v);
                }
            }
            Cmd::DeleteTa { sd, ta } => {
                let rec = owned(SDS[owner][sd])?;
                if !rec.tas.contains_key(&ta) {
                    return None;
                }
                m.sds.get_mut(SDS[owner][sd])?.tas.remove(&ta);
            }
        }
        Some(m)
    }
}

// ---- the system under test ----

fn view_of(tee: &Tee) -> View {
    let s = tee.state();
    View {
        sds: s
            .sds
            .iter()
            .map(|sd| {
                (
                    sd.tamid.clone(),
                    sd.name.clone(),
                    sd.spid.clone(),
                    sd.tas
                        .iter()
                        .map(|t| (t.taid.clone(), t.current.version))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                )
            })
            .collect(),
        aiks: s
            .sp_aiks
            .iter()
            .map(|k| (k.tamid.clone(), k.spid.clone()))
            .collect(),
        floors: s
            .ta_floors
            .iter()
            .map(|f| (f.taid.clone(), f.version))
            .collect(),
    }
}

/// What the TAM's last DSI shows, in the terms of [`Model::dsi_of`].
fn dsi_seen(tam: &Tam) -> DsiView {
    let dsi = tam.dsi.as_ref().expect("a DSI");
    let sds = dsi
        .tee
        .sdlist
        .sd
        .iter()
        .map(|sd| {
            let tas: BTreeSet<_> = sd
                .talist
                .iter()
                .map(|t| (t.taid.clone(), t.version.expect("taversion")))
                .collect();
            (sd.name.clone(), sd.spid.clone(), tas.into_iter().collect())
        })
        .collect();
    let aiks = dsi.tee.teeaiklist.iter().map(|k| k.spid.clone()).collect();
    (sds, aiks)
}

/// `encrypted_ta.key` to the SP AIK of `sp` the TAM knows, or to some other
/// key when it knows none (the TEE refuses such a command before it
/// unwraps the key).
fn wrap(tam: &Tam, sp: usize, key: &[u8; 32]) -> TaKey {
    let known = tam
        .dsi
        .as_ref()
        .is_some_and(|d| d.tee.teeaiklist.iter().any(|k| k.spid == SPS[sp]));
    if known {
        return tam.wrap_ta_key(SPS[sp], key);
    }
    let jwe = Jwe::builder(ContentAlg::A128CbcHs256)
        .recipient(
            KeyAlg::EcdhEsA128Kw,
            EncryptionKey::Public(&tam.tee_key),
            Header::new(),
        )
        .encrypt(key, &provider())
        .unwrap();
    TaKey::Jwe(jwe)
}

fn image(ta: usize, version: u64) -> Vec<u8> {
    let code = format!("{} v{version}", TAS[ta]);
    ta_image(KIND, TAS[ta], version, code.as_bytes(), "model")
}

/// The request of `cmd` from `tam` on `owner`'s SD names.
fn request(tam: &mut Tam, owner: usize, cmd: &Cmd) -> Vec<u8> {
    let key = [7u8; 32];
    let iv = [9u8; 16];
    let enc = |d: &[u8]| Base64Bytes(otrp_soft_tee::encrypt_ta_data(&key, &iv, d));
    match *cmd {
        Cmd::CreateSd { sp, sd } => tam.create_sd(SPS[sp], SDS[owner][sd]),
        Cmd::UpdateSd { sp, sd } => {
            let changes = SdChanges {
                spcert: Some(vec![Base64Bytes(fixture(KIND, "sp.der"))]),
                ..SdChanges::default()
            };
            tam.update_sd(SPS[sp], SDS[owner][sd], changes)
        }
        Cmd::DeleteSd { sd, deleteta } => tam.delete_sd(SDS[owner][sd], Some(deleteta)),
        Cmd::InstallTa {
            sp,
            sd,
            ta,
            version,
        } => {
            let eta =
                InstallEncryptedTa::new(wrap(tam, sp, &key), TaIv(iv), enc(&image(ta, version)))
                    .with_cipherpdata(enc(b"pdata"));
            let c = tam.ta_content(SPS[sp], SDS[owner][sd], TAS[ta], None);
            tam.install_ta_with(&c, eta)
        }
        Cmd::UpdateTa {
            sp,
            sd,
            ta,
            version,
        } => {
            let eta = UpdateEncryptedTa {
                key: wrap(tam, sp, &key),
                iv: TaIv(iv),
                alg: Default::default(),
                ciphernewtadata: version.map(|v| enc(&image(ta, v))),
                ciphernewpdata: match version {
                    Some(_) => None,
                    None => Some(enc(b"new pdata")),
                },
            };
            let c = tam.ta_content(SPS[sp], SDS[owner][sd], TAS[ta], None);
            tam.update_ta_with(&c, eta)
        }
        Cmd::DeleteTa { sd, ta } => tam.delete_ta(SDS[owner][sd], TAS[ta]),
    }
}

/// A device, its two TAMs and the model, stepping together.
struct Harness {
    dir: TempDir,
    tee: Option<Tee>,
    tams: [Tam; 2],
    tamids: [String; 2],
    model: Model,
    /// Per TAM, the last request sent.
    last: [Option<Vec<u8>>; 2],
    /// Per TAM, the dsihashes received with the model view they described.
    hashes: [Vec<(DsiHash, Model)>; 2],
}

impl Harness {
    fn new() -> Self {
        let dir = TempDir::new("model");
        let tee = open_tee(KIND, dir.path());
        let tams = [
            Tam::new(KIND),
            Tam::named(KIND, "tam-rid", "tam-rid-good.der"),
        ];
        let tamids = [tams[0].tamid.clone(), tams[1].tamid.clone()];
        let mut h = Harness {
            dir,
            tee: Some(tee),
            tams,
            tamids,
            model: Model::default(),
            last: [None, None],
            hashes: [Vec::new(), Vec::new()],
        };
        h.gds(0);
        h.gds(1);
        h
    }

    fn tee(&mut self) -> &mut Tee {
        self.tee.as_mut().expect("an open TEE")
    }

    /// Records the DSI `tam` just received and checks it against the model.
    fn received(&mut self, tam: usize) {
        assert_eq!(
            dsi_seen(&self.tams[tam]),
            self.model.dsi_of(tam),
            "the DSI sent to TAM {tam} differs from the model"
        );
        self.hashes[tam].push((self.tams[tam].dsihash, self.model.clone()));
    }

    fn gds(&mut self, tam: usize) {
        let req = self.tams[tam].gds();
        let tee = self.tee.as_mut().expect("an open TEE");
        let reply = self.tams[tam].send(tee, &req);
        assert_eq!(reply.status, "pass", "GetDeviceState: {:?}", reply.code);
        self.last[tam] = Some(req);
        self.received(tam);
    }

    /// Sends `req` from `tam` expecting the model `next` (or a refusal when
    /// `None`, with the state unchanged).
    fn send(&mut self, tam: usize, req: Vec<u8>, next: Option<Model>) {
        let before = (view_of(self.tee()), self.tee().state().blobs());
        let response = self.tee().handle(&req, now());
        self.last[tam] = Some(req);
        let reply = response.map(|r| self.tams[tam].read(&r));
        match next {
            Some(m) => {
                let reply = reply.expect("a signed response");
                assert_eq!(reply.status, "pass", "refused: {:?}", reply.code);
                self.model = m;
                self.received(tam);
            }
            None => {
                if let Ok(reply) = reply {
                    assert_eq!(reply.status, "fail", "accepted a request the model refuses");
                }
                let after = (view_of(self.tee()), self.tee().state().blobs());
                assert_eq!(after, before, "a refusal changed the state");
            }
        }
        assert_eq!(view_of(self.tee()), self.model.view(&self.tamids));
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::Gds { tam } => self.gds(*tam),
            Op::Cmd { tam, owner, cmd } => {
                // A TAM creates SDs under its own names only (whether a
                // name another TAM uses is free is the SD scoping's business,
                // not this model's).
                let owner = match cmd {
                    Cmd::CreateSd { .. } => tam,
                    _ => owner,
                };
                let next = self.model.apply(*tam, *owner, cmd);
                let req = request(&mut self.tams[*tam], *owner, cmd);
                self.send(*tam, req, next);
            }
            Op::Replay { tam } => {
                if let Some(req) = self.last[*tam].clone() {
                    self.send(*tam, req, None);
                }
            }
            Op::Stale { tam, cmd } => {
                // A hash issued for a view of this TAM that is no longer
                // the model's; none yet: nothing to replay.
                let current = self.model.dsi_of(*tam);
                let stale = self.hashes[*tam]
                    .iter()
                    .rev()
                    .find(|(_, m)| m.dsi_of(*tam) != current)
                    .map(|(h, _)| *h);
                let Some(stale) = stale else { return };
                let fresh = self.tams[*tam].dsihash;
                self.tams[*tam].dsihash = stale;
                let req = request(&mut self.tams[*tam], *tam, cmd);
                self.tams[*tam].dsihash = fresh;
                self.send(*tam, req, None);
            }
            Op::Oversized { tam } => {
                let name = "x".repeat(300 * 1024);
                let req = self.tams[*tam].create_sd(SPS[0], &name);
                self.send(*tam, req, None);
            }
            Op::Crash { tam, cmd, at } => self.crash(*tam, cmd, *at),
        }
    }

    /// Runs `cmd` on a storage that crashes at operation `at`, reopens the
    /// device and checks it holds the model before or after the command;
    /// both TAMs then ask for the DSI again.
    fn crash(&mut self, tam: usize, cmd: &Cmd, at: usize) {
        let next = self.model.apply(tam, tam, cmd);
        let req = request(&mut self.tams[tam], tam, cmd);
        self.tee = None;
        let fs = FaultyFs::new(at);
        {
            let options = SoftTeeOptions {
                fs: Some(Arc::new(fs.clone())),
                ..SoftTeeOptions::default()
            };
            let mut tee = open_tee_with(KIND, self.dir.path(), config(KIND), options);
            let _ = tee.handle(&req, now());
        }
        self.tee = Some(open_tee(KIND, self.dir.path()));
        let view = view_of(self.tee());
        if view != self.model.view(&self.tamids) {
            let next = next.expect("a refused command changed the state after a crash");
            assert_eq!(view, next.view(&self.tamids), "a crash left a mixed state");
            self.model = next;
        }
        self.gds(0);
        self.gds(1);
    }
}

fn cases() -> u32 {
    std::env::var("OTRP_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_tee_follows_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let mut h = Harness::new();
        for op in &ops {
            h.step(op);
        }
        // The DSI each TAM gets at the end equals the model.
        h.gds(0);
        h.gds(1);
    }
}
