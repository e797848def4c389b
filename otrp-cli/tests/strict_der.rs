//! Issue 14, item 8: every certificate and OCSP response the project
//! generates parses in a strict DER parser, pyca/cryptography (run by
//! tests/helpers/strict_der.py; `.ci/run` installs it when missing): what
//! `otrp pki init`, `pki issue` and `pki ocsp` write, and the openssl
//! fixtures of test-pki/. Before the fix every end-entity certificate was
//! refused ("EncodedDefault" in BasicConstraints).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// Whether python3 with pyca/cryptography is available. `.ci/run` installs
/// it; elsewhere (a fresh clone with plain Rust) the check is skipped with a
/// notice, and `otrp-test-pki/tests/strict_der.rs` (a Rust DER re-encoding
/// check) still covers the same files.
fn have_cryptography() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: python3 with pyca/cryptography not found (.ci/run installs it)");
    }
    ok
}

fn strict(kind: &str, files: &[PathBuf]) {
    assert!(!files.is_empty());
    if !have_cryptography() {
        return;
    }
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/strict_der.py");
    let out = Command::new("python3")
        .arg(helper)
        .arg(kind)
        .args(files)
        .output()
        .expect("python3 (with pyca/cryptography) runs the strict DER check");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_der(dir: &Path, name: &str, der: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, der).unwrap();
    path
}

#[test]
fn generated_certificates_and_ocsp_responses_parse_strictly() {
    let t = temp();
    let pki = pki(t.path());
    otrp_p(
        &[
            &"pki",
            &"issue",
            &pki,
            &"--role",
            &"tam",
            &"--name",
            &"tam-oid",
            &"--tamid",
            &"1.3.6.1.4.1.99999.7",
        ],
        b"",
    )
    .ok();
    otrp_p(
        &[
            &"pki", &"issue", &pki, &"--role", &"tee", &"--name", &"dev2",
        ],
        b"",
    )
    .ok();
    let out = t.path().join("der");
    std::fs::create_dir(&out).unwrap();
    let mut certs = Vec::new();
    for entry in std::fs::read_dir(&pki).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".pem") && !name.ends_with(".key.pem") {
            for (k, der) in pem_ders(&path, "CERTIFICATE").into_iter().enumerate() {
                certs.push(write_der(&out, &format!("{name}.{k}.der"), &der));
            }
        }
    }
    assert!(certs.len() >= 20, "{} certificates", certs.len());
    strict("cert", &certs);

    let mut responses = Vec::new();
    for (cert, status, valid) in [
        ("tam.cert.pem", "good", "86400"),
        ("tam.cert.pem", "revoked", "86400"),
        ("tam-oid.cert.pem", "good", "-60"),
        ("tee.cert.pem", "good", "60"),
    ] {
        let b64 = otrp_p(
            &[
                &"pki",
                &"ocsp",
                &pki,
                &"--cert",
                &pki.join(cert),
                &"--status",
                &status,
                &format!("--valid-for={valid}"),
            ],
            b"",
        )
        .ok();
        let der = otrp_core::jose::b64::decode_std(b64.trim(), "ocsp").unwrap();
        responses.push(write_der(
            &out,
            &format!("{cert}.{status}.{}.ocsp.der", responses.len()),
            &der,
        ));
    }
    strict("ocsp", &responses);
}

#[test]
fn the_openssl_fixtures_parse_strictly() {
    for h in ["ec", "rsa"] {
        let dir = fixture(h);
        let mut certs = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".der") && !name.ends_with(".pk8.der") {
                certs.push(path);
            }
        }
        strict("cert", &certs);
        let responses: Vec<PathBuf> = std::fs::read_dir(dir.join("ocsp"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "der"))
            .collect();
        strict("ocsp", &responses);
    }
}
