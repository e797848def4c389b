//! `provider_under_test!` selects exactly the backend it names, and its
//! `_with_random` variant uses the given random source.

use otrp_core::crypto::{CryptoError, Provider, SecureRandom};
use otrp_test_support::SeededRandom;

mod rustcrypto {
    otrp_test_support::provider_under_test!(rustcrypto);
}
mod aws_lc {
    otrp_test_support::provider_under_test!(aws_lc);
}
mod composed {
    otrp_test_support::provider_under_test!(composed);
}

/// The rustls-webpki algorithm objects, by their Debug names.
fn webpki(provider: &Provider) -> String {
    format!("{:?}", provider.webpki_algorithms)
}

#[test]
fn each_name_selects_its_backend() {
    let rc = webpki(&rustcrypto::provider_under_test());
    let aws = webpki(&aws_lc::provider_under_test());
    let ring = webpki(&composed::provider_under_test());
    assert!(aws.contains("AwsLcRs"), "{aws}");
    assert!(ring.contains("Ring"), "{ring}");
    assert!(!rc.contains("AwsLcRs") && !rc.contains("Ring"), "{rc}");
}

struct Refusing;

impl SecureRandom for Refusing {
    fn fill(&self, _: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::Random)
    }
}

#[test]
fn with_random_uses_the_given_source() {
    static REFUSING: Refusing = Refusing;
    for provider in [
        rustcrypto::provider_under_test_with_random(&REFUSING),
        aws_lc::provider_under_test_with_random(&REFUSING),
        composed::provider_under_test_with_random(&REFUSING),
    ] {
        let mut buf = [0u8; 4];
        assert_eq!(
            provider.secure_random.fill(&mut buf),
            Err(CryptoError::Random)
        );
    }
}

#[test]
fn seeded_random_is_deterministic() {
    let (a, b) = (SeededRandom::new(b"seed"), SeededRandom::new(b"seed"));
    let (mut x, mut y) = ([0u8; 48], [0u8; 48]);
    a.fill(&mut x).unwrap();
    b.fill(&mut y).unwrap();
    assert_eq!(x, y);
    let mut z = [0u8; 48];
    SeededRandom::new(b"other").fill(&mut z).unwrap();
    assert_ne!(x, z);
}
