//! # otrp-tam
//!
//! A TAM service on the otrp protocol library (issue 15): the fleet's
//! desired state, a persistent device registry, anti-rollback, an audit log
//! and an operator interface. See `docs/tam-service.md`.
//!
//! - [`store::Store`]: everything kept, in SQLite or PostgreSQL (sqlx),
//!   with an embedded, versioned schema; every device step is one
//!   transaction saved conditionally on the device's revision.
//! - [`catalog`]: SP-signed TA images, verified at upload (SP certificate
//!   chain and signature; `taid` and version from the signed header).
//! - [`policy`]: the declarative desired state, one entry per TA.
//! - [`plan`]: the pure reconciler: inventory + policy + catalog +
//!   high-water marks give the commands to send and the refusals
//!   (downgrades).
//! - [`service::TamService`]: the reconciler as an [`otrp_http::TamApp`],
//!   one device session at a time.
//! - [`audit`]: the hash-chained audit log and its verification.
//! - [`report`]: the fleet report of `otrp tam devices`.
//! - [`admin`]: the admin HTTP API (axum, bearer token), with
//!   [`metrics`] (Prometheus) and the fleet [`status`] page.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admin;
pub mod audit;
pub mod catalog;
pub mod clock;
mod error;
pub mod inventory;
pub mod metrics;
pub mod plan;
pub mod policy;
pub mod report;
pub mod service;
pub mod status;
pub mod store;

pub use error::{Error, Result};
pub use service::{Note, NoteKind, Observer, ServiceConfig, TamService};
pub use store::Store;
