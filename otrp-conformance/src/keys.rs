//! The suite's fixed keys (see `data/README.md`), loaded through the
//! provider under test.

use otrp_core::crypto::{
    EncryptionKey, JwsAlg, KeyAlg, KeyKind, PrivateKey, Provider, PublicKey, SecretBytes,
};
use otrp_core::jose::{Jwk, Secret};

/// One key of every kind OTrP uses, private and public halves.
pub struct TestKeys {
    /// RSA-2048.
    pub rsa: Box<dyn PrivateKey>,
    /// ECDSA/ECDH P-256.
    pub p256: Box<dyn PrivateKey>,
    /// ECDSA/ECDH P-384.
    pub p384: Box<dyn PrivateKey>,
    /// A 128-bit key-encryption key.
    pub kek128: (SecretBytes, Box<dyn PrivateKey>),
    /// A 256-bit key-encryption key.
    pub kek256: (SecretBytes, Box<dyn PrivateKey>),
    publics: Vec<PublicKey>,
}

impl TestKeys {
    /// Loads the fixed keys with `provider`'s key loader.
    pub fn load(provider: &Provider) -> Self {
        let load = |der: &[u8]| {
            provider
                .key_loader
                .private_key_from_pkcs8_der(der)
                .expect("fixture key")
        };
        let rsa = load(include_bytes!("../data/rsa2048.pk8.der"));
        let p256 = load(include_bytes!("../data/p256.pk8.der"));
        let p384 = load(include_bytes!("../data/p384.pk8.der"));
        let oct = |bytes: &[u8]| {
            let jwk = Jwk {
                kty: "oct".into(),
                k: Some(Secret::encode(bytes)),
                ..Jwk::default()
            };
            (
                SecretBytes::from_slice(bytes),
                provider
                    .key_loader
                    .private_key_from_jwk(&jwk)
                    .expect("oct key"),
            )
        };
        let publics = [&rsa, &p256, &p384]
            .iter()
            .map(|k| k.public_key().expect("public key"))
            .collect();
        Self {
            rsa,
            p256,
            p384,
            kek128: oct(&[0x11; 16]),
            kek256: oct(&[0x22; 32]),
            publics,
        }
    }

    /// The private key for a JWS algorithm.
    pub fn signer(&self, alg: JwsAlg) -> &dyn PrivateKey {
        match alg.key_kind() {
            KeyKind::Rsa => self.rsa.as_ref(),
            KeyKind::Ec(otrp_core::crypto::Curve::P384) => self.p384.as_ref(),
            _ => self.p256.as_ref(),
        }
    }

    /// The public key for a JWS algorithm.
    pub fn verifier(&self, alg: JwsAlg) -> &PublicKey {
        let index = match alg.key_kind() {
            KeyKind::Rsa => 0,
            KeyKind::Ec(otrp_core::crypto::Curve::P384) => 2,
            _ => 1,
        };
        &self.publics[index]
    }

    /// The recipient key (to encrypt to) and the decrypter for a key
    /// management algorithm; ECDH variants use P-256.
    pub fn recipient(&self, alg: KeyAlg) -> (EncryptionKey<'_>, &dyn PrivateKey) {
        match alg.key_kind() {
            KeyKind::Rsa => (EncryptionKey::Public(&self.publics[0]), self.rsa.as_ref()),
            KeyKind::Oct(16) => (
                EncryptionKey::Symmetric(&self.kek128.0),
                self.kek128.1.as_ref(),
            ),
            KeyKind::Oct(_) => (
                EncryptionKey::Symmetric(&self.kek256.0),
                self.kek256.1.as_ref(),
            ),
            _ => (EncryptionKey::Public(&self.publics[1]), self.p256.as_ref()),
        }
    }

    /// An ECDH recipient on P-384.
    pub fn recipient_p384(&self) -> (EncryptionKey<'_>, &dyn PrivateKey) {
        (EncryptionKey::Public(&self.publics[2]), self.p384.as_ref())
    }
}
