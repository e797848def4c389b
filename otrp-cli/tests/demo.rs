//! `otrp demo` (the README's first command) and the usage contract: the
//! fleet story (three devices; v1, v2, a refused downgrade, retirement),
//! one line per message, the fleet table after each phase, exit 0, the
//! temporary directory removed; `--dir` kept; both backends and both key
//! types; usage errors; the agent's refusals.

mod support;

use support::*;

/// The messages each device answers in each phase of the fleet story.
const PHASES: [&[&str]; 4] = [
    &["GetDeviceState", "CreateSD", "InstallTA"],
    &["GetDeviceState", "UpdateTA"],
    &["GetDeviceState"],
    &["GetDeviceState", "DeleteTA", "DeleteSD"],
];

/// Checks the fleet story (`device  N  Message  NNN B  NNN B  T ms
/// result`, per phase and device, the fleet tables, the audit line) and
/// returns the directory the demo reported.
fn check_output(out: &str) -> String {
    let phases: Vec<&str> = out.split("\nphase ").skip(1).collect();
    assert_eq!(phases.len(), 4, "{out}");
    for (phase, expected) in phases.iter().zip(PHASES) {
        for device in ["device-1", "device-2", "device-3"] {
            let names: Vec<&str> = phase
                .lines()
                .filter_map(|line| {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    let step = f.len() > 8
                        && f[0] == device
                        && f[1].parse::<usize>().is_ok()
                        && f[3].parse::<usize>().unwrap() > 0
                        && f[4] == "B"
                        && f[6] == "B"
                        && f[7].parse::<f64>().is_ok()
                        && f[8] == "ms";
                    step.then(|| f[2])
                })
                .collect();
            assert_eq!(names, expected, "{device} in phase {phase}");
        }
        let table = phase.split("fleet:").nth(1).expect(phase);
        let rows: Vec<&str> = table.lines().filter(|l| l.contains("device-")).collect();
        assert_eq!(rows.len(), 3, "{table}");
    }
    for row in phases[0]
        .split("fleet:")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.contains("device-"))
    {
        assert!(
            row.contains("wallet-sd/wallet v1") && row.contains(" yes"),
            "{row}"
        );
    }
    for row in phases[1]
        .split("fleet:")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.contains("device-"))
    {
        assert!(
            row.contains("wallet-sd/wallet v2") && row.contains(" yes"),
            "{row}"
        );
    }
    for row in phases[2]
        .split("fleet:")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.contains("device-"))
    {
        assert!(
            row.contains("wallet v2") && row.contains("downgrade refused"),
            "{row}"
        );
    }
    assert!(
        out.contains("audit log: 24 entries (3 refused downgrades), hash chain verified"),
        "{out}"
    );
    assert!(out.contains("over HTTP on http://127.0.0.1:"), "{out}");
    assert!(out.contains("39 HTTP round trips"), "{out}");
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
    assert!(dir.join("device-1/otrp-tee.json").exists());
    // The TEE it left behind is usable by `otrp tee show`, and the TAM's
    // database by `otrp tam devices`.
    let shown = otrp_p(&[&"tee", &"show", &"--state", &dir.join("device-1")], b"").ok();
    assert!(shown.contains("no security domains"), "{shown}");
    let db = format!("sqlite:{}", dir.join("tam.db").display());
    let devices = otrp(&["tam", "devices", "--db", &db, "--json"], b"").ok();
    let devices: serde_json::Value = serde_json::from_str(&devices).unwrap();
    assert_eq!(devices.as_array().unwrap().len(), 3);
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
            &"--db",
            &format!("sqlite:{}", t.path().join("tam.db").display()),
            &"--listen",
            &"127.0.0.1:0",
        ],
        b"",
    )
    .fails();
    assert!(line.contains("tam.key.pem"), "{line}");
}
