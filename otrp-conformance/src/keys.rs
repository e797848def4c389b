//! The suite's fixed keys (see `data/README.md`), loaded through the
//! provider under test.

use otrp_core::crypto::{
    CryptoError, EncryptionKey, JwsAlg, KeyAlg, KeyKind, PrivateKey, Provider, PublicKey,
    SecretBytes,
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
    /// A 128-bit key-encryption key, if the key loader holds `oct` keys
    /// (ring's does not).
    pub kek128: Kek,
    /// A 256-bit key-encryption key, if the key loader holds `oct` keys.
    pub kek256: Kek,
    publics: Vec<PublicKey>,
}

impl TestKeys {
    /// Loads the fixed keys with `provider`'s key loader. RSA, P-256 and
    /// P-384 keys must load; symmetric keys are left out when the loader
    /// answers `Unsupported` for them (any other refusal is a failure).
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
            match jwk.load_private_key(provider.key_loader) {
                Ok(key) => Some((SecretBytes::from_slice(bytes), key)),
                Err(CryptoError::Unsupported(_)) => None,
                Err(e) => panic!("oct key: {e}"),
            }
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
    /// management algorithm; ECDH variants use P-256. Panics for A128KW /
    /// A256KW when the loader holds no `oct` keys (see [`Self::try_recipient`]).
    pub fn recipient(&self, alg: KeyAlg) -> (EncryptionKey<'_>, &dyn PrivateKey) {
        self.try_recipient(alg)
            .unwrap_or_else(|| panic!("the key loader holds no oct key for {alg}"))
    }

    /// Like [`Self::recipient`], but `None` for A128KW / A256KW when the
    /// key loader holds no `oct` keys.
    pub fn try_recipient(&self, alg: KeyAlg) -> Option<(EncryptionKey<'_>, &dyn PrivateKey)> {
        match alg.key_kind() {
            KeyKind::Rsa => Some((EncryptionKey::Public(&self.publics[0]), self.rsa.as_ref())),
            KeyKind::Oct(16) => oct(&self.kek128),
            KeyKind::Oct(_) => oct(&self.kek256),
            _ => Some((EncryptionKey::Public(&self.publics[1]), self.p256.as_ref())),
        }
    }

    /// An ECDH recipient on P-384.
    pub fn recipient_p384(&self) -> (EncryptionKey<'_>, &dyn PrivateKey) {
        (EncryptionKey::Public(&self.publics[2]), self.p384.as_ref())
    }
}

/// A symmetric key-encryption key and the loaded key, absent when the
/// provider's loader holds no `oct` keys.
pub type Kek = Option<(SecretBytes, Box<dyn PrivateKey>)>;

fn oct(kek: &Kek) -> Option<(EncryptionKey<'_>, &dyn PrivateKey)> {
    kek.as_ref()
        .map(|(k, key)| (EncryptionKey::Symmetric(k), key.as_ref()))
}
