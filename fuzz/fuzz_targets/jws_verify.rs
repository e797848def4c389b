//! Any bytes as a JWS, verified with the fixture TAM and TEE keys under every algorithm.
//! The body is `otrp_benches::fuzz::jws_verify` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::jws_verify(data));
