//! `otrp`: the command-line tool of the otrp project (docs/cli.md).
//!
//! Every command reads stdin and writes stdout where no file is given,
//! exits 0 on success, and on failure prints one line `otrp: error: ...` on
//! stderr and exits 1 (2 for usage errors, from clap).
#![forbid(unsafe_code)]

mod agent;
mod demo;
mod inspect;
mod jose;
mod keys;
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
struct Cli {
    #[command(subcommand)]
    command: Cmd,
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
    /// TAM over HTTP: serve.
    #[command(subcommand)]
    Tam(TamCmd),
    /// Device agent over HTTP: the software TEE of a state directory answers a TAM.
    Agent(agent::AgentArgs),
}

#[derive(Subcommand, Debug)]
enum TamCmd {
    /// Serves a TAM over HTTP that takes every device through the lifecycle.
    Serve(tam::ServeArgs),
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
    let result = match cli.command {
        Cmd::Demo(args) => demo::run(&args),
        Cmd::Pki(cmd) => pki::run(cmd),
        Cmd::Tee(cmd) => tee::run(cmd),
        Cmd::Inspect(args) => inspect::run(&args),
        Cmd::Jose(cmd) => jose::run(cmd),
        Cmd::Tam(TamCmd::Serve(args)) => tam::run_serve(&args),
        Cmd::Agent(args) => agent::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = e.to_string().replace('\n', " ");
            eprintln!("otrp: error: {line}");
            ExitCode::FAILURE
        }
    }
}
