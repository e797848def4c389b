//! GetTAInformation at the TEE (section 6.4.2): a local, read-only query
//! answered with a `TAInformation` signed by the SP's TEE SP AIK.

use alloc::format;
use alloc::vec::Vec;

use super::agent::Tee;
use crate::message::{Base64Bytes, TaInfoError, TaInformationTbs, TaQuery, sign_ta_information};
use crate::pki::{CertPolicy, Role, UnixTime, validate_chain};

impl Tee {
    /// Answers a `TAQuery` (6.4.2) with the signed `TAInformation` message:
    /// the TA's SP, its TAM (`tamid`, the TAM certificate and CA chain kept
    /// with the SD, else from the signer cache, 7.4.1), the SP certificate
    /// that signed the stored
    /// TA binary (found by verifying it again at `now`) with its chain to
    /// the configured SP root when there is one, signed with the SP's TEE
    /// SP AIK ([`super::SpAikKeys::signer`]) and its public key as a JWK in
    /// the header. Changes no state.
    pub fn ta_information(&self, query: &TaQuery, now: UnixTime) -> Result<Vec<u8>, TaInfoError> {
        let (sd, ta) = self
            .state
            .sds
            .iter()
            .filter(|sd| sd.spid == query.spid)
            .find_map(|sd| {
                sd.tas
                    .iter()
                    .find(|t| t.taid == query.taid)
                    .map(|t| (sd, t))
            })
            .ok_or(TaInfoError::TaNotFound)?;
        let platform = |e: &dyn core::fmt::Display| TaInfoError::Platform(format!("{e}"));

        // The SP certificate that signed the installed binary.
        let image = self
            .hooks
            .storage
            .read_blob(&ta.current.image)
            .map_err(|e| platform(&e))?;
        let certs: Vec<&[u8]> = sd.spcerts.iter().map(Base64Bytes::as_bytes).collect();
        let verified = self
            .hooks
            .ta
            .verify_ta(&self.provider, &ta.taid, image.as_bytes(), &certs, now)
            .map_err(|_| TaInfoError::SignerUnknown)?;
        let signercert = *certs
            .get(verified.signer)
            .ok_or(TaInfoError::SignerUnknown)?;
        let signercacerts = if self.config.sp_anchors.is_empty() {
            Vec::new()
        } else {
            let chain = validate_chain(
                &self.provider,
                Role::Sp,
                &CertPolicy::for_role(Role::Sp),
                &self.config.sp_anchors,
                signercert,
                &[],
                now,
            )
            .map_err(|_| TaInfoError::SignerUnknown)?;
            chain
                .certificates()
                .skip(1)
                .chain(core::iter::once(chain.anchor()))
                .map(Base64Bytes::from)
                .collect()
        };

        // The managing TAM's certificate: kept with the SD (the chain that
        // last changed it), else (states written before) the signer cache.
        let tam_x5c = match self.cached_signer(&sd.tamid) {
            _ if !sd.tamcert.is_empty() => &sd.tamcert,
            Some(cached) => &cached.x5c,
            None => &sd.tamcert,
        };
        let (tamcert, tamcacerts) = tam_x5c
            .split_first()
            .ok_or(TaInfoError::TamCertificateUnknown)?;

        // The SP AIK signs.
        let aik = self
            .state
            .sp_aik(&sd.tamid, &sd.spid)
            .ok_or(TaInfoError::NoSpAik)?;
        let sealed = self
            .hooks
            .storage
            .read_blob(&aik.sealed)
            .map_err(|e| platform(&e))?;
        let signer = self
            .hooks
            .sp_aik
            .signer(sealed.as_bytes())
            .map_err(|e| platform(&e))?;
        let public = self
            .provider
            .key_loader
            .public_key_from_spki_der(aik.public.as_bytes())?;
        let tbs = TaInformationTbs {
            taid: ta.taid.clone(),
            tamid: sd.tamid.clone(),
            spid: sd.spid.clone(),
            signercert: Base64Bytes::from(signercert),
            signercacerts,
            tamcert: tamcert.clone(),
            tamcacerts: tamcacerts.to_vec(),
        };
        sign_ta_information(&tbs, signer.as_ref(), &public, &self.provider)
    }
}
