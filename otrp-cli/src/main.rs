//! `otrp`: the command-line tool of the otrp project (docs/cli.md).
//!
//! Every command reads stdin and writes stdout where no file is given,
//! exits 0 on success, and on failure prints one line `otrp: error: ...` on
//! stderr and exits 1, 2 for usage errors, 3 when the peer (TEE or TAM)
//! refused ([`util::Exit`]).
#![forbid(unsafe_code)]
// A binary exports nothing: `pub` in its modules means crate-wide.
#![allow(unreachable_pub)]

mod agent;
mod cleanup;
mod demo;
mod inspect;
mod jose;
mod keys;
mod logging;
mod manual;
mod outcome;
mod pki;
mod tam;
mod tee;
mod util;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// The Open Trust Protocol from the command line: a test PKI, a software
/// TEE, message inspection, JOSE, and a one-command demo.
#[derive(Parser, Debug)]
#[command(name = "otrp", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Cmd,
    #[command(flatten)]
    log: logging::LogArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Runs the whole OTrP lifecycle against a fresh software TEE.
    Demo(demo::DemoArgs),
    /// Test PKI: init, issue, ocsp.
    #[command(subcommand)]
    Pki(pki::PkiCmd),
    /// Software TEE: init, handle, show.
    #[command(subcommand)]
    Tee(tee::TeeCmd),
    /// Decodes any OTrP message or JOSE object; verifies and decrypts with --key.
    Inspect(inspect::InspectArgs),
    /// JWS and JWE: sign, verify, encrypt, decrypt.
    #[command(subcommand)]
    Jose(jose::JoseCmd),
    /// The TAM service: serve, ta, policy, devices, audit.
    #[command(subcommand)]
    Tam(tam::TamCmd),
    /// TA images: build.
    #[command(subcommand)]
    Ta(tam::TaCmd),
    /// Device agent over HTTP: the software TEE of a state directory answers a TAM.
    Agent(agent::AgentArgs),
    /// Prints a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(manual::CompletionsArgs),
    /// Prints the manual page (roff), or writes one page per command to a directory.
    Man(manual::ManArgs),
}

/// The key type of a generated PKI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyTypeArg {
    /// RSA-2048 (the basic profile, section 11; slow to generate).
    Rsa,
    /// P-256.
    Ec,
}

impl KeyTypeArg {
    /// The generator's key type.
    pub fn key_type(self) -> otrp_test_pki::KeyType {
        match self {
            KeyTypeArg::Rsa => otrp_test_pki::KeyType::Rsa2048,
            KeyTypeArg::Ec => otrp_test_pki::KeyType::P256,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(
        &cli.log,
        matches!(cli.command, Cmd::Tam(tam::TamCmd::Serve(_))),
    );
    if let Err(e) = cleanup::install() {
        return fail(&e);
    }
    let result = match cli.command {
        Cmd::Demo(args) => demo::run(&args),
        Cmd::Pki(cmd) => pki::run(cmd),
        Cmd::Tee(cmd) => tee::run(cmd),
        Cmd::Inspect(args) => inspect::run(&args),
        Cmd::Jose(cmd) => jose::run(cmd),
        Cmd::Tam(cmd) => tam::run(cmd),
        Cmd::Ta(cmd) => tam::run_ta(cmd),
        Cmd::Agent(args) => agent::run(&args),
        Cmd::Completions(args) => manual::completions(&args),
        Cmd::Man(args) => manual::man(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Prints the one-line error and returns its exit status.
fn fail(e: &util::Error) -> ExitCode {
    let line = e.to_string().replace('\n', " ");
    eprintln!("otrp: error: {line}");
    ExitCode::from(e.exit().code())
}
