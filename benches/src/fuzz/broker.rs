//! `broker_route`: the OTrP Broker's routing ([`Broker::process`],
//! ProcessOTrPMessage, section 6.4.1) on any message bytes, with up to
//! three TEEs whose behaviour the input picks (issue 13). The broker never
//! verifies anything, so the properties are about routing: a request goes
//! to the TEE its payload names and to no other, GetDeviceState goes to
//! every TEE and the array holds exactly the answers that were
//! GetDeviceState responses, and everything else is an `OTrPBrokerError`
//! carrying the ids the request shows.

use std::cell::RefCell;
use std::rc::Rc;

use otrp_core::broker::{Answer, Broker, BrokerFailure, EndpointError, TeeEndpoint, routing_info};
use otrp_core::message::{
    BrokerError, Limits, MessageKind, ResponseMessage, TaQuery, parse_request,
};
use otrp_core::pki::UnixTime;

use super::scenarios;
use crate::fixtures::now;

/// The routing names of the TEEs the target can register: the scenario
/// TEE's name, another one, and the empty name.
pub const BROKER_TEES: [&str; 3] = [crate::soft::TEE_NAME, "tee-b", ""];

/// What a fuzzed TEE does with a request (two bits of the selector each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// Answers with a real signed response of the scenario, of the
    /// request's command (a GetDeviceState answer for GetDeviceState).
    Real,
    /// `ERR_AGENT_TEE_BUSY`.
    Busy,
    /// Cannot sign an answer.
    CannotAnswer,
    /// Answers with the request's own bytes (not a response).
    Echo,
}

/// A TEE that records the requests it was handed.
struct Fuzzed {
    behaviour: Behaviour,
    calls: Rc<RefCell<Vec<Vec<u8>>>>,
}

impl TeeEndpoint for Fuzzed {
    fn process(&mut self, request: &[u8], _now: UnixTime) -> Result<Vec<u8>, EndpointError> {
        self.calls.borrow_mut().push(request.to_vec());
        match self.behaviour {
            Behaviour::Real => {
                let kind = parse_request(request, &Limits::DEFAULT)
                    .map_or(MessageKind::GetDeviceState, |e| e.kind);
                Ok(scenarios()[1].step(kind).response.clone())
            }
            Behaviour::Busy => Err(EndpointError::Busy),
            Behaviour::CannotAnswer => Err(EndpointError::CannotAnswer),
            Behaviour::Echo => Ok(request.to_vec()),
        }
    }

    fn ta_information(&mut self, _: &TaQuery, _: UnixTime) -> Result<Vec<u8>, EndpointError> {
        Err(EndpointError::Busy)
    }
}

/// The first byte of a `broker_route` input: bits 0-1 the number of TEEs
/// registered (0 to 3, in [`BROKER_TEES`] order), bits 2-7 two bits of
/// behaviour per TEE (0 real answer, 1 busy, 2 cannot answer, 3 echo).
pub fn broker_selector(tees: usize, behaviours: [u8; 3]) -> u8 {
    (tees as u8 & 3)
        | (behaviours[0] & 3) << 2
        | (behaviours[1] & 3) << 4
        | (behaviours[2] & 3) << 6
}

/// `broker_route`: the first byte configures the TEEs
/// ([`broker_selector`]); the rest is the message from the TAM.
pub fn broker_route(data: &[u8]) {
    let Some((&sel, message)) = data.split_first() else {
        return;
    };
    let count = usize::from(sel & 3);
    let mut broker: Broker<Fuzzed> = Broker::new(Limits::DEFAULT);
    let mut calls = Vec::new();
    for (i, name) in BROKER_TEES.iter().take(count).enumerate() {
        let behaviour = match (sel >> (2 + 2 * i)) & 3 {
            0 => Behaviour::Real,
            1 => Behaviour::Busy,
            2 => Behaviour::CannotAnswer,
            _ => Behaviour::Echo,
        };
        let c = Rc::new(RefCell::new(Vec::new()));
        broker.register(
            *name,
            Fuzzed {
                behaviour,
                calls: c.clone(),
            },
        );
        calls.push((*name, behaviour, c));
    }
    let info = routing_info(message, &Limits::DEFAULT);
    let answer = broker.process(message, now());
    let called: Vec<&str> = calls
        .iter()
        .filter(|(_, _, c)| !c.borrow().is_empty())
        .map(|(n, _, _)| *n)
        .collect();
    // Whatever reached a TEE is the TAM's message, unchanged, once.
    for (name, _, c) in &calls {
        let c = c.borrow();
        assert!(c.len() <= 1, "TEE {name:?} got {} requests", c.len());
        assert!(
            c.iter().all(|m| m == message),
            "TEE {name:?} got other bytes"
        );
    }
    let bytes = answer.bytes();
    match answer {
        Answer::Tee { tee, response } => {
            let info = info.expect("routed, so it is a request");
            assert_ne!(info.kind, MessageKind::GetDeviceState);
            assert_eq!(info.tee.as_deref(), Some(tee.as_str()), "routed elsewhere");
            assert_eq!(called, [tee.as_str()], "only the named TEE is asked");
            assert_eq!(bytes, response);
        }
        Answer::DeviceState {
            answered,
            failed,
            response,
        } => {
            let info = info.expect("broadcast, so it is a request");
            assert_eq!(info.kind, MessageKind::GetDeviceState);
            assert_eq!(called.len(), count, "GetDeviceState goes to every TEE");
            assert_eq!(answered.len() + failed.len(), count);
            assert!(!answered.is_empty());
            for (name, behaviour, _) in &calls {
                assert_eq!(
                    answered.iter().any(|a| a == name),
                    *behaviour == Behaviour::Real,
                    "TEE {name:?}"
                );
            }
            match ResponseMessage::parse(&response, &Limits::DEFAULT) {
                Ok(ResponseMessage::DeviceState(array)) => {
                    assert_eq!(array.tees.len(), answered.len())
                }
                other => panic!("the array does not parse: {other:?}"),
            }
        }
        Answer::Error { error, reason } => {
            let parsed = BrokerError::parse(&bytes, &Limits::DEFAULT).expect("broker error parses");
            assert_eq!(parsed, error);
            match (&reason, &info) {
                (BrokerFailure::NotARequest(_), Err(_)) => {
                    assert!(called.is_empty());
                    assert!(error.rid.as_str().is_empty() && error.tid.as_str().is_empty());
                }
                (BrokerFailure::NotARequest(_), Ok(_)) => {
                    panic!("routing_info reads a request process refused")
                }
                (_, Err(_)) => panic!("{reason}: but the message is not a request"),
                (_, Ok(info)) => {
                    assert!(error.rid.matches(&info.rid) && error.tid.matches(&info.tid));
                    match reason {
                        BrokerFailure::NoTeeNamed
                        | BrokerFailure::UnknownTee(_)
                        | BrokerFailure::NoTees => assert!(called.is_empty()),
                        BrokerFailure::Endpoint { tee, .. } => assert_eq!(called, [tee.as_str()]),
                        BrokerFailure::NoAnswer => assert_eq!(called.len(), count),
                        _ => {}
                    }
                }
            }
        }
    }
}
