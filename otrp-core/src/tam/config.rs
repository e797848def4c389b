//! [`Tam`]: the TAM's identity and trust configuration, shared by all its
//! sessions.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::TamError;
use super::identity::spki_public_key;
use super::policy::{AcceptValidTees, TeePolicy};
use crate::crypto::{Curve, JwsAlg, KeyKind, PrivateKey, Provider};
use crate::message::Limits;
use crate::pki::{TamId, TrustAnchors, tamid_from_certificate};

/// A TAM: its signing and decryption key, its certificate chain and OCSP
/// data (sent in requests, 9.1.1), the TEE and firmware trust anchors it
/// validates devices against (4.3), and its TEE acceptance policy (9.1.7).
///
/// Immutable once built; one `Tam` serves any number of
/// [`TamSession`](super::TamSession)s.
pub struct Tam {
    pub(crate) provider: Provider,
    pub(crate) key: Box<dyn PrivateKey>,
    pub(crate) sign_alg: JwsAlg,
    pub(crate) x5c: Vec<Vec<u8>>,
    pub(crate) ocspdat: Vec<Vec<u8>>,
    pub(crate) tamid: TamId,
    pub(crate) tee_anchors: TrustAnchors,
    pub(crate) tfw_anchors: TrustAnchors,
    pub(crate) policy: Box<dyn TeePolicy>,
    pub(crate) limits: Limits,
    pub(crate) response_algs: Vec<JwsAlg>,
}

impl core::fmt::Debug for Tam {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tam")
            .field("tamid", &self.tamid)
            .field("sign_alg", &self.sign_alg)
            .field("response_algs", &self.response_algs)
            .finish_non_exhaustive()
    }
}

impl Tam {
    /// A TAM signing with `key`, whose certificate chain is `x5c` (DER, TAM
    /// certificate first, up to the root; 9.1.1), trusting TEEs that chain
    /// to `tee_anchors`.
    ///
    /// The signing algorithm follows the key (section 11): RS256 for RSA,
    /// ES256 for P-256, ES384 for P-384. The key must be the certificate's,
    /// and the certificate must carry a tamid (5.4).
    pub fn new(
        provider: Provider,
        key: Box<dyn PrivateKey>,
        x5c: Vec<Vec<u8>>,
        tee_anchors: TrustAnchors,
    ) -> Result<Self, TamError> {
        let leaf = x5c.first().ok_or(TamError::InvalidRequest(
            "the TAM chain needs a certificate",
        ))?;
        let tamid = tamid_from_certificate(leaf)?;
        let sign_alg = match crate::crypto::JwsSigner::key_kind(&*key) {
            KeyKind::Rsa => JwsAlg::Rs256,
            KeyKind::Ec(Curve::P256) => JwsAlg::Es256,
            KeyKind::Ec(Curve::P384) => JwsAlg::Es384,
            _ => return Err(TamError::UnsupportedKey),
        };
        if let Some(public) = key.public_key()
            && public != spki_public_key(&provider, leaf)?
        {
            return Err(TamError::InvalidRequest(
                "the TAM key is not the certificate's",
            ));
        }
        Ok(Tam {
            provider,
            key,
            sign_alg,
            x5c,
            ocspdat: Vec::new(),
            tamid,
            tee_anchors,
            tfw_anchors: TrustAnchors::new(),
            policy: Box::new(AcceptValidTees),
            limits: Limits::DEFAULT,
            response_algs: alloc::vec![JwsAlg::Rs256, JwsAlg::Es256],
        })
    }

    /// OCSP responses (DER) for the TAM certificate and its CAs, sent as
    /// `ocspdat` (9.1.1).
    #[must_use]
    pub fn with_ocspdat(mut self, ocspdat: Vec<Vec<u8>>) -> Self {
        self.ocspdat = ocspdat;
        self
    }

    /// Firmware roots: `tfwdata` is then checked against them (9.1.3).
    #[must_use]
    pub fn with_tfw_anchors(mut self, anchors: TrustAnchors) -> Self {
        self.tfw_anchors = anchors;
        self
    }

    /// The TEE acceptance policy (9.1.7); [`AcceptValidTees`] by default.
    #[must_use]
    pub fn with_policy(mut self, policy: Box<dyn TeePolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// Size and depth limits for responses.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The signature algorithms accepted on responses and announced as
    /// `supportedsigalgs` (9.1.1); RS256 and ES256 (section 11) by default.
    #[must_use]
    pub fn with_response_algs(mut self, algs: Vec<JwsAlg>) -> Self {
        self.response_algs = algs;
        self
    }

    /// The tamid of the TAM certificate (5.4), sent in every SD and TA
    /// command.
    pub fn tamid(&self) -> &TamId {
        &self.tamid
    }

    /// The provider.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The size and depth limits for responses (also those a stored
    /// [`DeviceState`](super::DeviceState) is read back with).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The JWS algorithm requests are signed with.
    pub fn sign_alg(&self) -> JwsAlg {
        self.sign_alg
    }
}
