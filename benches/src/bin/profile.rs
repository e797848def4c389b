//! Runs one protocol operation in a loop, for a profiler (`perf record`):
//! where the time of a benchmark goes, beyond its raw primitives.
//!
//! `cargo run --release -p otrp-benches --bin profile -- tee|tam PROVIDER rsa|ec COMMAND ITERATIONS [TA_BYTES]`
//!
//! e.g. `perf record --call-graph dwarf target/release/profile tee rustcrypto rsa InstallTa 20 1048576`

use otrp_benches::{Kind, Scenario, now, providers};
use otrp_core::tam::TamSession;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!("usage: profile tee|tam PROVIDER rsa|ec COMMAND ITERATIONS [TA_BYTES]");
        std::process::exit(2);
    }
    let provider = providers::all()
        .into_iter()
        .find(|(n, _)| *n == args[1])
        .map(|(_, p)| p)
        .expect("a provider of providers::all()");
    let kind = if args[2] == "ec" { Kind::Ec } else { Kind::Rsa };
    let n: usize = args[4].parse().expect("iterations");
    let ta: usize = args.get(5).map_or(4096, |s| s.parse().expect("TA bytes"));
    let s = Scenario::run(kind, provider, ta);
    let step = s
        .steps
        .iter()
        .find(|st| format!("{:?}", st.kind) == args[3])
        .expect("a command name such as InstallTa");
    for _ in 0..n {
        if args[0] == "tam" {
            let mut session = TamSession::resume(&s.tam, step.tam_before.clone());
            std::hint::black_box(session.handle_response(&step.response, now()).expect("ok"));
        } else {
            let mut tee = s.tee.open(step.tee_before.snapshot());
            std::hint::black_box(tee.handle(&step.request, now()).expect("ok"));
        }
    }
}
