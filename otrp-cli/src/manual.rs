//! `otrp completions SHELL` and `otrp man`: generated from the command
//! definitions (clap_complete, clap_mangen), so they never disagree with
//! the binary.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::Cli;
use crate::util::{Error, Result, write_stdout};

/// `otrp completions` arguments.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `otrp man` arguments.
#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write `otrp.1` and one page per subcommand (`otrp-tee-handle.1`, ...)
    /// into DIR instead of printing `otrp.1`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell`.
pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "otrp", &mut out);
    write_stdout(&out)
}

/// Prints the manual page, or writes every page into a directory.
pub fn man(args: &ManArgs) -> Result<()> {
    let cmd = Cli::command();
    match &args.out_dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            write_stdout(&out)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::from(e).context(dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .map_err(|e| Error::from(e).context(dir.display()))?;
            Ok(())
        }
    }
}
