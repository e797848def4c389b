//! Secrets are zeroized on drop: every type that holds a CEK, a derived key
//! or a private key is (or wraps only) a `ZeroizeOnDrop` type. This fails to
//! compile if one of them stops being one.

use zeroize::ZeroizeOnDrop;

fn zeroized_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_holding_types_zeroize_on_drop() {
    // CEKs, derived keys and symmetric keys (otrp-core).
    zeroized_on_drop::<otrp_core::crypto::SecretBytes>();
    // Private JWK members.
    zeroized_on_drop::<otrp_core::jose::Secret>();
    // What RsaPrivateKey, EcPrivateKey and SymmetricKey hold.
    zeroized_on_drop::<rsa::PrivateKey>();
    zeroized_on_drop::<p256::ecdsa::SigningKey>();
    zeroized_on_drop::<p384::ecdsa::SigningKey>();
    zeroized_on_drop::<zeroize::Zeroizing<Vec<u8>>>();
}

#[test]
fn secret_bytes_are_wiped_by_zeroize() {
    use zeroize::Zeroize;
    let mut cek = otrp_core::crypto::SecretBytes::new(vec![0xAA; 32]);
    cek.zeroize();
    assert!(cek.as_bytes().iter().all(|&b| b == 0) || cek.is_empty());
    assert!(
        !format!("{cek:?}").contains("170"),
        "Debug never prints secret bytes"
    );
}
