//! InstallTA measurements shared by the throughput and heap benchmarks:
//! the scenario with a TA image of a given size, and the raw work its
//! `encrypted_ta` needs (base64 decode of `ciphertadata`, AES-256-CBC).

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use otrp_core::jose::Jws;
use otrp_core::message::{Envelope, Limits, MessageKind};

use crate::scenario::Scenario;

/// The TA sizes measured: 1 MiB and 16 MiB.
pub const SIZES: [usize; 2] = [1 << 20, 16 << 20];

/// `ciphertadata` (the BASE64 text), the TA key and IV of the InstallTA
/// request of `s` (the key from the TAM's outstanding request state is not
/// public, so the raw baseline uses a fixed key of the same size).
pub fn ciphertadata(s: &Scenario) -> String {
    let step = s.step(MessageKind::InstallTa);
    let env = Envelope::parse(&step.request, &Limits::DEFAULT).expect("request");
    let jws = Jws::parse_json(env.jws_bytes()).expect("JWS");
    let payload: serde_json::Value =
        serde_json::from_slice(&jws.unverified_payload().expect("payload")).expect("JSON");
    payload["InstallTATBSRequest"]["encrypted_ta"]["ciphertadata"]
        .as_str()
        .expect("ciphertadata")
        .to_string()
}

/// The TA image size of the scenario's InstallTA (the plaintext of
/// `ciphertadata`, within 16 bytes).
pub fn image_len(ciphertadata: &str) -> usize {
    ciphertadata.len() / 4 * 3
}

/// The raw work: base64 decode of `ciphertadata` with the fastest decoder
/// at hand (the `base64` crate's SIMD engine, the one otrp uses for public
/// data with `std`), then
/// AES-256-CBC decryption in place (a fixed key: CBC decryption does not
/// depend on it, padding aside, so the padding check is skipped by
/// decrypting without unpadding).
pub fn raw_decode_decrypt(ciphertadata: &str) -> usize {
    use base64::Engine as _;
    static ENGINE: std::sync::LazyLock<base64::engine::Simd> = std::sync::LazyLock::new(|| {
        base64::engine::Simd::standard(base64::engine::general_purpose::PAD)
    });
    let mut buf = ENGINE.decode(ciphertadata).expect("base64");
    let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(&[7u8; 32], &[9u8; 16])
        .expect("key and IV sizes");
    let len = buf.len();
    let _ = dec.decrypt_padded::<Pkcs7>(&mut buf);
    std::hint::black_box(&buf);
    len
}
