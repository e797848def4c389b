//! Issue 14: input checks and messages a user understands (items 2, 4, 5,
//! 6, 7): secrets 0600 and read-only commands that write nothing, the key
//! checked against the certificate, option validation (exit 2), errors that
//! name what is wrong, logging flags, completions and the man page.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::*;

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(snapshot(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn secrets_are_0600_and_show_writes_nothing() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    #[cfg(unix)]
    {
        assert_eq!(mode(&state.join("storage/storage.key")), 0o600);
        assert_eq!(mode(&state.join("tee.key.pem")), 0o600);
        for key in [
            "tam.key.pem",
            "tee.key.pem",
            "tam-root.key.pem",
            "sp.key.pem",
        ] {
            assert_eq!(mode(&pki.join(key)), 0o600, "{key}");
        }
        otrp_p(
            &[&"pki", &"issue", &pki, &"--role", &"sp", &"--name", &"sp2"],
            b"",
        )
        .ok();
        assert_eq!(mode(&pki.join("sp2.key.pem")), 0o600);
    }
    // A request commits a state (the ids it saw).
    let tam = tam(&pki);
    let request = otrp_core::tam::TamSession::new(&tam)
        .get_device_state()
        .unwrap();
    otrp_p(&[&"tee", &"handle", &"--state", &state], &request).ok();
    assert!(state.join("storage/state").exists());
    #[cfg(unix)]
    assert_eq!(mode(&state.join("storage/state")), 0o600);
    // tee show is read-only: the state is byte for byte the same after.
    let before = snapshot(&state);
    otrp_p(&[&"tee", &"show", &"--state", &state], b"").ok();
    assert_eq!(snapshot(&state), before);
    // Without the sealing key it says so, and creates none.
    std::fs::remove_file(state.join("storage/storage.key")).unwrap();
    let before = snapshot(&state);
    let line = otrp_p(&[&"tee", &"show", &"--state", &state], b"").fails();
    assert!(line.contains("storage.key is missing"), "{line}");
    assert_eq!(snapshot(&state), before);
    // handle does not reseal the state under a new key either.
    let request = otrp_core::tam::TamSession::new(&tam)
        .get_device_state()
        .unwrap();
    let line = otrp_p(&[&"tee", &"handle", &"--state", &state], &request).fails();
    assert!(line.contains("storage.key is missing"), "{line}");
    assert_eq!(snapshot(&state), before);
}

#[test]
fn tee_init_refuses_a_key_that_is_not_the_certificates() {
    let t = temp();
    let pki = pki(t.path());
    // Another key beside the TEE chain (the case: an RSA key).
    std::fs::copy(fixture("rsa/tee.key"), pki.join("tee.key.pem")).unwrap();
    let state = t.path().join("state");
    let run = otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"");
    let line = run.fails();
    assert_eq!(run.code, 1);
    assert!(
        line.contains("the TEE private key does not match the TEE certificate"),
        "{line}"
    );
    assert!(!state.join("otrp-tee.json").exists());
    assert!(!state.join("storage").exists());
}

#[test]
fn options_are_validated_with_exit_2() {
    let t = temp();
    let pki = pki(t.path());
    for tamid in ["", "not a uri", "tam1", "7", "3.1", "1..2"] {
        let run = otrp_p(
            &[
                &"pki", &"issue", &pki, &"--role", &"tam", &"--name", &"x", &"--tamid", &tamid,
            ],
            b"",
        );
        let line = run.fails();
        assert_eq!(run.code, 2, "{tamid:?}");
        assert!(line.contains("invalid --tamid"), "{line}");
        assert!(!pki.join("x.cert.pem").exists() && !pki.join("x.key.pem").exists());
    }
    for tamid in ["urn:example:tam:1", "1.3.6.1.4.1.99999.2"] {
        let name = format!("t{}", tamid.len());
        otrp_p(
            &[
                &"pki", &"issue", &pki, &"--role", &"tam", &"--name", &name, &"--tamid", &tamid,
            ],
            b"",
        )
        .ok();
    }
    let run = otrp_p(
        &[
            &"tam",
            &"serve",
            &"--pki",
            &pki,
            &"--listen",
            &"127.0.0.1:0",
            &"--sessions",
            &"0",
        ],
        b"",
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("must be at least 1"), "{}", run.stderr);
    let run = otrp_p(
        &[&"tam", &"serve", &"--pki", &pki, &"--listen", &"nowhere"],
        b"",
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not HOST:PORT"), "{}", run.stderr);
}

#[test]
fn listen_takes_host_names_and_names_a_busy_address() {
    let t = temp();
    let pki = pki(t.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_otrp"))
        .args(["tam", "serve", "--listen", "localhost:0", "--db"])
        .arg(format!("sqlite:{}", t.path().join("tam.db").display()))
        .arg("--pki")
        .arg(&pki)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.starts_with("TAM listening on http://"), "{line}");
    let _ = child.kill();
    let _ = child.wait();

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let db = format!("sqlite:{}", t.path().join("tam.db").display());
    let line = otrp_p(
        &[
            &"tam",
            &"serve",
            &"--db",
            &db,
            &"--pki",
            &pki,
            &"--listen",
            &addr,
        ],
        b"",
    )
    .fails();
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
}

#[test]
fn messages_name_the_problem() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    // Invalid JSON is not "ERR_AGENT_TEE_UNKNOWN".
    let line = otrp_p(&[&"tee", &"handle", &"--state", &state], b"{not json").fails();
    assert!(!line.contains("ERR_AGENT_TEE_UNKNOWN"), "{line}");
    assert!(line.starts_with("otrp: error: stdin: "), "{line}");
    // jose decrypt given a JWS, verify given a JWE.
    let key = pki.join("tee.key.pem");
    let jws = otrp_p(
        &[&"jose", &"sign", &"--key", &key, &"--alg", &"ES256"],
        b"x",
    )
    .ok();
    let line = otrp_p(&[&"jose", &"decrypt", &"--key", &key], jws.as_bytes()).fails();
    assert!(line.contains("is a JWS (signed, not encrypted)"), "{line}");
    assert!(!line.contains("ciphertext"), "{line}");
    let jwe = otrp_p(
        &[
            &"jose",
            &"encrypt",
            &"--key",
            &pki.join("tee.cert.pem"),
            &"--alg",
            &"ECDH-ES",
            &"--enc",
            &"A128GCM",
        ],
        b"x",
    )
    .ok();
    let line = otrp_p(&[&"jose", &"verify", &"--key", &key], jwe.as_bytes()).fails();
    assert!(line.contains("is a JWE (encrypted, not signed)"), "{line}");
}

#[test]
fn logging_flags_and_rust_log() {
    let t = temp();
    let pki = pki(t.path());
    // tam serve logs with timestamps by default; -q keeps stderr quiet.
    let run_server = |extra: &[&str], env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_otrp"));
        cmd.args(extra)
            .args(["tam", "serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(format!("sqlite:{}", t.path().join("tam.db").display()))
            .arg("--pki")
            .arg(&pki)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("RUST_LOG");
        if let Some(v) = env {
            cmd.env("RUST_LOG", v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = run_server(&[], None);
    let info = stderr
        .lines()
        .find(|l| l.contains("TAM listening on"))
        .unwrap();
    // 2026-11-27T18:15:40.835876Z  INFO ...
    assert!(
        info.len() > 20 && info.as_bytes()[4] == b'-' && info.contains("Z "),
        "{info}"
    );
    assert!(info.contains("INFO"), "{info}");
    let stderr = run_server(&["-q"], None);
    assert!(!stderr.contains("INFO"), "{stderr}");
    let stderr = run_server(&[], Some("error"));
    assert!(!stderr.contains("INFO"), "{stderr}");
    // -v on a short command adds info lines, never Rust debug names.
    let run = otrp_p(&[&"-q", &"-v", &"pki", &"init", &t.path().join("x")], b"");
    assert_eq!(run.code, 2, "-q and -v conflict");
}

#[test]
fn completions_and_man_pages_are_generated() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = otrp(&["completions", shell], b"").ok();
        for sub in [
            "demo",
            "pki",
            "tee",
            "inspect",
            "jose",
            "agent",
            "completions",
        ] {
            assert!(out.contains(sub), "{shell}: {sub}");
        }
    }
    let line = otrp(&["completions", "tcsh"], b"");
    assert_eq!(line.code, 2);
    let page = otrp(&["man"], b"").ok();
    assert!(page.contains(".TH otrp 1"), "{page}");
    for sub in ["demo", "pki", "tee", "inspect", "jose", "agent"] {
        assert!(page.contains(sub), "{sub}");
    }
    let t = temp();
    let dir = t.path().join("man");
    otrp_p(&[&"man", &"--out-dir", &dir], b"").ok();
    let handle = std::fs::read_to_string(dir.join("otrp-tee-handle.1")).unwrap();
    assert!(handle.contains("\\-\\-state"), "{handle}");
    assert!(dir.join("otrp.1").exists());
}
