//! The TEE acceptance policy a TAM supplies (section 9.1.7): after the
//! TAM has checked what it can check (chain, signature, firmware data), the
//! caller decides whether it trusts this TEE.

use alloc::string::String;

use crate::message::{DeviceId, Dsi};
use crate::pki::ValidatedChain;

/// What the TAM established about the device firmware (9.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TfwStatus {
    /// `tfwdata` was present, its certificate chains to a firmware anchor,
    /// its signature verifies, and it signs this request's `tid`.
    Verified,
    /// `tfwdata` was present but the TAM has no firmware anchors, so it was
    /// not checked.
    NotChecked,
    /// The TEE sent no `tfwdata` (9.1.2 step 3: "it is up to a TAM's policy
    /// how it will trust a TEE").
    Absent,
}

/// One validated TEE answer, handed to the [`TeePolicy`].
#[derive(Clone, Copy, Debug)]
pub struct TeeReport<'a> {
    /// The decrypted DSI.
    pub dsi: &'a Dsi,
    /// `did` of the TEE certificate.
    pub did: &'a DeviceId,
    /// The TEE certificate path that validated against the TEE anchors.
    pub chain: &'a ValidatedChain,
    /// The firmware check.
    pub tfw: TfwStatus,
}

/// Decides whether a TEE whose answer validated is trusted (9.1.7:
/// "check it against its TEE acceptance policy").
pub trait TeePolicy: Send + Sync {
    /// `Ok` to accept the TEE; `Err` with the reason to refuse it.
    fn check(&self, report: &TeeReport<'_>) -> Result<(), String>;
}

/// Accepts every TEE whose certificate chain and signature validated, with
/// or without firmware data.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptValidTees;

impl TeePolicy for AcceptValidTees {
    fn check(&self, _report: &TeeReport<'_>) -> Result<(), String> {
        Ok(())
    }
}

/// Accepts only TEEs whose firmware data was verified (9.1.3).
#[derive(Clone, Copy, Debug, Default)]
pub struct RequireVerifiedTfw;

impl TeePolicy for RequireVerifiedTfw {
    fn check(&self, report: &TeeReport<'_>) -> Result<(), String> {
        match report.tfw {
            TfwStatus::Verified => Ok(()),
            TfwStatus::NotChecked => Err("firmware data not checked".into()),
            TfwStatus::Absent => Err("no firmware data".into()),
        }
    }
}
