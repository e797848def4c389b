//! Any bytes into every JOSE parser: JWS and JWE in all serializations, JWK
//! and headers. Nothing may panic; what parses must serialize and re-parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otrp_core::jose::{Header, Jwe, Jwk, Jws};

fuzz_target!(|data: &[u8]| {
    if let Ok(jws) = Jws::parse(data) {
        let again = Jws::parse_json(jws.to_general_json().as_bytes()).expect("re-parse JWS");
        assert_eq!(again.signatures().len(), jws.signatures().len());
        let _ = jws.to_compact();
        let _ = jws.to_flattened_json();
    }
    if let Ok(jwe) = Jwe::parse(data) {
        let again = Jwe::parse_json(jwe.to_general_json().as_bytes()).expect("re-parse JWE");
        assert_eq!(again.recipients().len(), jwe.recipients().len());
        let _ = jwe.to_compact();
    }
    if let Ok(jwk) = Jwk::from_json(data) {
        let _ = jwk.to_public_key();
    }
    let _ = Header::from_json(data);
});
