//! `otrp jose sign|verify|encrypt|decrypt`: JWS and JWE over the RustCrypto
//! provider. Input on stdin (payload, JWS or JWE in compact, flattened or
//! general serialization), output on stdout.

use std::path::PathBuf;

use clap::Subcommand;
use otrp_core::crypto::{ContentAlg, EncryptionKey, JwsAlg, KeyAlg};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
use serde_json::Value;

use crate::keys::{jws_algs_for, load_keys, load_one};
use crate::util::{Error, Result, read_certificates, read_input, write_stdout};

#[derive(Subcommand, Debug)]
pub enum JoseCmd {
    /// Signs stdin; writes a flattened JSON JWS (or compact with --compact).
    Sign {
        /// The private key (PKCS#8 PEM or JWK).
        #[arg(long)]
        key: PathBuf,
        /// RS256, PS256, ES256, ...
        #[arg(long)]
        alg: String,
        /// A PEM certificate chain to put in the protected header as x5c.
        #[arg(long)]
        x5c: Option<PathBuf>,
        /// Compact serialization.
        #[arg(long)]
        compact: bool,
    },
    /// Verifies the JWS on stdin; writes its payload.
    Verify {
        /// The public key (SPKI PEM, certificate, private key or JWK/JWK Set).
        #[arg(long)]
        key: PathBuf,
        /// The only algorithm to accept (default: any that fits the key).
        #[arg(long)]
        alg: Option<String>,
    },
    /// Encrypts stdin to a key; writes general JSON (or --compact/--flattened).
    Encrypt {
        /// The recipient's public key (or a symmetric JWK).
        #[arg(long)]
        key: PathBuf,
        /// Key management: RSA1_5, RSA-OAEP, ECDH-ES+A128KW, A128KW, ...
        #[arg(long)]
        alg: String,
        /// Content encryption: A128CBC-HS256, A256GCM, ...
        #[arg(long)]
        enc: String,
        /// Compact serialization.
        #[arg(long, conflicts_with = "flattened")]
        compact: bool,
        /// Flattened JSON serialization.
        #[arg(long)]
        flattened: bool,
    },
    /// Decrypts the JWE on stdin; writes the plaintext.
    Decrypt {
        /// The private key (or a symmetric JWK).
        #[arg(long)]
        key: PathBuf,
    },
}

fn jws_alg(name: &str) -> Result<JwsAlg> {
    JwsAlg::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = JwsAlg::ALL.iter().map(|a| a.name()).collect();
        Error::usage(format!(
            "unknown JWS algorithm {name:?} (one of {})",
            all.join(", ")
        ))
    })
}

fn key_alg(name: &str) -> Result<KeyAlg> {
    KeyAlg::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = KeyAlg::ALL.iter().map(|a| a.name()).collect();
        Error::usage(format!(
            "unknown key management algorithm {name:?} (one of {})",
            all.join(", ")
        ))
    })
}

fn content_alg(name: &str) -> Result<ContentAlg> {
    ContentAlg::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = ContentAlg::ALL.iter().map(|a| a.name()).collect();
        Error::usage(format!(
            "unknown content encryption algorithm {name:?} (one of {})",
            all.join(", ")
        ))
    })
}

/// The text of a JOSE object read from stdin, trimmed.
pub fn jose_text(bytes: &[u8]) -> Result<&[u8]> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::msg("input is not UTF-8 text"))?;
    Ok(text.trim().as_bytes())
}

pub fn run(cmd: JoseCmd) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    match cmd {
        JoseCmd::Sign {
            key,
            alg,
            x5c,
            compact,
        } => {
            let alg = jws_alg(&alg)?;
            let key = load_one(&key, &provider)?;
            let signer = key
                .signer()
                .ok_or_else(|| Error::msg(format!("{} cannot sign", key.describe())))?;
            let mut protected = Header::new();
            if let Some(chain) = x5c {
                let certs: Vec<Value> = read_certificates(&chain)?
                    .iter()
                    .map(|c| Value::String(otrp_core::jose::b64::encode_std(c)))
                    .collect();
                protected.set("x5c", Value::Array(certs));
            }
            let payload = read_input(None)?;
            let jws = Jws::sign(&payload, signer, alg, protected, None, &provider)?;
            let mut out = if compact {
                jws.to_compact()?
            } else {
                jws.to_flattened_json()?
            };
            out.push('\n');
            write_stdout(out.as_bytes())
        }
        JoseCmd::Verify { key, alg } => {
            let input = read_input(None)?;
            let text = jose_text(&input)?;
            if object_kind(text) == Some("JWE") {
                return Err(Error::msg(
                    "stdin is a JWE (encrypted, not signed): use `otrp jose decrypt`",
                ));
            }
            let jws = Jws::parse(text).map_err(|e| Error::from(e).context("stdin is not a JWS"))?;
            let keys = load_keys(&key, &provider)?;
            let mut last = None;
            for k in &keys {
                let Some(public) = &k.public else { continue };
                let allowed = match &alg {
                    Some(a) => vec![jws_alg(a)?],
                    None => jws_algs_for(public.kind()),
                };
                match jws.verify(&provider, public, &allowed) {
                    Ok(payload) => return write_stdout(&payload),
                    Err(e) => last = Some(e),
                }
            }
            Err(match last {
                Some(e) => Error::from(e).context("signature not verified"),
                None => Error::msg("the key file holds no public key"),
            })
        }
        JoseCmd::Encrypt {
            key,
            alg,
            enc,
            compact,
            flattened,
        } => {
            let alg = key_alg(&alg)?;
            let enc = content_alg(&enc)?;
            let key = load_one(&key, &provider)?;
            let recipient = match (&key.secret, &key.public) {
                (Some(s), _) => EncryptionKey::Symmetric(s),
                (None, Some(p)) => EncryptionKey::Public(p),
                _ => return Err(Error::msg("the key file holds no encryption key")),
            };
            let plaintext = read_input(None)?;
            let mut builder = Jwe::builder(enc).recipient(alg, recipient, Header::new());
            if compact {
                builder = builder.protected_recipient();
            }
            let jwe = builder.encrypt(&plaintext, &provider)?;
            let mut out = if compact {
                jwe.to_compact()?
            } else if flattened {
                jwe.to_flattened_json()?
            } else {
                jwe.to_general_json()
            };
            out.push('\n');
            write_stdout(out.as_bytes())
        }
        JoseCmd::Decrypt { key } => {
            let input = read_input(None)?;
            let text = jose_text(&input)?;
            if object_kind(text) == Some("JWS") {
                return Err(Error::msg(
                    "stdin is a JWS (signed, not encrypted): use `otrp jose verify`",
                ));
            }
            let jwe = Jwe::parse(text).map_err(|e| Error::from(e).context("stdin is not a JWE"))?;
            let keys = load_keys(&key, &provider)?;
            let mut last = None;
            for k in &keys {
                let Some(decrypter) = k.decrypter() else {
                    continue;
                };
                match jwe.decrypt(&provider, decrypter, &JwePolicy::ANY) {
                    Ok(plaintext) => return write_stdout(&plaintext),
                    Err(e) => last = Some(e),
                }
            }
            Err(match last {
                Some(e) => Error::from(e).context("not decrypted"),
                None => Error::msg("the key file holds no private key"),
            })
        }
    }
}

/// Whether `text` looks like a JWS or a JWE (compact: 3 or 5 parts; JSON:
/// a `payload` or a `ciphertext` member), to name the right command when
/// the other one is given.
fn object_kind(bytes: &[u8]) -> Option<&'static str> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    if text.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        if v.get("ciphertext").is_some() {
            Some("JWE")
        } else if v.get("payload").is_some() {
            Some("JWS")
        } else {
            None
        }
    } else {
        match text.split('.').count() {
            3 => Some("JWS"),
            5 => Some("JWE"),
            _ => None,
        }
    }
}
