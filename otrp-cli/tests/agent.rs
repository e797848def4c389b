//! `otrp agent` (issue 14, item 4): a command the TEE refuses is reported
//! with its error code and the agent exits 3; the state directory is
//! locked for the whole session.

mod support;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use otrp_core::tam::{Command, Event, TamSession};
use support::*;

#[test]
fn a_refused_command_is_named_and_the_agent_exits_3() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    // The device had ta1 v5 (installed and deleted by hand): its floor is 5,
    // so the TAM's InstallTA of ta1 v1 from the catalog is refused.
    let tam = tam(&pki);
    let mut session = TamSession::new(&tam);
    let request = session.get_device_state().unwrap();
    let run = otrp_p(&[&"tee", &"handle", &"--state", &state], &request);
    session.handle_response(&run.stdout, now()).unwrap();
    let v5 = build_ta1(t.path(), &pki, "5");
    let v1 = build_ta1(t.path(), &pki, "1");
    let commands = [
        Command::CreateSd {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            spcert: cert(&pki.join("sp.cert.pem")),
        },
        Command::InstallTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: std::fs::read(&v5).unwrap(),
            pdata: None,
        },
        Command::DeleteTa {
            sdname: "sd1".into(),
            taid: "ta1".into(),
        },
    ];
    for command in commands {
        let request = session.command("soft-tee", command).unwrap();
        let run = otrp_p(&[&"tee", &"handle", &"--state", &state], &request);
        let event = session
            .handle_response(&run.ok().into_bytes(), now())
            .unwrap();
        assert!(matches!(event, Event::Success { .. }), "{event:?}");
    }
    let db = format!("sqlite:{}", t.path().join("tam.db").display());
    catalog_and_policy(&db, &v1);

    let mut server = Process::new(env!("CARGO_BIN_EXE_otrp"))
        .args([
            "-q",
            "tam",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sessions",
            "1",
            "--db",
            &db,
            "--pki",
        ])
        .arg(&pki)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("TAM listening on ")
        .unwrap()
        .to_string();

    // While another process holds the state directory, --wait 0 fails fast.
    let held = otrp_soft_tee::DirLock::acquire(
        &state.join("storage"),
        otrp_soft_tee::LockMode::Exclusive,
        std::time::Duration::ZERO,
    )
    .unwrap();
    let line = otrp_p(
        &[
            &"agent", &"--tam", &url, &"--state", &state, &"--wait", &"0",
        ],
        b"",
    )
    .fails();
    assert!(line.contains("is in use by another process"), "{line}");
    drop(held);

    let run = otrp_p(&[&"agent", &"--tam", &url, &"--state", &state], b"");
    assert_eq!(
        run.code,
        3,
        "stdout: {}\nstderr: {}",
        run.text(),
        run.stderr
    );
    let out = run.text();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("GetDeviceState"), "{out}");
    assert!(lines[0].ends_with("answered by TEE soft-tee"), "{out}");
    assert!(lines[1].contains("InstallTA"), "{out}");
    assert!(
        lines[1].contains("REFUSED by the TEE: InstallTA ERR_TA_INVALID"),
        "{out}"
    );
    assert!(lines[2].starts_with("exchange ended by the TAM"), "{out}");
    assert!(
        run.stderr.trim_end().starts_with(
            "otrp: error: 1 of 2 TAM message(s) refused: InstallTA REFUSED by the TEE: \
             InstallTA ERR_TA_INVALID"
        ),
        "{}",
        run.stderr
    );
    let _ = server.wait();
}

#[test]
fn two_agents_on_one_state_directory_take_turns() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    let db = format!("sqlite:{}", t.path().join("tam.db").display());
    // A policy of one TA: the first session creates its SD and installs it,
    // the second finds the device compliant.
    catalog_and_policy(&db, &build_ta1(t.path(), &pki, "1"));
    let mut server = Process::new(env!("CARGO_BIN_EXE_otrp"))
        .args([
            "-q",
            "tam",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sessions",
            "2",
            "--db",
            &db,
            "--pki",
        ])
        .arg(&pki)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("TAM listening on ")
        .unwrap()
        .to_string();
    let agents: Vec<_> = (0..2)
        .map(|_| {
            Process::new(env!("CARGO_BIN_EXE_otrp"))
                .args(["agent", "--tam", &url, "--state"])
                .arg(&state)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut answered = Vec::new();
    for a in agents {
        let o = a.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        answered.push(
            stdout
                .lines()
                .filter(|l| l.contains("answered by TEE"))
                .count(),
        );
    }
    // One session reconciled (GetDeviceState, CreateSD, InstallTA) and the
    // other, on the state the first left, found nothing to do: never both.
    answered.sort_unstable();
    assert_eq!(answered, [1, 3]);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest.matches(": completed").count(), 2, "{rest}");
    let _ = server.wait();
    let show = otrp_p(&[&"tee", &"show", &"--state", &state], b"").ok();
    assert!(show.contains("ta1"), "{show}");
}

/// `otrp ta build` of TA `ta1` at `version` (SP key of `pki`), into `dir`.
fn build_ta1(dir: &Path, pki: &Path, version: &str) -> PathBuf {
    let code = dir.join("ta.bin");
    std::fs::write(&code, b"ta code").unwrap();
    let out = dir.join(format!("ta1-{version}.ta"));
    ta_build(pki, "ta1", version, &code, &out).ok();
    out
}

/// Adds `image` to the catalog of `db` and a policy of TA ta1 in SD sd1.
fn catalog_and_policy(db: &str, image: &Path) {
    otrp_p(
        &[
            &"tam", &"ta", &"add", &"--db", &db, &"--spid", &"sp1", &"--image", &image,
        ],
        b"",
    )
    .ok();
    otrp_p(
        &[
            &"tam", &"policy", &"set", &"--db", &db, &"--spid", &"sp1", &"--sd", &"sd1", &"--ta",
            &"ta1",
        ],
        b"",
    )
    .ok();
}
