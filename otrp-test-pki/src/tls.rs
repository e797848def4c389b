//! A TLS server identity for tests of the HTTP transport (`otrp-http`,
//! `otrp tam serve --tls-cert --tls-key`): a P-256 CA and a server
//! certificate it issues for `127.0.0.1` and `localhost` (serverAuth).

use std::time::Duration;

use otrp_core::crypto::SecureRandom;
use otrp_core::pki::UnixTime;
use rcgen::{ExtendedKeyUsagePurpose, SanType};

use crate::{Cert, CertSpec, DEFAULT_NOT_AFTER, DEFAULT_NOT_BEFORE, Error, Key, KeyType, Profile};

/// A TLS server identity, PEM.
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    /// The server certificate.
    pub chain_pem: String,
    /// Its PKCS#8 private key.
    pub key_pem: String,
    /// The CA certificate clients trust.
    pub ca_pem: String,
}

/// A fresh CA and a server certificate for `127.0.0.1` and `localhost`.
pub fn tls_server_identity(rng: &dyn SecureRandom) -> Result<TlsIdentity, Error> {
    let at = |secs| UnixTime::since_unix_epoch(Duration::from_secs(secs));
    let (nb, na) = (at(DEFAULT_NOT_BEFORE), at(DEFAULT_NOT_AFTER));
    let ca_key = Key::generate(KeyType::P256, rng)?;
    let ca = Cert::self_signed(
        &CertSpec::new("otrp test TLS CA", 1, nb, na, Profile::Root),
        ca_key,
    )?;
    let key = Key::generate(KeyType::P256, rng)?;
    let mut params = CertSpec::new("localhost", 2, nb, na, Profile::Sp)
        .to_params(KeyType::P256, key.spki_der())?;
    params.subject_alt_names = vec![
        SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        SanType::DnsName(
            "localhost"
                .try_into()
                .map_err(|_| Error::Key("the name localhost"))?,
        ),
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = ca.issue_params(&params, key)?;
    let key_pem = server
        .key()
        .ok_or(Error::Key("the server key"))?
        .pkcs8_pem()?
        .to_string();
    Ok(TlsIdentity {
        chain_pem: server.pem(),
        key_pem,
        ca_pem: ca.pem(),
    })
}
