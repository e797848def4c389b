//! `otrp tee init|handle|show`: a software TEE (otrp-soft-tee) in a state
//! directory, driven one request at a time through the OTrP Broker.
//!
//! A state directory holds `otrp-tee.json` (the TEE's routing name), copies
//! of its identity and trust anchors (`tee.key.pem`, `tee.chain.pem`,
//! `tam-root.cert.pem`, `sp-root.cert.pem`) and `storage/`, the soft TEE's
//! sealed, crash-safe storage.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use otrp_core::broker::{Answer, Broker};
use otrp_core::crypto::Provider;
use otrp_core::message::Limits;
use otrp_core::pki::TrustAnchors;
use otrp_core::tee::{Tee, TeeConfig};
use otrp_soft_tee::{SoftIdentity, SoftTeeOptions};
use serde::{Deserialize, Serialize};

use crate::util::{
    Error, Result, hex, now, outln, read_certificates, read_input, read_pkcs8, read_text,
    write_stdout,
};

/// The default routing name of a TEE.
pub const DEFAULT_NAME: &str = "soft-tee";
const CONFIG: &str = "otrp-tee.json";
const IDENTITY_FILES: [&str; 4] = [
    "tee.key.pem",
    "tee.chain.pem",
    "tam-root.cert.pem",
    "sp-root.cert.pem",
];

#[derive(Subcommand, Debug)]
pub enum TeeCmd {
    /// Creates a software TEE in SDIR with the identity and roots of a test PKI.
    Init {
        /// The PKI directory (`otrp pki init`).
        #[arg(long)]
        pki: PathBuf,
        /// The state directory to create.
        #[arg(long)]
        state: PathBuf,
        /// The TEE's routing name (the DSI's tee.name).
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// Reads one OTrP request on stdin and writes the TEE's response on stdout.
    Handle {
        /// The state directory.
        #[arg(long)]
        state: PathBuf,
    },
    /// Shows the TEE's SDs, TAs and versions.
    Show {
        /// The state directory.
        #[arg(long)]
        state: PathBuf,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize, Deserialize)]
struct Config {
    format: u32,
    name: String,
}

pub fn run(cmd: TeeCmd) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    match cmd {
        TeeCmd::Init { pki, state, name } => {
            let tee = init(&pki, &state, &name, provider)?;
            outln!(
                "software TEE {name:?} (did {}) initialised in {}",
                hex(tee.did().as_bytes()),
                state.display()
            );
            Ok(())
        }
        TeeCmd::Handle { state } => {
            let request = read_input(None)?;
            let (tee, name) = open(&state, provider)?;
            let response = handle(tee, &name, &request)?;
            write_stdout(&response)
        }
        TeeCmd::Show { state, json } => {
            let (tee, _) = open(&state, provider)?;
            let text = if json {
                let mut s = serde_json::to_string_pretty(&summary(&tee))?;
                s.push('\n');
                s
            } else {
                table(&tee)
            };
            write_stdout(text.as_bytes())
        }
    }
}

/// Creates the state directory `state` from the PKI in `pki` and opens the
/// TEE.
pub fn init(pki: &Path, state: &Path, name: &str, provider: Provider) -> Result<Tee> {
    if name.is_empty() {
        return Err(Error::msg("the TEE name must not be empty"));
    }
    if state.join(CONFIG).exists() {
        return Err(Error::msg(format!(
            "{} already holds a TEE",
            state.display()
        )));
    }
    std::fs::create_dir_all(state).map_err(|e| Error::from(e).context(state.display()))?;
    for file in IDENTITY_FILES {
        let from = pki.join(file);
        std::fs::copy(&from, state.join(file))
            .map_err(|e| Error::from(e).context(from.display()))?;
    }
    let config = Config {
        format: 1,
        name: name.to_string(),
    };
    std::fs::write(state.join(CONFIG), serde_json::to_vec_pretty(&config)?)?;
    Ok(open(state, provider)?.0)
}

/// Opens the TEE of `state`; returns it with its name.
pub fn open(state: &Path, provider: Provider) -> Result<(Tee, String)> {
    let config_path = state.join(CONFIG);
    if !config_path.exists() {
        return Err(Error::msg(format!(
            "{} is not a TEE state directory (run `otrp tee init` first)",
            state.display()
        )));
    }
    let config: Config = serde_json::from_str(&read_text(&config_path)?)
        .map_err(|e| Error::from(e).context(config_path.display()))?;
    if config.format != 1 {
        return Err(Error::msg(format!(
            "{CONFIG}: unknown format {}",
            config.format
        )));
    }
    let chain = read_certificates(&state.join("tee.chain.pem"))?;
    let (cert, cacerts) = chain
        .split_first()
        .ok_or_else(|| Error::msg("tee.chain.pem is empty"))?;
    let key = read_pkcs8(&state.join("tee.key.pem"))?;
    let identity = SoftIdentity::from_der(&provider, cert.clone(), cacerts.to_vec(), &key)?;
    let tam_roots = read_certificates(&state.join("tam-root.cert.pem"))?;
    let sp_roots = read_certificates(&state.join("sp-root.cert.pem"))?;
    let mut tee_config = TeeConfig::new(
        config.name.clone(),
        TrustAnchors::from_certificates(tam_roots.iter().map(Vec::as_slice))?,
    );
    tee_config.sp_anchors = TrustAnchors::from_certificates(sp_roots.iter().map(Vec::as_slice))?;
    let tee = otrp_soft_tee::open(
        &state.join("storage"),
        tee_config,
        provider,
        identity,
        SoftTeeOptions::default(),
    )?;
    Ok((tee, config.name))
}

/// One request through a broker holding this TEE: the TEE's response (the
/// `GetDeviceStateResponse` array for GetDeviceState), or an error when the
/// broker would answer `OTrPBrokerError`.
pub fn handle(tee: Tee, name: &str, request: &[u8]) -> Result<Vec<u8>> {
    let mut broker: Broker<Tee> = Broker::new(Limits::DEFAULT);
    broker.register(name, tee);
    match broker.process(request, now()) {
        Answer::Tee { response, .. } | Answer::DeviceState { response, .. } => Ok(response),
        Answer::Error { error, reason } => {
            Err(Error::msg(format!("{reason} ({})", error.errcode.as_str())))
        }
    }
}

#[derive(Serialize)]
pub struct Summary {
    pub name: String,
    pub did: String,
    pub sds: Vec<SdSummary>,
}

#[derive(Serialize)]
pub struct SdSummary {
    pub name: String,
    pub spid: String,
    pub tamid: String,
    pub tas: Vec<TaSummary>,
}

#[derive(Serialize)]
pub struct TaSummary {
    pub taid: String,
    pub taname: Option<String>,
    pub version: u64,
    pub previous: Option<u64>,
}

/// The TEE's SDs and TAs.
pub fn summary(tee: &Tee) -> Summary {
    Summary {
        name: tee.config().name.clone(),
        did: hex(tee.did().as_bytes()),
        sds: tee
            .state()
            .sds
            .iter()
            .map(|sd| SdSummary {
                name: sd.name.clone(),
                spid: sd.spid.clone(),
                tamid: sd.tamid.clone(),
                tas: sd
                    .tas
                    .iter()
                    .map(|ta| TaSummary {
                        taid: ta.taid.clone(),
                        taname: ta.taname.clone(),
                        version: ta.current.seq,
                        previous: ta.previous.as_ref().map(|p| p.seq),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The TEE's SDs and TAs as a text table.
pub fn table(tee: &Tee) -> String {
    let s = summary(tee);
    let mut out = format!("TEE {} (did {})\n", s.name, s.did);
    if s.sds.is_empty() {
        out.push_str("no security domains\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<16} {:<10} {:<16} {:<11} TAM",
        "SD", "SP", "TA", "VERSION"
    );
    for sd in &s.sds {
        if sd.tas.is_empty() {
            let _ = writeln!(
                out,
                "{:<16} {:<10} {:<16} {:<11} {}",
                sd.name, sd.spid, "-", "-", sd.tamid
            );
        }
        for ta in &sd.tas {
            let version = match ta.previous {
                Some(p) => format!("{} (prev {p})", ta.version),
                None => ta.version.to_string(),
            };
            let _ = writeln!(
                out,
                "{:<16} {:<10} {:<16} {:<11} {}",
                sd.name, sd.spid, ta.taid, version, sd.tamid
            );
        }
    }
    out
}
