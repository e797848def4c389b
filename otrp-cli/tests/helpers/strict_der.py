#!/usr/bin/env python3
"""Strict DER check with pyca/cryptography (issue 14, item 8).

Usage: strict_der.py cert|ocsp FILE...  (DER files)

Loads each file and touches every part a strict parser decodes lazily
(extensions, names, OCSP single responses); exits 1 naming the first file
that does not parse, 0 when all do. cryptography refuses BER such as an
explicitly encoded DEFAULT (BasicConstraints cA FALSE).
"""
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp


def check_cert(der):
    cert = x509.load_der_x509_certificate(der)
    for ext in cert.extensions:
        _ = ext.value
    _ = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    _ = cert.public_key()


def check_ocsp(der):
    response = ocsp.load_der_ocsp_response(der)
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return
    for ext in response.extensions:
        _ = ext.value
    for ext in response.single_extensions:
        _ = ext.value
    _ = response.responder_name or response.responder_key_hash
    for single in response.responses:
        _ = single.certificate_status, single.this_update_utc
        _ = single.next_update_utc, single.serial_number
    for cert in response.certificates:
        check_cert(cert.public_bytes(Encoding.DER))


def main():
    kind, files = sys.argv[1], sys.argv[2:]
    check = {"cert": check_cert, "ocsp": check_ocsp}[kind]
    for name in files:
        with open(name, "rb") as f:
            der = f.read()
        try:
            check(der)
        except Exception as e:  # any refusal names the file
            print(f"{name}: {type(e).__name__}: {e}")
            return 1
    print(f"{len(files)} {kind} file(s) parse strictly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
