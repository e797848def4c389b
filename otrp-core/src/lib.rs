//! # otrp-core
//!
//! The Open Trust Protocol (draft-ietf-teep-opentrustprotocol-03) without I/O
//! and without a crypto library of its own:
//!
//! - [`crypto`]: the provider model. Algorithm identifiers, the small traits a
//!   crypto backend (or a TEE's hardware) implements, and [`crypto::Provider`],
//!   the struct of algorithm lists a backend exports.
//! - [`jose`]: JWS and JWE (RFC 7515, RFC 7516) over a provider, with strict
//!   header rules (spec 7.4, 7.5).
//! - [`message`]: one type per protocol object of the seven commands
//!   (spec 9, 10), strict parsing with the spec's error codes.
//! - [`pki`]: X.509 chains, OCSP stapling, tamid and did (spec 4.2, 4.3, 5.4,
//!   9.2.1.1, 14.9) over the provider's `webpki_algorithms`.
//! - [`tee`]: the sans-IO TEE agent (bytes in, signed bytes out) over the
//!   hooks a TEE vendor implements (spec 9.1 to 9.3, "processing at a TEE").
//! - [`tam`]: the TAM side, a sans-IO [`tam::TamSession`] that builds the
//!   requests of all seven commands and checks every response.
//! - [`broker`]: the OTrP Broker, routing TAM messages to TEEs
//!   (ProcessOTrPMessage, 6.4.1), `OTrPBrokerError` (section 10) and
//!   GetTAInformation (6.4.2).
//!
//! ## JWS and JWE over a provider
//!
//! Every OTrP message is a JWS whose payload carries JWE-encrypted content:
//!
//! ```
//! use otrp_core::crypto::{ContentAlg, EncryptionKey, JwsAlg, KeyAlg};
//! use otrp_core::jose::{Header, Jwe, JwePolicy, Jwk, Jws};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A backend is a value; this one is pure Rust.
//! let provider = otrp_crypto_rustcrypto::provider();
//! let jwk = Jwk::from_json(br#"{"kty":"EC","crv":"P-256",
//!     "x":"ucoVDqtWUomqTzrjIwZhQoYVyCoqiVeKLwZyJLPEv24",
//!     "y":"xR8-kjAjA0OgOPMIrjBTT4fF7jVF-NNCnD7VDCP_TQA",
//!     "d":"idGNPO2raTbNft9PNM5YNfbvxhvWi0_DwyeC0Rq9xFw"}"#)?;
//! let key = jwk.load_private_key(provider.key_loader)?; // a TEE would use its hardware key
//! let public = jwk.to_public_key()?;
//!
//! // Encrypt content to the key's owner (the basic profile's ECDH-ES+A128KW),
//! // then sign the message carrying it.
//! let content = Jwe::builder(ContentAlg::A128CbcHs256)
//!     .recipient(KeyAlg::EcdhEsA128Kw, EncryptionKey::Public(&public), Header::new())
//!     .encrypt(br#"{"sdname":"sd.example"}"#, &provider)?;
//! let signed = Jws::sign(
//!     content.to_general_json().as_bytes(), key.as_ref(), JwsAlg::Es256,
//!     Header::new(), None, &provider,
//! )?;
//! let wire = signed.to_flattened_json()?;
//!
//! // The receiver verifies, accepting ES256 only, then decrypts.
//! let payload = Jws::parse(wire.as_bytes())?.verify(&provider, &public, &[JwsAlg::Es256])?;
//! let plaintext = Jwe::parse(&payload)?.decrypt(&provider, key.as_ref(), &JwePolicy::ANY)?;
//! assert_eq!(plaintext, br#"{"sdname":"sd.example"}"#);
//! # Ok(())
//! # }
//! ```
//!
//! ## A TAM talking to a TEE
//!
//! A complete exchange, in process: the TAM session produces request bytes,
//! the soft TEE (`otrp-soft-tee`) answers, the session turns the answer into
//! an event. Nothing here does I/O on behalf of the protocol; time and
//! randomness are passed in.
//!
//! ```
//! # use std::path::Path;
//! # use std::time::Duration;
//! use otrp_core::pki::{TrustAnchors, UnixTime};
//! use otrp_core::tam::{Command, Event, Tam, TamSession, TeeResult};
//! use otrp_core::tee::TeeConfig;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let pki = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-pki/ec");
//! # let der = |name: &str| std::fs::read(pki.join(name)).unwrap();
//! # let pkcs8 = |name: &str| {
//! #     let pem = String::from_utf8(der(name)).unwrap();
//! #     let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
//! #     otrp_core::jose::b64::decode_std(&body, "pem").unwrap()
//! # };
//! # let dir = std::env::temp_dir().join(format!("otrp-doctest-{}", std::process::id()));
//! let provider = otrp_crypto_rustcrypto::provider();
//! let now = UnixTime::since_unix_epoch(Duration::from_secs(2_082_758_400));
//!
//! // The TAM: its key, its certificate chain (sent as `x5c`), its OCSP
//! // response (`ocspdat`) and the roots it accepts TEE certificates under.
//! let tam = Tam::new(
//!     provider,
//!     provider.key_loader.private_key_from_pkcs8_der(&pkcs8("tam.key"))?,
//!     vec![der("tam.der"), der("tam-root.der")],
//!     TrustAnchors::from_certificates([der("tee-root.der").as_slice()])?,
//! )?
//! .with_ocspdat(vec![der("ocsp/tam-good-by-ca.der")]);
//!
//! // The device: a software TEE with its certificate chain and key,
//! // trusting the TAM's root.
//! let identity = otrp_soft_tee::SoftIdentity::from_der(
//!     &provider,
//!     der("tee.der"),
//!     vec![der("tee-ca.der"), der("tee-root.der")],
//!     &pkcs8("tee.key"),
//! )?;
//! let config = TeeConfig::new(
//!     "soft-tee",
//!     TrustAnchors::from_certificates([der("tam-root.der").as_slice()])?,
//! );
//! let mut tee = otrp_soft_tee::open(&dir, config, provider, identity, Default::default())?;
//!
//! // GetDeviceState (9.1): the TAM decrypts the DSI, validates the TEE
//! // certificate and the response signature.
//! let mut session = TamSession::new(&tam);
//! let request = session.get_device_state()?;
//! let response = tee.handle(&request, now)?;
//! let Event::DeviceState(tees) = session.handle_response(&response, now)? else {
//!     panic!("not a GetDeviceState answer")
//! };
//! assert!(matches!(&tees[..], [TeeResult::Accepted { name, .. }] if name == "soft-tee"));
//!
//! // CreateSD (9.2.1): content encrypted to the TEE, bound to the DSI by
//! // `dsihash`; the answer is encrypted under the request's CEK.
//! let request = session.command(
//!     "soft-tee",
//!     Command::CreateSd {
//!         spid: "sp1".into(),
//!         sdname: "sd1".into(),
//!         spcert: der("sp.der"),
//!     },
//! )?;
//! let response = tee.handle(&request, now)?;
//! match session.handle_response(&response, now)? {
//!     Event::Success { dsi: Some(dsi), .. } => assert_eq!(dsi.tee.sdlist.sd[0].name, "sd1"),
//!     other => panic!("{other:?}"),
//! }
//!
//! // The same answer again is a replay: refused, nothing changes.
//! assert!(session.handle_response(&response, now).is_err());
//! # drop(tee);
//! # let _ = std::fs::remove_dir_all(&dir);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod broker;
pub mod crypto;
pub mod jose;
mod json_reader;
mod json_text;
mod json_writer;
pub mod message;
pub mod pki;
pub mod tam;
pub mod tee;
