//! The hooks a TEE vendor implements so the otrp TEE agent
//! ([`otrp_core::tee::Tee`]) runs on their trusted OS. Private keys never
//! have to leave the TEE: signing and CEK unwrapping are trait objects.
//!
//! The agent lives in `otrp-core` (which this crate builds on), so the
//! traits are defined there and re-exported here, with the agent, as the one
//! crate a vendor depends on. `no_std` + `alloc` without the `std` feature.
//! `docs/porting-a-tee.md` walks through an implementation; `otrp-soft-tee`
//! is the worked example.
//!
//! | Hook | Job | Spec |
//! |---|---|---|
//! | [`TeeIdentity`] | TEE certificate chain, signing, CEK unwrapping | 4.3, 9.2.1.2 |
//! | [`SpAikKeys`] | SP AIK generation, TA key unwrapping | 7.8.1, 9.3.1.1 |
//! | [`SecureStorage`] | state document + blobs, atomic commits (large blobs staged in pieces: [`BlobWriter`]) | 9.2, 9.3, 14.10 |
//! | [`TaPlatform`] | TA data decryption, TA signature check (whole, or streamed in chunks: [`TaStream`]) | 9.3.1 |
//! | [`Firmware`] | firmware signed data over the `tid` (optional) | 9.1.3 |
//! | [`Clock`] | the time for certificate and OCSP checks | 9.1.2 |
//!
//! Randomness comes from the crypto `Provider`'s `secure_random`.
//!
//! # Examples
//!
//! A TEE identity over a key the TEE holds (in hardware, a handle):
//!
//! ```
//! use otrp_tee_traits::{CekDecrypter, JwsSigner, PrivateKey, TeeIdentity};
//!
//! struct Identity { cert: Vec<u8>, cas: Vec<Vec<u8>>, key: Box<dyn PrivateKey> }
//!
//! impl TeeIdentity for Identity {
//!     fn certificate(&self) -> &[u8] { &self.cert }
//!     fn ca_certificates(&self) -> &[Vec<u8>] { &self.cas }
//!     fn signer(&self) -> &dyn JwsSigner { self.key.as_ref() }
//!     fn decrypter(&self) -> &dyn CekDecrypter { self.key.as_ref() }
//! }
//! ```
//!
//! SP AIKs whose private half is sealed by the platform (here: a key
//! loader stands in for the hardware's key import):
//!
//! ```
//! use otrp_core::crypto::{Provider, SecureRandom};
//! use otrp_tee_traits::{CekDecrypter, HookError, NewSpAik, SpAikKeys};
//!
//! struct Aik { provider: Provider }
//!
//! impl SpAikKeys for Aik {
//!     fn generate(&self, _rng: &dyn SecureRandom) -> Result<NewSpAik, HookError> {
//!         // Ask the key store for a new P-256 pair; return its SPKI and the
//!         // wrapped private key.
//!         Err(HookError::Failed("no key store in this example"))
//!     }
//!     fn decrypter(&self, sealed: &[u8]) -> Result<Box<dyn CekDecrypter>, HookError> {
//!         let key = self.provider.key_loader.private_key_from_pkcs8_der(sealed)
//!             .map_err(|_| HookError::Failed("sealed key"))?;
//!         Ok(key)
//!     }
//! }
//! ```
//!
//! Secure storage in memory (no persistence; a device commits to flash
//! atomically, see `otrp_soft_tee::SoftStorage`):
//!
//! ```
//! use std::collections::BTreeMap;
//! use otrp_core::crypto::SecretBytes;
//! use otrp_tee_traits::{BlobId, Commit, SecureStorage, StorageError};
//!
//! #[derive(Default)]
//! struct Memory { state: Option<Vec<u8>>, blobs: BTreeMap<BlobId, Vec<u8>> }
//!
//! impl SecureStorage for Memory {
//!     fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError> { Ok(self.state.clone()) }
//!     fn commit(&mut self, c: &Commit<'_>) -> Result<(), StorageError> {
//!         for (id, data) in &c.put { self.blobs.insert(id.clone(), data.to_vec()); }
//!         self.state = Some(c.state.to_vec());
//!         for id in &c.delete { self.blobs.remove(id); }
//!         Ok(())
//!     }
//!     fn read_blob(&self, id: &BlobId) -> Result<SecretBytes, StorageError> {
//!         self.blobs.get(id).map(|b| SecretBytes::from_slice(b))
//!             .ok_or(StorageError::NotFound(id.clone()))
//!     }
//! }
//! ```
//!
//! TA handling, firmware and clock:
//!
//! ```
//! use otrp_core::crypto::{Provider, SecretBytes};
//! use otrp_core::message::{TaEncAlg, TfwData};
//! use otrp_core::pki::UnixTime;
//! use otrp_tee_traits::{Clock, Firmware, FirmwareError, TaError, TaPlatform, VerifiedTa};
//!
//! struct Tas;
//! impl TaPlatform for Tas {
//!     fn decrypt_ta_data(&self, _alg: TaEncAlg, _key: &SecretBytes, _iv: &[u8; 16],
//!                        _data: &[u8]) -> Result<SecretBytes, TaError> {
//!         Err(TaError::Decrypt) // AES-256-CBC, PKCS#7, on the device's engine
//!     }
//!     fn verify_ta(&self, _p: &Provider, _taid: &str, _image: &[u8], _sp_certs: &[&[u8]],
//!                  _now: UnixTime) -> Result<VerifiedTa, TaError> {
//!         Err(TaError::UntrustedSigner) // the TEE's own TA signature format
//!     }
//! }
//!
//! struct NoFirmware;
//! impl Firmware for NoFirmware {
//!     fn attest(&self, _tbs: &[u8]) -> Result<TfwData, FirmwareError> {
//!         Err(FirmwareError::Unavailable)
//!     }
//! }
//!
//! struct Rtc(u64);
//! impl Clock for Rtc {
//!     fn now(&self) -> UnixTime {
//!         UnixTime::since_unix_epoch(core::time::Duration::from_secs(self.0))
//!     }
//! }
//! ```
//!
//! The streaming TA hook (optional): the decrypted TA reaches the platform
//! in chunks, checked with a signature digest fed as it arrives, and is
//! staged in storage chunk by chunk ([`SecureStorage::stage_blob`]), so a
//! TEE never holds the decrypted image whole (docs/porting-a-tee.md):
//!
//! ```
//! use otrp_core::crypto::{HashedMessage, JwsAlg, Provider, SecretBytes, SignedMessage};
//! use otrp_core::message::TaEncAlg;
//! use otrp_core::pki::UnixTime;
//! use otrp_tee_traits::{TaError, TaPlatform, TaStream, VerifiedTa};
//!
//! /// An image format "header || code || signature" whose signature covers
//! /// the header and the code (made up: use your TEE's own).
//! struct Check<'a> {
//!     provider: &'a Provider,
//!     sp_certs: &'a [&'a [u8]],
//!     message: SignedMessage,
//! }
//!
//! impl TaStream for Check<'_> {
//!     fn update(&mut self, chunk: &[u8]) -> Result<(), TaError> {
//!         // Parse as bytes arrive; feed the signed bytes to the digest and
//!         // keep only what is small (a header, the trailing signature).
//!         self.message.update(chunk);
//!         Ok(())
//!     }
//!     fn finish(self: Box<Self>) -> Result<VerifiedTa, TaError> {
//!         let _done: HashedMessage = self.message.finish();
//!         // For each SP certificate of `self.sp_certs`: its key, then
//!         // `_done.verify(&key, signature)`; the first that verifies is
//!         // the `signer`.
//!         let _ = (self.provider, self.sp_certs);
//!         Err(TaError::UntrustedSigner)
//!     }
//! }
//!
//! struct MyTas;
//! impl TaPlatform for MyTas {
//!     fn decrypt_ta_data(&self, _: TaEncAlg, _: &SecretBytes, _: &[u8; 16], _: &[u8])
//!         -> Result<SecretBytes, TaError> { Err(TaError::Decrypt) }
//!     fn verify_ta(&self, _: &Provider, _: &str, _: &[u8], _: &[&[u8]], _: UnixTime)
//!         -> Result<VerifiedTa, TaError> { Err(TaError::UntrustedSigner) }
//!     fn begin_ta<'a>(&'a self, provider: &'a Provider, _taid: &'a str,
//!                     sp_certs: &'a [&'a [u8]], _now: UnixTime)
//!                     -> Option<Box<dyn TaStream + 'a>> {
//!         let message = SignedMessage::new(provider, JwsAlg::Es256).ok()?;
//!         Some(Box::new(Check { provider, sp_certs, message }))
//!     }
//!     fn decrypt_ta_blocks(&self, _alg: TaEncAlg, _key: &SecretBytes, _iv: &[u8; 16],
//!                          _blocks: &mut [u8]) -> Result<(), TaError> {
//!         Err(TaError::Decrypt) // AES-256-CBC without padding, on the device's engine
//!     }
//! }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use otrp_core::crypto::{CekDecrypter, JwsSigner, PrivateKey, SecureRandom};
pub use otrp_core::tee::{
    BlobId, BlobWriter, Clock, Commit, Firmware, FirmwareError, HookError, NewSpAik, SecureStorage,
    SpAikKeys, StorageError, TaError, TaPlatform, TaStream, Tee, TeeConfig, TeeError, TeeFault,
    TeeHooks, TeeIdentity, TeeState, VerifiedTa,
};
