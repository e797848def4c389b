//! `otrp tam ...` and `otrp ta build`: the TAM service of otrp-tam from the
//! command line (docs/tam-service.md). The operator commands work on the
//! database directly; `tam serve` is the device-facing OTrP/HTTP server
//! driven by the policy, with the admin API on `--admin`.

mod build;
mod ops;
mod pki;
mod serve;

use std::path::PathBuf;

use clap::Subcommand;

pub use build::{TaCmd, build as build_image, run_ta};
pub use pki::tam_from_pki;
pub use serve::{ServeArgs, sp_roots};

use crate::util::{Error, Result};

/// `otrp tam ...`.
#[derive(Subcommand, Debug)]
pub enum TamCmd {
    /// Serves the TAM over HTTP, driven by the policy in the database.
    Serve(ServeArgs),
    /// The TA catalog: add, list.
    #[command(subcommand)]
    Ta(TaCatalogCmd),
    /// The desired state: set, remove, show.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Each device, its SDs and TAs, and whether it matches the policy.
    Devices(ListArgs),
    /// The audit log; --verify checks its hash chain.
    Audit(AuditArgs),
}

/// `otrp tam ta ...`.
#[derive(Subcommand, Debug)]
pub enum TaCatalogCmd {
    /// Adds an SP-signed TA image (`otrp ta build`) to the catalog.
    Add {
        /// The database (sqlite:PATH or postgres://...).
        #[arg(long)]
        db: String,
        /// The Service Provider the image belongs to.
        #[arg(long)]
        spid: String,
        /// The image file.
        #[arg(long)]
        image: PathBuf,
        /// PEM SP root certificates to trust from now on (the image's
        /// certificate must chain to a trusted root once any is trusted).
        #[arg(long)]
        sp_root: Option<PathBuf>,
    },
    /// Lists the catalog.
    List(ListArgs),
}

/// `otrp tam policy ...`.
#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Sets the policy entry of a TA (replacing the old one).
    Set {
        /// The database.
        #[arg(long)]
        db: String,
        /// The TA's Service Provider.
        #[arg(long)]
        spid: String,
        /// The SD the TA lives in.
        #[arg(long)]
        sd: String,
        /// TAID (latest in the catalog) or TAID@VERSION (pinned).
        #[arg(long)]
        ta: String,
        /// `all` or a comma-separated list of device ids.
        #[arg(long, default_value = "all")]
        devices: String,
    },
    /// Removes a TA's entry: the TA is deleted from the devices.
    Remove {
        /// The database.
        #[arg(long)]
        db: String,
        /// The TA.
        #[arg(long)]
        ta: String,
    },
    /// Shows the policy.
    Show(ListArgs),
}

/// A database and an output format.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// The database.
    #[arg(long)]
    pub db: String,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `otrp tam audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// The database.
    #[arg(long)]
    pub db: String,
    /// JSON instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Verify the hash chain (exit 1 when an entry was edited, deleted or
    /// reordered).
    #[arg(long)]
    pub verify: bool,
}

/// Runs `otrp tam ...`.
pub fn run(cmd: TamCmd) -> Result<()> {
    match cmd {
        TamCmd::Serve(args) => serve::run(&args),
        other => ops::run(other),
    }
}

impl From<otrp_tam::Error> for Error {
    fn from(e: otrp_tam::Error) -> Self {
        Error::msg(e.to_string())
    }
}

/// A runtime for one operator command.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::from)
}
