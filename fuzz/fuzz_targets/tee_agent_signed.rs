//! The TEE agent on structure-aware mutations of valid signed requests: the fuzzed TBS payload is signed with the fixture TAM key, so fuzzing gets past the signature.
//! The body is `otrp_benches::fuzz::tee_agent_signed` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::tee_agent_signed(data));
