//! JWE decryption with fixed keys: RSA1_5 (RSA TEE/TAM key) and ECDH-ES+A128KW (EC TEE/TAM key).
//! The body is `otrp_benches::fuzz::jwe_decrypt` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::jwe_decrypt(data));
