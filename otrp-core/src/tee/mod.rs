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
//! Everything platform-specific is a hook ([`TeeHooks`]): the TEE identity
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
//! - SD names are unique per TAM (5.5, 9.2): another TAM's SD is simply
//!   not found (`ERR_SD_NOT_FOUND`), and no error or DSI reveals it. SP
//!   AIKs belong to a (tamid, spid) pair, since `spid` is unique only
//!   within a TAM (9.2.1.1).
//! - Revocation is established by GetDeviceState (`ocspdat`), per
//!   certificate and monotonically ([`crate::pki::OcspCache`], kept in the
//!   state); SD/TA requests carry no `ocspdat` and are accepted only from a
//!   certificate whose established status is good and fresh.
//! - A request without `x5c` is verified with the cached signers (7.4.1);
//!   none verifying is `ERR_TAM_NOT_TRUSTED`. A cached chain passed every
//!   check of its bytes when it was cached; at each request its path is
//!   verified again at the request's time against the current anchors. `x5c` holds at most
//!   [`crate::pki::MAX_CHAIN_CERTS`] certificates and the signature is
//!   verified before any chain is built.
//! - Refusals after the content was decrypted are answered inside the
//!   encrypted content (`reason` as the 7.6 object); earlier ones, and
//!   `ERR_UNSUPPORTED_CRYPTO_ALG` (which lists `supportedsigalgs`), in the
//!   signed 9.1.6 form.

mod agent;
mod commands;
mod error;
mod hooks;
mod query;
mod state;

pub use agent::{Tee, TeeConfig};
pub use error::{TeeError, TeeFault};
pub use hooks::{
    BlobId, BlobWriter, Clock, Commit, Firmware, FirmwareError, HookError, NewSpAik, SecureStorage,
    SpAikKeys, StorageError, TaError, TaPlatform, TaStream, TeeHooks, TeeIdentity, VerifiedTa,
};
pub use state::{
    IssuedDsi, STATE_FORMAT, SdRecord, SeenId, SignerRecord, SpAikRecord, StateError, TaFloor,
    TaRecord, TaVersion, TeeState,
};
