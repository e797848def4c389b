//! Work before authentication (issue 18 item 1): what a request that fails
//! authentication costs the TEE, next to a valid GetDeviceState on the same
//! provider (RustCrypto, RSA fixtures). Attacks, each with a zero
//! signature:
//!
//! - `x5c_610`: the leaf, 10 CA certificates of one name, 600 junk
//!   certificates (the request): refused by count before parsing;
//! - `x5c_8_same_name`: the leaf and 7 CA certificates of one name (within the
//!   count): refused for duplicate subject names before path building;
//! - `zero_signature`: the valid request with a zero signature: refused by
//!   the signature check, before chain building.
//!
//! And what a GetDeviceState answer that fails authentication costs the
//! TAM (`TamSession::handle_response`), next to a valid one: anyone can
//! encrypt an `edsi` to the TAM, so the attacks put their chain in the
//! DSI's `cacert` and sign with nothing (zero signature):
//!
//! - `cacert_610`: 10 CA certificates of one name and 600 junk ones;
//! - `cacert_8_same_name`: 7 CA certificates of one name;
//! - `zero_signature`: the valid DSI, zero signature.
//!
//! Run: `cargo bench -p otrp-benches --bench preauth`. The budget is each
//! attack at most 2x `valid` of its group; record runs in docs/security.md.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use otrp_benches::preauth::{
    bomb_610, device_state_step, forged_answer, forged_request, named_x, tee_root,
};
use otrp_benches::{Kind, MemFs, Scenario, now};
use otrp_core::message::MessageKind;
use otrp_core::tam::TamSession;
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let provider = otrp_crypto_rustcrypto::provider();
    let kind = Kind::Rsa;
    let s = Scenario::run(kind, provider, 4096);
    let valid = s.step(MessageKind::GetDeviceState).request.clone();
    let before = s.step(MessageKind::GetDeviceState).tee_before.clone();
    let leaf = otrp_benches::fixtures::cert(kind, "tam");
    let root = otrp_benches::fixtures::cert(kind, "tam-root");
    let mut x5c_610 = vec![leaf.clone()];
    x5c_610.extend(bomb_610(&root));
    let mut x5c_8 = vec![leaf];
    x5c_8.extend(named_x(7, &root));
    let cases: [(&str, Vec<u8>); 4] = [
        ("valid", valid.clone()),
        ("x5c_610", forged_request(&valid, Some(x5c_610))),
        ("x5c_8_same_name", forged_request(&valid, Some(x5c_8))),
        ("zero_signature", forged_request(&valid, None)),
    ];
    let mut g = c.benchmark_group("preauth/tee/rustcrypto/rsa");
    for (name, request) in &cases {
        g.bench_function(*name, |b| {
            b.iter_batched(
                || s.tee.open(MemFs::snapshot(&before)),
                |mut tee| tee.handle(black_box(request), now()).expect("answer"),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    // The TAM: a GetDeviceState answer, valid or forged (the fuzzing
    // scenario: RustCrypto over a seeded random source).
    let s = &otrp_benches::fuzz::scenarios()[0];
    let step = &s.steps[device_state_step(kind)];
    let tee_root = tee_root(kind);
    let tam_cases: [(&str, Vec<u8>); 4] = [
        ("valid", step.response.clone()),
        ("cacert_610", forged_answer(kind, Some(bomb_610(&tee_root)))),
        (
            "cacert_8_same_name",
            forged_answer(kind, Some(named_x(7, &tee_root))),
        ),
        ("zero_signature", forged_answer(kind, None)),
    ];
    let mut g = c.benchmark_group("preauth/tam/rustcrypto/rsa");
    for (name, response) in &tam_cases {
        let expect_ok = *name == "valid";
        g.bench_function(*name, |b| {
            b.iter_batched(
                || TamSession::resume(&s.tam, step.tam_before.clone()),
                |mut session| {
                    let r = session.handle_response(black_box(response), now());
                    assert_eq!(r.is_ok(), expect_ok, "{name}: {r:?}");
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(preauth, benches);
criterion_main!(preauth);
