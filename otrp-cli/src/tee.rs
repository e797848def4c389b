//! `otrp tee init|handle|show`: a software TEE (otrp-soft-tee) in a state
//! directory, driven one request at a time through the OTrP Broker.
//!
//! A state directory holds `otrp-tee.json` (the TEE's routing name), copies
//! of its identity and trust anchors (`tee.key.pem`, `tee.chain.pem`,
//! `tam-root.cert.pem`, `sp-root.cert.pem`) and `storage/`, the soft TEE's
//! sealed, crash-safe storage.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use otrp_core::broker::{Answer, Broker};
use otrp_core::crypto::Provider;
use otrp_core::message::Limits;
use otrp_core::pki::TrustAnchors;
use otrp_core::tee::{Tee, TeeConfig};
use otrp_soft_tee::{SoftIdentity, SoftTeeOptions};
use serde::{Deserialize, Serialize};

use crate::util::{
    Error, Result, hex, now, outln, read_certificates, read_file, read_input, read_pkcs8,
    read_text, write_private, write_stdout,
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
        /// The device identity NAME.key.pem / NAME.chain.pem of the PKI
        /// (`otrp pki issue DIR --role tee --name NAME`) instead of tee.*:
        /// one PKI for a fleet of distinct devices.
        #[arg(long)]
        device: Option<String>,
    },
    /// Reads one OTrP request on stdin and writes the TEE's response on stdout
    /// (exit 3 when it is a signed refusal).
    Handle {
        /// The state directory.
        #[arg(long)]
        state: PathBuf,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Shows the TEE's SDs, TAs and versions.
    Show {
        /// The state directory.
        #[arg(long)]
        state: PathBuf,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        wait: WaitArg,
    },
}

/// How long to wait for another process using the state directory.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct WaitArg {
    /// Seconds to wait while another otrp process uses the state directory
    /// (0: fail at once).
    #[arg(long = "wait", value_name = "SECONDS", default_value_t = 30)]
    pub seconds: u64,
}

impl WaitArg {
    /// The wait as a duration.
    pub fn duration(self) -> Duration {
        Duration::from_secs(self.seconds)
    }
}

/// How [`open`] opens the state directory.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    /// Locked shared, nothing written (`tee show`).
    pub read_only: bool,
    /// How long to wait for another process.
    pub wait: Duration,
}

impl Access {
    /// Read-write, with the default wait.
    pub const READ_WRITE: Access = Access {
        read_only: false,
        wait: otrp_soft_tee::DEFAULT_LOCK_WAIT,
    };
}

#[derive(Serialize, Deserialize)]
struct Config {
    format: u32,
    name: String,
}

pub fn run(cmd: TeeCmd) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    match cmd {
        TeeCmd::Init {
            pki,
            state,
            name,
            device,
        } => {
            let tee = init(&pki, &state, &name, device.as_deref(), provider)?;
            outln!(
                "software TEE {name:?} (did {}) initialised in {}",
                hex(tee.did().as_bytes()),
                state.display()
            );
            Ok(())
        }
        TeeCmd::Handle { state, wait } => {
            let request = read_input(None)?;
            let access = Access {
                read_only: false,
                wait: wait.duration(),
            };
            let (tee, name) = open(&state, provider, access)?;
            let (response, refused) = handle(tee, &name, &request)?;
            write_stdout(&response)?;
            if refused.is_empty() {
                Ok(())
            } else {
                Err(Error::refused(format!(
                    "the TEE refused: {} (the signed refusal is on stdout)",
                    crate::outcome::describe(&refused)
                )))
            }
        }
        TeeCmd::Show { state, json, wait } => {
            let access = Access {
                read_only: true,
                wait: wait.duration(),
            };
            let (tee, _) = open(&state, provider, access)?;
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
/// TEE; its identity is `tee.*` of the PKI, or `DEVICE.key.pem` and
/// `DEVICE.chain.pem` for `device` (`otrp pki issue --role tee`).
pub fn init(
    pki: &Path,
    state: &Path,
    name: &str,
    device: Option<&str>,
    provider: Provider,
) -> Result<Tee> {
    if name.is_empty() {
        return Err(Error::msg("the TEE name must not be empty"));
    }
    if state.join(CONFIG).exists() {
        return Err(Error::msg(format!(
            "{} already holds a TEE",
            state.display()
        )));
    }
    if let Some(device) = device {
        let plain = !device.is_empty()
            && device
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !plain || device.starts_with('.') {
            return Err(Error::msg(format!("bad device name {device:?}")));
        }
        for ext in ["key.pem", "chain.pem"] {
            let from = pki.join(format!("{device}.{ext}"));
            if !from.exists() {
                return Err(Error::msg(format!(
                    "{}: no such device identity (otrp pki issue {} --role tee --name {device})",
                    from.display(),
                    pki.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(state).map_err(|e| Error::from(e).context(state.display()))?;
    let source = |file: &str| match (device, file) {
        (Some(d), "tee.key.pem") => pki.join(format!("{d}.key.pem")),
        (Some(d), "tee.chain.pem") => pki.join(format!("{d}.chain.pem")),
        _ => pki.join(file),
    };
    for file in IDENTITY_FILES {
        let from = source(file);
        let bytes = read_file(&from)?;
        let to = state.join(file);
        if file.ends_with(".key.pem") {
            write_private(&to, &bytes)?;
        } else {
            std::fs::write(&to, bytes).map_err(|e| Error::from(e).context(to.display()))?;
        }
    }
    // The key must be the certificate's before anything is initialised.
    if let Err(e) = identity(state, &provider) {
        for file in IDENTITY_FILES {
            let _ = std::fs::remove_file(state.join(file));
        }
        return Err(e.context(format!(
            "{} and {}",
            source("tee.key.pem").display(),
            source("tee.chain.pem").display()
        )));
    }
    let config = Config {
        format: 1,
        name: name.to_string(),
    };
    std::fs::write(state.join(CONFIG), serde_json::to_vec_pretty(&config)?)?;
    Ok(open(state, provider, Access::READ_WRITE)?.0)
}

/// The TEE identity of a state directory (its key checked against its
/// certificate).
fn identity(state: &Path, provider: &Provider) -> Result<SoftIdentity> {
    let chain = read_certificates(&state.join("tee.chain.pem"))?;
    let (cert, cacerts) = chain
        .split_first()
        .ok_or_else(|| Error::msg("tee.chain.pem is empty"))?;
    let key = read_pkcs8(&state.join("tee.key.pem"))?;
    Ok(SoftIdentity::from_der(
        provider,
        cert.clone(),
        cacerts.to_vec(),
        &key,
    )?)
}

/// Opens the TEE of `state` (locking its storage, see [`Access`]);
/// returns it with its name.
pub fn open(state: &Path, provider: Provider, access: Access) -> Result<(Tee, String)> {
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
    let identity = identity(state, &provider)?;
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
        SoftTeeOptions {
            read_only: access.read_only,
            lock_wait: Some(access.wait),
            ..SoftTeeOptions::default()
        },
    )
    .map_err(|e| Error::from(e).context(state.display()))?;
    Ok((tee, config.name))
}

/// One request through a broker holding this TEE: the TEE's response (the
/// `GetDeviceStateResponse` array for GetDeviceState) with the refusals it
/// carries, or an error when the broker would answer `OTrPBrokerError`.
pub fn handle(
    tee: Tee,
    name: &str,
    request: &[u8],
) -> Result<(Vec<u8>, Vec<crate::outcome::Refusal>)> {
    if let Err(e) = otrp_core::broker::routing_info(request, &Limits::DEFAULT) {
        return Err(Error::msg(format!("stdin: {e}")));
    }
    let mut broker: Broker<Tee> = Broker::new(Limits::DEFAULT);
    broker.register(name, tee);
    match broker.process(request, now()) {
        Answer::Tee { response, .. } | Answer::DeviceState { response, .. } => {
            let refused = crate::outcome::with_tee_reason(
                crate::outcome::refusals(&response),
                broker.endpoint(name),
            );
            Ok((response, refused))
        }
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
