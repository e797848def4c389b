//! Content encryption (RFC 7518 5.2, 5.3): the tag is checked before any
//! decryption, a valid tag over a bad padding is still `Decrypt`, wrong
//! lengths are errors. The
//! CBC-HMAC ciphertexts are built independently (RustCrypto's raw AES and
//! HMAC), so the test controls every byte.

use hmac::{KeyInit, Mac};
use otrp_core::crypto::{
    AgreementParams, Cek, ContentAlg, CryptoError, EncryptionKey, KeyAlg, Provider,
};

use crate::keys::TestKeys;

/// AES-128-CBC without padding, built from raw AES (so the test controls
/// every byte of the ciphertext).
fn raw_cbc_encrypt(key: &[u8], iv: &[u8], blocks: &[u8]) -> Vec<u8> {
    use aes::cipher::{BlockCipherEncrypt, KeyInit as _};
    let aes = aes::Aes128::new_from_slice(key).unwrap();
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::new();
    for chunk in blocks.chunks(16) {
        let mut block = [0u8; 16];
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        let mut b = aes::Block::from(block);
        aes.encrypt_block(&mut b);
        prev = b.into();
        out.extend_from_slice(&prev);
    }
    out
}

fn a128cbc_hs256_tag(mac_key: &[u8], aad: &[u8], iv: &[u8], ct: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(mac_key).unwrap();
    mac.update(aad);
    mac.update(iv);
    mac.update(ct);
    mac.update(&((aad.len() as u64) * 8).to_be_bytes());
    mac.finalize().into_bytes()[..16].to_vec()
}

/// RFC 7518 5.2: the MAC covers AAD || IV || ciphertext || AL; a valid tag
/// over a ciphertext whose padding is invalid still gives Decrypt.
pub fn cbc_hmac_valid_tag_with_bad_padding_is_decrypt(provider: Provider) {
    let cek = Cek::new((0u8..32).collect());
    let (mac_key, enc_key) = cek.as_bytes().split_at(16);
    let iv = [7u8; 16];
    let aad = b"protected header";
    let cipher = provider.content_cipher(ContentAlg::A128CbcHs256).unwrap();
    // Sanity: our own MAC matches the cipher's for a well-formed message.
    let mut good = b"sixteen byte msg".to_vec();
    let tag = cipher.encrypt(&cek, &iv, aad, &mut good).unwrap();
    assert_eq!(tag, a128cbc_hs256_tag(mac_key, aad, &iv, &good));

    for bad_padding in [[0u8; 16], [17u8; 16], {
        let mut b = [3u8; 16];
        b[15] = 2;
        b[14] = 1;
        b
    }] {
        let mut plaintext = b"sixteen byte msg".to_vec();
        plaintext.extend_from_slice(&bad_padding);
        let ct = raw_cbc_encrypt(enc_key, &iv, &plaintext);
        let tag = a128cbc_hs256_tag(mac_key, aad, &iv, &ct);
        let mut buf = ct.clone();
        assert_eq!(
            cipher.decrypt(&cek, &iv, aad, &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
    }
    // The same construction with valid padding decrypts: the test above
    // failed on the padding, not on the MAC.
    let mut plaintext = b"sixteen byte msg".to_vec();
    plaintext.extend_from_slice(&[16u8; 16]);
    let ct = raw_cbc_encrypt(enc_key, &iv, &plaintext);
    let tag = a128cbc_hs256_tag(mac_key, aad, &iv, &ct);
    let mut buf = ct;
    cipher.decrypt(&cek, &iv, aad, &mut buf, &tag).unwrap();
    assert_eq!(buf, b"sixteen byte msg");
}

/// A flipped tag, AAD, IV or ciphertext bit is Decrypt, and the buffer is
/// untouched: decryption (which works in place) never ran before the MAC
/// check.
pub fn cbc_hmac_tag_is_checked_before_decryption(provider: Provider) {
    for enc in [ContentAlg::A128CbcHs256, ContentAlg::A256CbcHs512] {
        let p = provider;
        let cek = Cek::new(p.random_bytes(enc.key_len()).unwrap());
        let iv = p.random_bytes(16).unwrap();
        let cipher = p.content_cipher(enc).unwrap();
        let mut ct = b"payload".to_vec();
        let tag = cipher.encrypt(&cek, &iv, b"aad", &mut ct).unwrap();
        for bit in [0, 7, 8 * tag.len() - 1] {
            let mut bad = tag.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut buf = ct.clone();
            assert_eq!(
                cipher.decrypt(&cek, &iv, b"aad", &mut buf, &bad),
                Err(CryptoError::Decrypt)
            );
            assert_eq!(buf, ct, "ciphertext was touched before the tag check");
        }
        let mut buf = ct.clone();
        assert_eq!(
            cipher.decrypt(&cek, &iv, b"aaD", &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(buf, ct);
        let mut bad_iv = iv.clone();
        bad_iv[0] ^= 1;
        assert_eq!(
            cipher.decrypt(&cek, &bad_iv, b"aad", &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(buf, ct);
        let mut bad_ct = ct.clone();
        bad_ct[3] ^= 0x80;
        let mut buf = bad_ct.clone();
        assert_eq!(
            cipher.decrypt(&cek, &iv, b"aad", &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(buf, bad_ct);
    }
}

/// Wrong lengths never panic: every one is Decrypt on the way in (and an
/// error on the way out).
pub fn wrong_lengths_are_errors_not_panics(provider: Provider) {
    let p = provider;
    for &enc in ContentAlg::ALL {
        let cipher = p.content_cipher(enc).unwrap();
        let cek = Cek::new(p.random_bytes(enc.key_len()).unwrap());
        let iv = p.random_bytes(enc.iv_len()).unwrap();
        let mut ct = b"payload".to_vec();
        let tag = cipher.encrypt(&cek, &iv, b"", &mut ct).unwrap();
        let short_cek = Cek::new(vec![1; enc.key_len() - 1]);
        let long_cek = Cek::new(vec![1; enc.key_len() + 1]);
        for (cek_, iv_, tag_, ct_) in [
            (&cek, &iv[1..], &tag[..], &ct[..]),
            (&cek, &[][..], &tag[..], &ct[..]),
            (&cek, &iv[..], &tag[1..], &ct[..]),
            (&cek, &iv[..], &[][..], &ct[..]),
            (&short_cek, &iv[..], &tag[..], &ct[..]),
            (&long_cek, &iv[..], &tag[..], &ct[..]),
            (&cek, &iv[..], &tag[..], &ct[1..]),
            (&cek, &iv[..], &tag[..], &[][..]),
        ] {
            let mut buf = ct_.to_vec();
            assert_eq!(
                cipher.decrypt(cek_, iv_, b"", &mut buf, tag_),
                Err(CryptoError::Decrypt),
                "{enc}"
            );
        }
        let mut buf = b"x".to_vec();
        assert!(cipher.encrypt(&short_cek, &iv, b"", &mut buf).is_err());
        assert!(cipher.encrypt(&cek, &iv[1..], b"", &mut buf).is_err());
    }
    // Key management with wrong CEK lengths.
    let keys = TestKeys::load(&provider);
    let rsa = &keys.rsa;
    let pk = rsa.public_key().unwrap();
    let short = Cek::new(vec![0; 5]);
    for &alg in &[KeyAlg::Rsa1_5, KeyAlg::RsaOaep, KeyAlg::RsaOaep256] {
        let e = p.key_encrypter(alg).unwrap();
        let r = e.encrypt_cek(
            EncryptionKey::Public(&pk),
            ContentAlg::A128Gcm,
            Some(&short),
            &AgreementParams::default(),
            provider.secure_random,
        );
        assert_eq!(r.err(), Some(CryptoError::InvalidLength));
    }
}
