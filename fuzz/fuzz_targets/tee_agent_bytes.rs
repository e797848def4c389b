//! The TEE agent on arbitrary bytes, from the state after InstallTA.
//! The body is `otrp_benches::fuzz::tee_agent_bytes` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::tee_agent_bytes(data));
