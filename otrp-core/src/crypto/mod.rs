//! The crypto provider model: algorithm identifiers, key data, the traits a
//! backend implements, and [`Provider`], the list of what it offers.
//!
//! No primitive lives here: backends (`otrp-crypto-rustcrypto`,
//! `otrp-crypto-aws-lc`, `otrp-crypto-ring`) export a `provider()`, and a
//! TEE implements [`JwsSigner`] and [`CekDecrypter`] over its hardware keys.
//! What is built *from* primitives is written once, here, over the small
//! traits of [`AesCbc`], [`Hmac`], [`AesGcm`], [`AesKw`], [`Ecdh`] and [`Digest`] that
//! each backend supplies (as rustls's `PrfUsingHmac` is over a backend's
//! HMAC): AES-CBC-HMAC ([`AesCbcHmac`]), AES-GCM ([`AesGcmCipher`];
//! ring's and aws-lc-rs' one `aead` API in [`crate::aead_aes_gcm!`]), AES key wrap ([`AesKeyWrap`],
//! [`SymmetricKey`]), RSA key encryption ([`RsaKeyEncryption`] over
//! [`RsaEncrypt`]), ECDH-ES with the Concat KDF ([`EcdhEs`],
//! [`ecdh_es_decrypt_cek`], [`concat_kdf`]), RSA1_5's constant-time
//! decoding ([`rsa1_5_decrypt_cek`]) and the ROCA check on every RSA key;
//! the parts of a backend's software keys that are not its primitives
//! (key generation, the checks that an algorithm fits a key, `JwsSigner` and
//! `CekDecrypter` over the key's operations: [`EcScalar`],
//! [`crate::software_key!`], [`crate::ephemeral_ecdh!`], and for ring's and
//! aws-lc-rs' one `signature` API [`crate::signature_api!`]);
//! and a complete backend's digests and provider tables
//! ([`crate::backend_digests!`], [`crate::complete_provider_tables!`]).

mod aes_kw;
mod alg;
mod backend;
mod cbc_hmac;
mod compose;
mod ecdh_es;
mod error;
mod gcm;
mod kdf;
mod key;
mod primitives;
mod provider;
mod roca;
mod rsa1_5;
mod rsa_kem;
mod software;
mod streamed;
mod traits;

pub use aes_kw::{AesKeyWrap, SymmetricKey, require_cek};
pub use alg::{ContentAlg, Curve, HashAlg, JwsAlg, KeyAlg, KeyKind};
pub use backend::{HashDigest, HashFn, Loaded, SoftwareKeyLoader, StartFn, boxed};
pub use cbc_hmac::AesCbcHmac;
pub use compose::{ComposedKeyLoader, SplitKey};
pub use ecdh_es::{EcdhEs, ecdh_es_decrypt_cek};
pub use error::CryptoError;
pub use gcm::AesGcmCipher;
pub use kdf::concat_kdf;
pub use key::{
    AgreementParams, Cek, EcPublicKey, EncryptionKey, KeyComponents, PublicKey, RsaKeyComponents,
    RsaPublicKey, SecretBytes, WrappedCek,
};
pub use primitives::{
    AesCbc, AesGcm, AesKw, Ciphertext, Ecdh, Hmac, RsaEncrypt, Sealed, SharedSecret,
};
pub use provider::Provider;
pub use roca::has_roca_fingerprint;
pub use rsa_kem::RsaKeyEncryption;
pub use rsa1_5::{pkcs1v15_decode_explicit, rsa1_5_decrypt_cek};
pub use software::{
    EcScalar, EcSigningKey, JwsSignature, RsaDecryptingKey, RsaSigningKey, Secret, Verified,
    ephemeral_agree, rsa_decrypt_cek,
};
pub use streamed::{HashedMessage, SignedMessage};
pub use traits::{
    CekDecrypter, ContentCipher, Digest, DigestContext, JwsSigner, KeyEncrypter, KeyLoader,
    PrivateKey, SecureRandom, SignatureVerifier,
};
