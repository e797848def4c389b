//! Protocol cost against the raw primitives, on the same backend in the
//! same run, for every provider of `otrp_benches::providers::all()`:
//!
//! - `gds_verify`: TEE-side verification of a GetDeviceStateRequest (RS256
//!   and ES256, x5c chain of two: chain validation + JWS) against the raw
//!   signature verifications it needs;
//! - `tee`: the TEE agent (soft TEE, in-memory storage restored before
//!   every iteration) handling each of the seven requests;
//! - `tam`: the TAM session processing each response.
//!
//! "raw" replays exactly the primitive calls (signatures, key transport,
//! content ciphers, digests, key parsing, random draws, the soft TEE's TA
//! cipher and SP AIK generation) that the operation made, recorded once
//! with a recording provider. `otrp / raw - 1` is the protocol overhead.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use otrp_benches::fixtures::cert;
use otrp_benches::measure::{tam_calls, tee_calls, verify_request, verify_request_calls};
use otrp_benches::{Kind, Scenario, now, providers};
use otrp_core::crypto::Provider;
use otrp_core::message::MessageKind;
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::TamSession;
use std::hint::black_box;
use std::time::Duration;

fn gds_verify(c: &mut Criterion, name: &str, provider: Provider, s: &Scenario) {
    let anchors =
        TrustAnchors::from_certificates([cert(s.kind, "tam-root").as_slice()]).expect("TAM root");
    let request = &s.step(MessageKind::GetDeviceState).request;
    let calls = verify_request_calls(provider, &anchors, request);
    let mut g = c.benchmark_group(format!("gds_verify/{name}/{}", s.kind.sig_alg()));
    g.bench_function("otrp", |b| {
        b.iter(|| verify_request(&provider, &anchors, black_box(request)))
    });
    g.bench_function("raw", |b| b.iter(|| calls.replay(provider.secure_random)));
    g.finish();
}

fn tee(c: &mut Criterion, name: &str, s: &Scenario) {
    for step in &s.steps {
        let calls = tee_calls(s, step);
        let rng = s.tee.provider.secure_random;
        let mut g = c.benchmark_group(format!("tee/{name}/{}/{:?}", s.kind.dir(), step.kind));
        g.bench_function("otrp", |b| {
            b.iter_batched(
                || s.tee.open(step.tee_before.snapshot()),
                |mut tee| tee.handle(black_box(&step.request), now()).expect("answer"),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("raw", |b| b.iter(|| calls.replay(rng)));
        g.finish();
    }
}

fn tam(c: &mut Criterion, name: &str, s: &Scenario) {
    for step in &s.steps {
        let calls = tam_calls(s, step);
        let rng = s.tee.provider.secure_random;
        let mut g = c.benchmark_group(format!("tam/{name}/{}/{:?}", s.kind.dir(), step.kind));
        g.bench_function("otrp", |b| {
            b.iter_batched(
                || TamSession::resume(&s.tam, step.tam_before.clone()),
                |mut session| {
                    session
                        .handle_response(black_box(&step.response), now())
                        .expect("accepted")
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function("raw", |b| b.iter(|| calls.replay(rng)));
        g.finish();
    }
}

fn benches(c: &mut Criterion) {
    for (name, provider) in providers::all() {
        for kind in Kind::BOTH {
            let s = Scenario::run(kind, provider, 4096);
            gds_verify(c, name, provider, &s);
            if name == "rustcrypto" {
                // Verification only: ring verifies the same request.
                for (name, provider) in providers::signature_only() {
                    gds_verify(c, name, provider, &s);
                }
            }
            tee(c, name, &s);
            tam(c, name, &s);
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = protocol;
    config = config();
    targets = benches
}
criterion_main!(protocol);
