//! The PKI suite (otrp-test-support's `pki_suite`: chains, OCSP, tamid/did)
//! against the aws-lc backend's X.509 signature algorithms.

otrp_test_support::pki_suite!(otrp_crypto_aws_lc::provider());

#[test]
fn the_suite_really_runs_aws_lc() {
    let algs: Vec<String> = otrp_crypto_aws_lc::provider()
        .webpki_algorithms
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
    assert!(algs.iter().all(|a| a.contains("AwsLcRs")), "{algs:?}");
}
