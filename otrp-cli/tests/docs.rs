//! docs/cli.md matches the binary (issue 14, item 9): every `otrp ...`
//! command line of the document names an existing command and only options
//! that command has; the options of the commands documented here appear in
//! their synopsis; and the "Scripting a TEE" set-up runs as written.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use support::*;

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md")).unwrap()
}

/// The subcommands `otrp PATH --help` lists.
fn subcommands(path: &[String]) -> BTreeSet<String> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = otrp(&args, b"").ok();
    let mut out = BTreeSet::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
        } else if in_commands {
            match line
                .strip_prefix("  ")
                .and_then(|l| l.split_whitespace().next())
            {
                Some(name) => {
                    out.insert(name.to_string());
                }
                None => in_commands = false,
            }
        }
    }
    out
}

/// The long options `otrp PATH --help` lists.
fn options(path: &[String]) -> BTreeSet<String> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    // Option lines: `  -v, --verbose...` or `      --state <STATE>`.
    otrp(&args, b"")
        .ok()
        .lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .filter_map(|l| {
            l.split([' ', ',', '='])
                .find(|w| w.starts_with("--"))
                .map(|w| w.trim_end_matches("...").to_string())
        })
        .collect()
}

/// Every `otrp ...` command in the document: (command path, its words).
fn documented() -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for line in doc().lines() {
        for part in line.split("&&") {
            let words: Vec<String> = part
                .split_whitespace()
                .take_while(|w| !matches!(*w, "|" | "<" | ">" | "&"))
                .map(|w| w.trim_matches('`').to_string())
                .collect();
            let Some(start) = words.iter().position(|w| w == "otrp") else {
                continue;
            };
            if start != 0 || !part.starts_with("    ") && !line.starts_with("    ") {
                continue;
            }
            let words = words[start + 1..].to_vec();
            let mut path = Vec::new();
            for w in &words {
                if subcommands(&path).contains(w) {
                    path.push(w.clone());
                } else {
                    break;
                }
            }
            out.push((path, words));
        }
    }
    out
}

#[test]
fn every_documented_command_line_is_accepted_by_the_binary() {
    let lines = documented();
    assert!(lines.len() >= 20, "{} command lines", lines.len());
    let mut seen = BTreeSet::new();
    for (path, words) in &lines {
        assert!(!path.is_empty(), "no command in `otrp {}`", words.join(" "));
        assert!(
            subcommands(path).is_empty(),
            "`otrp {}` is not a complete command",
            words.join(" ")
        );
        let known = options(path);
        for w in words.iter().flat_map(|w| w.split('|')) {
            let flag = w.trim_start_matches('[').split(['=', ']']).next().unwrap();
            if flag.starts_with("--") {
                assert!(
                    known.contains(flag),
                    "docs/cli.md: `otrp {}` has no option {flag} (it has {known:?})",
                    path.join(" ")
                );
            }
        }
        seen.insert(path.join(" "));
    }
    // Every option of these commands is in their synopsis.
    for cmd in [
        "pki init",
        "pki issue",
        "pki ocsp",
        "tee handle",
        "tee show",
        "inspect",
        "jose sign",
        "jose verify",
        "jose encrypt",
        "jose decrypt",
        "agent",
        "man",
    ] {
        let path: Vec<String> = cmd.split(' ').map(String::from).collect();
        let documented: BTreeSet<&str> = lines
            .iter()
            .filter(|(p, _)| *p == path)
            .flat_map(|(_, w)| w.iter().flat_map(|w| w.split('|')))
            .collect();
        for flag in options(&path) {
            if matches!(
                flag.as_str(),
                "--help" | "--version" | "--verbose" | "--quiet"
            ) {
                continue;
            }
            assert!(
                documented
                    .iter()
                    .any(|w| w.trim_start_matches('[').starts_with(flag.as_str())),
                "docs/cli.md does not show {flag} of `otrp {cmd}`"
            );
        }
    }
    assert!(seen.contains("demo") && seen.contains("agent"), "{seen:?}");
}

#[test]
fn the_scripting_example_runs_as_written() {
    let t = temp();
    let pki = t.path().join("pki");
    let tee = t.path().join("tee");
    // `otrp pki init pki && otrp tee init --pki pki --state tee`
    otrp_p(&[&"pki", &"init", &pki], b"").ok();
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &tee], b"").ok();
    let request = otrp_core::tam::TamSession::new(&tam(&pki))
        .get_device_state()
        .unwrap();
    let answer = t.path().join("answer.json");
    let run = otrp_p(&[&"tee", &"handle", &"--state", &tee], &request);
    std::fs::write(&answer, run.ok()).unwrap();
    let out = otrp_p(
        &[
            &"inspect",
            &answer,
            &"--key",
            &pki.join("tam.key.pem"),
            &"--key",
            &pki.join("tee.cert.pem"),
        ],
        b"",
    )
    .ok();
    assert!(out.contains("signature: VALID"), "{out}");
    assert!(
        doc().contains("otrp inspect answer.json --key pki/tam.key.pem --key pki/tee.cert.pem")
    );
}
