//! Envelope, broker-error, TBS request, content and DSI parsing: nothing may panic; what parses round-trips.
//! The body is `otrp_benches::fuzz::message_parse` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::message_parse(data));
