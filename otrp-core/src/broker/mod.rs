//! The OTrP Broker (sections 6, 7.8 and 10): the REE-side relay between a
//! Client Application and the TEEs of a device, without I/O.
//!
//! - [`Broker::process`] is ProcessOTrPMessage (6.4.1): it routes a TAM
//!   message to the right TEE without verifying or decrypting it. A
//!   `GetDeviceStateRequest` goes to every registered TEE and the answers
//!   are assembled into the `GetDeviceStateResponse` array (9.1.5); any
//!   other request goes to the TEE its signed payload names in `tee`
//!   (readable without decryption, 7.4). When the TEE is unknown,
//!   unreachable, busy or cannot sign, the answer is an unsigned
//!   `OTrPBrokerError` (section 10, Type 2) carrying the request's
//!   `rid`/`tid` when they can be read.
//! - [`Broker::ta_information`] is GetTAInformation (6.4.2): a [`TaQuery`]
//!   answered by the TEE with a [`TaInformationTbs`] signed with the SP's
//!   TEE SP AIK; [`verify_ta_information`] is the Client Application's
//!   check against an AIK public key it already holds.
//!
//! A TEE is reached through a [`TeeEndpoint`]; the TEE agent
//! ([`crate::tee::Tee`]) is one, and a platform broker would implement it
//! over its TEE driver.
//!
//! ```text
//!   TAM message ──► Broker::process ──┬─► GetDeviceState: every TEE ──► [answers]
//!                                     └─► other: payload's "tee" ──► that TEE's answer
//!                         unknown / unreachable / busy ──► OTrPBrokerError
//! ```
//!
//! A TEE that cannot answer gets the TAM an `OTrPBrokerError`:
//!
//! ```
//! use otrp_core::broker::{Answer, Broker, EndpointError, TeeEndpoint};
//! use otrp_core::message::{ErrorCode, Limits, TaQuery};
//! use otrp_core::pki::UnixTime;
//!
//! /// A TEE driver that is always busy.
//! struct Busy;
//!
//! impl TeeEndpoint for Busy {
//!     fn process(&mut self, _: &[u8], _: UnixTime) -> Result<Vec<u8>, EndpointError> {
//!         Err(EndpointError::Busy)
//!     }
//!     fn ta_information(&mut self, _: &TaQuery, _: UnixTime) -> Result<Vec<u8>, EndpointError> {
//!         Err(EndpointError::Busy)
//!     }
//! }
//!
//! let mut broker: Broker<Busy> = Broker::new(Limits::DEFAULT);
//! broker.register("tee-1", Busy);
//! let now = UnixTime::since_unix_epoch(core::time::Duration::from_secs(2_000_000_000));
//! let answer = broker.process(br#"{"GetDeviceStateRequest": {}}"#, now);
//! let Answer::Error { error, .. } = &answer else { panic!() };
//! assert_eq!(error.errcode, ErrorCode::AgentTeeBusy);
//! assert!(answer.bytes().starts_with(br#"{"OTrPBrokerError":"#));
//! ```
//!
//! [`TaInformationTbs`]: crate::message::TaInformationTbs
//! [`verify_ta_information`]: crate::message::verify_ta_information

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use crate::message::{
    BrokerError, Direction, Envelope, EnvelopeRef, ErrorCode, GetDeviceStateResponse, Limits,
    MessageId, MessageKind, TaInfoError, TaQuery, parse_request,
};
use crate::pki::UnixTime;
use crate::tee::Tee;

/// Why a TEE gave no answer to the broker. Each becomes an
/// `OTrPBrokerError` (section 10, Type 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The TEE is processing another request (`ERR_AGENT_TEE_BUSY`).
    #[error("the TEE is busy")]
    Busy,
    /// The TEE cannot be reached (`ERR_AGENT_TEE_BUSY`: it exists but does
    /// not answer).
    #[error("the TEE is unreachable: {0}")]
    Unreachable(String),
    /// The TEE could not produce a signed answer (section 10, Type 1: "If a
    /// TEE isn't able to sign a response, the TEE returns an error to the
    /// OTrP Broker without giving any other internal information").
    #[error("the TEE cannot answer")]
    CannotAnswer,
    /// GetTAInformation only: the TEE refused the query (unknown TA, no
    /// SP AIK, ...).
    #[error("TA query refused: {0}")]
    Query(TaInfoError),
}

impl EndpointError {
    /// The `OTrPBrokerError` code for this failure.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            EndpointError::Query(TaInfoError::TaNotFound) => ErrorCode::AgentTeeUnknown,
            _ => ErrorCode::AgentTeeBusy,
        }
    }
}

/// A TEE as the broker sees it: a place to hand OTrP requests and TA
/// queries to. `now` is passed through for TEEs that take the time from
/// the REE (the agent's [`crate::tee::Tee::handle`]).
pub trait TeeEndpoint {
    /// Hands one OTrP request message to the TEE and returns its response
    /// message (signed success or failure).
    fn process(&mut self, request: &[u8], now: UnixTime) -> Result<Vec<u8>, EndpointError>;

    /// Answers a GetTAInformation query (6.4.2) with the signed
    /// `TAInformation` message.
    fn ta_information(&mut self, query: &TaQuery, now: UnixTime) -> Result<Vec<u8>, EndpointError>;
}

impl<T: TeeEndpoint + ?Sized> TeeEndpoint for Box<T> {
    fn process(&mut self, request: &[u8], now: UnixTime) -> Result<Vec<u8>, EndpointError> {
        (**self).process(request, now)
    }

    fn ta_information(&mut self, query: &TaQuery, now: UnixTime) -> Result<Vec<u8>, EndpointError> {
        (**self).ta_information(query, now)
    }
}

/// The agent as a broker endpoint: requests go to [`Tee::handle`] (a
/// [`crate::tee::TeeFault`] is [`EndpointError::CannotAnswer`]), TA queries to
/// [`Tee::ta_information`].
impl TeeEndpoint for Tee {
    fn process(&mut self, request: &[u8], now: UnixTime) -> Result<Vec<u8>, EndpointError> {
        self.handle(request, now)
            .map_err(|_| EndpointError::CannotAnswer)
    }

    fn ta_information(&mut self, query: &TaQuery, now: UnixTime) -> Result<Vec<u8>, EndpointError> {
        Tee::ta_information(self, query, now).map_err(EndpointError::Query)
    }
}

/// Why the broker could not deliver a message; the reason behind an
/// `OTrPBrokerError` answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerFailure {
    /// The message is not an OTrP request envelope.
    #[error("not an OTrP request: {0}")]
    NotARequest(String),
    /// The request's signed payload names no TEE (no readable `tee`).
    #[error("the request names no TEE")]
    NoTeeNamed,
    /// No TEE of that name is registered.
    #[error("unknown TEE {0:?}")]
    UnknownTee(String),
    /// No TEE is registered at all (GetDeviceState).
    #[error("no TEE is registered")]
    NoTees,
    /// The TEE did not answer.
    #[error("TEE {tee:?}: {error}")]
    Endpoint {
        /// The TEE.
        tee: String,
        /// What went wrong.
        error: EndpointError,
    },
    /// GetDeviceState: no TEE answered.
    #[error("no TEE answered")]
    NoAnswer,
}

/// What [`Broker::process`] did with a message; [`Answer::bytes`] is what
/// the Client Application forwards to the TAM.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "the answer is the message to forward to the TAM"]
pub enum Answer {
    /// A single TEE's response message.
    Tee {
        /// The TEE the request went to.
        tee: String,
        /// Its response message.
        response: Vec<u8>,
    },
    /// The `GetDeviceStateResponse` array (9.1.5).
    DeviceState {
        /// The TEEs whose answers are in the array, in registration order.
        answered: Vec<String>,
        /// The TEEs that gave no answer.
        failed: Vec<(String, EndpointError)>,
        /// The assembled message.
        response: Vec<u8>,
    },
    /// An `OTrPBrokerError` (section 10, Type 2).
    Error {
        /// The message sent to the TAM.
        error: BrokerError,
        /// Why.
        reason: BrokerFailure,
    },
}

impl Answer {
    /// The message bytes for the TAM.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Answer::Tee { response, .. } | Answer::DeviceState { response, .. } => response.clone(),
            Answer::Error { error, .. } => error.to_vec(),
        }
    }

    /// Consumes the answer into the message bytes for the TAM.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Answer::Tee { response, .. } | Answer::DeviceState { response, .. } => response,
            Answer::Error { error, .. } => error.to_vec(),
        }
    }
}

/// What the broker can read of a request without verifying it (7.4): the
/// command, `rid`, `tid` and `tee`, each empty when unreadable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingInfo {
    /// The command, from the envelope name.
    pub kind: MessageKind,
    /// `rid` of the signed payload.
    pub rid: MessageId,
    /// `tid` of the signed payload.
    pub tid: MessageId,
    /// `tee` of the signed payload (absent in GetDeviceState).
    pub tee: Option<String>,
}

/// Reads the routing data of a request envelope without verification.
/// Never use the result for a trust decision: only the TEE verifies.
pub fn routing_info(message: &[u8], limits: &Limits) -> Result<RoutingInfo, BrokerFailure> {
    let env =
        parse_request(message, limits).map_err(|e| BrokerFailure::NotARequest(e.to_string()))?;
    Ok(routing_of(&env))
}

fn routing_of(env: &EnvelopeRef<'_>) -> RoutingInfo {
    let payload = env
        .parse_jws()
        .and_then(|jws| jws.unverified_payload())
        .ok();
    let value: Option<Value> = payload.and_then(|p| crate::json_reader::from_slice(&p).ok());
    let inner = value
        .as_ref()
        .and_then(Value::as_object)
        .filter(|m| m.len() == 1)
        .and_then(|m| m.values().next());
    let get = |k: &str| inner.and_then(|i| i.get(k)).and_then(Value::as_str);
    RoutingInfo {
        kind: env.kind,
        rid: MessageId::new(get("rid").unwrap_or("")),
        tid: MessageId::new(get("tid").unwrap_or("")),
        tee: get("tee").map(ToString::to_string),
    }
}

/// The OTrP Broker: a set of named TEEs and the routing rules of 6.4.1.
pub struct Broker<E: TeeEndpoint = Box<dyn TeeEndpoint>> {
    tees: Vec<(String, E)>,
    limits: Limits,
}

impl<E: TeeEndpoint> core::fmt::Debug for Broker<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Broker")
            .field("tees", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<E: TeeEndpoint> Default for Broker<E> {
    fn default() -> Self {
        Self::new(Limits::DEFAULT)
    }
}

impl<E: TeeEndpoint> Broker<E> {
    /// A broker with no TEE, reading requests under `limits`.
    pub fn new(limits: Limits) -> Self {
        Broker {
            tees: Vec::new(),
            limits,
        }
    }

    /// Registers `endpoint` under its routing name (the DSI's `tee.name`,
    /// which TAM requests carry in `tee`). A TEE of the same name is
    /// replaced and returned.
    pub fn register(&mut self, name: impl Into<String>, endpoint: E) -> Option<E> {
        let name = name.into();
        match self.tees.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => Some(core::mem::replace(old, endpoint)),
            None => {
                self.tees.push((name, endpoint));
                None
            }
        }
    }

    /// Removes the TEE `name`.
    pub fn unregister(&mut self, name: &str) -> Option<E> {
        let i = self.tees.iter().position(|(n, _)| n == name)?;
        Some(self.tees.remove(i).1)
    }

    /// The registered TEE names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tees.iter().map(|(n, _)| n.as_str())
    }

    /// The endpoint of TEE `name`.
    pub fn endpoint(&self, name: &str) -> Option<&E> {
        self.tees.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    /// The endpoint of TEE `name`, mutably.
    pub fn endpoint_mut(&mut self, name: &str) -> Option<&mut E> {
        self.tees
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    /// ProcessOTrPMessage (6.4.1): delivers a TAM message and returns the
    /// answer for the TAM. Never verifies or decrypts anything.
    pub fn process(&mut self, message: &[u8], now: UnixTime) -> Answer {
        let env = match parse_request(message, &self.limits) {
            Ok(env) => env,
            Err(e) => {
                // Best effort ids from a message that is not a request.
                return error_answer(
                    MessageId::new(""),
                    MessageId::new(""),
                    ErrorCode::AgentTeeUnknown,
                    BrokerFailure::NotARequest(e.to_string()),
                );
            }
        };
        let info = routing_of(&env);
        if info.kind == MessageKind::GetDeviceState {
            return self.broadcast(message, info, now);
        }
        let Some(tee) = info.tee.clone().filter(|t| !t.is_empty()) else {
            return error_answer(
                info.rid,
                info.tid,
                ErrorCode::AgentTeeUnknown,
                BrokerFailure::NoTeeNamed,
            );
        };
        let Some(endpoint) = self.endpoint_mut(&tee) else {
            return error_answer(
                info.rid,
                info.tid,
                ErrorCode::AgentTeeUnknown,
                BrokerFailure::UnknownTee(tee),
            );
        };
        match endpoint.process(message, now) {
            Ok(response) => Answer::Tee { tee, response },
            Err(error) => error_answer(
                info.rid,
                info.tid,
                error.error_code(),
                BrokerFailure::Endpoint { tee, error },
            ),
        }
    }

    /// GetDeviceState to every TEE; the answers that are
    /// `GetDeviceTEEStateResponse` envelopes form the array (9.1.5).
    fn broadcast(&mut self, message: &[u8], info: RoutingInfo, now: UnixTime) -> Answer {
        if self.tees.is_empty() {
            return error_answer(
                info.rid,
                info.tid,
                ErrorCode::AgentTeeUnknown,
                BrokerFailure::NoTees,
            );
        }
        let limits = self.limits;
        let mut envelopes = Vec::new();
        let mut answered = Vec::new();
        let mut failed = Vec::new();
        for (name, endpoint) in &mut self.tees {
            let result = endpoint.process(message, now).and_then(|bytes| {
                match Envelope::parse(&bytes, &limits) {
                    Ok(env)
                        if env.kind == MessageKind::GetDeviceState
                            && env.direction == Direction::Response =>
                    {
                        Ok(env)
                    }
                    _ => Err(EndpointError::CannotAnswer),
                }
            });
            match result {
                Ok(env) => {
                    envelopes.push(env);
                    answered.push(name.clone());
                }
                Err(e) => failed.push((name.clone(), e)),
            }
        }
        if envelopes.is_empty() {
            let code = failed
                .first()
                .map_or(ErrorCode::AgentTeeBusy, |(_, e)| e.error_code());
            return error_answer(info.rid, info.tid, code, BrokerFailure::NoAnswer);
        }
        let response = GetDeviceStateResponse { tees: envelopes }.to_vec();
        Answer::DeviceState {
            answered,
            failed,
            response,
        }
    }

    /// GetTAInformation (6.4.2): asks the TEE `tee` (or, with `None`, each
    /// TEE in turn until one knows the TA) for the signed `TAInformation`
    /// of `query`.
    pub fn ta_information(
        &mut self,
        tee: Option<&str>,
        query: &TaQuery,
        now: UnixTime,
    ) -> Result<Vec<u8>, BrokerFailure> {
        if let Some(name) = tee {
            let endpoint = self
                .endpoint_mut(name)
                .ok_or_else(|| BrokerFailure::UnknownTee(name.to_string()))?;
            return endpoint
                .ta_information(query, now)
                .map_err(|error| BrokerFailure::Endpoint {
                    tee: name.to_string(),
                    error,
                });
        }
        let mut last = BrokerFailure::NoTees;
        for (name, endpoint) in &mut self.tees {
            match endpoint.ta_information(query, now) {
                Ok(bytes) => return Ok(bytes),
                Err(error) => {
                    last = BrokerFailure::Endpoint {
                        tee: name.clone(),
                        error,
                    }
                }
            }
        }
        Err(last)
    }
}

fn error_answer(rid: MessageId, tid: MessageId, code: ErrorCode, reason: BrokerFailure) -> Answer {
    Answer::Error {
        error: BrokerError::new(rid, tid, code),
        reason,
    }
}
