//! `otrp pki init|issue|ocsp`: the fixed file set, chains that validate
//! through otrp-core, more certificates under the same roots, and OCSP
//! responses that otrp-core accepts (good) or refuses (revoked, expired).

mod support;

use otrp_core::pki::{
    OcspError, OcspPolicy, TrustAnchors, tamid_from_certificate, validate_tam_chain,
    validate_tee_chain, verify_ocsp_response,
};
use support::*;

const FILES: [&str; 21] = [
    "tam.key.pem",
    "tam.chain.pem",
    "tam-root.cert.pem",
    "tee.key.pem",
    "tee.chain.pem",
    "tee-root.cert.pem",
    "sp.key.pem",
    "sp.cert.pem",
    "tfw.key.pem",
    "tfw.chain.pem",
    "ocsp.key.pem",
    "ocsp.cert.pem",
    "tam-root.key.pem",
    "tee-root.key.pem",
    "sp-root.cert.pem",
    "sp-root.key.pem",
    "tfw-root.cert.pem",
    "tfw-root.key.pem",
    "README.txt",
    "tam.cert.pem",
    "tee.cert.pem",
];

fn anchors(path: &std::path::Path) -> TrustAnchors {
    TrustAnchors::from_certificates([cert(path).as_slice()]).unwrap()
}

#[test]
fn init_writes_the_fixed_file_set_and_the_chains_validate() {
    let t = temp();
    let pki = pki(t.path());
    for f in FILES {
        assert!(pki.join(f).is_file(), "{f} missing");
    }
    let readme = std::fs::read_to_string(pki.join("README.txt")).unwrap();
    assert!(readme.contains("https://tam.example.com/tam1"), "{readme}");
    for f in [
        "tam.key.pem",
        "tee.key.pem",
        "sp.key.pem",
        "tam-root.key.pem",
    ] {
        assert_eq!(pem_ders(&pki.join(f), "PRIVATE KEY").len(), 1, "{f}");
    }
    let provider = otrp_crypto_rustcrypto::provider();
    let tam_chain = pem_ders(&pki.join("tam.chain.pem"), "CERTIFICATE");
    assert_eq!(tam_chain.len(), 2, "TAM leaf and root");
    assert_eq!(tam_chain[1], cert(&pki.join("tam-root.cert.pem")));
    let refs: Vec<&[u8]> = tam_chain.iter().map(Vec::as_slice).collect();
    let tam = validate_tam_chain(
        &provider,
        &anchors(&pki.join("tam-root.cert.pem")),
        &refs,
        now(),
    )
    .unwrap();
    assert_eq!(tam.tamid.as_str(), "https://tam.example.com/tam1");
    let tee_chain = pem_ders(&pki.join("tee.chain.pem"), "CERTIFICATE");
    assert_eq!(tee_chain.len(), 3, "TEE leaf, intermediate, root");
    validate_tee_chain(
        &provider,
        &anchors(&pki.join("tee-root.cert.pem")),
        &tee_chain[0],
        &[&tee_chain[1]],
        now(),
    )
    .unwrap();
    // A second init into the same directory is refused.
    let line = otrp_p(&[&"pki", &"init", &pki], b"").fails();
    assert!(line.contains("already holds a PKI"), "{line}");
}

#[test]
fn issue_adds_certificates_under_the_roots() {
    let t = temp();
    let pki = pki(t.path());
    let provider = otrp_crypto_rustcrypto::provider();

    // A TAM with a registeredID tamid, and one with the default URI.
    let out = otrp_p(
        &[
            &"pki",
            &"issue",
            &pki,
            &"--role",
            &"tam",
            &"--name",
            &"tam2",
            &"--tamid",
            &"1.3.6.1.4.1.99999.7",
        ],
        b"",
    )
    .ok();
    assert_eq!(out.lines().count(), 3, "{out}");
    let chain = pem_ders(&pki.join("tam2.chain.pem"), "CERTIFICATE");
    let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let tam = validate_tam_chain(
        &provider,
        &anchors(&pki.join("tam-root.cert.pem")),
        &refs,
        now(),
    )
    .unwrap();
    assert_eq!(tam.tamid.as_str(), "1.3.6.1.4.1.99999.7");
    otrp_p(
        &[
            &"pki", &"issue", &pki, &"--role", &"tam", &"--name", &"tam3",
        ],
        b"",
    )
    .ok();
    let tamid = tamid_from_certificate(&cert(&pki.join("tam3.cert.pem"))).unwrap();
    assert_eq!(tamid.as_str(), "https://tam.example.com/tam3");
    // The issued key is the certificate's key: it signs what the cert verifies.
    let signed = otrp_p(
        &[
            &"jose",
            &"sign",
            &"--key",
            &pki.join("tam3.key.pem"),
            &"--alg",
            &"ES256",
        ],
        b"x",
    )
    .ok();
    otrp_p(
        &[&"jose", &"verify", &"--key", &pki.join("tam3.cert.pem")],
        signed.as_bytes(),
    )
    .ok();

    // A TEE under the TEE root.
    otrp_p(
        &[
            &"pki", &"issue", &pki, &"--role", &"tee", &"--name", &"tee2",
        ],
        b"",
    )
    .ok();
    let chain = pem_ders(&pki.join("tee2.chain.pem"), "CERTIFICATE");
    validate_tee_chain(
        &provider,
        &anchors(&pki.join("tee-root.cert.pem")),
        &chain[0],
        &[],
        now(),
    )
    .unwrap();
    // An SP under the SP root.
    otrp_p(
        &[&"pki", &"issue", &pki, &"--role", &"sp", &"--name", &"sp2"],
        b"",
    )
    .ok();
    otrp_core::pki::check_sp_certificate(
        &provider,
        &anchors(&pki.join("sp-root.cert.pem")),
        &cert(&pki.join("sp2.cert.pem")),
        &[],
        now(),
    )
    .unwrap();
    // ... which is not a TEE.
    assert!(
        validate_tee_chain(
            &provider,
            &anchors(&pki.join("tee-root.cert.pem")),
            &cert(&pki.join("sp2.cert.pem")),
            &[],
            now()
        )
        .is_err()
    );

    // Refusals: an existing name, a bad name, --tamid off the TAM role, no PKI.
    for (args, expect) in [
        (vec!["--role", "sp", "--name", "sp2"], "already exists"),
        (vec!["--role", "sp", "--name", "../evil"], "invalid --name"),
        (
            vec!["--role", "sp", "--name", "x", "--tamid", "1.2.3"],
            "--tamid",
        ),
    ] {
        let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"pki", &"issue", &pki];
        for s in &args {
            a.push(s);
        }
        let line = otrp_p(&a, b"").fails();
        assert!(line.contains(expect), "{line}");
    }
    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    otrp_p(
        &[&"pki", &"issue", &empty, &"--role", &"sp", &"--name", &"x"],
        b"",
    )
    .fails();
}

fn ocsp(pki: &std::path::Path, cert_file: &str, extra: &[&str]) -> Vec<u8> {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"pki", &"ocsp", &pki];
    let path = pki.join(cert_file);
    args.push(&"--cert");
    args.push(&path);
    for e in extra {
        args.push(e);
    }
    let out = otrp_p(&args, b"").ok();
    assert_eq!(out.lines().count(), 1);
    otrp_core::jose::b64::decode_std(out.trim(), "ocsp").unwrap()
}

#[test]
fn ocsp_responses_verify_in_otrp_core() {
    let t = temp();
    let pki = pki(t.path());
    let provider = otrp_crypto_rustcrypto::provider();
    let policy = OcspPolicy::default();
    let tam = cert(&pki.join("tam.cert.pem"));
    let root = cert(&pki.join("tam-root.cert.pem"));

    let good = ocsp(&pki, "tam.cert.pem", &[]);
    verify_ocsp_response(&provider, &tam, &root, &good, now(), &policy).unwrap();

    let revoked = ocsp(&pki, "tam.cert.pem", &["--status", "revoked"]);
    assert_eq!(
        verify_ocsp_response(&provider, &tam, &root, &revoked, now(), &policy).unwrap_err(),
        OcspError::Revoked
    );

    // --valid-for sets nextUpdate: a response for 60 s is stale a day later.
    let short = ocsp(&pki, "tam.cert.pem", &["--valid-for", "60"]);
    verify_ocsp_response(&provider, &tam, &root, &short, now(), &policy).unwrap();
    assert!(verify_ocsp_response(&provider, &tam, &root, &short, later(86_400), &policy).is_err());
    // A negative --valid-for: already expired (issue 14).
    let expired = ocsp(&pki, "tam.cert.pem", &["--valid-for", "-600"]);
    assert_eq!(
        verify_ocsp_response(&provider, &tam, &root, &expired, now(), &policy).unwrap_err(),
        OcspError::Stale
    );

    // The TEE certificate's issuer is the TEE intermediate CA.
    let tee_chain = pem_ders(&pki.join("tee.chain.pem"), "CERTIFICATE");
    let tee_good = ocsp(&pki, "tee.chain.pem", &[]);
    verify_ocsp_response(
        &provider,
        &tee_chain[0],
        &tee_chain[1],
        &tee_good,
        now(),
        &policy,
    )
    .unwrap();

    // A certificate from elsewhere has no issuer here.
    let line = otrp_p(
        &[&"pki", &"ocsp", &pki, &"--cert", &fixture("ec/tam.pem")],
        b"",
    )
    .fails();
    assert!(line.contains("no CA"), "{line}");
    let line = otrp_p(
        &[&"pki", &"ocsp", &pki, &"--cert", &pki.join("missing.pem")],
        b"",
    )
    .fails();
    assert!(line.contains("missing.pem"), "{line}");
}
