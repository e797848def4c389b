//! KEY files: PEM (PKCS#8 private key, SPKI public key, certificate) or JWK
//! / JWK Set, loaded through the provider's key loader.

use std::path::Path;

use otrp_core::crypto::{
    CekDecrypter, JwsAlg, JwsSigner, KeyKind, PrivateKey, Provider, PublicKey, SecretBytes,
};
use otrp_core::jose::{Jwk, JwkSet};
use otrp_core::pki::spki_of_certificate;

use crate::util::{Error, Result, pem_blocks, read_file};

/// One key of a KEY file.
pub struct LoadedKey {
    /// Where it came from (file and block), for messages.
    pub label: String,
    /// The private key, when the file holds one (also symmetric JWKs).
    pub private: Option<Box<dyn PrivateKey>>,
    /// The public key (of a private key, SPKI, certificate or public JWK).
    pub public: Option<PublicKey>,
    /// A symmetric key (JWK `oct`), for key wrapping.
    pub secret: Option<SecretBytes>,
}

impl LoadedKey {
    /// A signer, if this is a private key.
    pub fn signer(&self) -> Option<&dyn JwsSigner> {
        self.private.as_deref().map(|k| k as &dyn JwsSigner)
    }

    /// A CEK decrypter, if this is a private or symmetric key.
    pub fn decrypter(&self) -> Option<&dyn CekDecrypter> {
        self.private.as_deref().map(|k| k as &dyn CekDecrypter)
    }

    /// A short description: kind and origin.
    pub fn describe(&self) -> String {
        let kind = match (&self.private, &self.public, &self.secret) {
            (_, _, Some(s)) => format!("{}-bit symmetric key", s.len() * 8),
            (Some(k), _, _) => {
                format!("{} private key", kind_name(JwsSigner::key_kind(k.as_ref())))
            }
            (None, Some(p), _) => format!("{} public key", kind_name(p.kind())),
            _ => "key".to_string(),
        };
        format!("{kind} from {}", self.label)
    }
}

/// "RSA", "P-256", ...
pub fn kind_name(kind: KeyKind) -> String {
    match kind {
        KeyKind::Rsa => "RSA".into(),
        KeyKind::Ec(c) => c.name().into(),
        KeyKind::AnyEc => "EC".into(),
        KeyKind::Oct(n) => format!("oct/{}", n * 8),
    }
}

/// The JWS algorithms a key of `kind` can verify or sign.
pub fn jws_algs_for(kind: KeyKind) -> Vec<JwsAlg> {
    JwsAlg::ALL
        .iter()
        .copied()
        .filter(|a| a.key_kind().admits(kind))
        .collect()
}

/// Loads every key of `path`.
pub fn load_keys(path: &Path, provider: &Provider) -> Result<Vec<LoadedKey>> {
    let bytes = read_file(path)?;
    let name = path.display().to_string();
    load_key_bytes(&bytes, &name, provider).map_err(|e| e.context(&name))
}

fn load_key_bytes(bytes: &[u8], name: &str, provider: &Provider) -> Result<Vec<LoadedKey>> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::msg("not a PEM or JWK file"))?;
    let trimmed = text.trim_start();
    let keys = if trimmed.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(trimmed)?;
        let jwks = if value.get("keys").is_some() {
            serde_json::from_str::<JwkSet>(trimmed)?.keys
        } else {
            vec![Jwk::from_json(trimmed.as_bytes())?]
        };
        jwks.iter()
            .enumerate()
            .map(|(i, jwk)| from_jwk(jwk, format!("{name} JWK #{}", i + 1), provider))
            .collect::<Result<Vec<_>>>()?
    } else if trimmed.starts_with("-----BEGIN") {
        let mut out = Vec::new();
        for (i, block) in pem_blocks(text)?.into_iter().enumerate() {
            let label = format!("{name} PEM #{} ({})", i + 1, block.label);
            let key = match block.label.as_str() {
                "PRIVATE KEY" => {
                    let k = provider.key_loader.private_key_from_pkcs8_der(&block.der)?;
                    LoadedKey {
                        public: k.public_key(),
                        private: Some(k),
                        secret: None,
                        label,
                    }
                }
                "PUBLIC KEY" => LoadedKey {
                    public: Some(provider.key_loader.public_key_from_spki_der(&block.der)?),
                    private: None,
                    secret: None,
                    label,
                },
                "CERTIFICATE" => {
                    let spki = spki_of_certificate(&block.der)
                        .map_err(|e| Error::msg(format!("certificate: {e}")))?;
                    LoadedKey {
                        public: Some(provider.key_loader.public_key_from_spki_der(&spki)?),
                        private: None,
                        secret: None,
                        label,
                    }
                }
                "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                    return Err(Error::msg(format!(
                        "{} is not PKCS#8: convert it with `openssl pkcs8 -topk8 -nocrypt`",
                        block.label
                    )));
                }
                other => return Err(Error::msg(format!("unsupported PEM block {other}"))),
            };
            out.push(key);
        }
        out
    } else {
        return Err(Error::msg("not a PEM or JWK file"));
    };
    if keys.is_empty() {
        return Err(Error::msg("no key in the file"));
    }
    Ok(keys)
}

fn from_jwk(jwk: &Jwk, label: String, provider: &Provider) -> Result<LoadedKey> {
    if jwk.kty == "oct" {
        let secret = jwk.symmetric_key()?;
        let private = jwk.load_private_key(provider.key_loader).ok();
        return Ok(LoadedKey {
            label,
            private,
            public: None,
            secret: Some(secret),
        });
    }
    let public = Some(jwk.to_public_key()?);
    let private = if jwk.d.is_some() {
        Some(jwk.load_private_key(provider.key_loader)?)
    } else {
        None
    };
    Ok(LoadedKey {
        label,
        private,
        public,
        secret: None,
    })
}

/// Exactly one key from `path` (the first when a set has several).
pub fn load_one(path: &Path, provider: &Provider) -> Result<LoadedKey> {
    load_keys(path, provider)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::msg(format!("{}: no key", path.display())))
}
