//! JSON Web Keys (RFC 7517) for the key types OTrP uses: RSA, EC (P-256,
//! P-384) and symmetric (`oct`).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::{JoseError, b64};
use crate::crypto::{
    CryptoError, Curve, EcPublicKey, JwsAlg, KeyAlg, KeyComponents, KeyLoader, PrivateKey,
    PublicKey, RsaKeyComponents, RsaPublicKey, SecretBytes,
};

/// A JSON Web Key. Binary members are kept as their base64url text and
/// decoded on use; private members are zeroized on drop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: "RSA", "EC" or "oct".
    pub kty: String,
    /// Curve name for EC keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA modulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Private exponent (RSA) or scalar (EC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<Secret>,
    /// RSA first prime factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<Secret>,
    /// RSA second prime factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<Secret>,
    /// RSA first factor CRT exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp: Option<Secret>,
    /// RSA second factor CRT exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dq: Option<Secret>,
    /// RSA first CRT coefficient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi: Option<Secret>,
    /// Symmetric key value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<Secret>,
    /// Key identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended use ("sig" or "enc").
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations (RFC 7517 section 4.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// Intended algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// What a key is about to be used for, to check against a JWK's `use`,
/// `key_ops` and `alg` restrictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// Verifying a JWS.
    Verify,
    /// Signing a JWS.
    Sign,
    /// Encrypting (wrapping or agreeing) a CEK.
    Encrypt,
    /// Decrypting (unwrapping or agreeing) a CEK.
    Decrypt,
}

impl KeyUse {
    fn use_name(self) -> &'static str {
        match self {
            KeyUse::Verify | KeyUse::Sign => "sig",
            KeyUse::Encrypt | KeyUse::Decrypt => "enc",
        }
    }

    fn key_ops(self) -> &'static [&'static str] {
        match self {
            KeyUse::Verify => &["verify"],
            KeyUse::Sign => &["sign"],
            KeyUse::Encrypt => &["encrypt", "wrapKey", "deriveKey", "deriveBits"],
            KeyUse::Decrypt => &["decrypt", "unwrapKey", "deriveKey", "deriveBits"],
        }
    }
}

/// The base64url text of a private JWK member, zeroized on drop and redacted
/// in debug output.
#[derive(
    Clone, PartialEq, Eq, Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop,
)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Decodes the member into secret bytes.
    pub fn decode(&self, what: &'static str) -> Result<SecretBytes, JoseError> {
        b64::decode_url(&self.0, what).map(SecretBytes::new)
    }

    /// Encodes secret bytes as a member.
    pub fn encode(bytes: &[u8]) -> Self {
        Self(b64::encode_url(bytes))
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// A JWK Set (RFC 7517 section 5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// Parses a JWK from JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, JoseError> {
        Ok(crate::json_reader::from_slice(json)?)
    }

    /// Whether this JWK's `alg`, `use` and `key_ops` members permit using it
    /// with algorithm `alg` for `usage` (absent members permit anything).
    pub fn permits(&self, alg: &str, usage: KeyUse) -> bool {
        let alg_ok = self.alg.as_deref().is_none_or(|a| a == alg);
        let use_ok = self.use_.as_deref().is_none_or(|u| u == usage.use_name());
        let ops_ok = self
            .key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|op| usage.key_ops().contains(&op.as_str())));
        alg_ok && use_ok && ops_ok
    }

    /// The JWS algorithms this JWK may be used with for `usage`.
    pub fn permitted_jws_algs(&self, usage: KeyUse) -> Vec<JwsAlg> {
        JwsAlg::ALL
            .iter()
            .copied()
            .filter(|a| self.permits(a.name(), usage))
            .collect()
    }

    /// The key management algorithms this JWK may be used with for `usage`.
    pub fn permitted_key_algs(&self, usage: KeyUse) -> Vec<KeyAlg> {
        KeyAlg::ALL
            .iter()
            .copied()
            .filter(|a| self.permits(a.name(), usage))
            .collect()
    }

    /// The curve of an EC key.
    pub fn curve(&self) -> Result<Curve, JoseError> {
        let name = self.crv.as_deref().ok_or(JoseError::Missing("crv"))?;
        Curve::from_name(name).ok_or_else(|| JoseError::UnknownAlgorithm(name.into()))
    }

    /// The public key of an RSA or EC JWK (private members are ignored).
    pub fn to_public_key(&self) -> Result<PublicKey, JoseError> {
        let member = |v: &Option<String>, name: &'static str| -> Result<Vec<u8>, JoseError> {
            b64::decode_url(v.as_deref().ok_or(JoseError::Missing(name))?, name)
        };
        match self.kty.as_str() {
            "RSA" => Ok(PublicKey::Rsa(RsaPublicKey::new(
                &member(&self.n, "n")?,
                &member(&self.e, "e")?,
            )?)),
            "EC" => Ok(PublicKey::Ec(EcPublicKey::new(
                self.curve()?,
                &member(&self.x, "x")?,
                &member(&self.y, "y")?,
            )?)),
            _ => Err(JoseError::InvalidHeader("kty")),
        }
    }

    /// The public JWK of a public key (no `kid`, `use` or `alg`).
    pub fn from_public_key(key: &PublicKey) -> Self {
        match key {
            PublicKey::Rsa(k) => Jwk {
                kty: "RSA".into(),
                n: Some(b64::encode_url(k.n())),
                e: Some(b64::encode_url(k.e())),
                ..Jwk::default()
            },
            PublicKey::Ec(k) => Jwk {
                kty: "EC".into(),
                crv: Some(k.curve().name().into()),
                x: Some(b64::encode_url(k.x())),
                y: Some(b64::encode_url(k.y())),
                ..Jwk::default()
            },
        }
    }

    /// The private key components of an RSA or EC JWK with `d`, or of an
    /// `oct` JWK (RFC 7518 sections 6.2.2, 6.3.2, 6.4). The public members
    /// are checked as by [`Jwk::to_public_key`]; the consistency of the
    /// private members is the loading backend's to check.
    pub fn to_key_components(&self) -> Result<KeyComponents, JoseError> {
        let secret = |member: &Option<Secret>, name: &'static str| {
            member.as_ref().map(|m| m.decode(name)).transpose()
        };
        let required = |member: &Option<Secret>, name: &'static str| {
            secret(member, name)?.ok_or(JoseError::Missing(name))
        };
        match (self.kty.as_str(), self.to_public_key()) {
            ("oct", _) => self.symmetric_key().map(KeyComponents::Symmetric),
            ("RSA", Ok(PublicKey::Rsa(public))) => Ok(KeyComponents::Rsa(RsaKeyComponents {
                public,
                d: required(&self.d, "d")?,
                p: secret(&self.p, "p")?,
                q: secret(&self.q, "q")?,
                dp: secret(&self.dp, "dp")?,
                dq: secret(&self.dq, "dq")?,
                qi: secret(&self.qi, "qi")?,
            })),
            ("EC", Ok(PublicKey::Ec(public))) => Ok(KeyComponents::Ec {
                public,
                d: required(&self.d, "d")?,
            }),
            (_, Err(e)) => Err(e),
            _ => Err(JoseError::InvalidHeader("kty")),
        }
    }

    /// Loads this JWK's private key with `loader` (a provider's
    /// `key_loader`). A JWK that is not a well-formed private key is
    /// [`CryptoError::InvalidKey`]; the loader's answer stands otherwise.
    pub fn load_private_key(
        &self,
        loader: &dyn KeyLoader,
    ) -> Result<alloc::boxed::Box<dyn PrivateKey>, CryptoError> {
        let components = self
            .to_key_components()
            .map_err(|_| CryptoError::InvalidKey)?;
        loader.private_key_from_components(&components)
    }

    /// The symmetric key of an `oct` JWK.
    pub fn symmetric_key(&self) -> Result<SecretBytes, JoseError> {
        if self.kty != "oct" {
            return Err(JoseError::InvalidHeader("kty"));
        }
        self.k.as_ref().ok_or(JoseError::Missing("k"))?.decode("k")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_public_key_round_trip() {
        let jwk = Jwk::from_json(br#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#).unwrap();
        let key = jwk.to_public_key().unwrap();
        assert_eq!(Jwk::from_public_key(&key), jwk);
        let short = br#"{"kty":"EC","crv":"P-256","x":"AQ","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
        assert!(Jwk::from_json(short).unwrap().to_public_key().is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let jwk = Jwk::from_json(br#"{"kty":"oct","k":"AAEC"}"#).unwrap();
        assert!(!alloc::format!("{jwk:?}").contains("AAEC"));
        assert_eq!(jwk.symmetric_key().unwrap().as_bytes(), &[0, 1, 2]);
    }
}
