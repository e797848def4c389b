//! Issue 14, item 8: every certificate and OCSP response the project makes
//! (this generator, and the openssl fixtures of test-pki/) is DER, down to
//! its extension values: each re-encodes to the very same bytes
//! (`otrp_core::pki::check_certificate_der` / `check_ocsp_response_der`).
//! Before the fix, end-entity certificates carried BasicConstraints with an
//! explicit `cA FALSE`, which this refuses. (`otrp-cli/tests/strict_der.rs`
//! runs the same files through pyca/cryptography.)

use std::path::PathBuf;
use std::time::Duration;

use otrp_core::pki::{UnixTime, check_certificate_der, check_ocsp_response_der};
use otrp_test_pki::{
    CertSpec, KeyType, OcspResponseBuilder, OcspStatus, Profile, Slot, TamIdSan, TestPki,
};

fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(2_082_758_400))
}

const SLOTS: [Slot; 11] = [
    Slot::TamRoot,
    Slot::Tam,
    Slot::TeeRoot,
    Slot::TeeCa,
    Slot::Tee,
    Slot::SpRoot,
    Slot::Sp,
    Slot::TfwRoot,
    Slot::Tfw,
    Slot::OcspResponder,
    Slot::OcspResponder,
];

fn check_pki(pki: &TestPki) {
    for slot in SLOTS {
        let der = pki.cert(slot).der();
        check_certificate_der(der).unwrap_or_else(|e| panic!("{slot:?}: {e}"));
    }
    let tam = pki.cert(Slot::Tam).der();
    let statuses = [
        OcspStatus::Good,
        OcspStatus::Unknown,
        OcspStatus::Revoked {
            time: now(),
            reason: None,
        },
    ];
    for status in statuses {
        let by_ca = OcspResponseBuilder::new(tam, &pki.tam_root, now())
            .status(status)
            .build()
            .unwrap();
        check_ocsp_response_der(&by_ca).unwrap_or_else(|e| panic!("{status:?}: {e}"));
        let by_responder = OcspResponseBuilder::new(tam, &pki.tam_root, now())
            .status(status)
            .signed_by(&pki.ocsp_responder)
            .include_responder_cert(true)
            .build()
            .unwrap();
        check_ocsp_response_der(&by_responder).unwrap_or_else(|e| panic!("{status:?}: {e}"));
    }
}

#[test]
fn generated_certificates_and_ocsp_responses_are_der() {
    let rng = &otrp_crypto_rustcrypto::OS_RANDOM;
    check_pki(&TestPki::builder(KeyType::P256).build(rng).unwrap());
    let oid = TestPki::builder(KeyType::P256)
        .tamid(TamIdSan::RegisteredId("1.3.6.1.4.1.99999.1".into()))
        .build(rng)
        .unwrap();
    check_pki(&oid);
}

#[test]
fn an_explicit_ca_false_is_refused() {
    // What the generator used to make: rcgen's ExplicitNoCa.
    let rng = &otrp_crypto_rustcrypto::OS_RANDOM;
    let pki = TestPki::builder(KeyType::P256).build(rng).unwrap();
    let key = otrp_test_pki::Key::generate(KeyType::P256, rng).unwrap();
    let spec = CertSpec::new(
        "explicit",
        7,
        now(),
        UnixTime::since_unix_epoch(Duration::from_secs(2_200_000_000)),
        Profile::Sp,
    );
    let mut params = spec.to_params(KeyType::P256, key.spki_der()).unwrap();
    params.custom_extensions.clear();
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    let cert = pki.sp_root.issue_params(&params, key).unwrap();
    assert!(check_certificate_der(cert.der()).is_err());
}

#[test]
fn the_openssl_fixtures_are_der() {
    for h in ["ec", "rsa"] {
        let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "test-pki", h]
            .iter()
            .collect();
        let mut certs = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".der") && !name.ends_with(".pk8.der") {
                let der = std::fs::read(&path).unwrap();
                check_certificate_der(&der).unwrap_or_else(|e| panic!("{name}: {e}"));
                certs += 1;
            }
        }
        assert!(certs >= 10, "{h}: {certs} certificates");
        let mut responses = 0;
        for entry in std::fs::read_dir(dir.join("ocsp")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "der") {
                let der = std::fs::read(&path).unwrap();
                check_ocsp_response_der(&der).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                responses += 1;
            }
        }
        assert!(responses >= 10, "{h}: {responses} OCSP responses");
    }
}
