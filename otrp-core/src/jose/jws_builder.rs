//! [`JwsBuilder`]: a JWS built step by step, like
//! [`Jwe::builder`](crate::jose::Jwe::builder): one or more signatures over one payload
//! (RFC 7515 section 7.2 for several), then [`JwsBuilder::sign`].

use alloc::vec::Vec;

use super::{Header, JoseError, Jws};
use crate::crypto::{JwsAlg, JwsSigner, Provider};

/// One signature to make: algorithm, signer and its headers.
type PendingSignature<'s> = (JwsAlg, &'s dyn JwsSigner, Header, Option<Header>);

/// Builds a JWS: the signatures to make, then [`JwsBuilder::sign`] over the
/// payload. One signature is what OTrP sends (a flattened JWS, spec 7.4);
/// several make a general JWS.
///
/// [`Jws::sign`] and [`Jws::add_signature`] do the signing: the builder only
/// collects their arguments, so both ways give the same JWS.
#[must_use = "a JwsBuilder signs nothing until `sign` is called"]
pub struct JwsBuilder<'s> {
    signatures: Vec<PendingSignature<'s>>,
}

impl core::fmt::Debug for JwsBuilder<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let algs: Vec<JwsAlg> = self.signatures.iter().map(|s| s.0).collect();
        f.debug_struct("JwsBuilder").field("algs", &algs).finish()
    }
}

impl Jws {
    /// Starts a JWS: add signatures with [`JwsBuilder::signature`], then
    /// [`JwsBuilder::sign`].
    pub fn builder<'s>() -> JwsBuilder<'s> {
        JwsBuilder {
            signatures: Vec::new(),
        }
    }
}

impl<'s> JwsBuilder<'s> {
    /// Adds a signature by `signer` with `alg`. `protected` carries the
    /// other protected header parameters (`kid`, `x5c`, ...; `alg` is
    /// written in), `unprotected` the per-signature unprotected header.
    pub fn signature(
        mut self,
        alg: JwsAlg,
        signer: &'s dyn JwsSigner,
        protected: Header,
        unprotected: Option<Header>,
    ) -> Self {
        self.signatures.push((alg, signer, protected, unprotected));
        self
    }

    /// Signs `payload` with every signature added, in order. Refuses a
    /// builder without signatures (`InvalidConstruction`), and an algorithm
    /// that does not fit its signer's key (`KeyMismatch`).
    pub fn sign(self, payload: &[u8], provider: &Provider) -> Result<Jws, JoseError> {
        let mut signatures = self.signatures.into_iter();
        let Some((alg, signer, protected, unprotected)) = signatures.next() else {
            return Err(JoseError::InvalidConstruction("a JWS needs a signature"));
        };
        let mut jws = Jws::sign(payload, signer, alg, protected, unprotected, provider)?;
        for (alg, signer, protected, unprotected) in signatures {
            jws.add_signature(signer, alg, protected, unprotected, provider)?;
        }
        Ok(jws)
    }
}
