//! `otrp demo` (the README's first command) and the usage contract: the
//! whole lifecycle, one line per step, the device state, exit 0, the
//! temporary directory removed; `--dir` kept; both backends and both key
//! types; `tam serve` + `agent` over HTTP; usage errors.

mod support;

use support::*;

const STEPS: [&str; 7] = [
    "GetDeviceState",
    "CreateSD",
    "InstallTA",
    "GetTAInformation",
    "UpdateTA",
    "DeleteTA",
    "DeleteSD",
];

/// Checks the step lines (`N  Message  NNN B  NNN B  T ms  result`) and
/// returns the directory the demo reported.
fn check_output(out: &str) -> String {
    let mut next = 0;
    for line in out.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() > 7 && fields[0].parse::<usize>().is_ok() {
            assert_eq!(fields[0], (next + 1).to_string(), "{line}");
            assert_eq!(fields[1], STEPS[next], "{line}");
            assert!(
                fields[2].parse::<usize>().unwrap() > 0 && fields[3] == "B",
                "{line}"
            );
            assert!(
                fields[4].parse::<usize>().unwrap() > 0 && fields[5] == "B",
                "{line}"
            );
            assert!(
                fields[6].parse::<f64>().is_ok() && fields[7] == "ms",
                "{line}"
            );
            next += 1;
        }
    }
    assert_eq!(next, STEPS.len(), "{out}");
    assert!(out.contains("device state after UpdateTA:"), "{out}");
    let after_update = out.split("device state after UpdateTA:").nth(1).unwrap();
    assert!(
        after_update.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.starts_with(&["sd1", "sp1", "ta1", "2", "(prev", "1)"])
        }),
        "{out}"
    );
    let end = out.split("device state at the end:").nth(1).expect(out);
    assert!(end.contains("no security domains"), "{out}");
    assert!(out.contains("over HTTP on http://127.0.0.1:"), "{out}");
    assert!(out.contains("7 HTTP round trips"), "{out}");
    let dir_line = out.lines().find(|l| l.starts_with("directory ")).unwrap();
    dir_line["directory ".len()..]
        .split(" (")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn demo_runs_the_lifecycle_and_removes_its_directory() {
    let out = otrp(&["demo"], b"").ok();
    let dir = check_output(&out);
    assert!(out.contains("(temporary, removed at the end)"));
    // The default backend is the fastest complete one (docs/performance.md).
    assert!(out.contains("backend aws-lc (otrp-crypto-aws-lc"), "{out}");
    assert!(
        !std::path::Path::new(&dir).exists(),
        "{dir} was not removed"
    );
}

#[test]
fn demo_with_rsa_keys() {
    // The one RSA key generation run of the CLI tests (basic profile, 11).
    let out = otrp(&["demo", "--key-type", "rsa"], b"").ok();
    check_output(&out);
    assert!(out.contains("RSA-2048"), "{out}");
}

#[test]
fn demo_in_a_given_directory_keeps_it() {
    let t = temp();
    let dir = t.path().join("demo");
    let out = otrp_p(&[&"demo", &"--dir", &dir, &"--backend", &"rustcrypto"], b"").ok();
    assert_eq!(check_output(&out), dir.display().to_string());
    assert!(dir.join("pki/tam.key.pem").exists());
    assert!(dir.join("tee/otrp-tee.json").exists());
    // The TEE it left behind is usable by `otrp tee show`.
    let shown = otrp_p(&[&"tee", &"show", &"--state", &dir.join("tee")], b"").ok();
    assert!(shown.contains("no security domains"), "{shown}");
    // A second run in the same directory refuses to overwrite the PKI.
    let line = otrp_p(&[&"demo", &"--dir", &dir], b"").fails_after_stdout();
    assert!(line.contains("already holds a PKI"), "{line}");
}

#[test]
fn demo_with_the_ring_backend() {
    let out = otrp(&["demo", "--backend", "ring"], b"").ok();
    check_output(&out);
    assert!(
        out.contains("backend ring (otrp-crypto-ring composed"),
        "{out}"
    );
}

#[test]
fn usage_errors_exit_non_zero() {
    for args in [
        &[][..],
        &["nonsense"][..],
        &["demo", "--backend", "openssl"][..],
        &["demo", "--key-type", "dsa"][..],
        &["pki", "init"][..],
        &["jose", "sign", "--alg", "ES256"][..],
    ] {
        let run = otrp(args, b"");
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert!(!run.stderr.is_empty());
    }
    let help = otrp(&["--help"], b"").ok();
    for cmd in ["demo", "pki", "tee", "inspect", "jose", "tam", "agent"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn tam_serve_and_agent_run_the_lifecycle_over_http() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    /// Kills the server if the test fails before it exits by itself.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_otrp"))
        .args([
            "tam",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sessions",
            "1",
            "--pki",
        ])
        .arg(&pki)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut server = Server(server);
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("TAM listening on ")
        .expect(&first)
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/tam"),
        "{url}"
    );

    let out = otrp_p(&[&"agent", &"--tam", &url, &"--state", &state], b"").ok();
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 8 && f[0].parse::<usize>().is_ok()).then(|| f[1])
        })
        .collect();
    assert_eq!(
        names,
        [
            "GetDeviceState",
            "CreateSD",
            "InstallTA",
            "UpdateTA",
            "DeleteTA",
            "DeleteSD"
        ],
        "{out}"
    );
    assert!(out.contains("answered by TEE soft-tee"), "{out}");
    assert!(
        out.contains("ended by the TAM after 7 round trips"),
        "{out}"
    );

    // The server reports the session and exits after it (--sessions 1).
    let ended = lines.next().unwrap().unwrap();
    assert!(
        ended.starts_with("session from 127.0.0.1:") && ended.ends_with(": completed"),
        "{ended}"
    );
    let status = server.0.wait().unwrap();
    assert!(status.success());
    let shown = otrp_p(&[&"tee", &"show", &"--state", &state, &"--json"], b"").ok();
    let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(json["sds"], serde_json::json!([]));
}

#[test]
fn agent_refuses_unsafe_or_unreachable_tams_with_one_line() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    // Plain http off loopback.
    let line = otrp_p(
        &[
            &"agent",
            &"--tam",
            &"http://192.0.2.1/tam",
            &"--state",
            &state,
        ],
        b"",
    )
    .fails();
    assert!(line.contains("plain http"), "{line}");
    // https without trust anchors.
    let line = otrp_p(
        &[
            &"agent",
            &"--tam",
            &"https://127.0.0.1:1/tam",
            &"--state",
            &state,
        ],
        b"",
    )
    .fails();
    assert!(line.contains("trust anchors"), "{line}");
    // Nobody listening.
    let line = otrp_p(
        &[
            &"agent",
            &"--tam",
            &"http://127.0.0.1:1/tam",
            &"--state",
            &state,
        ],
        b"",
    )
    .fails();
    assert!(line.contains("127.0.0.1:1"), "{line}");
    // Not a URL; no TEE.
    otrp_p(&[&"agent", &"--tam", &"not a url", &"--state", &state], b"").fails();
    let line = otrp_p(
        &[
            &"agent",
            &"--tam",
            &"http://127.0.0.1:1/tam",
            &"--state",
            &t.path(),
        ],
        b"",
    )
    .fails();
    assert!(line.contains("not a TEE state directory"), "{line}");
    // tam serve on a PKI directory that is not one.
    let line = otrp_p(
        &[
            &"tam",
            &"serve",
            &"--pki",
            &t.path(),
            &"--listen",
            &"127.0.0.1:0",
        ],
        b"",
    )
    .fails();
    assert!(line.contains("tam.key.pem"), "{line}");
}
