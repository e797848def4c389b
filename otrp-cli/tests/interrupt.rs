//! Issue 14, item 3: SIGINT or SIGTERM ends `otrp demo` and `otrp tam
//! serve` cleanly: the demo's temporary directory (private keys) is gone,
//! the demo exits 130. Issue 16, item 5: `tam serve` drains: no new
//! session, the open ones may finish until `--drain-timeout`, then it says
//! so and exits 0.
#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn demo_until_directory() -> (Child, PathBuf, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otrp"))
        .args(["demo", "--key-type", "rsa"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut dir = None;
    for _ in 0..5 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        if let Some(rest) = line.strip_prefix("directory ") {
            dir = Some(PathBuf::from(rest.split(" (").next().unwrap()));
            break;
        }
    }
    let dir = dir.expect("the demo names its directory");
    (child, dir, out)
}

fn interrupted_demo_removes_its_directory(sig: &str) {
    let (mut child, dir, _out) = demo_until_directory();
    // RSA key generation is under way: keys are being written into `dir`.
    let started = Instant::now();
    while !dir.join("pki").exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, sig);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("otrp: error: interrupted; removed "),
        "{stderr}"
    );
    // Nothing reappears after the exit either.
    std::thread::sleep(Duration::from_millis(200));
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn sigint_during_demo_removes_the_temporary_directory() {
    interrupted_demo_removes_its_directory("-INT");
}

#[test]
fn sigterm_during_demo_removes_the_temporary_directory() {
    interrupted_demo_removes_its_directory("-TERM");
}

#[test]
fn sigint_stops_tam_serve_and_it_says_so() {
    let t = temp();
    let pki = pki(t.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_otrp"))
        .args(["tam", "serve", "--listen", "127.0.0.1:0", "--pki"])
        .arg(&pki)
        .arg("--db")
        .arg(format!("sqlite:{}", t.path().join("tam.db").display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("TAM listening on http://127.0.0.1:"),
        "{first}"
    );
    signal(&child, "-INT");
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(
        rest.contains("TAM stopped by a signal: 0 session(s) ended, 0 open session(s) closed"),
        "{rest}"
    );
    assert!(stderr.contains("draining 0 open session(s)"), "{stderr}");
    assert!(!stderr.contains("otrp: error"), "{stderr}");
}

/// `otrp tam serve` with `--drain-timeout SECS`; returns it, its stdout
/// and the device listener's address.
fn serve_draining(
    secs: &str,
) -> (
    Child,
    BufReader<std::process::ChildStdout>,
    String,
    tempfile::TempDir,
) {
    let t = temp();
    let pki = pki(t.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_otrp"))
        .args(["tam", "serve", "--listen", "127.0.0.1:0", "--pki"])
        .arg(&pki)
        .arg("--db")
        .arg(format!("sqlite:{}", t.path().join("tam.db").display()))
        .args(["--drain-timeout", secs])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("TAM listening on http://")
        .and_then(|a| a.strip_suffix("/tam"))
        .expect(&first)
        .to_string();
    (child, out, addr, t)
}

/// One POST to `/tam`; returns the status and the session cookie it set.
fn post(addr: &str, headers: &str, body: &str) -> (u16, Option<String>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /tam HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out[9..12].parse().unwrap();
    let cookie = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .map(str::to_string);
    (code, cookie)
}

/// Opens a device session (an empty POST); returns its cookie.
fn open_session(addr: &str) -> String {
    let (code, cookie) = post(addr, "Accept: application/otrp+json\r\n", "");
    assert_eq!(code, 200);
    cookie.expect("a session cookie")
}

fn line(out: &mut BufReader<std::process::ChildStdout>) -> String {
    let mut l = String::new();
    out.read_line(&mut l).unwrap();
    l
}

#[test]
fn sigterm_drains_open_sessions_refuses_new_ones_then_exits_0() {
    let (mut child, mut out, addr, _t) = serve_draining("30");
    let cookie = open_session(&addr);
    signal(&child, "-TERM");
    let draining = line(&mut out);
    assert!(
        draining.contains("TAM draining: no new session; 1 open session(s) may finish"),
        "{draining}"
    );
    // No new exchange while draining: 503 (a load balancer retries
    // elsewhere), and the server keeps running for the open session.
    assert_eq!(post(&addr, "Accept: application/otrp+json\r\n", "").0, 503);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited while a session was open"
    );
    // The open session still gets answers; this one ends it (415 from the
    // address that opened it).
    let (code, _) = post(
        &addr,
        &format!("Cookie: {cookie}\r\nContent-Type: text/plain\r\n"),
        "x",
    );
    assert_eq!(code, 415);
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(
        rest.contains("TAM stopped by a signal: 1 session(s) ended, 0 open session(s) closed"),
        "{rest}"
    );
}

#[test]
fn a_session_still_open_at_the_drain_deadline_is_closed() {
    let (mut child, mut out, addr, _t) = serve_draining("1");
    let _cookie = open_session(&addr);
    let started = Instant::now();
    signal(&child, "-INT");
    let status = child.wait().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(
        rest.contains("TAM stopped by a signal: 0 session(s) ended, 1 open session(s) closed"),
        "{rest}"
    );
}
