//! Diagnostics through `tracing` (issue 14): `-v`/`-q` and `RUST_LOG`.
//!
//! Log lines go to stderr with a UTC timestamp, apart from the command's
//! own output on stdout. The default level is `warn`, `info` for the
//! server (`tam serve`), so a server's session
//! events carry timestamps; each `-v` raises it one level, `-q` lowers it
//! to `error`. `RUST_LOG` (an `EnvFilter` directive such as
//! `otrp=debug`), when set, replaces the level the flags chose.

use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;

/// The global logging flags.
#[derive(clap::Args, Debug)]
pub struct LogArgs {
    /// More log lines on stderr (-v: info, -vv: debug, -vvv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The level chosen by the flags.
pub fn level(args: &LogArgs, long_running: bool) -> LevelFilter {
    if args.quiet {
        return LevelFilter::ERROR;
    }
    const LEVELS: [LevelFilter; 5] = [
        LevelFilter::WARN,
        LevelFilter::INFO,
        LevelFilter::DEBUG,
        LevelFilter::TRACE,
        LevelFilter::TRACE,
    ];
    let base = usize::from(long_running);
    LEVELS
        .get(base + usize::from(args.verbose))
        .copied()
        .unwrap_or(LevelFilter::TRACE)
}

/// Installs the subscriber (stderr, timestamps, `RUST_LOG` honoured).
pub fn init(args: &LogArgs, long_running: bool) {
    let filter = EnvFilter::builder()
        .with_default_directive(level(args, long_running).into())
        .from_env_lossy();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
