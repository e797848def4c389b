//! Exact instruction counts of the protocol paths and of their raw
//! primitives, measured with callgrind: repeatable on a loaded machine,
//! unlike wall-clock time, so CI can hold them to a baseline.
//!
//! ```text
//! instructions check [--update] [--baseline FILE] [--providers a,b]
//! instructions run PROVIDER rsa|ec        (what `check` runs under valgrind)
//! ```
//!
//! `check` builds nothing: it runs this binary under
//! `valgrind --tool=callgrind` once per provider and key kind. `run` sets
//! every operation up, runs it once to warm up (caches, lazy statics, as in
//! criterion's steady state), then once more inside [`measured`]: callgrind
//! counts instructions only there (`--toggle-collect`) and dumps a profile
//! after each call (`--dump-after`), so the n-th dump is the n-th operation
//! `run` announced on stdout. The paths are those of the criterion
//! benchmarks: `jws_verify_1k`, `tee/<Command>`, `tam/<Command>` (TA images
//! of 4 KiB) and `install_ta` with a 1 MiB TA, each as `otrp` (the
//! protocol path) and `raw` (the primitive calls it made, replayed; for
//! `install_ta` base64 decoding plus AES-256-CBC).
//!
//! `check` compares every count with the baseline file (default
//! `benches/instructions.baseline`: one `name count` per line) and fails
//! (exit 1) if any is more than 2 % above it; `--update` rewrites the file
//! with the counts measured (`docs/performance.md`, "Instruction counts").

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use otrp_benches::fixtures::cert;
use otrp_benches::install::{ciphertadata, raw_decode_decrypt};
use otrp_benches::measure::{tam_calls, tee_calls};
use otrp_benches::{Kind, Scenario, now, providers};
use otrp_conformance::keys::TestKeys;
use otrp_core::crypto::{JwsAlg, Provider};
use otrp_core::jose::{Header, Jws};
use otrp_core::message::MessageKind;
use otrp_core::tam::TamSession;

/// The most an instruction count may exceed its baseline.
const TOLERANCE: f64 = 0.02;
/// The TA size of the `install_ta` path.
const INSTALL_TA_BYTES: usize = 1 << 20;

/// The one function callgrind counts instructions in (with its callees).
#[inline(never)]
fn measured(f: &mut dyn FnMut()) {
    f();
}

/// Runs `op` once to warm up, then once measured, announcing `name`.
fn op(name: String, mut op: impl FnMut()) {
    op_batched(name, || (), |()| op());
}

/// [`op`] on an input made by `setup`, as criterion's `iter_batched`:
/// neither `setup` nor dropping the output is measured (the input is, when
/// `routine` drops it).
fn op_batched<S, R>(name: String, mut setup: impl FnMut() -> S, mut routine: impl FnMut(S) -> R) {
    black_box(routine(setup()));
    println!("op {name}");
    let mut input = Some(setup());
    let mut output = None;
    measured(&mut || output = input.take().map(&mut routine));
    drop(black_box(output));
}

fn run(provider_name: &str, kind: Kind) {
    let provider = providers::all()
        .into_iter()
        .find(|(n, _)| *n == provider_name)
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("{provider_name}: not a provider of providers::all()"));
    // A seeded random source: the same keys, IVs and ephemeral points in
    // every run, so that variable-time public-key arithmetic counts the
    // same instructions each time.
    let provider = otrp_benches::random::seeded(provider, "instructions");
    let p = provider_name;
    let k = kind.dir();
    jws_verify(p, provider, kind);
    let s = Scenario::run(kind, provider, 4096);
    let rng = s.tee.provider.secure_random;
    for step in &s.steps {
        let calls = tee_calls(&s, step);
        let name = format!("tee/{p}/{k}/{:?}", step.kind);
        op_batched(
            format!("{name}/otrp"),
            || s.tee.open(step.tee_before.snapshot()),
            |mut tee| tee.handle(black_box(&step.request), now()).expect("answer"),
        );
        op(format!("{name}/raw"), || calls.replay(rng));
    }
    for step in &s.steps {
        let calls = tam_calls(&s, step);
        let name = format!("tam/{p}/{k}/{:?}", step.kind);
        op_batched(
            format!("{name}/otrp"),
            || TamSession::resume(&s.tam, step.tam_before.clone()),
            |mut session| {
                session
                    .handle_response(black_box(&step.response), now())
                    .expect("accepted")
            },
        );
        op(format!("{name}/raw"), || calls.replay(rng));
    }
    if kind == Kind::Rsa {
        let s = Scenario::run(kind, provider, INSTALL_TA_BYTES);
        let step = s.step(MessageKind::InstallTa);
        let text = ciphertadata(&s);
        let name = format!("install_ta/{p}/1MiB");
        op_batched(
            format!("{name}/otrp"),
            || s.tee.open(step.tee_before.snapshot()),
            |mut tee| tee.handle(black_box(&step.request), now()).expect("answer"),
        );
        op(format!("{name}/raw"), || {
            black_box(raw_decode_decrypt(&text));
        });
    }
    // Keep the test-pki fixture loader linked in the same way as the
    // criterion benchmarks (chain certificates come from it).
    black_box(cert(kind, "tam-root"));
}

/// JWS verification of a 1 KiB payload against the bare signature check.
fn jws_verify(p: &str, provider: Provider, kind: Kind) {
    let alg = match kind {
        Kind::Rsa => JwsAlg::Rs256,
        Kind::Ec => JwsAlg::Es256,
    };
    let keys = TestKeys::load(&provider);
    let jws = Jws::sign(
        &[b'a'; 1024],
        keys.signer(alg),
        alg,
        Header::new(),
        None,
        &provider,
    )
    .expect("sign");
    let text = jws.to_flattened_json().expect("json");
    let compact = jws.to_compact().expect("compact");
    let (input, sig) = compact.rsplit_once('.').expect("compact");
    let sig = otrp_core::jose::b64::decode_url(sig, "sig").expect("sig");
    let public = keys.verifier(alg);
    let verifier = provider.signature_verifier(alg).expect("verifier");
    let name = format!("jws_verify_1k/{p}/{alg}");
    op(format!("{name}/otrp"), || {
        let jws = Jws::parse(black_box(text.as_bytes())).expect("parse");
        black_box(jws.verify(&provider, public, &[alg]).expect("verify"));
    });
    op(format!("{name}/raw"), || {
        verifier
            .verify(public, black_box(input.as_bytes()), &sig)
            .expect("verify");
    });
}

/// Runs `run` under callgrind and returns `(name, instructions)` in order.
fn measure(exe: &Path, provider: &str, kind: &str, dir: &Path) -> Vec<(String, u64)> {
    let out = dir.join(format!("cg.{provider}.{kind}"));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--toggle-collect=instructions::measured")
        .arg("--dump-after=instructions::measured")
        .arg("--compress-strings=no")
        .arg(exe)
        .args(["run", provider, kind])
        .output()
        .expect("valgrind (apt-get install valgrind)");
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("instructions run {provider} {kind} failed");
    }
    let names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("op ").map(String::from))
        .collect();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let part = PathBuf::from(format!("{}.{}", out.display(), i + 1));
            let text = std::fs::read_to_string(&part)
                .unwrap_or_else(|e| panic!("{}: {e}", part.display()));
            let total = text
                .lines()
                .find_map(|l| l.strip_prefix("totals: ").or(l.strip_prefix("summary: ")))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or_else(|| panic!("{}: no totals", part.display()));
            (name, total)
        })
        .collect()
}

fn read_baseline(path: &Path) -> BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, n) = l.split_once(' ')?;
            Some((name.to_string(), n.trim().parse().ok()?))
        })
        .collect()
}

fn check(args: &[String]) -> ExitCode {
    let mut update = false;
    let mut baseline = PathBuf::from("benches/instructions.baseline");
    let mut only: Option<Vec<String>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--update" => update = true,
            "--baseline" => baseline = it.next().expect("--baseline FILE").into(),
            "--providers" => {
                only = Some(
                    it.next()
                        .expect("--providers a,b")
                        .split(',')
                        .map(String::from)
                        .collect(),
                )
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let exe = std::env::current_exe().expect("own path");
    let dir = std::env::temp_dir().join(format!("otrp-instructions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let runs: Vec<(&str, &str)> = providers::all()
        .into_iter()
        .map(|(provider, _)| provider)
        .filter(|provider| {
            only.as_ref()
                .is_none_or(|o| o.iter().any(|p| p == provider))
        })
        .flat_map(|provider| [(provider, "rsa"), (provider, "ec")])
        .collect();
    // Each run is its own single-threaded valgrind process, and the counts
    // do not depend on what else runs: all of them at once use every core.
    let results: Vec<(String, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|&(provider, kind)| scope.spawn(|| measure(&exe, provider, kind, &dir)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a measurement panicked"))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let base = read_baseline(&baseline);
    let counts: BTreeMap<&str, u64> = results.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let mut failed = 0;
    println!(
        "| path | otrp | raw | otrp / raw | baseline (otrp) | change |\n|---|---:|---:|---:|---:|---:|"
    );
    for (name, count) in &results {
        let Some(path) = name.strip_suffix("/otrp") else {
            continue;
        };
        let raw = counts.get(format!("{path}/raw").as_str()).copied();
        let ratio = raw.map_or(String::new(), |r| {
            format!("{:.3}", *count as f64 / r as f64)
        });
        let change = base
            .get(name)
            .map_or("new".to_string(), |b| format!("{:+.2}%", pct(*count, *b)));
        println!(
            "| {path} | {count} | {} | {ratio} | {} | {change} |",
            raw.map_or(String::new(), |r| r.to_string()),
            base.get(name).map_or(String::new(), |b| b.to_string()),
        );
    }
    for (name, count) in &results {
        if let Some(b) = base.get(name)
            && *count as f64 > *b as f64 * (1.0 + TOLERANCE)
        {
            eprintln!(
                "REGRESSION {name}: {count} instructions, baseline {b} ({:+.2}% > {}%)",
                pct(*count, *b),
                TOLERANCE * 100.0
            );
            failed += 1;
        }
    }
    if update {
        let mut text = String::from(
            "# Instruction counts (callgrind) of `instructions run`: name count.\n\
             # Regenerate: docs/performance.md, \"Instruction counts\".\n",
        );
        let mut merged = base.clone();
        merged.extend(results.iter().map(|(n, c)| (n.clone(), *c)));
        for (n, c) in merged {
            text.push_str(&format!("{n} {c}\n"));
        }
        std::fs::write(&baseline, text).expect("write the baseline");
        println!("baseline {} updated", baseline.display());
        return ExitCode::SUCCESS;
    }
    if failed > 0 {
        eprintln!("{failed} instruction count(s) regressed by more than 2 %");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn pct(count: u64, base: u64) -> f64 {
    (count as f64 / base as f64 - 1.0) * 100.0
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") if args.len() == 3 => {
            let kind = if args[2] == "ec" { Kind::Ec } else { Kind::Rsa };
            run(&args[1], kind);
            ExitCode::SUCCESS
        }
        Some("check") => check(&args[1..]),
        _ => {
            eprintln!(
                "usage: instructions check [--update] [--baseline FILE] [--providers a,b]\n       instructions run PROVIDER rsa|ec"
            );
            ExitCode::from(2)
        }
    }
}
