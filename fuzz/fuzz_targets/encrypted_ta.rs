//! encrypted_ta decoding: the InstallTA/UpdateTA member, its key unwrapped with fixed keys, the TA data decrypted as the soft TEE does.
//! The body is `otrp_benches::fuzz::encrypted_ta` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::encrypted_ta(data));
