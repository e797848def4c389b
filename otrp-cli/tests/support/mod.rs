//! Running the `otrp` binary, and a TAM (otrp-core's session) built from
//! the files `otrp pki init` writes, to drive `otrp tee handle`.
#![allow(dead_code)]
// A test crate exports nothing: `pub` here means "for the test files".
#![allow(unreachable_pub)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use otrp_core::pki::{TrustAnchors, UnixTime};
use otrp_core::tam::Tam;

/// The output of one run.
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts exit 0 and returns stdout as text.
    pub fn ok(&self) -> String {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        self.text()
    }

    /// Asserts the failure contract: non-zero, one line on stderr starting
    /// with `otrp: error:`, nothing on stdout; returns the line.
    pub fn fails(&self) -> String {
        assert_ne!(self.code, 0, "expected a failure; stdout: {}", self.text());
        assert!(self.stdout.is_empty(), "stdout on failure: {}", self.text());
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "stderr: {:?}", self.stderr);
        assert!(lines[0].starts_with("otrp: error: "), "{}", lines[0]);
        lines[0].to_string()
    }

    /// Like [`Run::fails`] for commands that print progress before failing
    /// (`otrp demo`): stdout may be non-empty.
    pub fn fails_after_stdout(&self) -> String {
        assert_ne!(self.code, 0, "expected a failure; stdout: {}", self.text());
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "stderr: {:?}", self.stderr);
        assert!(lines[0].starts_with("otrp: error: "), "{}", lines[0]);
        lines[0].to_string()
    }
}

/// Runs `otrp args` with `stdin`.
pub fn otrp(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otrp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `otrp` with path arguments.
pub fn otrp_p(args: &[&dyn AsRef<std::ffi::OsStr>], stdin: &[u8]) -> Run {
    let strings: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
    otrp(&refs, stdin)
}

/// A temporary directory removed on drop.
pub fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("otrp-cli-test-")
        .tempdir()
        .unwrap()
}

/// The DER blocks of a PEM file with `label`.
pub fn pem_ders(path: &Path, label: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        if line == format!("-----BEGIN {label}-----") {
            body = Some(String::new());
        } else if line == format!("-----END {label}-----") {
            let b = body.take().unwrap();
            out.push(otrp_core::jose::b64::decode_std(&b, "pem").unwrap());
        } else if let Some(b) = body.as_mut() {
            b.push_str(line.trim());
        }
    }
    out
}

pub fn cert(path: &Path) -> Vec<u8> {
    pem_ders(path, "CERTIFICATE").remove(0)
}

pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap(),
    )
}

pub fn later(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            + Duration::from_secs(secs),
    )
}

/// An EC test PKI made by `otrp pki init` in `dir/pki`.
pub fn pki(dir: &Path) -> PathBuf {
    let p = dir.join("pki");
    otrp_p(&[&"pki", &"init", &p], b"").ok();
    p
}

/// A device of the PKI `pki`: its identity issued as `name`
/// (`otrp pki issue --role tee`) and its TEE initialised in `dir/name`
/// (`otrp tee init --device`); returns the state directory.
pub fn device(pki: &Path, dir: &Path, name: &str) -> PathBuf {
    otrp_p(
        &[&"pki", &"issue", &pki, &"--role", &"tee", &"--name", &name],
        b"",
    )
    .ok();
    let state = dir.join(name);
    let out = otrp_p(
        &[
            &"tee",
            &"init",
            &"--pki",
            &pki,
            &"--state",
            &state,
            &"--device",
            &name,
        ],
        b"",
    )
    .ok();
    assert!(out.contains("initialised"), "{out}");
    state
}

/// `otrp ta build`: the SP of `pki` signs `code` as TA `taid` at
/// `version` into `out`.
pub fn ta_build(pki: &Path, taid: &str, version: &str, code: &Path, out: &Path) -> Run {
    otrp_p(
        &[
            &"ta",
            &"build",
            &"--pki",
            &pki,
            &"--taid",
            &taid,
            &"--version",
            &version,
            &"--code",
            &code,
            &"--out",
            &out,
        ],
        b"",
    )
}

/// The TAM of a PKI directory, with an OCSP response from `otrp pki ocsp`.
pub fn tam(pki: &Path) -> Tam {
    let provider = otrp_crypto_rustcrypto::provider();
    let key = pem_ders(&pki.join("tam.key.pem"), "PRIVATE KEY").remove(0);
    let chain = pem_ders(&pki.join("tam.chain.pem"), "CERTIFICATE");
    let ocsp_b64 = otrp_p(
        &[&"pki", &"ocsp", &pki, &"--cert", &pki.join("tam.cert.pem")],
        b"",
    )
    .ok();
    let ocsp = otrp_core::jose::b64::decode_std(ocsp_b64.trim(), "ocsp").unwrap();
    Tam::new(
        provider,
        provider
            .key_loader
            .private_key_from_pkcs8_der(&key)
            .unwrap(),
        chain,
        TrustAnchors::from_certificates([cert(&pki.join("tee-root.cert.pem")).as_slice()]).unwrap(),
    )
    .unwrap()
    .with_ocspdat(vec![ocsp])
}

/// Path to a fixture of the repository's test-pki/.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-pki")
        .join(rel)
}
