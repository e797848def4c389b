//! The OTrP Broker's routing (ProcessOTrPMessage) on any message bytes, with up to three TEEs whose behaviour the first byte picks.
//! The body is `otrp_benches::fuzz::broker_route` (shared with the regression tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| otrp_benches::fuzz::broker_route(data));
