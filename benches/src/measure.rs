//! The raw baselines of the protocol benchmarks: the primitive calls one
//! protocol operation makes, captured with a recording provider
//! ([`crate::record`]) on the same backend.

use otrp_core::crypto::Provider;
use otrp_core::jose::Jws;
use otrp_core::message::{Limits, parse_request};
use otrp_core::pki::{TrustAnchors, spki_of_certificate, validate_tam_chain};
use otrp_core::tam::TamSession;
use otrp_core::tee::Tee;

use crate::fixtures::now;
use crate::record::{Call, Calls, record, recording, wrap_tee_hooks};
use crate::scenario::{Scenario, Step};
use crate::soft::TeeParts;

/// The primitive calls of the TEE handling `step`'s request.
pub fn tee_calls(s: &Scenario, step: &Step) -> Calls {
    let base = s.tee.provider;
    let rec = recording(base);
    let parts = TeeParts::new(s.kind, rec);
    let hooks = wrap_tee_hooks(parts.hooks(step.tee_before.snapshot(), rec), base);
    let mut tee = Tee::open(parts.config().clone(), rec, hooks).expect("open");
    let (answer, calls) = record(|| tee.handle(&step.request, now()));
    answer.expect("a signed answer");
    calls
}

/// The primitive calls of the TAM processing `step`'s response.
pub fn tam_calls(s: &Scenario, step: &Step) -> Calls {
    let rec = recording(s.tee.provider);
    let tam = crate::scenario::tam(s.kind, rec);
    let mut session = TamSession::resume(&tam, step.tam_before.clone());
    let (event, calls) = record(|| session.handle_response(&step.response, now()));
    event.expect("the TAM accepts");
    calls
}

/// TEE-side verification of a request (9.1.2): envelope, JWS, the x5c
/// chain to `anchors` (7.4.1) and the signature; returns the payload. The
/// same public steps the agent takes before it looks at the payload.
pub fn verify_request(provider: &Provider, anchors: &TrustAnchors, request: &[u8]) -> Vec<u8> {
    let env = parse_request(request, &Limits::DEFAULT).expect("request");
    let jws = Jws::parse_json(env.jws_bytes()).expect("JWS");
    let sig = jws.signatures().first().expect("signature");
    let alg = sig.alg().expect("alg");
    let chain = sig.x5c().expect("x5c").expect("x5c present");
    let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let tam = validate_tam_chain(provider, anchors, &refs, now()).expect("chain");
    let spki = spki_of_certificate(tam.chain.end_entity()).expect("SPKI");
    let key = provider
        .key_loader
        .public_key_from_spki_der(&spki)
        .expect("key");
    jws.verify(provider, &key, &[alg]).expect("signature")
}

/// The signature verifications (certificate and JWS) [`verify_request`]
/// makes.
pub fn verify_request_calls(provider: Provider, anchors: &TrustAnchors, request: &[u8]) -> Calls {
    let rec = recording(provider);
    let (_, calls) = record(|| verify_request(&rec, anchors, request));
    calls.without(|c| !matches!(c, Call::Verify(..) | Call::Webpki(..)))
}
