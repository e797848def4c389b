//! `Jws::builder` gives exactly the JWS `Jws::sign` and `add_signature`
//! give (RS256 signatures are deterministic), and refuses what they refuse.

use otrp_core::crypto::{JwsAlg, Provider};
use otrp_core::jose::{Header, JoseError, Jws};
use otrp_test_support::fixtures::{Kind, cert, private_key, public_key_of_cert};

fn provider() -> Provider {
    otrp_crypto_rustcrypto::provider()
}

fn kid(id: &str) -> Header {
    Header::new().with("kid", id)
}

#[test]
fn one_signature_is_the_same_as_jws_sign() {
    let p = provider();
    let key = private_key(&p, Kind::Rsa, "tam");
    let built = Jws::builder()
        .signature(JwsAlg::Rs256, key.as_ref(), kid("tam"), None)
        .sign(b"payload", &p)
        .unwrap();
    let signed = Jws::sign(
        b"payload",
        key.as_ref(),
        JwsAlg::Rs256,
        kid("tam"),
        None,
        &p,
    )
    .unwrap();
    assert_eq!(built, signed);
    assert_eq!(
        built.to_flattened_json().unwrap(),
        signed.to_flattened_json().unwrap()
    );
    let public = public_key_of_cert(&p, &cert(Kind::Rsa, "tam"));
    assert_eq!(
        built.verify(&p, &public, &[JwsAlg::Rs256]).unwrap(),
        b"payload"
    );
}

#[test]
fn several_signatures_are_the_same_as_add_signature() {
    let p = provider();
    let tam = private_key(&p, Kind::Rsa, "tam");
    let sp = private_key(&p, Kind::Rsa, "sp");
    let unprotected = Header::new().with("x-note", "second");
    let built = Jws::builder()
        .signature(JwsAlg::Rs256, tam.as_ref(), kid("tam"), None)
        .signature(
            JwsAlg::Rs512,
            sp.as_ref(),
            kid("sp"),
            Some(unprotected.clone()),
        )
        .sign(b"payload", &p)
        .unwrap();
    let mut by_hand = Jws::sign(
        b"payload",
        tam.as_ref(),
        JwsAlg::Rs256,
        kid("tam"),
        None,
        &p,
    )
    .unwrap();
    by_hand
        .add_signature(sp.as_ref(), JwsAlg::Rs512, kid("sp"), Some(unprotected), &p)
        .unwrap();
    assert_eq!(built, by_hand);
    assert_eq!(built.signatures().len(), 2);
    let sp_public = public_key_of_cert(&p, &cert(Kind::Rsa, "sp"));
    assert!(built.verify(&p, &sp_public, &[JwsAlg::Rs512]).is_ok());
}

#[test]
fn a_builder_without_signatures_is_refused() {
    assert!(matches!(
        Jws::builder().sign(b"payload", &provider()),
        Err(JoseError::InvalidConstruction(_))
    ));
}

#[test]
fn an_algorithm_that_does_not_fit_the_key_is_refused() {
    let p = provider();
    let ec = private_key(&p, Kind::Ec, "tam");
    assert!(matches!(
        Jws::builder()
            .signature(JwsAlg::Rs256, ec.as_ref(), Header::new(), None)
            .sign(b"payload", &p),
        Err(JoseError::KeyMismatch(_))
    ));
}
