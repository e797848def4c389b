//! Algorithm identifiers with their exact JOSE names (RFC 7518).

use core::fmt;

macro_rules! jose_names {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every identifier of this kind, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The exact name on the wire.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// Parses the exact wire name (case-sensitive, as JOSE requires).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <alloc::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::from_name(&name).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&name, &[$($wire,)+])
                })
            }
        }
    };
}

jose_names! {
    /// A JWS signature algorithm (RFC 7518 section 3). HMAC and "none" are
    /// deliberately absent: OTrP signs with private keys only (spec 7.4).
    JwsAlg {
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        Rs256 = "RS256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        Rs384 = "RS384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        Rs512 = "RS512",
        /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256.
        Ps256 = "PS256",
        /// RSASSA-PSS with SHA-384 and MGF1 with SHA-384.
        Ps384 = "PS384",
        /// RSASSA-PSS with SHA-512 and MGF1 with SHA-512.
        Ps512 = "PS512",
        /// ECDSA on P-256 with SHA-256.
        Es256 = "ES256",
        /// ECDSA on P-384 with SHA-384.
        Es384 = "ES384",
    }
}

jose_names! {
    /// A JWE key management algorithm (RFC 7518 section 4).
    KeyAlg {
        /// RSAES-PKCS1-v1_5 (decrypted with the RFC 7516 section 11.5 countermeasure).
        Rsa1_5 = "RSA1_5",
        /// RSAES-OAEP with SHA-1 and MGF1 with SHA-1.
        RsaOaep = "RSA-OAEP",
        /// RSAES-OAEP with SHA-256 and MGF1 with SHA-256.
        RsaOaep256 = "RSA-OAEP-256",
        /// ECDH-ES direct key agreement with the Concat KDF.
        EcdhEs = "ECDH-ES",
        /// ECDH-ES with the derived key wrapping the CEK with AES-128 key wrap.
        EcdhEsA128Kw = "ECDH-ES+A128KW",
        /// ECDH-ES with the derived key wrapping the CEK with AES-256 key wrap.
        EcdhEsA256Kw = "ECDH-ES+A256KW",
        /// AES-128 key wrap (RFC 3394) with a shared symmetric key.
        A128Kw = "A128KW",
        /// AES-256 key wrap (RFC 3394) with a shared symmetric key.
        A256Kw = "A256KW",
    }
}

jose_names! {
    /// A JWE content encryption algorithm (RFC 7518 section 5).
    ContentAlg {
        /// AES-128-CBC with HMAC-SHA-256, truncated to 128 bits.
        A128CbcHs256 = "A128CBC-HS256",
        /// AES-256-CBC with HMAC-SHA-512, truncated to 256 bits.
        A256CbcHs512 = "A256CBC-HS512",
        /// AES-128-GCM.
        A128Gcm = "A128GCM",
        /// AES-256-GCM.
        A256Gcm = "A256GCM",
    }
}

jose_names! {
    /// A digest. SHA-2 for everything security-relevant; SHA-1 exists only
    /// to match identifiers computed by others (OCSP CertIDs, RFC 6960
    /// 4.1.1), never for signatures: no [`JwsAlg`] hashes with it and no
    /// provider offers a SHA-1 certificate signature algorithm.
    HashAlg {
        /// SHA-1 (identifier matching only, see above).
        Sha1 = "SHA-1",
        /// SHA-256.
        Sha256 = "SHA-256",
        /// SHA-384.
        Sha384 = "SHA-384",
        /// SHA-512.
        Sha512 = "SHA-512",
    }
}

jose_names! {
    /// An elliptic curve, named as in JWK `crv` (RFC 7518 section 6.2.1.1).
    Curve {
        /// NIST P-256 (secp256r1).
        P256 = "P-256",
        /// NIST P-384 (secp384r1).
        P384 = "P-384",
    }
}

/// The kind of key an algorithm needs, so that a mismatch is refused before
/// any cryptography runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// An RSA key (any size the backend accepts; 2048 bits and up by policy).
    Rsa,
    /// An elliptic-curve key on the given curve.
    Ec(Curve),
    /// An elliptic-curve key on any supported curve.
    AnyEc,
    /// A symmetric key of exactly this many bytes.
    Oct(usize),
}

impl KeyKind {
    /// Whether a key of kind `actual` satisfies this requirement.
    pub fn admits(self, actual: KeyKind) -> bool {
        match (self, actual) {
            (KeyKind::AnyEc, KeyKind::Ec(_)) => true,
            (want, have) => want == have,
        }
    }
}

impl JwsAlg {
    /// The kind of key that can make or check this signature.
    pub const fn key_kind(self) -> KeyKind {
        match self {
            JwsAlg::Rs256 | JwsAlg::Rs384 | JwsAlg::Rs512 => KeyKind::Rsa,
            JwsAlg::Ps256 | JwsAlg::Ps384 | JwsAlg::Ps512 => KeyKind::Rsa,
            JwsAlg::Es256 => KeyKind::Ec(Curve::P256),
            JwsAlg::Es384 => KeyKind::Ec(Curve::P384),
        }
    }

    /// The digest the algorithm signs.
    pub const fn hash(self) -> HashAlg {
        match self {
            JwsAlg::Rs256 | JwsAlg::Ps256 | JwsAlg::Es256 => HashAlg::Sha256,
            JwsAlg::Rs384 | JwsAlg::Ps384 | JwsAlg::Es384 => HashAlg::Sha384,
            JwsAlg::Rs512 | JwsAlg::Ps512 => HashAlg::Sha512,
        }
    }
}

impl KeyAlg {
    /// The kind of key the recipient holds.
    pub const fn key_kind(self) -> KeyKind {
        match self {
            KeyAlg::Rsa1_5 | KeyAlg::RsaOaep | KeyAlg::RsaOaep256 => KeyKind::Rsa,
            KeyAlg::EcdhEs | KeyAlg::EcdhEsA128Kw | KeyAlg::EcdhEsA256Kw => KeyKind::AnyEc,
            KeyAlg::A128Kw => KeyKind::Oct(16),
            KeyAlg::A256Kw => KeyKind::Oct(32),
        }
    }

    /// Whether the CEK is agreed directly rather than chosen and wrapped
    /// (only "ECDH-ES"; such a JWE can have a single recipient).
    pub const fn is_direct_agreement(self) -> bool {
        matches!(self, KeyAlg::EcdhEs)
    }

    /// Whether the algorithm carries an ephemeral public key (`epk`).
    pub const fn uses_epk(self) -> bool {
        matches!(
            self,
            KeyAlg::EcdhEs | KeyAlg::EcdhEsA128Kw | KeyAlg::EcdhEsA256Kw
        )
    }
}

impl ContentAlg {
    /// Length of the CEK in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            ContentAlg::A128CbcHs256 => 32,
            ContentAlg::A256CbcHs512 => 64,
            ContentAlg::A128Gcm => 16,
            ContentAlg::A256Gcm => 32,
        }
    }

    /// Length of the initialization vector in bytes.
    pub const fn iv_len(self) -> usize {
        match self {
            ContentAlg::A128CbcHs256 | ContentAlg::A256CbcHs512 => 16,
            ContentAlg::A128Gcm | ContentAlg::A256Gcm => 12,
        }
    }

    /// Length of the authentication tag in bytes.
    pub const fn tag_len(self) -> usize {
        match self {
            ContentAlg::A128CbcHs256 | ContentAlg::A128Gcm | ContentAlg::A256Gcm => 16,
            ContentAlg::A256CbcHs512 => 32,
        }
    }
}

impl HashAlg {
    /// Output length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}

impl Curve {
    /// Length in bytes of one field element (a coordinate or the private scalar).
    pub const fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_exactly() {
        for alg in JwsAlg::ALL {
            assert_eq!(JwsAlg::from_name(alg.name()), Some(*alg));
        }
        for alg in KeyAlg::ALL {
            assert_eq!(KeyAlg::from_name(alg.name()), Some(*alg));
        }
        for alg in ContentAlg::ALL {
            assert_eq!(ContentAlg::from_name(alg.name()), Some(*alg));
        }
        assert_eq!(
            KeyAlg::from_name("ECDH-ES+A128KW"),
            Some(KeyAlg::EcdhEsA128Kw)
        );
        assert_eq!(JwsAlg::from_name("none"), None);
        assert_eq!(JwsAlg::from_name("HS256"), None);
        assert_eq!(JwsAlg::from_name("rs256"), None);
        assert_eq!(HashAlg::from_name("SHA-1"), Some(HashAlg::Sha1));
    }

    #[test]
    fn no_signature_algorithm_hashes_with_sha1() {
        for alg in JwsAlg::ALL {
            assert_ne!(alg.hash(), HashAlg::Sha1, "{alg}");
        }
    }
}
