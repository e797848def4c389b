//! Everything otrp-test-pki makes validates through `otrp_core::pki` with the
//! RustCrypto provider: chains per role, tamid (URI and registeredID), did,
//! OCSP responses (good, revoked, unknown, stale, responder-signed), the
//! written file set, and issuance under a re-read (also openssl-made) root.
//! P-256 hierarchies are generated; the RSA one uses the fixture keys of
//! test-pki/rsa (no RSA key generation at test time).

use std::path::PathBuf;
use std::time::Duration;

use otrp_core::crypto::Provider;
use otrp_core::pki::{
    CertError, Did, OcspCache, OcspError, OcspPolicy, PkiError, Role, TrustAnchors, UnixTime,
    check_revocation, check_sp_certificate, validate_tam_chain, validate_tee_chain,
    validate_tfw_certificate, verify_ocsp_response,
};
use otrp_test_pki::{
    Cert, CertIdHash, CertSpec, CrlReason, Key, KeyType, OcspResponseBuilder, OcspStatus, Profile,
    Slot, TamIdSan, TestPki,
};

fn provider() -> Provider {
    otrp_crypto_rustcrypto::provider()
}

fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

/// 2036-01-01, the fixtures' "now".
fn now() -> UnixTime {
    at(2_082_758_400)
}

fn anchors(cert: &Cert) -> TrustAnchors {
    TrustAnchors::from_certificates([cert.der()]).unwrap()
}

fn fixture(h: &str, name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "test-pki", h, name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture's private key from its PKCS#8 PEM `.key` file.
fn fixture_key(h: &str, name: &str) -> Key {
    let pem = String::from_utf8(fixture(h, &format!("{name}.key"))).unwrap();
    Key::from_pkcs8_pem(&pem).unwrap()
}

fn p256_pki() -> TestPki {
    TestPki::builder(KeyType::P256)
        .build(&otrp_crypto_rustcrypto::OS_RANDOM)
        .unwrap()
}

/// The RSA hierarchy over the openssl fixtures' RSA-2048 keys.
fn rsa_pki() -> TestPki {
    let mut b = TestPki::builder(KeyType::Rsa2048);
    for slot in Slot::ALL {
        let der = fixture("rsa", &format!("{}.pk8.der", slot.fixture_name()));
        let key = Key::from_pkcs8_der(&der).unwrap();
        assert_eq!(key.key_type(), KeyType::Rsa2048);
        b = b.key(slot, key);
    }
    // Every key given: the random source must not be used.
    b.build(&NoRandom).unwrap()
}

struct NoRandom;
impl otrp_core::crypto::SecureRandom for NoRandom {
    fn fill(&self, _: &mut [u8]) -> Result<(), otrp_core::crypto::CryptoError> {
        Err(otrp_core::crypto::CryptoError::Random)
    }
}

/// Every check the brief lists, on one hierarchy.
fn check_everything(pki: &TestPki) {
    let p = provider();
    let policy = OcspPolicy::default();

    // TAM: x5c against the TEE's TAM anchors, tamid from the URI.
    let tam = validate_tam_chain(&p, &anchors(&pki.tam_root), &pki.tam_x5c(), now()).unwrap();
    assert_eq!(tam.tamid.as_str(), "https://tam.example.com/tam1");
    assert_eq!(tam.chain.role(), Role::Tam);
    // ... and without the root in x5c.
    validate_tam_chain(&p, &anchors(&pki.tam_root), &[pki.tam.der()], now()).unwrap();
    // Not against another role's root.
    assert!(matches!(
        validate_tam_chain(&p, &anchors(&pki.tee_root), &pki.tam_x5c(), now()),
        Err(PkiError::Certificate {
            role: Role::Tam,
            error: CertError::UnknownIssuer
        })
    ));

    // TEE: certificate + cacert against the TAM's TEE anchors; did.
    let tee = validate_tee_chain(
        &p,
        &anchors(&pki.tee_root),
        pki.tee.der(),
        &pki.tee_cacert(),
        now(),
    )
    .unwrap();
    assert_eq!(tee.did, Did::of_certificate(&p, pki.tee.der()).unwrap());
    assert_eq!(tee.chain.certificates().count(), 2); // device + intermediate
    assert_eq!(tee.chain.anchor(), pki.tee_root.der());
    // The intermediate is needed.
    assert!(validate_tee_chain(&p, &anchors(&pki.tee_root), pki.tee.der(), &[], now()).is_err());

    // TFW and SP.
    validate_tfw_certificate(&p, &anchors(&pki.tfw_root), pki.tfw.der(), now()).unwrap();
    check_sp_certificate(&p, &anchors(&pki.sp_root), pki.sp.der(), &[], now()).unwrap();
    check_sp_certificate(&p, &TrustAnchors::new(), pki.sp.der(), &[], now()).unwrap();

    // Validity: 2026-01-01 .. 2046-01-01.
    assert!(
        validate_tam_chain(
            &p,
            &anchors(&pki.tam_root),
            &pki.tam_x5c(),
            at(2_400_000_000)
        )
        .is_err()
    );

    // OCSP, good by the CA.
    let this_update = at(2_082_758_400 - 3600);
    let verify = |der: &[u8], resp: &[u8]| {
        verify_ocsp_response(&p, der, pki.tam_root.der(), resp, now(), &policy)
    };
    let good = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
        .build()
        .unwrap();
    let g = verify(pki.tam.der(), &good).unwrap();
    assert_eq!(g.this_update, this_update);
    assert_eq!(g.next_update, Some(at(2_082_758_400 - 3600 + 86_400)));
    // The same response says nothing about the OCSP responder's certificate
    // (another serial).
    assert_eq!(
        verify(pki.ocsp_responder.der(), &good),
        Err(OcspError::SerialMismatch)
    );
    // check_revocation over the validated chain, with the cache.
    let mut cache = OcspCache::new(4);
    check_revocation(&p, &tam.chain, &[&good], now(), &policy, Some(&mut cache)).unwrap();
    assert_eq!(cache.len(), 1);

    // Revoked.
    let revoked = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
        .status(OcspStatus::Revoked {
            time: at(2_000_000_000),
            reason: Some(CrlReason::KeyCompromise),
        })
        .build()
        .unwrap();
    assert_eq!(verify(pki.tam.der(), &revoked), Err(OcspError::Revoked));
    assert_eq!(
        check_revocation(&p, &tam.chain, &[&revoked], now(), &policy, None),
        Err(PkiError::Ocsp(OcspError::Revoked))
    );

    // Unknown.
    let unknown = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
        .status(OcspStatus::Unknown)
        .build()
        .unwrap();
    assert_eq!(verify(pki.tam.der(), &unknown), Err(OcspError::Unknown));

    // Stale: nextUpdate a day before now (beyond the 300 s skew).
    let stale =
        OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, at(2_082_758_400 - 3 * 86_400))
            .next_update(Some(at(2_082_758_400 - 86_400)))
            .build()
            .unwrap();
    assert_eq!(verify(pki.tam.der(), &stale), Err(OcspError::Stale));

    // Without nextUpdate: refused by the default policy.
    let open = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
        .next_update(None)
        .build()
        .unwrap();
    assert_eq!(
        verify(pki.tam.der(), &open),
        Err(OcspError::MissingNextUpdate)
    );

    // Future-dated.
    let future = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, at(2_082_758_400 + 86_400))
        .build()
        .unwrap();
    assert_eq!(verify(pki.tam.der(), &future), Err(OcspError::NotYetValid));

    // Signed by the delegated responder (id-kp-OCSPSigning), certificate
    // included: accepted; without it: the responder certificate is missing.
    let by_responder = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
        .signed_by(&pki.ocsp_responder)
        .build()
        .unwrap();
    verify(pki.tam.der(), &by_responder).unwrap();
    let no_cert = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
        .signed_by(&pki.ocsp_responder)
        .include_responder_cert(false)
        .build()
        .unwrap();
    assert_eq!(
        verify(pki.tam.der(), &no_cert),
        Err(OcspError::ResponderCertificateMissing)
    );
    // Signed by a certificate the TAM root issued without OCSPSigning (the
    // TAM signer itself): unauthorized.
    let by_tam = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
        .signed_by(&pki.tam)
        .build()
        .unwrap();
    assert!(matches!(
        verify(pki.tam.der(), &by_tam),
        Err(OcspError::UnauthorizedResponder(_))
    ));

    // CertID hashes: SHA-1 (provider has it), SHA-384, SHA-512.
    for hash in [CertIdHash::Sha1, CertIdHash::Sha384, CertIdHash::Sha512] {
        let r = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, this_update)
            .cert_id_hash(hash)
            .build()
            .unwrap();
        verify(pki.tam.der(), &r).unwrap_or_else(|e| panic!("{hash:?}: {e:?}"));
    }
}

#[test]
fn a_p256_hierarchy_validates_through_otrp_core() {
    let pki = p256_pki();
    assert_eq!(pki.tam.key().unwrap().key_type(), KeyType::P256);
    check_everything(&pki);
}

#[test]
fn an_rsa_hierarchy_over_fixture_keys_validates_through_otrp_core() {
    let pki = rsa_pki();
    check_everything(&pki);
    // The keys are the fixtures' keys.
    let fixture_tam = fixture("rsa", "tam.der");
    let fixture_spki = otrp_test_pki::rcgen::PublicKeyData::der_bytes(pki.tam.key().unwrap());
    assert!(
        fixture_tam
            .windows(fixture_spki.len())
            .any(|w| w == fixture_spki)
    );
}

#[test]
fn a_registered_id_tamid_is_read_back_in_dotted_form() {
    let pki = TestPki::builder(KeyType::P256)
        .tamid(TamIdSan::RegisteredId("1.3.6.1.4.1.99999.1.2".into()))
        .build(&otrp_crypto_rustcrypto::OS_RANDOM)
        .unwrap();
    let tam =
        validate_tam_chain(&provider(), &anchors(&pki.tam_root), &pki.tam_x5c(), now()).unwrap();
    assert_eq!(tam.tamid.as_str(), "1.3.6.1.4.1.99999.1.2");
    assert_eq!(pki.tamid.as_str(), "1.3.6.1.4.1.99999.1.2");
}

#[test]
fn an_invalid_tamid_is_an_error() {
    let r = TestPki::builder(KeyType::P256)
        .tamid(TamIdSan::RegisteredId("not.an.oid".into()))
        .build(&otrp_crypto_rustcrypto::OS_RANDOM);
    assert!(matches!(r, Err(otrp_test_pki::Error::TamId(_))), "{r:?}");
}

#[test]
fn the_shape_matches_the_openssl_fixtures() {
    let pki = p256_pki();
    for slot in Slot::ALL {
        let ours = pki.cert(slot).x509().unwrap();
        let theirs = fixture("ec", &format!("{}.der", slot.fixture_name()));
        let theirs = <x509_cert::Certificate as der07::Decode>::from_der(&theirs).unwrap();
        let (o, t) = (&ours.tbs_certificate, &theirs.tbs_certificate);
        assert_eq!(o.serial_number, t.serial_number, "{slot:?}");
        assert_eq!(o.subject.to_string(), t.subject.to_string(), "{slot:?}");
        assert_eq!(o.issuer.to_string(), t.issuer.to_string(), "{slot:?}");
        assert_eq!(o.validity, t.validity, "{slot:?}");
        let ids = |c: &x509_cert::TbsCertificate| {
            let mut v: Vec<String> = c
                .extensions
                .iter()
                .flatten()
                .map(|e| e.extn_id.to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids(o), ids(t), "{slot:?}");
    }
}

#[test]
fn keys_round_trip_through_pkcs8_pem_and_der() {
    let key = Key::generate(KeyType::P256, &otrp_crypto_rustcrypto::OS_RANDOM).unwrap();
    let pem = key.pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let again = Key::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(again.spki_der(), key.spki_der());
    assert_eq!(
        Key::from_pkcs8_der(key.pkcs8_der()).unwrap().spki_der(),
        key.spki_der()
    );
    // The loaded key is usable by otrp's own key loader too.
    otrp_crypto_rustcrypto::private_key_from_pem(&pem).unwrap();
    // A 1024-bit RSA key is refused.
    let weak = String::from_utf8(fixture("rsa", "tam-rsa1024.key")).unwrap();
    assert!(matches!(
        Key::from_pkcs8_pem(&weak),
        Err(otrp_test_pki::Error::Key(_))
    ));
    assert!(Key::from_pkcs8_der(b"junk").is_err());
}

#[test]
fn a_key_that_does_not_match_its_certificate_is_refused() {
    let pki = p256_pki();
    let other = Key::from_pkcs8_der(pki.tee.key().unwrap().pkcs8_der()).unwrap();
    assert!(matches!(
        Cert::from_der(pki.tam.der().to_vec(), Some(other)),
        Err(otrp_test_pki::Error::Certificate(_))
    ));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otrp-test-pki-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn pem_certs(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end_marker = "-----END CERTIFICATE-----\n";
        let end = rest[start..].find(end_marker).unwrap() + start + end_marker.len();
        let cert = Cert::from_pem(&rest[start..end], None).unwrap();
        out.push(cert.der().to_vec());
        rest = &rest[end..];
    }
    out
}

#[test]
fn the_written_file_set_is_complete_and_validates() {
    let pki = p256_pki();
    let dir = temp_dir("files");
    let written = pki.write_files(&dir).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for required in [
        "tam.key.pem",
        "tam.chain.pem",
        "tam-root.cert.pem",
        "tam-root.key.pem",
        "tee.key.pem",
        "tee.chain.pem",
        "tee-root.cert.pem",
        "tee-root.key.pem",
        "sp.key.pem",
        "sp.cert.pem",
        "sp-root.cert.pem",
        "sp-root.key.pem",
        "tfw.key.pem",
        "tfw.chain.pem",
        "tfw-root.cert.pem",
        "tfw-root.key.pem",
        "ocsp.key.pem",
        "ocsp.cert.pem",
        "README.txt",
    ] {
        assert!(names.iter().any(|n| n == required), "{required} missing");
        assert!(dir.join(required).is_file());
    }
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    assert!(read("README.txt").contains("https://tam.example.com/tam1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("tam.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private keys are not group/world readable");
    }

    let p = provider();
    // TAM chain from the files, root from its own file.
    let tam_chain = pem_certs(&read("tam.chain.pem"));
    assert_eq!(tam_chain.len(), 2);
    let tam_root = Cert::from_pem(
        &read("tam-root.cert.pem"),
        Some(Key::from_pkcs8_pem(&read("tam-root.key.pem")).unwrap()),
    )
    .unwrap();
    let x5c: Vec<&[u8]> = tam_chain.iter().map(Vec::as_slice).collect();
    let tam = validate_tam_chain(&p, &anchors(&tam_root), &x5c, now()).unwrap();
    // The TAM key file is the key of the chain's leaf.
    let tam_key = Key::from_pkcs8_pem(&read("tam.key.pem")).unwrap();
    Cert::from_der(tam_chain[0].clone(), Some(tam_key)).unwrap();
    // The TEE chain.
    let tee_chain = pem_certs(&read("tee.chain.pem"));
    assert_eq!(tee_chain.len(), 3);
    let tee_root = Cert::from_pem(&read("tee-root.cert.pem"), None).unwrap();
    validate_tee_chain(
        &p,
        &anchors(&tee_root),
        &tee_chain[0],
        &[&tee_chain[1]],
        now(),
    )
    .unwrap();
    // TFW and SP.
    let tfw_chain = pem_certs(&read("tfw.chain.pem"));
    let tfw_root = Cert::from_pem(&read("tfw-root.cert.pem"), None).unwrap();
    validate_tfw_certificate(&p, &anchors(&tfw_root), &tfw_chain[0], now()).unwrap();
    let sp = Cert::from_pem(&read("sp.cert.pem"), None).unwrap();
    let sp_root = Cert::from_pem(&read("sp-root.cert.pem"), None).unwrap();
    check_sp_certificate(&p, &anchors(&sp_root), sp.der(), &[], now()).unwrap();
    // The OCSP responder from its files signs an accepted response.
    let responder = Cert::from_pem(
        &read("ocsp.cert.pem"),
        Some(Key::from_pkcs8_pem(&read("ocsp.key.pem")).unwrap()),
    )
    .unwrap();
    let resp = OcspResponseBuilder::new(&tam_chain[0], &tam_root, at(2_082_758_400 - 60))
        .signed_by(&responder)
        .build()
        .unwrap();
    check_revocation(
        &p,
        &tam.chain,
        &[&resp],
        now(),
        &OcspPolicy::default(),
        None,
    )
    .unwrap();
    // More certificates under the root read back from the files (what
    // `otrp pki issue` will do), with the same tamid: a renewal (14.15).
    let renewed = tam_root
        .issue(
            &CertSpec::new(
                "TAM 1",
                0x1100,
                at(1_900_000_000),
                at(2_398_377_600),
                Profile::Tam(TamIdSan::Uri("https://tam.example.com/tam1".into())),
            ),
            Key::generate(KeyType::P256, &otrp_crypto_rustcrypto::OS_RANDOM).unwrap(),
        )
        .unwrap();
    let r = validate_tam_chain(&p, &anchors(&tam_root), &[renewed.der()], now()).unwrap();
    assert_eq!(r.tamid, tam.tamid);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn certificates_issued_under_an_openssl_root_validate_against_it() {
    // The fixture TAM root (made by openssl) with its key: issue a TAM
    // certificate and an OCSP response with it, check against the fixture
    // root as trust anchor.
    let p = provider();
    for h in ["ec", "rsa"] {
        let root =
            Cert::from_der(fixture(h, "tam-root.der"), Some(fixture_key(h, "tam-root"))).unwrap();
        // A P-256 subject key under either root (no RSA generation).
        let leaf = root
            .issue(
                &CertSpec::new(
                    "TAM Issued Here",
                    0x1200,
                    at(1_767_225_600),
                    at(2_398_377_600),
                    Profile::Tam(TamIdSan::Uri("https://tam.example.net/x".into())),
                ),
                Key::generate(KeyType::P256, &otrp_crypto_rustcrypto::OS_RANDOM).unwrap(),
            )
            .unwrap();
        let tam = validate_tam_chain(&p, &anchors(&root), &[leaf.der()], now()).unwrap();
        assert_eq!(tam.tamid.as_str(), "https://tam.example.net/x");
        let resp = OcspResponseBuilder::new(leaf.der(), &root, at(2_082_758_400 - 60))
            .build()
            .unwrap();
        check_revocation(
            &p,
            &tam.chain,
            &[&resp],
            now(),
            &OcspPolicy::default(),
            None,
        )
        .unwrap();
        // Our builder's response for the openssl-made TAM certificate too.
        let resp = OcspResponseBuilder::new(&fixture(h, "tam.der"), &root, at(2_082_758_400 - 60))
            .build()
            .unwrap();
        verify_ocsp_response(
            &p,
            &fixture(h, "tam.der"),
            root.der(),
            &resp,
            now(),
            &OcspPolicy::default(),
        )
        .unwrap();
    }
}

#[test]
fn signing_without_a_key_is_an_error() {
    let pki = p256_pki();
    let keyless = Cert::from_der(pki.tam_root.der().to_vec(), None).unwrap();
    let r = OcspResponseBuilder::new(pki.tam.der(), &keyless, now()).build();
    assert!(matches!(r, Err(otrp_test_pki::Error::MissingKey)));
    let r = keyless.issue(
        &CertSpec::new("x", 1, now(), now(), Profile::Sp),
        Key::generate(KeyType::P256, &otrp_crypto_rustcrypto::OS_RANDOM).unwrap(),
    );
    assert!(matches!(r, Err(otrp_test_pki::Error::MissingKey)));
}

/// A private key is written through a new 0600 file renamed into place: a
/// file already there with a wider mode does not lend it its mode, and no
/// temporary file is left behind.
#[cfg(unix)]
#[test]
fn a_key_written_over_a_readable_file_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let pki = p256_pki();
    let dir = temp_dir("files-over");
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("tam.key.pem");
    std::fs::write(&key, b"old").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    pki.write_files(&dir).unwrap();
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
