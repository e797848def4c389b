//! Support shared by the otrp benchmarks (`benches/`) and the cargo-fuzz
//! targets (`fuzz/`): test-pki fixtures and a seeded random source
//! (re-exported from `otrp-test-support`), an in-memory file system for the
//! soft TEE, a soft TEE assembled from shared keys
//! (cheap to reopen from a storage snapshot), a full TAM-to-TEE lifecycle
//! with the state before every step, the providers under test, and a
//! recording provider that captures every primitive call of one protocol
//! operation so that the benchmarks can replay exactly those calls as the
//! "raw" baseline.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod fuzz;
pub mod install;
pub mod measure;
pub mod memfs;
pub mod preauth;
pub mod providers;
pub mod record;
pub mod scenario;
pub mod soft;

/// The test-pki fixtures and the seeded random source, from the workspace's
/// one copy of test support.
pub use otrp_test_support::{fixtures, random};

pub use fixtures::{Kind, now};
pub use memfs::MemFs;
pub use scenario::{Scenario, Step};
pub use soft::TeeParts;
