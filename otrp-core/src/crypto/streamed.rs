//! Signature verification over a message fed in pieces: the JWS signing
//! input (`protected || '.' || payload`, RFC 7515 5.2) of a large request or
//! TA image is hashed where it lies instead of being copied into one buffer,
//! and a TA image that arrives in chunks is verified as it arrives.
//!
//! Digest-then-verify: with a backend whose verifier takes a digest
//! ([`SignatureVerifier::verifies_prehashed`]: RustCrypto, aws-lc) the
//! pieces go through the provider's incremental [`Digest`]
//! for the algorithm's hash; with one that verifies whole messages only
//! (ring alone) they are collected into one wiped buffer, the memory cost
//! of the non-streamed path. A verifier that does both collects a message
//! up to its [`SignatureVerifier::prehashed_from`] length, and hashes a
//! longer one from there on.

use alloc::boxed::Box;
use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::{CryptoError, Digest, DigestContext, JwsAlg, Provider, PublicKey, SignatureVerifier};

/// A message being fed for one signature algorithm.
pub struct SignedMessage {
    verifier: &'static dyn SignatureVerifier,
    input: Input,
}

enum Input {
    Hashing(Box<dyn DigestContext>),
    /// The message so far, and the algorithm's digest when the verifier
    /// also takes digests (from its `prehashed_from` length on).
    Whole(Zeroizing<Vec<u8>>, Option<&'static dyn Digest>),
}

impl core::fmt::Debug for SignedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignedMessage")
            .field("alg", &self.verifier.algorithm())
            .field("prehashed", &matches!(self.input, Input::Hashing(_)))
            .finish()
    }
}

impl SignedMessage {
    /// Starts a message for `alg` (unsupported by the provider:
    /// [`CryptoError::Unsupported`]).
    pub fn new(provider: &Provider, alg: JwsAlg) -> Result<Self, CryptoError> {
        let verifier = provider.signature_verifier(alg)?;
        let digest = provider
            .digest(alg.hash())
            .ok()
            .filter(|_| verifier.verifies_prehashed());
        let mut message = SignedMessage {
            verifier,
            input: Input::Whole(Zeroizing::new(Vec::new()), digest),
        };
        // A verifier that hashes from length 0 hashes from the start.
        message.update(&[]);
        Ok(message)
    }

    /// Feeds the next piece of the message.
    pub fn update(&mut self, piece: &[u8]) {
        match &mut self.input {
            Input::Hashing(ctx) => ctx.update(piece),
            Input::Whole(buf, Some(digest))
                if buf.len().saturating_add(piece.len()) >= self.verifier.prehashed_from() =>
            {
                let mut ctx = digest.start();
                ctx.update(buf);
                ctx.update(piece);
                self.input = Input::Hashing(ctx);
            }
            Input::Whole(buf, _) => buf.extend_from_slice(piece),
        }
    }

    /// The whole message fed: ready to verify, with one key or several.
    pub fn finish(self) -> HashedMessage {
        HashedMessage {
            verifier: self.verifier,
            input: match self.input {
                Input::Hashing(ctx) => Finished::Digest(ctx.finish()),
                Input::Whole(buf, _) => Finished::Whole(buf),
            },
        }
    }
}

/// A message fed whole ([`SignedMessage::finish`]).
pub struct HashedMessage {
    verifier: &'static dyn SignatureVerifier,
    input: Finished,
}

enum Finished {
    Digest(Vec<u8>),
    Whole(Zeroizing<Vec<u8>>),
}

impl core::fmt::Debug for HashedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HashedMessage")
            .field("alg", &self.verifier.algorithm())
            .finish_non_exhaustive()
    }
}

impl HashedMessage {
    /// Checks `signature` over the message with `key`, exactly as
    /// [`SignatureVerifier::verify`] over the concatenated pieces would.
    pub fn verify(&self, key: &PublicKey, signature: &[u8]) -> Result<(), CryptoError> {
        match &self.input {
            Finished::Digest(digest) => self.verifier.verify_prehashed(key, digest, signature),
            Finished::Whole(message) => self.verifier.verify(key, message, signature),
        }
    }
}
