//! The hooks a TEE vendor implements so that the agent ([`super::Tee`]) runs
//! on their trusted OS. Each trait does one job; private keys never have to
//! leave the TEE (signing and CEK unwrapping are [`JwsSigner`] and
//! [`CekDecrypter`] trait objects). `otrp-tee-traits` re-exports these
//! traits with a worked example for each.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::crypto::{CekDecrypter, JwsSigner, Provider, SecretBytes, SecureRandom};
use crate::message::{AikType, TaEncAlg, TfwData};
use crate::pki::UnixTime;

/// The TEE's own identity (spec 4.3, 4.4 item 2): its certificate chain,
/// and its private key for signing responses and unwrapping the CEKs of
/// request contents (7.5, 9.2.1.2).
pub trait TeeIdentity {
    /// The TEE certificate (DER); its SHA-256 is the `did` (9.2.1.1).
    fn certificate(&self) -> &[u8];
    /// The CA certificates from the TEE certificate's issuer up to the root
    /// (DER), the DSI's `cacert` (9.1.5).
    fn ca_certificates(&self) -> &[Vec<u8>];
    /// Signs responses with the TEE key (`TEEpriv`, 9.2.1.2 step 3).
    fn signer(&self) -> &dyn JwsSigner;
    /// Unwraps the CEK of a request's `content` with the TEE key.
    fn decrypter(&self) -> &dyn CekDecrypter;
}

/// A freshly generated TEE SP AIK key pair (7.8.1): its public half, and
/// the private half sealed for storage (wrapped by hardware, or a software
/// key encoding). The sealed form is kept by [`SecureStorage`] as a blob and
/// handed back to [`SpAikKeys::decrypter`] when a TA key must be unwrapped.
pub struct NewSpAik {
    /// The public key as DER SubjectPublicKeyInfo (`spaik`, `teespaik`).
    pub public_spki: Vec<u8>,
    /// `spaiktype`.
    pub kind: AikType,
    /// The sealed private key.
    pub sealed: SecretBytes,
}

impl fmt::Debug for NewSpAik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSpAik")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Why a hook could not do its job.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HookError {
    /// An internal failure (`ERR_TEE_FAIL`).
    #[error("TEE platform failure: {0}")]
    Failed(&'static str),
    /// A resource of the device is exhausted (`ERR_TEE_RESOURCE_FULL`).
    #[error("TEE resource exhausted: {0}")]
    ResourceFull(&'static str),
}

/// SP anonymous attestation keys (7.8.1): one key pair per SP, created with
/// the SP's first SD and deleted with its last (the agent drops the sealed
/// blob from storage in the same transaction).
pub trait SpAikKeys {
    /// Generates a new key pair, drawing randomness from `rng`.
    fn generate(&self, rng: &dyn SecureRandom) -> Result<NewSpAik, HookError>;
    /// The private key of a sealed SP AIK, for unwrapping an
    /// `encrypted_ta.key` (9.3.1.1).
    fn decrypter(&self, sealed: &[u8]) -> Result<Box<dyn CekDecrypter>, HookError>;
    /// The private key of a sealed SP AIK as a signer, for GetTAInformation
    /// (6.4.2: "The message is signed with TEE SP AIK private key"). The
    /// default refuses: a TEE without it cannot answer TA queries.
    fn signer(&self, sealed: &[u8]) -> Result<Box<dyn JwsSigner>, HookError> {
        let _ = sealed;
        Err(HookError::Failed("SP AIK signing not supported"))
    }
}

/// The name of a blob in [`SecureStorage`]: a TA binary, personalization
/// data or a sealed SP AIK.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct BlobId(pub String);

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One atomic change of the TEE's persistent state: the new state document,
/// blobs to write and blobs no longer referenced. A storage applies all of
/// it or nothing: after a crash at any point, [`SecureStorage::load`] must
/// give either the previous document (and its blobs) or this one.
#[derive(Debug)]
pub struct Commit<'a> {
    /// The complete new state document ([`super::TeeState::to_bytes`]).
    pub state: &'a [u8],
    /// New blobs (plaintext: the storage protects them at rest, 9.3.1 "the
    /// TEE re-encrypts the TA binary and its personalization data").
    pub put: Vec<(BlobId, &'a [u8])>,
    /// Blobs the new state no longer references.
    pub delete: Vec<BlobId>,
    /// New blobs already written through [`SecureStorage::stage_blob`]
    /// (a TA streamed in chunks): durable, and named by the state from this
    /// commit on.
    pub staged: Vec<BlobId>,
}

/// A blob written in pieces before the commit that names it
/// ([`SecureStorage::stage_blob`]), so that a large TA reaches storage in
/// chunks instead of as one buffer.
pub trait BlobWriter {
    /// Appends the next piece (plaintext: the storage protects it at rest).
    fn write(&mut self, piece: &[u8]) -> Result<(), StorageError>;
    /// The last piece was written: makes the blob durable. It is part of
    /// the state only once a [`Commit`] lists it in `staged`; until then a
    /// crash or [`SecureStorage::discard_staged`] drops it.
    fn finish(self: Box<Self>) -> Result<(), StorageError>;
}

/// Why storage failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// No space left (`ERR_TEE_RESOURCE_FULL`).
    #[error("secure storage is full")]
    Full,
    /// A read or write failed (`ERR_TEE_FAIL`). After a failed commit the
    /// agent reloads the state, since the commit may or may not have taken
    /// effect.
    #[error("secure storage failure: {0}")]
    Io(String),
    /// Stored data does not authenticate or parse.
    #[error("secure storage is corrupt: {0}")]
    Corrupt(String),
    /// A blob the state refers to is missing.
    #[error("blob {0} not found")]
    NotFound(BlobId),
}

/// Secure storage of the TEE: one state document (SD registry, TA registry,
/// SP AIK records, TAM signer cache with its OCSP data, issued DSI hashes,
/// seen request ids) and blobs, changed only through atomic [`Commit`]s.
pub trait SecureStorage {
    /// The current state document, or `None` for a fresh device.
    fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError>;
    /// Applies `commit` atomically (all or nothing, across crashes).
    fn commit(&mut self, commit: &Commit<'_>) -> Result<(), StorageError>;
    /// Reads a blob of the current state.
    fn read_blob(&self, id: &BlobId) -> Result<SecretBytes, StorageError>;
    /// Starts writing the new blob `id` in pieces, ahead of the commit that
    /// will name it (the streamed TA path, issue 17). `Ok(None)`, the
    /// default, means the storage takes new blobs only in a [`Commit`]'s
    /// `put`: the agent then collects the TA in memory.
    ///
    /// A staged blob must stay invisible to [`SecureStorage::load`]'s state
    /// until committed, and must not survive a crash before that commit as
    /// anything a later state could name (the agent reuses the id).
    fn stage_blob(&self, id: &BlobId) -> Result<Option<Box<dyn BlobWriter + '_>>, StorageError> {
        let _ = id;
        Ok(None)
    }
    /// Drops a staged blob that will not be committed (its request was
    /// refused). Best effort: what is left is the storage's garbage.
    fn discard_staged(&self, id: &BlobId) {
        let _ = id;
    }
}

/// Why a TA was refused (`ERR_TA_INVALID`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaError {
    /// The TA data could not be decrypted (wrong key, IV or padding).
    #[error("TA data does not decrypt")]
    Decrypt,
    /// The TA image is not in the format this TEE installs.
    #[error("TA image is malformed: {0}")]
    Malformed(&'static str),
    /// No SP certificate of the SD signed the TA (9.3.1).
    #[error("TA is not signed by an SP certificate of the SD")]
    UntrustedSigner,
    /// The encryption algorithm is not supported.
    #[error("TA encryption algorithm not supported")]
    UnsupportedAlgorithm,
}

/// A TA that passed [`TaPlatform::verify_ta`]: what the SP's verified
/// signature says about it (never data the signature does not cover).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTa {
    /// Index into the `sp_certs` given of the certificate that signed it.
    pub signer: usize,
    /// The TA the image is. The agent refuses an image whose `taid` is not
    /// the command's (`ERR_TA_INVALID`), so a TA signed for one identifier
    /// cannot be installed under another.
    pub taid: String,
    /// The SP's monotonic version of the image. The agent keeps per `taid`
    /// the highest version ever installed and refuses an InstallTA or
    /// UpdateTA that is not higher (anti-rollback).
    pub version: u64,
    /// A friendly name from the image, for the DSI's `taname` (optional).
    pub taname: Option<String>,
}

/// TA handling that OTrP leaves to the TEE (9.3.1: "The TA signing method
/// is specific to a TEE"), and the `encrypted_ta` symmetric cipher, which
/// the JOSE provider does not offer.
pub trait TaPlatform {
    /// Decrypts `ciphertadata` or `cipherpdata` (9.3.1.1: `alg` "AESCBC",
    /// a 256-bit key, the 16-byte `iv`; PKCS#7 padding).
    fn decrypt_ta_data(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        data: &[u8],
    ) -> Result<SecretBytes, TaError>;

    /// Checks that `image` is a TA this TEE can install, signed by one of
    /// `sp_certs` (the SD's SP certificates, plus the request's new
    /// `spcert`), at `now`, and returns its `taid` and version as that
    /// signature covers them (the vendor's image format decides where they
    /// sit). `taid` is the command's, for formats that need it; the agent
    /// compares it with the returned one itself.
    fn verify_ta(
        &self,
        provider: &Provider,
        taid: &str,
        image: &[u8],
        sp_certs: &[&[u8]],
        now: UnixTime,
    ) -> Result<VerifiedTa, TaError>;

    /// The streaming TA hook (optional, issue 17): starts the check of a TA
    /// image that will arrive in chunks, in order, with the same result as
    /// [`TaPlatform::verify_ta`] over the whole image. With it the agent
    /// decrypts `ciphertadata` chunk by chunk
    /// ([`TaPlatform::decrypt_ta_blocks`]), hands every decrypted chunk to
    /// the returned [`TaStream`] and to storage
    /// ([`SecureStorage::stage_blob`]), and commits nothing before
    /// [`TaStream::finish`] verified the image and the `taid` and version
    /// checks passed: a TEE never holds the decrypted image whole.
    ///
    /// `None`, the default, keeps the whole-image hooks
    /// ([`TaPlatform::decrypt_ta_data`], [`TaPlatform::verify_ta`]).
    fn begin_ta<'a>(
        &'a self,
        provider: &'a Provider,
        taid: &'a str,
        sp_certs: &'a [&'a [u8]],
        now: UnixTime,
    ) -> Option<Box<dyn TaStream + 'a>> {
        let _ = (provider, taid, sp_certs, now);
        None
    }

    /// Decrypts whole 16-byte blocks of `ciphertadata` in place, AES-CBC
    /// chained from `iv`, without padding (the agent chains the IV from one
    /// chunk to the next and removes the PKCS#7 padding of the last block).
    /// Required with [`TaPlatform::begin_ta`]; the default refuses
    /// ([`TaError::UnsupportedAlgorithm`]).
    fn decrypt_ta_blocks(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        blocks: &mut [u8],
    ) -> Result<(), TaError> {
        let _ = (alg, key, iv, blocks);
        Err(TaError::UnsupportedAlgorithm)
    }
}

/// The check of a TA image fed in chunks ([`TaPlatform::begin_ta`]).
pub trait TaStream {
    /// Feeds the next chunk of the decrypted image. An image already seen
    /// to be malformed may be refused early.
    fn update(&mut self, chunk: &[u8]) -> Result<(), TaError>;
    /// The whole image was fed: verifies it as [`TaPlatform::verify_ta`]
    /// does and returns what the SP's signature says.
    fn finish(self: Box<Self>) -> Result<VerifiedTa, TaError>;
}

/// Why firmware data could not be collected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FirmwareError {
    /// The TEE considers the firmware untrustworthy (`ERR_TFW_NOT_TRUSTED`,
    /// 9.1.6).
    #[error("device firmware is not trusted")]
    NotTrusted,
    /// The firmware did not answer (`ERR_TEE_FAIL`).
    #[error("firmware unavailable")]
    Unavailable,
}

/// Optional firmware attestation (9.1.3): the trusted firmware signs the
/// UTF-8 `tid` of the GetDeviceState request.
pub trait Firmware {
    /// Has the firmware sign `tbs` and returns the `tfwdata` object.
    fn attest(&self, tbs: &[u8]) -> Result<TfwData, FirmwareError>;
}

/// A clock, for [`super::Tee::handle_now`] (9.1.2: "A TEE can use its own
/// clock time for the OCSP stapling data validation").
pub trait Clock {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// Everything platform-specific the agent uses. Randomness comes from the
/// [`Provider`]'s `secure_random`.
pub struct TeeHooks {
    /// The TEE identity.
    pub identity: Box<dyn TeeIdentity>,
    /// SP AIK generation and use.
    pub sp_aik: Box<dyn SpAikKeys>,
    /// Secure storage.
    pub storage: Box<dyn SecureStorage>,
    /// TA decryption and verification.
    pub ta: Box<dyn TaPlatform>,
    /// Firmware attestation, when the device has it.
    pub firmware: Option<Box<dyn Firmware>>,
    /// The device clock, when the caller does not pass the time.
    pub clock: Option<Box<dyn Clock>>,
}

impl fmt::Debug for TeeHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeeHooks")
            .field("firmware", &self.firmware.is_some())
            .field("clock", &self.clock.is_some())
            .finish_non_exhaustive()
    }
}
