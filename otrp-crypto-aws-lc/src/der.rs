//! The little DER this backend reads and writes itself: the outer layers of
//! a SubjectPublicKeyInfo (RFC 5280 4.1.2.7). Everything inside (keys,
//! points) is parsed and validated by AWS-LC.

/// DER tags used here.
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OID: u8 = 0x06;
pub(crate) const BIT_STRING: u8 = 0x03;

/// rsaEncryption (1.2.840.113549.1.1.1).
pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-ecPublicKey (1.2.840.10045.2.1).
pub(crate) const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 (1.2.840.10045.3.1.7).
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1 (1.3.132.0.34).
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// Reads one TLV with tag `tag`: (contents, rest). Definite lengths up to
/// four bytes; anything else is `None`.
pub(crate) fn read(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, rest) = rest.split_at(n);
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// A SubjectPublicKeyInfo: (algorithm OID, parameters TLV or empty, the
/// key bits). The whole input must be the one SEQUENCE.
pub(crate) fn spki(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (body, rest) = read(der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (alg, rest) = read(body, SEQUENCE)?;
    let (bits, tail) = read(rest, BIT_STRING)?;
    if !tail.is_empty() {
        return None;
    }
    let (oid, params) = read(alg, OID)?;
    // No unused bits in a key.
    let (&0, key) = bits.split_first()? else {
        return None;
    };
    Some((oid, params, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_truncated_and_trailing_data() {
        assert!(read(&[0x30, 0x03, 0x01], SEQUENCE).is_none());
        assert!(read(&[0x30, 0x81], SEQUENCE).is_none());
        assert!(read(&[0x30, 0x85, 0, 0, 0, 0, 1], SEQUENCE).is_none());
        assert!(spki(&[0x30, 0x00, 0x00]).is_none());
        assert_eq!(
            read(&[0x06, 0x01, 0x2a, 0xff], OID),
            Some((&[0x2a][..], &[0xff][..]))
        );
    }
}
