#!/usr/bin/env bash
# Generates the X.509 and OCSP fixtures used by the otrp PKI tests
# (otrp-core/tests/pki_*.rs) with the `openssl` command line, an
# implementation independent of ours.
#
# Usage:  test-pki/generate.sh        (from anywhere; rewrites test-pki/rsa and test-pki/ec)
#
# The structure is deterministic (same files, names, subjects, serial numbers,
# extensions and validity dates on every run); keys, signatures and the OCSP
# production times are fresh on every run. The outputs are committed so that
# tests never generate keys. See test-pki/README.md for the file list.
#
# Time model: certificates that must be valid carry the fixed validity
# 2026-01-01 .. 2046-01-01 and tests pass a fixed "now" of 2036-01-01. OCSP
# responses take their thisUpdate from the clock at generation time (openssl
# cannot set it), so "good" responses are made valid for 20 years (-ndays 7300)
# and the "stale" one for one minute (-nmin 1); the future-dated case is tested
# with a "now" of 2026-01-02, before any generation time.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GOOD_START=20260101000000Z
GOOD_END=20460101000000Z

# openssl configuration shared by every CA. `openssl ca` is used (rather than
# `openssl x509 -req`) because it can set explicit -startdate/-enddate on
# OpenSSL 3.0 and keeps the index.txt database that `openssl ocsp` answers
# from. $ENV:: variables select the CA directory and the subjectAltName.
write_config() {
  cat >"$1" <<'EOF'
[ ca ]
default_ca = CA_default

[ CA_default ]
dir             = $ENV::CADIR
database        = $dir/index.txt
new_certs_dir   = $dir/newcerts
serial          = $dir/serial
default_md      = sha256
policy          = policy_anything
# renewed certificates reuse the subject of the original one
unique_subject  = no
# keep the DN of the request as given (no reordering, no email stripping)
preserve        = yes
copy_extensions = none

[ policy_anything ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused

# Root CA: self-signed, may sign certificates and CRLs.
[ v3_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

# Intermediate CA: may sign end-entity certificates only.
[ v3_intermediate ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# TAM signer (spec 4.4 item 3, 5.4): signs OTrP messages; the tamid is in the
# subjectAltName (URI or registeredID), taken from $SAN.
[ v3_tam ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
subjectAltName         = $ENV::SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Any other signing end entity (TEE, SP, TFW): digitalSignature plus the key
# usage for JWE key transport/agreement given in $KU.
[ v3_leaf ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, $ENV::KU
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Negative: an end entity that may only sign certificates (no digitalSignature).
[ v3_wrong_ku ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyCertSign
subjectAltName         = $ENV::SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Negative: an end entity whose extendedKeyUsage is TLS server only.
[ v3_wrong_eku ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = $ENV::SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Delegated OCSP responder (RFC 6960 section 4.2.2.2): issued by the CA whose
# certificates it answers for, with id-kp-OCSPSigning.
[ v3_ocsp ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = critical, OCSPSigning
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Negative: a would-be responder issued by the CA but without id-kp-OCSPSigning.
[ v3_ocsp_noeku ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF
}

# genkey FILE SPEC: a fresh private key in PEM (PKCS#8) plus a PKCS#8 DER copy
# (FILE.pk8.der) for tests of other layers that sign with it.
#   SPEC is rsa2048, rsa1024, p256 or p384.
genkey() {
  local out="$1" spec="$2"
  case "$spec" in
    rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out" 2>/dev/null ;;
    rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$out" 2>/dev/null ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$out" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$out" ;;
  esac
  # PKCS#8 DER form of the same key (`openssl pkey -outform DER` would write
  # the traditional PKCS#1/SEC1 form; `pkcs8 -topk8 -nocrypt` writes PKCS#8).
  openssl pkcs8 -topk8 -nocrypt -in "$out" -outform DER -out "${out%.key}.pk8.der"
}

# newca NAME FIRST_SERIAL: an empty `openssl ca` database for CA NAME with
# serial numbers counting up (in hex) from FIRST_SERIAL.
newca() {
  local dir="$DB/$1"
  mkdir -p "$dir/newcerts"
  : >"$dir/index.txt"
  echo "unique_subject = no" >"$dir/index.txt.attr"
  echo "$2" >"$dir/serial"
}

# sign NAME CA SUBJECT EXT START END [MD] [SIGOPT...]
#   Issues NAME.pem/NAME.der for key NAME.key, signed by CA (CA.pem/CA.key,
#   database $DB/CA), with extension section EXT and the explicit validity
#   START..END. For CA == NAME the certificate is self-signed (-selfsign).
#   MD is the signature digest (default sha256); SIGOPT are -sigopt values.
sign() {
  local name="$1" ca="$2" subj="$3" ext="$4" start="$5" end="$6" md="${7:-sha256}"
  shift 7 2>/dev/null || shift $#
  local sigopts=()
  for o in "$@"; do sigopts+=(-sigopt "$o"); done
  # A PKCS#10 request carrying the subject; its own extensions are ignored
  # (copy_extensions = none), the ones of section EXT are used instead.
  openssl req -new -key "$name.key" -subj "$subj" -out "$TMP/$name.csr" -config "$CONF"
  local self=() cacert=(-cert "$ca.pem")
  if [ "$name" = "$ca" ]; then self=(-selfsign); cacert=(); fi
  # Sign it: -batch (no prompts), -notext (PEM only), explicit dates, chosen
  # digest and extension section.
  CADIR="$DB/$ca" openssl ca -batch -notext -config "$CONF" "${self[@]}" "${cacert[@]}" \
    -keyfile "$ca.key" -in "$TMP/$name.csr" -out "$name.pem" \
    -startdate "$start" -enddate "$end" -md "$md" -extensions "$ext" \
    "${sigopts[@]}" 2>"$TMP/ca.log" || { cat "$TMP/ca.log" >&2; exit 1; }
  # DER copy of the certificate (what x5c, cacert, spcert carry).
  openssl x509 -in "$name.pem" -outform DER -out "$name.der"
}

# ocsp OUT CA CERT SIGNER [EXTRA...]: an OCSP response in OUT for CERT issued by
# CA, answered from CA's index.txt and signed by SIGNER (SIGNER.pem/.key).
#   The request uses SHA-256 in the CertID (-sha256) unless EXTRA overrides;
#   the response signature uses SHA-256 (-rmd sha256); -no_nonce because a
#   stapled response cannot answer a nonce. EXTRA carries -ndays/-nmin,
#   -resp_no_certs, -index overrides etc.
ocsp() {
  local out="$1" ca="$2" cert="$3" signer="$4"
  shift 4
  local index="$DB/$ca/index.txt" certid=-sha256 rest=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --index) index="$2"; shift 2 ;;
      --certid) certid="$2"; shift 2 ;;
      *) rest+=("$1"); shift ;;
    esac
  done
  # The request: one CertID for CERT under CA (the digest option must come
  # before -cert).
  openssl ocsp -issuer "$ca.pem" "$certid" -cert "$cert.pem" -no_nonce -reqout "$TMP/req.der" 2>/dev/null
  # The response, produced by openssl's responder from the CA database.
  openssl ocsp -index "$index" -CA "$ca.pem" -rsigner "$signer.pem" -rkey "$signer.key" \
    -rmd sha256 -reqin "$TMP/req.der" -respout "$out" "${rest[@]}" >/dev/null 2>"$TMP/ocsp.log" \
    || { cat "$TMP/ocsp.log" >&2; exit 1; }
}

# hierarchy DIR KEYSPEC: every fixture of one key type into DIR.
hierarchy() {
  local dir="$1" spec="$2" ku
  rm -rf "$dir"
  mkdir -p "$dir/ocsp"
  cd "$dir"
  DB="$TMP/db-$(basename "$dir")"
  rm -rf "$DB"
  if [ "$spec" = rsa2048 ]; then ku="digitalSignature, keyEncipherment"; else ku="digitalSignature, keyAgreement"; fi
  export KU="$ku" SAN="URI:https://unused.example"

  # --- Roots (self-signed, in the trust anchor stores of spec 4.2 and 4.3) ---
  newca tam-root 1000; newca tee-root 2000; newca tee-ca 2100
  newca sp-root 3000; newca tfw-root 4000; newca other-root 5000
  for ca in tam-root tee-root sp-root tfw-root other-root; do genkey "$ca.key" "$spec"; done
  sign tam-root tam-root "/O=OTrP Test/CN=TAM Root CA" v3_root $GOOD_START $GOOD_END
  sign tee-root tee-root "/O=OTrP Test/CN=TEE Root CA" v3_root $GOOD_START $GOOD_END
  sign sp-root sp-root "/O=OTrP Test/CN=SP Root CA" v3_root $GOOD_START $GOOD_END
  sign tfw-root tfw-root "/O=OTrP Test/CN=TFW Root CA" v3_root $GOOD_START $GOOD_END
  # A root nobody trusts (for "signed by an unknown root").
  sign other-root other-root "/O=Elsewhere/CN=Unknown Root CA" v3_root $GOOD_START $GOOD_END

  # --- TAM leaves (spec 4.4 item 3, 5.4) ---
  # tam: the tamid as a subjectAltName URI.
  genkey tam.key "$spec"
  SAN="URI:https://tam.example.com/tam1" sign tam tam-root "/O=OTrP Test/CN=TAM 1" v3_tam $GOOD_START $GOOD_END
  # tam-rid: the tamid only as a registeredID (the extension 5.4 names).
  genkey tam-rid.key "$spec"
  SAN="RID:1.3.6.1.4.1.99999.1.2" sign tam-rid tam-root "/O=OTrP Test/CN=TAM 2" v3_tam $GOOD_START $GOOD_END
  # tam-renewed: same subject and tamid as tam, new key, later start (14.15).
  genkey tam-renewed.key "$spec"
  SAN="URI:https://tam.example.com/tam1" sign tam-renewed tam-root "/O=OTrP Test/CN=TAM 1" v3_tam 20300101000000Z $GOOD_END
  # tam-other: a different TAM provider (different tamid).
  genkey tam-other.key "$spec"
  SAN="URI:https://tam.example.org/tam3" sign tam-other tam-root "/O=OTrP Test/CN=TAM 3" v3_tam $GOOD_START $GOOD_END
  # tam-revoked: revoked in the TAM root's database below.
  genkey tam-revoked.key "$spec"
  SAN="URI:https://tam.example.com/revoked" sign tam-revoked tam-root "/O=OTrP Test/CN=TAM Revoked" v3_tam $GOOD_START $GOOD_END
  # tam-unknown: issued, but left out of the index the responder answers from.
  genkey tam-unknown.key "$spec"
  SAN="URI:https://tam.example.com/unknown" sign tam-unknown tam-root "/O=OTrP Test/CN=TAM Unknown" v3_tam $GOOD_START $GOOD_END

  # --- Negative TAM leaves ---
  SAN="URI:https://tam.example.com/tam1"
  # expired: validity entirely in the past.
  genkey tam-expired.key "$spec"
  sign tam-expired tam-root "/O=OTrP Test/CN=TAM Expired" v3_tam 20200101000000Z 20250101000000Z
  # not yet valid: validity entirely after the tests' "now" (2036).
  genkey tam-notyet.key "$spec"
  sign tam-notyet tam-root "/O=OTrP Test/CN=TAM Not Yet" v3_tam 20450101000000Z $GOOD_END
  # signed by a root that is in no trust store.
  genkey tam-unknown-root.key "$spec"
  sign tam-unknown-root other-root "/O=OTrP Test/CN=TAM Foreign" v3_tam $GOOD_START $GOOD_END
  # key usage keyCertSign only, no digitalSignature.
  genkey tam-wrong-ku.key "$spec"
  sign tam-wrong-ku tam-root "/O=OTrP Test/CN=TAM Wrong KU" v3_wrong_ku $GOOD_START $GOOD_END
  # extended key usage serverAuth only.
  genkey tam-wrong-eku.key "$spec"
  sign tam-wrong-eku tam-root "/O=OTrP Test/CN=TAM Wrong EKU" v3_wrong_eku $GOOD_START $GOOD_END
  # a 1024-bit RSA subject key (below the 2048 bits of spec 4.4 item 3).
  genkey tam-rsa1024.key rsa1024
  sign tam-rsa1024 tam-root "/O=OTrP Test/CN=TAM RSA 1024" v3_tam $GOOD_START $GOOD_END
  # signed with SHA-1 (sha1WithRSAEncryption / ecdsa-with-SHA1).
  genkey tam-sha1.key "$spec"
  sign tam-sha1 tam-root "/O=OTrP Test/CN=TAM SHA-1" v3_tam $GOOD_START $GOOD_END sha1

  # --- Signature algorithm coverage ---
  if [ "$spec" = rsa2048 ]; then
    # RSA PKCS#1 v1.5 with SHA-384 and SHA-512.
    genkey tam-sha384.key "$spec"
    sign tam-sha384 tam-root "/O=OTrP Test/CN=TAM SHA-384" v3_tam $GOOD_START $GOOD_END sha384
    genkey tam-sha512.key "$spec"
    sign tam-sha512 tam-root "/O=OTrP Test/CN=TAM SHA-512" v3_tam $GOOD_START $GOOD_END sha512
    # RSA-PSS with SHA-256/384/512, MGF1 with the same hash, salt = hash length
    # (the parameters rustls-pki-types' alg_id::RSA_PSS_SHA* encode).
    for h in 256 384 512; do
      genkey "tam-pss$h.key" "$spec"
      sign "tam-pss$h" tam-root "/O=OTrP Test/CN=TAM PSS $h" v3_tam $GOOD_START $GOOD_END "sha$h" \
        rsa_padding_mode:pss rsa_pss_saltlen:digest "rsa_mgf1_md:sha$h"
    done
    # A 1024-bit RSA CA: whatever it signs must be refused by the verifier.
    newca weak-root 6000
    genkey weak-root.key rsa1024
    sign weak-root weak-root "/O=OTrP Test/CN=Weak RSA-1024 Root" v3_root $GOOD_START $GOOD_END
    genkey tam-weak-issuer.key "$spec"
    sign tam-weak-issuer weak-root "/O=OTrP Test/CN=TAM Under Weak Root" v3_tam $GOOD_START $GOOD_END
  else
    # ECDSA P-384 with SHA-384: a P-384 root and leaf.
    newca p384-root 7000
    genkey p384-root.key p384
    sign p384-root p384-root "/O=OTrP Test/CN=TAM Root CA P-384" v3_root $GOOD_START $GOOD_END sha384
    genkey tam-p384.key p384
    SAN="URI:https://tam.example.com/p384" sign tam-p384 p384-root "/O=OTrP Test/CN=TAM P-384" v3_tam $GOOD_START $GOOD_END sha384
  fi

  # --- TEE (4.4 item 2): root -> intermediate -> device certificate ---
  genkey tee-ca.key "$spec"
  sign tee-ca tee-root "/O=OTrP Test/CN=TEE Intermediate CA" v3_intermediate $GOOD_START $GOOD_END
  genkey tee.key "$spec"
  sign tee tee-ca "/O=OTrP Test/CN=TEE Device 0001" v3_leaf $GOOD_START $GOOD_END
  # the TEE chain as a TEE sends it: device certificate then cacert.
  cat tee.pem tee-ca.pem >tee-chain.pem

  # --- SP (4.4 item 4) and TFW (4.4 item 1) ---
  genkey sp.key "$spec"
  KU=digitalSignature sign sp sp-root "/O=OTrP Test/CN=SP 1 TA Signer" v3_leaf $GOOD_START $GOOD_END
  genkey tfw.key "$spec"
  KU=digitalSignature sign tfw tfw-root "/O=OTrP Test/CN=TFW Device 0001" v3_leaf $GOOD_START $GOOD_END

  # --- OCSP responder certificates issued by the TAM root ---
  genkey ocsp-responder.key "$spec"
  sign ocsp-responder tam-root "/O=OTrP Test/CN=TAM Root OCSP Responder" v3_ocsp $GOOD_START $GOOD_END
  genkey ocsp-noeku.key "$spec"
  sign ocsp-noeku tam-root "/O=OTrP Test/CN=TAM Root Not A Responder" v3_ocsp_noeku $GOOD_START $GOOD_END

  # --- Revocation state in the TAM root's database ---
  # Revoke tam-revoked (reason keyCompromise) in index.txt.
  CADIR="$DB/tam-root" openssl ca -config "$CONF" -revoke tam-revoked.pem -crl_reason keyCompromise \
    -keyfile tam-root.key -cert tam-root.pem 2>/dev/null
  # An index without tam-unknown, so that the responder answers "unknown".
  local serial_unknown
  serial_unknown="$(openssl x509 -in tam-unknown.pem -noout -serial | cut -d= -f2)"
  grep -v -P "\t${serial_unknown}\t" "$DB/tam-root/index.txt" >"$TMP/index-without-unknown.txt"
  # (with the same attribute file: subjects repeat, as renewals do)
  cp "$DB/tam-root/index.txt.attr" "$TMP/index-without-unknown.txt.attr"

  # --- OCSP responses (RFC 6960 BasicOCSPResponse inside OCSPResponse) ---
  # good, signed by the TAM root itself, without certificates.
  ocsp ocsp/tam-good-by-ca.der tam-root tam tam-root -ndays 7300 -resp_no_certs
  # good, signed by the delegated responder, carrying its certificate.
  ocsp ocsp/tam-good-by-responder.der tam-root tam ocsp-responder -ndays 7300
  # good, by the delegated responder but without its certificate (missing data).
  ocsp ocsp/tam-good-by-responder-nocerts.der tam-root tam ocsp-responder -ndays 7300 -resp_no_certs
  # good for the other TAM leaves (a CertID for another serial, renewal).
  ocsp ocsp/tam-rid-good.der tam-root tam-rid tam-root -ndays 7300 -resp_no_certs
  ocsp ocsp/tam-renewed-good.der tam-root tam-renewed tam-root -ndays 7300 -resp_no_certs
  # revoked.
  ocsp ocsp/tam-revoked.der tam-root tam-revoked tam-root -ndays 7300 -resp_no_certs
  # unknown (serial not in the responder's index).
  ocsp ocsp/tam-unknown.der tam-root tam-unknown tam-root -ndays 7300 -resp_no_certs \
    --index "$TMP/index-without-unknown.txt"
  # stale: nextUpdate one minute after generation, long before the tests' now.
  ocsp ocsp/tam-stale.der tam-root tam tam-root -nmin 1 -resp_no_certs
  # without nextUpdate at all (no -ndays/-nmin).
  ocsp ocsp/tam-no-next-update.der tam-root tam tam-root -resp_no_certs
  # signed by a certificate of the TAM root that lacks id-kp-OCSPSigning.
  ocsp ocsp/tam-unauthorized-noeku.der tam-root tam ocsp-noeku -ndays 7300
  # signed by another CA (the TEE root) that did not issue the TAM certificate.
  ocsp ocsp/tam-unauthorized-other-ca.der tam-root tam tee-root -ndays 7300
  # good, but the CertID hashed with SHA-1 (openssl's default).
  ocsp ocsp/tam-good-sha1-certid.der tam-root tam tam-root -ndays 7300 -resp_no_certs --certid -sha1

  # Human-readable dumps for reviewers (not used by tests).
  for f in ocsp/*.der; do
    openssl ocsp -respin "$f" -resp_text -noverify >"${f%.der}.txt" 2>/dev/null
  done
  cd "$HERE"
}

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
CONF="$TMP/openssl.cnf"
# $ENV:: variables must be defined even for commands that ignore them.
export CADIR="$TMP" KU=digitalSignature SAN="URI:https://unused.example"
write_config "$CONF"
# Write the configuration next to the fixtures too, for reference.
cp "$CONF" "$HERE/openssl.cnf"

hierarchy "$HERE/rsa" rsa2048
hierarchy "$HERE/ec" p256
echo "fixtures written to $HERE/rsa and $HERE/ec"
