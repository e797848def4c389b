//! The crypto provider model: algorithm identifiers, key data, the traits a
//! backend implements, and [`Provider`], the list of what it offers.
//!
//! No cryptography lives here. Backends (`otrp-crypto-rustcrypto`,
//! `otrp-crypto-ring`) export a `provider()`; a TEE implements [`JwsSigner`]
//! and [`CekDecrypter`] over its hardware keys.

mod alg;
mod compose;
mod error;
mod kdf;
mod key;
mod provider;
mod traits;

pub use alg::{ContentAlg, Curve, HashAlg, JwsAlg, KeyAlg, KeyKind};
pub use compose::{ComposedKeyLoader, SplitKey};
pub use error::CryptoError;
pub use kdf::{Sha256Fn, concat_kdf};
pub use key::{
    AgreementParams, Cek, EcPublicKey, EncryptionKey, PublicKey, RsaPublicKey, SecretBytes,
    WrappedCek,
};
pub use provider::Provider;
pub use traits::{
    CekDecrypter, ContentCipher, Digest, JwsSigner, KeyEncrypter, KeyLoader, PrivateKey,
    SecureRandom, SignatureVerifier,
};
