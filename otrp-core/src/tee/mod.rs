//! The TEE side of OTrP (sections 9.1 to 9.3) without I/O: [`Tee`] takes a
//! signed request message and returns the signed response message.
//!
//! ```text
//! request bytes ──► Tee::handle(request, now) ──► response bytes
//!                      │  signature, TAM chain, OCSP (9.1.2)
//!                      │  dsihash, content decryption with the TEE key
//!                      │  the command's checks, in the spec's order
//!                      │  new state prepared ──► response encrypted under
//!                      │                         the request's CEK, signed
//!                      └─ one storage Commit (all or nothing)
//! ```
//!
//! [`Tee::ta_information`] answers the broker's GetTAInformation (6.4.2),
//! signed with the SP's TEE SP AIK ([`SpAikKeys::signer`]).
//!
//! Everything platform-specific is a hook ([`hooks`]): the TEE identity
//! (certificate, signing and CEK unwrapping with a key that may stay in
//! hardware), SP AIK keys, secure storage, TA decryption and verification,
//! firmware attestation and a clock. `otrp-tee-traits` re-exports them for
//! vendors; `otrp-soft-tee` implements them in software.
//!
//! State ([`TeeState`]) is one document in storage plus blobs. A request is
//! processed against a copy; only when the response is ready and signed is
//! the copy committed, so a failed request changes no SD or TA. After a
//! failed commit the agent reloads the state, since storage may have applied
//! it or not.
//!
//! Choices where the draft is loose (also in `docs/porting-a-tee.md`):
//! - `dsihash` is accepted when it is one of the hashes last issued to the
//!   requesting TAM (`edsi` document or response `dsi` bytes) and that TAM's
//!   view (SDs, TAs, SP AIKs; not `tfwdata`) has not changed since
//!   (9.2.2.2: "Compare dsihash with the TEE cached last response DSI data
//!   to this TAM"). After a change without `nextdsi` the TAM must query
//!   again.
//! - SD names are unique in the TEE; an SD of another TAM is
//!   `ERR_TAM_NOT_AUTHORIZED`. SP AIKs belong to a (tamid, spid) pair, since
//!   `spid` is unique only within a TAM (9.2.1.1).
//! - Revocation is checked for GetDeviceState (`ocspdat` is mandatory
//!   there); SD/TA requests carry no `ocspdat` and the spec says the status
//!   check "is generally not needed anymore" (9.2.2.2): their TAM chain is
//!   validated, and their `dsihash` can only match after a GetDeviceState.
//! - A request without `x5c` is verified with the cached signers (7.4.1).
//! - Refusals after the content was decrypted are answered inside the
//!   encrypted content (`reason` as the 7.6 object); earlier ones, and
//!   `ERR_UNSUPPORTED_CRYPTO_ALG` (which lists `supportedsigalgs`), in the
//!   signed 9.1.6 form.

mod agent;
mod commands;
mod error;
pub mod hooks;
mod query;
mod state;

pub use agent::{Tee, TeeConfig};
pub use error::{TeeError, TeeFault};
pub use hooks::{
    BlobId, Clock, Commit, Firmware, FirmwareError, HookError, NewSpAik, SecureStorage, SpAikKeys,
    StorageError, TaError, TaPlatform, TeeHooks, TeeIdentity, VerifiedTa,
};
pub use state::{
    IssuedDsi, STATE_FORMAT, SdRecord, SeenId, SignerRecord, SpAikRecord, StateError, TaRecord,
    TaVersion, TeeState,
};
