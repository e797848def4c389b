//! JSON Web Encryption (RFC 7516) in compact, flattened JSON and general JSON
//! serialization. OTrP encrypts message content, the DSI and TA keys this way
//! (spec 7.5); the TEE answers in general JSON with the TAM as recipient.
//!
//! Built JWEs have the layout of spec 7.5: `enc` in the protected header,
//! `alg` and `epk` in the recipient's own header. Parsing accepts any
//! placement RFC 7516 allows (the earlier otrp layout put a single
//! recipient's parameters in the protected header), with disjoint names.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::header::set_epk;
use super::jws::with_alg_first;
use super::{Header, JointHeader, JoseError, b64};
use crate::crypto::{Cek, CekDecrypter, ContentAlg, EncryptionKey, KeyAlg, Provider};

/// A parsed or freshly encrypted JWE.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwe {
    protected_b64: String,
    protected: Header,
    unprotected: Option<Header>,
    recipients: Vec<JweRecipient>,
    aad_b64: Option<String>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

/// One recipient: its own unprotected header and the encrypted CEK.
#[derive(Clone, Debug, PartialEq)]
pub struct JweRecipient {
    header: Option<Header>,
    encrypted_key: Vec<u8>,
}

impl JweRecipient {
    /// The per-recipient unprotected header.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The JWE Encrypted Key (empty for ECDH-ES direct agreement).
    pub fn encrypted_key(&self) -> &[u8] {
        &self.encrypted_key
    }
}

/// What decryption recovered: the plaintext, and the CEK and algorithms
/// that protected it.
#[derive(Debug)]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The content encryption key (zeroized on drop).
    pub cek: Cek,
    /// The content encryption algorithm.
    pub enc: ContentAlg,
    /// The key management algorithm of the recipient that matched.
    pub key_alg: KeyAlg,
}

/// The algorithms a caller accepts when decrypting.
#[derive(Clone, Copy, Debug)]
pub struct JwePolicy<'a> {
    /// Allowed key management algorithms.
    pub key_algs: &'a [KeyAlg],
    /// Allowed content encryption algorithms.
    pub content_algs: &'a [ContentAlg],
}

impl JwePolicy<'static> {
    /// Every algorithm this library knows.
    pub const ANY: JwePolicy<'static> = JwePolicy {
        key_algs: KeyAlg::ALL,
        content_algs: ContentAlg::ALL,
    };
}

/// Builds a JWE: content algorithm, headers and recipients, then
/// [`JweBuilder::encrypt`].
#[derive(Debug)]
#[must_use = "a JweBuilder encrypts nothing until `encrypt` is called"]
pub struct JweBuilder<'k> {
    enc: ContentAlg,
    protected: Header,
    unprotected: Option<Header>,
    recipients: Vec<(KeyAlg, EncryptionKey<'k>, Header)>,
    aad: Option<Vec<u8>>,
    cek: Option<Cek>,
    protected_recipient: bool,
}

impl<'k> JweBuilder<'k> {
    /// Encrypts with this CEK instead of a fresh one: a TEE answers with the
    /// CEK of the request it answers (spec 9.2.1.2 step 3). It must have
    /// `enc`'s length, and ECDH-ES direct agreement cannot use it.
    pub fn cek(mut self, cek: Cek) -> Self {
        self.cek = Some(cek);
        self
    }

    /// Sets the protected header's other parameters (`enc` is written in).
    pub fn protected(mut self, header: Header) -> Self {
        self.protected = header;
        self
    }

    /// Sets the shared unprotected header (`unprotected`).
    pub fn unprotected(mut self, header: Header) -> Self {
        self.unprotected = Some(header);
        self
    }

    /// Adds a recipient. Its `alg`, its `epk` (ECDH-ES) and the parameters
    /// of `header` go into the recipient's own unprotected header, `enc`
    /// into the protected one: the layout of OTrP (spec 7.5 and the samples
    /// of its Appendix A) and of RFC 7516 Appendix A.4. See
    /// [`JweBuilder::protected_recipient`] for the compact serialization.
    pub fn recipient(mut self, alg: KeyAlg, key: EncryptionKey<'k>, header: Header) -> Self {
        self.recipients.push((alg, key, header));
        self
    }

    /// Puts the one recipient's `alg`, `epk` and header parameters into
    /// the protected header instead of its own: the layout the compact
    /// serialization needs (RFC 7516 section 7.1; [`Jwe::to_compact`]
    /// refuses any other) and the one RFC 7520's examples use. With more
    /// than one recipient, [`JweBuilder::encrypt`] refuses it.
    pub fn protected_recipient(mut self) -> Self {
        self.protected_recipient = true;
        self
    }

    /// Sets Additional Authenticated Data (JSON serializations only).
    pub fn aad(mut self, aad: &[u8]) -> Self {
        self.aad = Some(aad.to_vec());
        self
    }

    /// Encrypts `plaintext`. Random draws, in order: the CEK (unless ECDH-ES
    /// agrees it), each recipient's key encryption, then the IV.
    pub fn encrypt(self, plaintext: &[u8], provider: &Provider) -> Result<Jwe, JoseError> {
        let JweBuilder {
            enc,
            protected,
            unprotected,
            recipients,
            aad,
            cek: given_cek,
            protected_recipient,
        } = self;
        let single = recipients.len() == 1;
        if recipients.is_empty() {
            return Err(JoseError::InvalidConstruction("a JWE needs a recipient"));
        }
        if protected_recipient && !single {
            return Err(JoseError::InvalidConstruction(
                "only a single recipient can be in the protected header",
            ));
        }
        if !single
            && recipients
                .iter()
                .any(|(alg, _, _)| alg.is_direct_agreement())
        {
            return Err(JoseError::InvalidConstruction(
                "ECDH-ES direct allows one recipient only",
            ));
        }
        let cipher = provider.content_cipher(enc)?;
        let mut protected = protected;
        protected.set("enc", enc.name());

        let direct = recipients
            .iter()
            .any(|(alg, _, _)| alg.is_direct_agreement());
        let mut cek: Option<Cek> = match (direct, given_cek) {
            (true, Some(_)) => {
                return Err(JoseError::InvalidConstruction(
                    "ECDH-ES direct agreement cannot use a given CEK",
                ));
            }
            (true, None) => None,
            (false, Some(given)) if given.len() == enc.key_len() => Some(given),
            (false, Some(_)) => {
                return Err(JoseError::Crypto(crate::crypto::CryptoError::InvalidLength));
            }
            (false, None) => Some(Cek::new(provider.random_bytes(enc.key_len())?)),
        };

        let mut out_recipients = Vec::with_capacity(recipients.len());
        for (alg, key, header) in recipients {
            if !alg.key_kind().admits(key.kind()) {
                return Err(JoseError::KeyMismatch(alg.name()));
            }
            let mut own = if protected_recipient {
                protected = with_alg_first(protected, alg.name());
                protected.extend_from(&header);
                None
            } else {
                Some(with_alg_first(header, alg.name()))
            };
            let params =
                JointHeader::new(&protected, unprotected.as_ref(), own.as_ref())?.party_info()?;
            let wrapped = provider.key_encrypter(alg)?.encrypt_cek(
                key,
                enc,
                cek.as_ref(),
                &params,
                provider.secure_random,
            )?;
            if let Some(epk) = &wrapped.epk {
                let target = match own.as_mut() {
                    Some(own) => own,
                    None => &mut protected,
                };
                set_epk(target, epk)?;
            }
            if direct {
                cek = Some(wrapped.cek.clone());
            }
            out_recipients.push(JweRecipient {
                header: own,
                encrypted_key: wrapped.encrypted_key,
            });
        }
        for r in &out_recipients {
            JointHeader::new(&protected, unprotected.as_ref(), r.header.as_ref())?;
        }
        let cek = cek.ok_or(JoseError::InvalidConstruction("no CEK"))?;
        if cek.len() != enc.key_len() {
            return Err(JoseError::Crypto(crate::crypto::CryptoError::InvalidLength));
        }
        let iv = provider.random_bytes(enc.iv_len())?;
        let protected_b64 = b64::encode_url(&protected.to_json());
        let aad_b64 = aad.as_deref().map(b64::encode_url);
        let mut ciphertext = plaintext.to_vec();
        let tag = cipher.encrypt(
            &cek,
            &iv,
            &aad_input(&protected_b64, aad_b64.as_deref()),
            &mut ciphertext,
        )?;
        Ok(Jwe {
            protected_b64,
            protected,
            unprotected,
            recipients: out_recipients,
            aad_b64,
            iv,
            ciphertext,
            tag,
        })
    }
}

/// The content's Additional Authenticated Data (RFC 7516 section 5.1 step 14).
fn aad_input(protected_b64: &str, aad_b64: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected_b64.len() + aad_b64.map_or(0, |a| a.len() + 1));
    out.extend_from_slice(protected_b64.as_bytes());
    if let Some(aad) = aad_b64 {
        out.push(b'.');
        out.extend_from_slice(aad.as_bytes());
    }
    out
}

impl Jwe {
    /// Starts building a JWE with content encryption `enc`.
    pub fn builder<'k>(enc: ContentAlg) -> JweBuilder<'k> {
        JweBuilder {
            cek: None,
            enc,
            protected: Header::new(),
            unprotected: None,
            recipients: Vec::new(),
            aad: None,
            protected_recipient: false,
        }
    }

    /// Parses any serialization: JSON (flattened or general) when the input
    /// starts with `{`, compact otherwise.
    pub fn parse(input: &[u8]) -> Result<Self, JoseError> {
        match super::classify(input)? {
            super::Serialized::Json(json) => Self::parse_json(json),
            super::Serialized::Compact(text) => Self::parse_compact(text),
        }
    }

    /// Parses the compact serialization (five parts).
    pub fn parse_compact(text: &str) -> Result<Self, JoseError> {
        let [protected, ek, iv, ct, tag] =
            super::compact_parts::<5>(text, "compact JWE needs exactly five parts")?;
        Self::from_parts(JweJson {
            protected: Some(protected.into()),
            unprotected: None,
            recipients: None,
            header: None,
            encrypted_key: Some(ek.into()),
            aad: None,
            iv: Some(iv.into()),
            ciphertext: ct.into(),
            tag: Some(tag.into()),
        })
    }

    /// Parses the flattened or general JSON serialization.
    pub fn parse_json(json: &[u8]) -> Result<Self, JoseError> {
        Self::from_parts(crate::json_reader::from_slice(json)?)
    }

    fn from_parts(raw: JweJson) -> Result<Self, JoseError> {
        let protected_b64 = raw.protected.unwrap_or_default();
        let protected = if protected_b64.is_empty() {
            Header::new()
        } else {
            Header::from_json(&b64::decode_url_public(&protected_b64, "protected")?)?
        };
        let decode_opt = |v: Option<String>, name| {
            v.map_or(Ok(Vec::new()), |s| b64::decode_url_public(&s, name))
        };
        let recipients = match (raw.recipients, raw.header, raw.encrypted_key) {
            (Some(list), None, None) => {
                if list.is_empty() {
                    return Err(JoseError::Missing("recipients"));
                }
                if list.len() > super::MAX_RECIPIENTS {
                    return Err(JoseError::TooMany("recipients"));
                }
                list.into_iter()
                    .map(|r| {
                        Ok(JweRecipient {
                            header: r.header,
                            encrypted_key: decode_opt(r.encrypted_key, "encrypted_key")?,
                        })
                    })
                    .collect::<Result<Vec<_>, JoseError>>()?
            }
            (None, header, ek) => {
                alloc::vec![JweRecipient {
                    header,
                    encrypted_key: decode_opt(ek, "encrypted_key")?
                }]
            }
            _ => {
                return Err(JoseError::Malformed(
                    "both flattened and general JWE members",
                ));
            }
        };
        if let Some(aad) = &raw.aad {
            b64::decode_url_public(aad, "aad")?;
        }
        let jwe = Jwe {
            protected_b64,
            protected,
            unprotected: raw.unprotected,
            recipients,
            aad_b64: raw.aad,
            iv: decode_opt(raw.iv, "iv")?,
            ciphertext: b64::decode_url_public(&raw.ciphertext, "ciphertext")?,
            tag: decode_opt(raw.tag, "tag")?,
        };
        // Header rules per recipient: disjoint names, no `crit`, `alg` and
        // `enc` present. Algorithms are resolved on decryption, so that one
        // recipient with an unknown algorithm does not hide the others.
        for r in &jwe.recipients {
            // `enc` is shared by all recipients (one ciphertext): a
            // per-recipient value could make recipients disagree.
            if r.header.as_ref().is_some_and(|h| h.get("enc").is_some()) {
                return Err(JoseError::InvalidHeader("enc"));
            }
            let joint = jwe.joint_header(r)?;
            joint.str("alg")?.ok_or(JoseError::Missing("alg"))?;
            joint.str("enc")?.ok_or(JoseError::Missing("enc"))?;
        }
        Ok(jwe)
    }

    fn joint_header<'a>(&'a self, r: &'a JweRecipient) -> Result<JointHeader<'a>, JoseError> {
        JointHeader::new(
            &self.protected,
            self.unprotected.as_ref(),
            r.header.as_ref(),
        )
    }

    /// The protected header.
    pub fn protected(&self) -> &Header {
        &self.protected
    }

    /// The shared unprotected header.
    pub fn unprotected(&self) -> Option<&Header> {
        self.unprotected.as_ref()
    }

    /// The recipients.
    pub fn recipients(&self) -> &[JweRecipient] {
        &self.recipients
    }

    /// The joint header of recipient `index` (protected, shared unprotected,
    /// and the recipient's own).
    pub fn recipient_header(&self, index: usize) -> Option<Result<JointHeader<'_>, JoseError>> {
        self.recipients.get(index).map(|r| self.joint_header(r))
    }

    /// Decrypts with `key`, trying each recipient whose algorithm is allowed
    /// and fits the key, and returns the plaintext.
    pub fn decrypt(
        &self,
        provider: &Provider,
        key: &dyn CekDecrypter,
        policy: &JwePolicy<'_>,
    ) -> Result<Vec<u8>, JoseError> {
        self.decrypt_detailed(provider, key, policy)
            .map(|d| d.plaintext)
    }

    /// Decrypts like [`Jwe::decrypt`] and also returns the CEK and content
    /// algorithm, so that a reply can be encrypted under the same CEK.
    pub fn decrypt_detailed(
        &self,
        provider: &Provider,
        key: &dyn CekDecrypter,
        policy: &JwePolicy<'_>,
    ) -> Result<Decrypted, JoseError> {
        let aad = aad_input(&self.protected_b64, self.aad_b64.as_deref());
        // A recipient that got as far as decryption reports the one generic
        // error; otherwise the first refusal (algorithm, key kind) is told.
        let mut failure = None;
        for r in &self.recipients {
            match self.decrypt_for(r, &aad, provider, key, policy) {
                Ok(decrypted) => return Ok(decrypted),
                Err(JoseError::Decrypt) => failure = Some(JoseError::Decrypt),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        Err(failure.unwrap_or(JoseError::Missing("recipients")))
    }

    /// Decrypts with a CEK already known (the TAM reading the answer to its
    /// own request, spec 9.2.1.2 step 3). `enc` is the algorithm the CEK was
    /// made for: the JWE must use exactly that one (key separation).
    pub fn decrypt_with_cek(
        &self,
        provider: &Provider,
        cek: &Cek,
        enc: ContentAlg,
    ) -> Result<Vec<u8>, JoseError> {
        let joint = JointHeader::new(&self.protected, self.unprotected.as_ref(), None)?;
        let used = joint.content_alg()?;
        if used != enc {
            return Err(JoseError::AlgorithmNotAllowed(used.name()));
        }
        let aad = aad_input(&self.protected_b64, self.aad_b64.as_deref());
        self.decrypt_content(provider, enc, cek, &aad)
    }

    fn decrypt_content(
        &self,
        provider: &Provider,
        enc: ContentAlg,
        cek: &Cek,
        aad: &[u8],
    ) -> Result<Vec<u8>, JoseError> {
        let cipher = provider.content_cipher(enc)?;
        if cek.len() != enc.key_len()
            || self.iv.len() != enc.iv_len()
            || self.tag.len() != enc.tag_len()
        {
            return Err(JoseError::Decrypt);
        }
        let mut buf = self.ciphertext.clone();
        cipher.decrypt(cek, &self.iv, aad, &mut buf, &self.tag)?;
        Ok(buf)
    }

    fn decrypt_for(
        &self,
        r: &JweRecipient,
        aad: &[u8],
        provider: &Provider,
        key: &dyn CekDecrypter,
        policy: &JwePolicy<'_>,
    ) -> Result<Decrypted, JoseError> {
        let joint = self.joint_header(r)?;
        let alg = joint.key_alg()?;
        let enc = joint.content_alg()?;
        if !policy.key_algs.contains(&alg) {
            return Err(JoseError::AlgorithmNotAllowed(alg.name()));
        }
        if !policy.content_algs.contains(&enc) {
            return Err(JoseError::AlgorithmNotAllowed(enc.name()));
        }
        if !alg.key_kind().admits(key.key_kind()) {
            return Err(JoseError::KeyMismatch(alg.name()));
        }
        let params = joint.agreement_params()?;
        if alg.uses_epk() && params.epk.is_none() {
            return Err(JoseError::Missing("epk"));
        }
        if alg.is_direct_agreement() && !r.encrypted_key.is_empty() {
            return Err(JoseError::Decrypt);
        }
        provider.content_cipher(enc)?;
        let cek = key.decrypt_cek(alg, enc, &params, &r.encrypted_key, provider.secure_random)?;
        let plaintext = self.decrypt_content(provider, enc, &cek, aad)?;
        Ok(Decrypted {
            plaintext,
            cek,
            enc,
            key_alg: alg,
        })
    }

    /// Compact serialization: one recipient, no unprotected headers, no AAD
    /// (built with [`JweBuilder::protected_recipient`]).
    pub fn to_compact(&self) -> Result<String, JoseError> {
        match self.recipients.as_slice() {
            [r] if r.header.is_none() && self.unprotected.is_none() && self.aad_b64.is_none() => {
                Ok(alloc::format!(
                    "{}.{}.{}.{}.{}",
                    self.protected_b64,
                    b64::encode_url_public(&r.encrypted_key),
                    b64::encode_url_public(&self.iv),
                    b64::encode_url_public(&self.ciphertext),
                    b64::encode_url_public(&self.tag)
                ))
            }
            _ => Err(JoseError::NotSerializable("compact JWE")),
        }
    }

    /// Flattened JSON serialization: one recipient.
    pub fn to_flattened_json(&self) -> Result<String, JoseError> {
        let [r] = self.recipients.as_slice() else {
            return Err(JoseError::NotSerializable("flattened JWE"));
        };
        let out = FlattenedOut {
            common: self.common_out(),
            recipient: RecipientOut::from(r),
        };
        Ok(crate::json_writer::to_string(&out)?)
    }

    /// General JSON serialization.
    pub fn to_general_json(&self) -> String {
        crate::json_writer::to_string(&self.general_out()).unwrap_or_default()
    }

    fn common_out(&self) -> CommonOut<'_> {
        CommonOut {
            protected: &self.protected_b64,
            unprotected: self.unprotected.as_ref(),
            aad: self.aad_b64.as_deref(),
            iv: b64::encode_url_public(&self.iv),
            ciphertext: b64::encode_url_public(&self.ciphertext),
            tag: b64::encode_url_public(&self.tag),
        }
    }

    fn general_out(&self) -> GeneralOut<'_> {
        let CommonOut {
            protected,
            unprotected,
            aad,
            iv,
            ciphertext,
            tag,
        } = self.common_out();
        GeneralOut {
            protected,
            unprotected,
            recipients: self.recipients.iter().map(RecipientOut::from).collect(),
            aad,
            iv,
            ciphertext,
            tag,
        }
    }
}

/// The JSON serializations as they arrive (RFC 7516 section 7.2).
#[derive(Deserialize)]
struct JweJson {
    protected: Option<String>,
    unprotected: Option<Header>,
    recipients: Option<Vec<RecipientJson>>,
    header: Option<Header>,
    encrypted_key: Option<String>,
    aad: Option<String>,
    iv: Option<String>,
    ciphertext: String,
    tag: Option<String>,
}

#[derive(Deserialize)]
struct RecipientJson {
    header: Option<Header>,
    encrypted_key: Option<String>,
}

#[derive(Serialize)]
struct RecipientOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<&'a Header>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encrypted_key: Option<String>,
}

impl<'a> From<&'a JweRecipient> for RecipientOut<'a> {
    fn from(r: &'a JweRecipient) -> Self {
        let ek = (!r.encrypted_key.is_empty()).then(|| b64::encode_url_public(&r.encrypted_key));
        Self {
            header: r.header.as_ref(),
            encrypted_key: ek,
        }
    }
}

#[derive(Serialize)]
struct CommonOut<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    protected: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unprotected: Option<&'a Header>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aad: Option<&'a str>,
    iv: String,
    ciphertext: String,
    tag: String,
}

#[derive(Serialize)]
struct FlattenedOut<'a> {
    #[serde(flatten)]
    common: CommonOut<'a>,
    #[serde(flatten)]
    recipient: RecipientOut<'a>,
}

#[derive(Serialize)]
struct GeneralOut<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    protected: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unprotected: Option<&'a Header>,
    recipients: Vec<RecipientOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aad: Option<&'a str>,
    iv: String,
    ciphertext: String,
    tag: String,
}

/// Serializes as general JSON (the form OTrP sends, spec 7.5).
impl Serialize for Jwe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.general_out().serialize(s)
    }
}

/// Deserializes general or flattened JSON, with every check of [`Jwe::parse_json`].
impl<'de> Deserialize<'de> for Jwe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Jwe::from_parts(JweJson::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
