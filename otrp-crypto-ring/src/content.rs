//! The AES-GCM primitive under A128GCM and A256GCM (RFC 7518 section
//! 5.3, composed in otrp-core) with ring.

use otrp_core::crypto::{AesGcmCipher, ContentAlg};

otrp_core::aead_aes_gcm! {
    /// AES-GCM on `ring::aead`.
    pub struct RingAesGcm on ring;
    open(key, nonce, aad, tag, buf) => ring::aead::Tag::try_from(tag)
        .and_then(|tag| key.open_in_place_separate_tag(nonce, aad, tag, buf, 0..));
}

/// The AES-GCM primitive of this backend.
pub static AES_GCM: RingAesGcm = RingAesGcm;

/// A128GCM.
pub static A128GCM: AesGcmCipher = AesGcmCipher::new(ContentAlg::A128Gcm, &AES_GCM);
/// A256GCM.
pub static A256GCM: AesGcmCipher = AesGcmCipher::new(ContentAlg::A256Gcm, &AES_GCM);
