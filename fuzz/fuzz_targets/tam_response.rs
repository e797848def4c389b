//! The TAM's `TamSession::handle_response` on structure-aware mutations of the TEE's answers: the fuzzed TBS response is signed (and its `edsi`/`content` optionally encrypted) inside the target with the fixture TEE key, so fuzzing gets past the signature.
//! The body is `otrp_benches::fuzz::tam_response` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::tam_response(data));
