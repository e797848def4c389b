//! The TAM service's CLI contract (issue 15): `ta build`, `tam ta add|list`,
//! `tam policy set|remove|show`, `tam devices`, `tam audit [--verify]`,
//! `tee init --device`, `tam serve` (with `--admin`) and `agent`, run as a
//! user would; bad input refused with one line and nothing changed.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::*;

/// Kills a server left running when a test fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `otrp tam serve` with `extra` arguments; returns it with its
/// first lines' reader.
fn serve(
    pki: &Path,
    db: &str,
    extra: &[&str],
) -> (Server, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otrp"))
        .args([
            "tam",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db,
            "--pki",
        ])
        .arg(pki)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (Server(child), lines)
}

fn audit_len(db: &str) -> usize {
    let out = otrp(&["tam", "audit", "--db", db, "--json"], b"").ok();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["entries"].as_array().unwrap().len()
}

#[test]
fn fleet_through_the_cli_contract() {
    let t = temp();
    let pki = pki(t.path());
    let db = format!("sqlite:{}", t.path().join("tam.db").display());
    let code = t.path().join("code.bin");
    std::fs::write(&code, b"wallet TA code").unwrap();

    // Two devices of one PKI, each with its own identity.
    let states = ["dev1", "dev2"].map(|name| device(&pki, t.path(), name));
    let line = otrp_p(
        &[
            &"tee",
            &"init",
            &"--pki",
            &pki,
            &"--state",
            &t.path().join("x"),
            &"--device",
            &"nosuch",
        ],
        b"",
    )
    .fails();
    assert!(line.contains("no such device identity"), "{line}");

    // Images.
    let w1 = t.path().join("wallet-1.ta");
    let out = ta_build(&pki, "wallet", "1", &code, &w1).ok();
    assert!(out.contains("TA wallet version 1"), "{out}");
    otrp_p(
        &[
            &"ta",
            &"build",
            &"--pki",
            &pki,
            &"--taid",
            &"wallet",
            &"--version",
            &"0",
            &"--code",
            &code,
            &"--out",
            &t.path().join("w0"),
        ],
        b"",
    )
    .fails();

    // Catalog and policy.
    let out = otrp_p(
        &[
            &"tam", &"ta", &"add", &"--db", &db, &"--spid", &"sp1", &"--image", &w1,
        ],
        b"",
    )
    .ok();
    assert!(out.contains("added TA wallet version 1 of SP sp1"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&otrp(&["tam", "ta", "list", "--db", &db, "--json"], b"").ok())
            .unwrap();
    assert_eq!(list[0]["taid"], "wallet");
    assert_eq!(list[0]["version"], 1);
    assert_eq!(list[0]["spid"], "sp1");
    assert!(
        otrp(&["tam", "ta", "list", "--db", &db], b"")
            .ok()
            .contains("wallet")
    );
    otrp(
        &[
            "tam", "policy", "set", "--db", &db, "--spid", "sp1", "--sd", "wsd", "--ta", "wallet",
        ],
        b"",
    )
    .ok();
    let policy: serde_json::Value =
        serde_json::from_str(&otrp(&["tam", "policy", "show", "--db", &db, "--json"], b"").ok())
            .unwrap();
    assert_eq!(policy[0]["taid"], "wallet");
    assert_eq!(policy[0]["sdname"], "wsd");

    // Bad input: one line, exit 1, nothing changed.
    let before = audit_len(&db);
    let junk = t.path().join("junk");
    std::fs::write(&junk, b"not an image").unwrap();
    for args in [
        vec![
            "tam",
            "ta",
            "add",
            "--db",
            &db,
            "--spid",
            "sp1",
            "--image",
            junk.to_str().unwrap(),
        ],
        vec![
            "tam",
            "ta",
            "add",
            "--db",
            &db,
            "--spid",
            "sp1",
            "--image",
            w1.to_str().unwrap(),
        ],
        vec![
            "tam", "policy", "set", "--db", &db, "--spid", "sp1", "--sd", "wsd", "--ta", "nothing",
        ],
        vec![
            "tam", "policy", "set", "--db", &db, "--spid", "sp1", "--sd", "wsd", "--ta", "wallet@9",
        ],
        vec![
            "tam",
            "policy",
            "set",
            "--db",
            &db,
            "--spid",
            "sp1",
            "--sd",
            "wsd",
            "--ta",
            "wallet",
            "--devices",
            "x",
        ],
        vec!["tam", "policy", "remove", "--db", &db, "--ta", "nothing"],
    ] {
        let run = otrp(&args, b"");
        assert_eq!(run.code, 1, "{args:?}");
        run.fails();
    }
    assert_eq!(audit_len(&db), before);
    let line = otrp(&["tam", "devices", "--db", "mysql://localhost/x"], b"").fails();
    assert!(line.contains("unsupported database URL"), "{line}");

    // The server, driven by the policy; one agent session per device.
    let (_server, mut lines) = serve(&pki, &db, &["--sessions", "2"]);
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("TAM listening on ")
        .expect(&first)
        .to_string();
    for state in &states {
        let out = otrp_p(&[&"agent", &"--tam", &url, &"--state", state], b"").ok();
        let names: Vec<&str> = out
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() > 8 && f[0].parse::<usize>().is_ok()).then(|| f[1])
            })
            .collect();
        assert_eq!(names, ["GetDeviceState", "CreateSD", "InstallTA"], "{out}");
        assert!(out.contains("ended by the TAM"), "{out}");
    }
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(
        rest.iter().any(|l| l.contains("compliant with the policy")),
        "{rest:?}"
    );
    assert_eq!(
        rest.iter().filter(|l| l.ends_with(": completed")).count(),
        2,
        "{rest:?}"
    );

    // The fleet as the contract prints it.
    let devices: serde_json::Value =
        serde_json::from_str(&otrp(&["tam", "devices", "--db", &db, "--json"], b"").ok()).unwrap();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2);
    for d in devices {
        assert_eq!(d["did"].as_str().unwrap().len(), 43);
        assert_eq!(d["tee"], "soft-tee");
        assert_eq!(
            d["sds"],
            serde_json::json!([{"sdname": "wsd", "spid": "sp1", "tas": [{"taid": "wallet", "version": 1}]}])
        );
        assert!(d["last_contact"].as_str().unwrap().ends_with('Z'));
        assert_eq!(d["compliant"], true);
        assert_eq!(d["reasons"], serde_json::json!([]));
    }
    let shown = otrp_p(&[&"tee", &"show", &"--state", &states[0]], b"").ok();
    assert!(shown.contains("wallet"), "{shown}");

    // A newer version in the catalog leaves the devices non-compliant
    // (they need UpdateTA) until their next session.
    let w2 = t.path().join("wallet-2.ta");
    ta_build(&pki, "wallet", "2", &code, &w2).ok();
    otrp_p(
        &[
            &"tam", &"ta", &"add", &"--db", &db, &"--spid", &"sp1", &"--image", &w2,
        ],
        b"",
    )
    .ok();
    let table = otrp(&["tam", "devices", "--db", &db], b"").ok();
    assert!(table.contains("needs UpdateTA wallet v1 -> v2"), "{table}");
    otrp(
        &["tam", "policy", "remove", "--db", &db, "--ta", "wallet"],
        b"",
    )
    .ok();
    let table = otrp(&["tam", "devices", "--db", &db], b"").ok();
    assert!(table.contains("needs DeleteTA wallet from wsd"), "{table}");

    // The audit log: verified, then tampered with and caught.
    let out = otrp(&["tam", "audit", "--db", &db, "--verify"], b"").ok();
    assert!(out.starts_with("audit log verified: "), "{out}");
    let lines = otrp(&["tam", "audit", "--db", &db], b"").ok();
    assert!(lines.contains("ta.add") && lines.contains("policy.set") && lines.contains("command"));
    tamper(&t.path().join("tam.db"));
    let line = otrp(&["tam", "audit", "--db", &db, "--verify"], b"").fails();
    assert!(
        line.contains("tampered") && line.contains("entry 2"),
        "{line}"
    );
}

/// Edits audit entry 2 behind the service's back.
fn tamper(path: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite:{}", path.display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("UPDATE audit SET actor = 'someone else' WHERE seq = 2")
            .execute(&mut c)
            .await
            .unwrap();
    });
}

/// One HTTP/1.1 request to the admin API; returns the status line's code
/// and the body.
fn admin(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out[9..12].parse().unwrap();
    (
        code,
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

#[test]
fn tam_serve_admin_api_needs_a_private_token() {
    let t = temp();
    let pki = pki(t.path());
    let db = format!("sqlite:{}", t.path().join("tam.db").display());
    let token_file = t.path().join("token");
    std::fs::write(&token_file, "a-long-enough-admin-token\n").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let tf = token_file.to_str().unwrap();
    // Readable by others: refused.
    let run = otrp_p(
        &[
            &"tam",
            &"serve",
            &"--pki",
            &pki,
            &"--db",
            &db,
            &"--listen",
            &"127.0.0.1:0",
            &"--admin",
            &"127.0.0.1:0",
            &"--admin-token-file",
            &tf,
        ],
        b"",
    );
    assert!(run.fails().contains("chmod 600"));
    // No token at all: refused.
    let run = otrp_p(
        &[
            &"tam",
            &"serve",
            &"--pki",
            &pki,
            &"--db",
            &db,
            &"--listen",
            &"127.0.0.1:0",
            &"--admin",
            &"127.0.0.1:0",
        ],
        b"",
    );
    assert!(run.fails().contains("--admin-token-file"));

    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_server, mut lines) = serve(
        &pki,
        &db,
        &["--admin", "127.0.0.1:0", "--admin-token-file", tf],
    );
    lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let addr = second
        .strip_prefix("admin API listening on http://")
        .and_then(|a| a.strip_suffix("/v1"))
        .expect(&second)
        .to_string();
    assert_eq!(admin(&addr, "GET", "/v1/tas", None).0, 401);
    assert_eq!(
        admin(&addr, "GET", "/v1/tas", Some("a-long-enough-admin-tokeX")).0,
        401
    );
    let (code, body) = admin(&addr, "GET", "/v1/tas", Some("a-long-enough-admin-token"));
    assert_eq!((code, body.as_str()), (200, "[]"));
    let (code, body) = admin(
        &addr,
        "GET",
        "/v1/audit/verify",
        Some("a-long-enough-admin-token"),
    );
    assert_eq!(code, 200, "{body}");
}
