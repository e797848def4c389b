//! Issue 14, item 1: many `otrp tee handle` processes on one state
//! directory at once. The storage lock makes them take turns: the state
//! stays authenticated, every "pass" is in `tee show`, and every replayed
//! request is refused. Without the lock this test loses updates (an SD
//! reported created is missing), accepts replays, or corrupts the state.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command as Process, Stdio};

use otrp_core::message::ErrorCode;
use otrp_core::tam::{Command, Event, TamSession};
use support::*;

/// Runs `otrp tee handle --state STATE` once per request, all at once;
/// returns (exit status, stdout, stderr) of each, in order.
fn handle_all(state: &Path, requests: &[Vec<u8>]) -> Vec<(i32, Vec<u8>, String)> {
    let children: Vec<_> = requests
        .iter()
        .map(|request| {
            let mut child = Process::new(env!("CARGO_BIN_EXE_otrp"))
                .args(["tee", "handle", "--wait", "120", "--state"])
                .arg(state)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(request).unwrap();
            child
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                out.stdout,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

fn sd_names(state: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&otrp_p(&[&"tee", &"show", &"--state", &state, &"--json"], b"").ok())
            .unwrap();
    let mut names: Vec<String> = json["sds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sd| sd["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Brings every session whose `done` is false to its goal: each round, all
/// at once, the sessions learn the device (GetDeviceState) and then send
/// their command (`command(k)`). A command built on a device state that
/// another process changed meanwhile is refused with
/// ERR_DEV_STATE_MISMATCH (exit 3) and retried in the next round; every
/// process either passes or is refused with a signed answer. Returns every
/// request sent, and which sessions passed in which order.
fn converge(
    state: &Path,
    sessions: &mut [TamSession<'_>],
    command: impl Fn(usize) -> Command,
) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    let mut done = vec![false; sessions.len()];
    for _round in 0..(2 * sessions.len() + 4) {
        let todo: Vec<usize> = (0..sessions.len()).filter(|k| !done[*k]).collect();
        if todo.is_empty() {
            return sent;
        }
        // Learn the device, all at once.
        let requests: Vec<Vec<u8>> = todo
            .iter()
            .map(|k| sessions[*k].get_device_state().unwrap())
            .collect();
        sent.extend(requests.iter().cloned());
        for (k, (code, stdout, stderr)) in todo.iter().zip(handle_all(state, &requests)) {
            assert_eq!(code, 0, "GetDeviceState of session {k}: {stderr}");
            let event = sessions[*k].handle_response(&stdout, now()).unwrap();
            assert!(matches!(event, Event::DeviceState(_)), "{k}: {event:?}");
        }
        // The commands, all at once.
        let requests: Vec<Vec<u8>> = todo
            .iter()
            .map(|k| sessions[*k].command("soft-tee", command(*k)).unwrap())
            .collect();
        sent.extend(requests.iter().cloned());
        for (k, (code, stdout, stderr)) in todo.iter().zip(handle_all(state, &requests)) {
            assert!(
                !stdout.is_empty(),
                "session {k}: no signed answer: {stderr}"
            );
            let event = sessions[*k].handle_response(&stdout, now()).unwrap();
            match (code, &event) {
                (0, Event::Success { .. }) => done[*k] = true,
                (3, Event::TeeFailure(f)) => {
                    assert_eq!(f.code, ErrorCode::DevStateMismatch, "session {k}");
                    assert!(stderr.contains("ERR_DEV_STATE_MISMATCH"), "{stderr}");
                }
                _ => panic!("session {k}: exit {code}, {event:?}, {stderr}"),
            }
        }
    }
    panic!("the sessions did not converge: {done:?}");
}

#[test]
fn concurrent_handles_serialise_and_replays_are_refused() {
    const SDS: usize = 5;
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    let tam = tam(&pki);
    let spcert = cert(&pki.join("sp.cert.pem"));
    let mut sessions: Vec<TamSession<'_>> = (0..SDS).map(|_| TamSession::new(&tam)).collect();

    // Every CreateSD that passed is in the (authenticated) state.
    let mut sent = converge(&state, &mut sessions, |k| Command::CreateSd {
        spid: format!("sp{k}"),
        sdname: format!("sd{k}"),
        spcert: spcert.clone(),
    });
    let all: Vec<String> = (0..SDS).map(|k| format!("sd{k}")).collect();
    assert_eq!(sd_names(&state), all);

    // Half the SDs deleted concurrently; the others stay.
    let mut halves: Vec<TamSession<'_>> = (0..SDS / 2 + 1).map(|_| TamSession::new(&tam)).collect();
    sent.extend(converge(&state, &mut halves, |k| Command::DeleteSd {
        sdname: format!("sd{}", 2 * k),
        deleteta: false,
    }));
    let left: Vec<String> = (0..SDS)
        .filter(|k| k % 2 == 1)
        .map(|k| format!("sd{k}"))
        .collect();
    assert_eq!(sd_names(&state), left);

    // Every request sent, replayed at once: each refused with a signed
    // answer (exit 3), nothing changes.
    for (k, (code, stdout, stderr)) in handle_all(&state, &sent).iter().enumerate() {
        assert_eq!(*code, 3, "replay {k} not refused: {stderr}");
        assert!(!stdout.is_empty(), "replay {k}: no signed refusal");
        assert!(
            stderr.starts_with("otrp: error: the TEE refused: "),
            "{stderr}"
        );
    }
    assert_eq!(sd_names(&state), left);
}

#[test]
fn a_busy_state_directory_fails_fast_with_wait_0() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    let held = otrp_soft_tee::DirLock::acquire(
        &state.join("storage"),
        otrp_soft_tee::LockMode::Exclusive,
        std::time::Duration::ZERO,
    )
    .unwrap();
    let request = TamSession::new(&tam(&pki)).get_device_state().unwrap();
    let started = std::time::Instant::now();
    let run = otrp_p(
        &[&"tee", &"handle", &"--wait", &"0", &"--state", &state],
        &request,
    );
    let line = run.fails();
    assert_eq!(run.code, 1);
    assert!(line.contains("is in use by another process"), "{line}");
    let line = otrp_p(&[&"tee", &"show", &"--wait", &"0", &"--state", &state], b"").fails();
    assert!(line.contains("is in use"), "{line}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    drop(held);
    otrp_p(&[&"tee", &"handle", &"--state", &state], &request).ok();
}
