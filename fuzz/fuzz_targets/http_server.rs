//! The otrp-http TAM server's request handling on raw HTTP request bytes, without sockets (`OfflineServer`): connections from two clients, with the soft TEE's answers, the session cookie and the body length filled in by the target.
//! The body is `otrp_benches::fuzz::http_server` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::http_server(data));
