//! OTrP over HTTP (draft-ietf-teep-otrp-over-http-04): a TAM server and a
//! device agent client.
//!
//! The OTrP messages themselves are end-to-end signed and encrypted (JOSE);
//! this crate only carries them, following the draft:
//!
//! - **POST only** (section 4). The agent opens an exchange with an empty
//!   POST carrying `Accept: application/otrp+json` (5.1.1); every later POST
//!   carries the TEE's message with `Content-Type: application/otrp+json`
//!   (5.2). A 2xx response with a body is the TAM's next request for the
//!   TEE (5.3, 6.3); an empty 204 ends the exchange (6.2).
//! - **Security headers** on every response (section 4): `Cache-Control:
//!   no-store`, `X-Content-Type-Options: nosniff`, `Content-Security-Policy:
//!   default-src 'none'`, `Referrer-Policy: no-referrer` ([`SECURITY_HEADERS`]).
//! - **TLS** with certificate validation (RFC 2818, section 4 and 8) through
//!   rustls and its ring provider; the trust anchors are the caller's (no
//!   built-in web roots). Plain `http` only towards a loopback address, or
//!   with [`Agent::allow_insecure_http`].
//!
//! # The TAM server
//!
//! [`TamServer::start`] serves a [`Tam`](otrp_core::tam::Tam) on a
//! background thread. Each exchange is an HTTP session, identified by the
//! cookie [`SESSION_COOKIE`] the server hands out with its first answer; the
//! server drives one [`TamSession`](otrp_core::tam::TamSession) per HTTP
//! session. What the TAM does is the embedding program's choice: a
//! [`TamApp`] sees each [`Event`](otrp_core::tam::Event) and returns the
//! next [`Step`] (GetDeviceState, a [`Command`](otrp_core::tam::Command), or
//! the end). Request heads and bodies are bounded, reads time out,
//! sessions and connections are bounded in number overall and per client
//! address, sessions expire when idle, and a broken session ends alone
//! ([`ServerConfig`]). No single client can lock devices out: a flooding
//! client only evicts its own sessions, a session bound to its device (an
//! authenticated answer came back) is never evicted, answers from another
//! device are refused without ending the session, and an identical
//! duplicate of an answer gets the same reply (docs/http.md, "Staying
//! available"). Each session is a `tracing` span (`tam_session`) carrying
//! the peer, the device's did and, in its events, the message ids.
//!
//! # The agent
//!
//! [`Agent`] runs one exchange against a TAM URI and hands every TAM
//! message to a [`DeviceHandler`] (the TEE or the OTrP Broker in front of
//! it): any `FnMut(&[u8]) -> Result<Vec<u8>, HandlerError>` is one. An empty
//! answer from the handler ends the exchange (5.3).
//!
//! ```
//! use std::sync::Arc;
//! use otrp_core::tam::{DeviceState, Tam};
//! use otrp_http::{Agent, HandlerError, Input, ServerConfig, Step, TamApp, TamServer};
//!
//! /// Asks every device for its state, then ends.
//! struct Inventory;
//!
//! impl TamApp for Inventory {
//!     type Session = bool; // GetDeviceState sent?
//!     fn connect(&self, _peer: std::net::SocketAddr) -> bool {
//!         false
//!     }
//!     fn next(&self, sent: &mut bool, _device: &DeviceState, _input: Input<'_>) -> Step {
//!         if std::mem::replace(sent, true) { Step::End } else { Step::GetDeviceState }
//!     }
//! }
//!
//! /// Serves `tam` on an ephemeral loopback port and runs one exchange of
//! /// the agent, with `tee` answering the TAM's messages.
//! fn inventory(
//!     tam: Tam,
//!     mut tee: impl FnMut(&[u8]) -> Result<Vec<u8>, HandlerError>,
//! ) -> Result<(), Box<dyn std::error::Error>> {
//!     let server = TamServer::start(
//!         "127.0.0.1:0".parse()?,
//!         Arc::new(tam),
//!         Arc::new(Inventory),
//!         ServerConfig::default(),
//!     )?;
//!     let report = Agent::new(&server.url())?.run_blocking(&mut tee)?;
//!     assert!(report.ended_by_tam);
//!     println!("{} round trips", report.exchanges.len());
//!     server.shutdown();
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod agent;
mod offline;
mod secure_io;
mod server;
mod sessions;
mod stored;
mod tls;

pub use agent::{Agent, AgentError, AgentReport, DeviceHandler, Exchange, HandlerError};
pub use offline::OfflineServer;
pub use server::{Clock, Input, ServerConfig, ServerError, SessionEnd, Step, TamApp, TamServer};
pub use stored::{
    Admission, PersistentApp, SessionStore, SessionStoreError, StoredReply, StoredSession, Taken,
};
pub use tls::{ServerTls, TlsError};

/// rustls, for callers that build their own
/// [`ClientConfig`](rustls::ClientConfig) or
/// [`ServerConfig`](rustls::ServerConfig).
pub use rustls;

/// The OTrP media type (spec section 13, IANA considerations), used in
/// `Accept` and `Content-Type`.
pub const MEDIA_TYPE: &str = "application/otrp+json";

/// The cookie naming the HTTP session of an exchange (the draft leaves the
/// association of POSTs to a TAM session to the implementation).
pub const SESSION_COOKIE: &str = "otrp-session";

/// The headers every TAM response carries (draft section 4, after
/// draft-ietf-httpbis-bcp56bis 4.12): content is never active.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "default-src 'none'"),
    ("referrer-policy", "no-referrer"),
];

/// Whether a `Content-Type` value is [`MEDIA_TYPE`] (case-insensitive,
/// parameters ignored).
pub fn is_otrp_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case(MEDIA_TYPE)
}
