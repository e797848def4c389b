//! `otrp ta build`: an SP-signed TA image for the soft TEE, with the SP's
//! certificate chain for the TAM catalog to verify.

use std::path::PathBuf;

use clap::Subcommand;
use otrp_soft_tee::TaImageInfo;

use crate::util::{Error, Result, outln, read_certificates, read_input, read_pkcs8};

/// `otrp ta ...`.
#[derive(Subcommand, Debug)]
pub enum TaCmd {
    /// Builds an SP-signed TA image (DIR/sp.key.pem, DIR/sp.cert.pem).
    #[command(disable_version_flag = true)]
    Build {
        /// The test PKI directory.
        #[arg(long)]
        pki: PathBuf,
        /// The TA's identifier.
        #[arg(long)]
        taid: String,
        /// The image's version (monotonic: the TAM and the TEE refuse to
        /// go back).
        #[arg(long = "version", id = "taversion", value_name = "N")]
        version: u64,
        /// The TA code.
        #[arg(long)]
        code: PathBuf,
        /// The image file to write.
        #[arg(long)]
        out: PathBuf,
        /// The TA's friendly name.
        #[arg(long)]
        name: Option<String>,
    },
}

/// Runs `otrp ta ...`.
pub fn run_ta(cmd: TaCmd) -> Result<()> {
    let TaCmd::Build {
        pki,
        taid,
        version,
        code,
        out,
        name,
    } = cmd;
    let provider = otrp_crypto_rustcrypto::provider();
    let image = build(
        &provider,
        &pki,
        &taid,
        version,
        &read_input(Some(&code))?,
        name,
    )?;
    std::fs::write(&out, &image).map_err(|e| Error::from(e).context(out.display()))?;
    outln!(
        "TA {taid} version {version} signed by {} ({} bytes) -> {}",
        pki.join("sp.cert.pem").display(),
        image.len(),
        out.display()
    );
    Ok(())
}

/// The image of `code` as TA `taid` at `version`, signed with the SP key of
/// the PKI `dir`.
pub fn build(
    provider: &otrp_core::crypto::Provider,
    dir: &std::path::Path,
    taid: &str,
    version: u64,
    code: &[u8],
    taname: Option<String>,
) -> Result<Vec<u8>> {
    if version == 0 {
        return Err(Error::msg("the version must be at least 1"));
    }
    let key = provider
        .key_loader
        .private_key_from_pkcs8_der(&read_pkcs8(&dir.join("sp.key.pem"))?)?;
    let chain = read_certificates(&dir.join("sp.cert.pem"))?;
    let info = TaImageInfo {
        taid: taid.to_string(),
        version,
        taname,
    };
    Ok(otrp_tam::catalog::build_image(
        provider,
        code,
        &info,
        key.as_ref(),
        &chain,
    )?)
}
