//! The test-pki fixtures (RSA-2048 and P-256 hierarchies) and the fixed time
//! every fixture is valid at.

use std::path::PathBuf;
use std::time::Duration;

use otrp_core::crypto::{JwsAlg, PrivateKey, Provider};
use otrp_core::pki::UnixTime;

/// Which fixture hierarchy: `test-pki/rsa` (RS256, RSA1_5) or `test-pki/ec`
/// (ES256, ECDH-ES+A128KW).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// RSA-2048 keys.
    Rsa,
    /// P-256 keys.
    Ec,
}

impl Kind {
    /// Both hierarchies.
    pub const BOTH: [Kind; 2] = [Kind::Rsa, Kind::Ec];

    /// The directory name under `test-pki/`.
    pub fn dir(self) -> &'static str {
        match self {
            Kind::Rsa => "rsa",
            Kind::Ec => "ec",
        }
    }

    /// The signature algorithm of the hierarchy's keys.
    pub fn sig_alg(self) -> JwsAlg {
        match self {
            Kind::Rsa => JwsAlg::Rs256,
            Kind::Ec => JwsAlg::Es256,
        }
    }
}

/// The repository root (the parent of `benches/`).
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `test-pki/<kind>/<name>`; panics if missing (fixtures are part of the
/// repository).
pub fn fixture(kind: Kind, name: &str) -> Vec<u8> {
    let path = repo_dir().join("test-pki").join(kind.dir()).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The DER certificate `test-pki/<kind>/<name>.der`.
pub fn cert(kind: Kind, name: &str) -> Vec<u8> {
    fixture(kind, &format!("{name}.der"))
}

/// The PKCS#8 DER of `test-pki/<kind>/<name>.key` (a PKCS#8 PEM file).
pub fn pkcs8_der(kind: Kind, name: &str) -> Vec<u8> {
    let pem = String::from_utf8(fixture(kind, &format!("{name}.key"))).expect("PEM is text");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    otrp_core::jose::b64::decode_std(&body, "pem").expect("PEM body")
}

/// The private key `name` of `kind`, loaded by `provider`'s key loader.
pub fn private_key(provider: &Provider, kind: Kind, name: &str) -> Box<dyn PrivateKey> {
    provider
        .key_loader
        .private_key_from_pkcs8_der(&pkcs8_der(kind, name))
        .unwrap_or_else(|e| panic!("{}/{name}: {e}", kind.dir()))
}

/// 2036-01-01T00:00:00Z, inside every good fixture's validity.
pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(2_082_758_400))
}
