//! InstallTA with 1 MiB and 16 MiB TA images (RS256, RSA1_5 content key,
//! the TA key in a JWE to the SP AIK, AES-256-CBC TA data), for every
//! provider:
//!
//! - `otrp`: the TEE agent handling the request (soft TEE, in-memory
//!   storage restored before each iteration);
//! - `raw`: base64 decode of `ciphertadata` plus AES-256-CBC decryption,
//!   the work the TA bytes need at the least (target: otrp at least 50% of
//!   its throughput);
//! - `primitives`: every primitive call the request made, replayed (the
//!   TA signature's SHA-256 over the image and the storage sealing
//!   included), for the protocol overhead.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use otrp_benches::install::{SIZES, ciphertadata, image_len, raw_decode_decrypt};
use otrp_benches::measure::tee_calls;
use otrp_benches::{Kind, Scenario, now, providers};
use otrp_core::message::MessageKind;
use std::hint::black_box;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    for (name, provider) in providers::all() {
        for size in SIZES {
            let s = Scenario::run(Kind::Rsa, provider, size);
            let step = s.step(MessageKind::InstallTa);
            let text = ciphertadata(&s);
            let calls = tee_calls(&s, step);
            let mut g = c.benchmark_group(format!("install_ta/{name}/{}MiB", size >> 20));
            g.throughput(Throughput::Bytes(image_len(&text) as u64));
            g.sample_size(10);
            g.bench_function("otrp", |b| {
                b.iter_batched(
                    || s.tee.open(step.tee_before.snapshot()),
                    |mut tee| tee.handle(black_box(&step.request), now()).expect("answer"),
                    BatchSize::PerIteration,
                )
            });
            g.bench_function("raw", |b| b.iter(|| raw_decode_decrypt(black_box(&text))));
            g.bench_function("primitives", |b| {
                b.iter(|| calls.replay(provider.secure_random))
            });
            g.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
}

criterion_group! {
    name = install_ta;
    config = config();
    targets = benches
}
criterion_main!(install_ta);
