//! Shared helpers: the error type, input and output, time, PEM.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use otrp_core::pki::UnixTime;

/// `println!` that does not panic when stdout is closed (`otrp demo | head`):
/// output is best effort, the command's result is its exit status.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that does not panic when stdout is closed.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

pub(crate) use {out, outln};

/// The exit status of a failure (docs/cli.md, "Exit status").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 1: the command failed (bad input, I/O, ...).
    Error,
    /// 2: the command line is wrong (also clap's parse errors).
    Usage,
    /// 3: the peer (the TEE or the TAM) refused: a signed refusal or an
    /// `ERR_*` code.
    Refused,
    /// 130: ended by SIGINT or SIGTERM (after cleaning up).
    Interrupted,
}

impl Exit {
    /// The process exit status.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::Refused => 3,
            Exit::Interrupted => 130,
        }
    }
}

/// A command's failure: one line for stderr, and the exit status.
#[derive(Debug)]
pub struct Error {
    message: String,
    exit: Exit,
}

impl Error {
    /// An error with this message.
    pub fn msg(m: impl Into<String>) -> Self {
        Error {
            message: m.into(),
            exit: Exit::Error,
        }
    }

    /// A usage error (exit 2): an option's value is unusable.
    pub fn usage(m: impl Into<String>) -> Self {
        Error {
            message: m.into(),
            exit: Exit::Usage,
        }
    }

    /// The peer refused (exit 3).
    pub fn refused(m: impl Into<String>) -> Self {
        Error {
            message: m.into(),
            exit: Exit::Refused,
        }
    }

    /// Prefixes the message with what was being done.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Error {
            message: format!("{what}: {}", self.message),
            exit: self.exit,
        }
    }

    /// The exit status this failure ends the command with.
    pub fn exit(&self) -> Exit {
        self.exit
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

macro_rules! from_error {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::msg(e.to_string())
            }
        })*
    };
}

from_error!(
    std::io::Error,
    serde_json::Error,
    otrp_core::crypto::CryptoError,
    otrp_core::jose::JoseError,
    otrp_core::message::MessageError,
    otrp_core::pki::PkiError,
    otrp_core::tam::TamError,
    otrp_core::tee::TeeError,
    otrp_core::tee::TeeFault,
    otrp_core::message::TaInfoError,
    otrp_core::broker::BrokerFailure,
    otrp_soft_tee::SoftTeeError,
    otrp_test_pki::Error,
);

/// A command's result.
pub type Result<T> = std::result::Result<T, Error>;

/// The largest input read from a file or stdin (a TA-carrying message is
/// the largest OTrP object).
pub const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// Reads `file`, or stdin when `None` or `-`.
pub fn read_input(file: Option<&Path>) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    match file {
        Some(p) if p != Path::new("-") => {
            std::fs::File::open(p)
                .map_err(|e| Error::from(e).context(p.display()))?
                .take(MAX_INPUT + 1)
                .read_to_end(&mut buf)?;
        }
        _ => {
            std::io::stdin()
                .lock()
                .take(MAX_INPUT + 1)
                .read_to_end(&mut buf)?;
        }
    }
    if buf.len() as u64 > MAX_INPUT {
        return Err(Error::msg(format!("input larger than {MAX_INPUT} bytes")));
    }
    Ok(buf)
}

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::from(e).context(path.display()))
}

/// Reads a text file, naming it in the error.
pub fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| Error::msg(format!("{}: not UTF-8 text", path.display())))
}

/// Writes a secret (a private key) to a new file `path` atomically,
/// readable by its owner only: a temporary file created mode 0600, written,
/// synced and renamed to `path` (never over an existing file); the mode is
/// never wider, not even for a moment.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let named = |e: std::io::Error| Error::from(e).context(path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".otrp-key-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(named)?;
    tmp.write_all(bytes).map_err(named)?;
    tmp.as_file().sync_all().map_err(named)?;
    tmp.persist_noclobber(path).map_err(|e| named(e.error))?;
    Ok(())
}

/// Writes `bytes` to stdout.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// The current time.
pub fn now() -> UnixTime {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    UnixTime::since_unix_epoch(since)
}

/// One PEM block: its label and DER contents.
pub struct PemBlock {
    /// `CERTIFICATE`, `PRIVATE KEY`, `PUBLIC KEY`, ...
    pub label: String,
    /// The DER bytes.
    pub der: Vec<u8>,
}

/// Every PEM block in `text`, in order.
pub fn pem_blocks(text: &str) -> Result<Vec<PemBlock>> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_string(), String::new()));
        } else if let Some(label) = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            let (begin, body) = current
                .take()
                .ok_or_else(|| Error::msg("PEM: END without BEGIN"))?;
            if begin != label {
                return Err(Error::msg(format!(
                    "PEM: BEGIN {begin} ended by END {label}"
                )));
            }
            let der = otrp_core::jose::b64::decode_std(&body, "PEM")
                .map_err(|_| Error::msg(format!("PEM: {label} is not valid base64")))?;
            out.push(PemBlock {
                label: label.to_string(),
                der,
            });
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
        }
    }
    if current.is_some() {
        return Err(Error::msg("PEM: BEGIN without END"));
    }
    Ok(out)
}

/// The certificates (DER) of a PEM file, in order; at least one.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let certs: Vec<Vec<u8>> = pem_blocks(&read_text(path)?)
        .map_err(|e| e.context(path.display()))?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der)
        .collect();
    if certs.is_empty() {
        return Err(Error::msg(format!(
            "{}: no CERTIFICATE in the file",
            path.display()
        )));
    }
    Ok(certs)
}

/// The PKCS#8 private key (DER) of a PEM file.
pub fn read_pkcs8(path: &Path) -> Result<Vec<u8>> {
    pem_blocks(&read_text(path)?)
        .map_err(|e| e.context(path.display()))?
        .into_iter()
        .find(|b| b.label == "PRIVATE KEY")
        .map(|b| b.der)
        .ok_or_else(|| {
            Error::msg(format!(
                "{}: no PKCS#8 PRIVATE KEY in the file",
                path.display()
            ))
        })
}

/// A `--listen` value: `HOST:PORT` where HOST is an IP address or a host
/// name (`localhost:0`), resolved to its first address.
pub fn parse_listen(value: &str) -> std::result::Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    if value
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_err())
    {
        return Err(format!(
            "{value:?} is not HOST:PORT (e.g. 127.0.0.1:8080 or localhost:0)"
        ));
    }
    value
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {value:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{value:?} resolves to no address"))
}

/// A count that must be at least 1.
pub fn parse_positive(value: &str) -> std::result::Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{value:?} is not a whole number")),
    }
}

/// Milliseconds of a duration, for step lines.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
