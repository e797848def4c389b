//! The soft TEE's streamed TA image check ([`ImageStream`], the
//! [`TaStream`] of [`crate::SoftTaPlatform`]): the image of
//! [`crate::image`] (a JSON JWS) read as it arrives, with the same verdict
//! as [`crate::verify_ta_image`] over the whole image.
//!
//! The `payload` member (the TA code in base64url, nearly all of the
//! image) is never held: its text is checked character by character and
//! fed straight into the signature's digest ([`SignedMessage`]) after the
//! protected header, which [`crate::sign_ta_image`] writes first. Every
//! other member is small and kept (at most [`MAX_MEMBER`] bytes each,
//! [`MAX_MEMBERS`] of them) to be parsed as the whole-image check parses
//! them. An image whose payload comes before its protected header is
//! still accepted: its payload text is then held until the header arrives
//! (the memory of the whole-image path).

use otrp_core::crypto::{HashedMessage, JwsAlg, Provider, SignedMessage};
use otrp_core::jose::{Header, b64};
use otrp_core::tee::{TaError, TaStream, VerifiedTa};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::image::{ParsedImage, sp_key};

/// The largest member other than `payload`, in bytes of JSON.
pub(crate) const MAX_MEMBER: usize = 64 * 1024;
/// The most members besides `payload`.
pub(crate) const MAX_MEMBERS: usize = 16;
/// The longest member name.
const MAX_NAME: usize = 64;

fn malformed() -> TaError {
    TaError::Malformed("not a JWS")
}

/// Where the reader is in the image's top-level JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// Before the opening brace.
    Start,
    /// After `{`: a member name or `}`.
    Open,
    /// After `,`: a member name.
    Comma,
    /// In a member name (`escaped`: after a backslash).
    Name { escaped: bool },
    /// After a name: `:`.
    Colon,
    /// After `:`: the value.
    Value,
    /// In the payload string.
    Payload,
    /// After a backslash in the payload string: `u` must follow.
    PayloadBackslash,
    /// In a `\uXXXX` escape of the payload: the hex digits read so far.
    PayloadEscape { digits: u8, code: u32 },
    /// In another member's value.
    Other,
    /// After a value: `,` or `}`.
    Next,
    /// After the closing brace: whitespace only.
    End,
}

/// A value other than the payload, kept raw (bounded).
#[derive(Default)]
struct RawValue {
    text: Vec<u8>,
    /// Nesting depth inside an object or array value.
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl RawValue {
    /// Takes `b`; `Some(consumed)` when the value ended (`consumed` false:
    /// `b` is the delimiter after a bare scalar, to be read again).
    fn push(&mut self, b: u8) -> Result<Option<bool>, TaError> {
        let scalar = self
            .text
            .first()
            .is_some_and(|&f| f != b'"' && f != b'{' && f != b'[');
        if scalar && (b == b',' || b == b'}' || b.is_ascii_whitespace()) {
            return Ok(Some(false));
        }
        if self.text.len() >= MAX_MEMBER {
            return Err(TaError::Malformed("an image member is too large"));
        }
        self.text.push(b);
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                return Ok((self.depth == 0).then_some(true));
            }
            return Ok(None);
        }
        if scalar {
            return Ok(None);
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.checked_sub(1).ok_or_else(malformed)?;
                return Ok((self.depth == 0).then_some(true));
            }
            _ => {}
        }
        Ok(None)
    }
}

/// The payload text as it streams by.
#[derive(Default)]
struct Payload {
    /// The signing input's digest, once the protected header is known.
    message: Option<SignedMessage>,
    /// The payload text held while the protected header is not known.
    held: Option<Zeroizing<Vec<u8>>>,
    /// Characters seen.
    len: usize,
    /// The last (up to four) characters, for the final group's check.
    tail: [u8; 4],
    /// The protected header does not name an algorithm the provider
    /// verifies: the image is refused at the end.
    unverifiable: bool,
}

impl Payload {
    /// Takes a run of payload characters (already unescaped).
    fn feed(&mut self, run: &[u8]) -> Result<(), TaError> {
        if !b64::is_url_alphabet(run) {
            return Err(malformed());
        }
        for &b in run.iter().rev().take(4).rev() {
            self.tail.rotate_left(1);
            self.tail[3] = b;
        }
        self.len = self.len.saturating_add(run.len());
        if let Some(m) = &mut self.message {
            m.update(run);
        } else if let Some(held) = &mut self.held {
            held.extend_from_slice(run);
        }
        Ok(())
    }

    /// Whether the whole text is canonical base64url
    /// ([`b64::check_url`] over the last, possibly partial, group).
    fn check_end(&self) -> Result<(), TaError> {
        let group = match self.len % 4 {
            0 if self.len > 0 => 4,
            n => n,
        };
        let last = self.tail.get(4 - group..).ok_or_else(malformed)?;
        let text = core::str::from_utf8(last).map_err(|_| malformed())?;
        b64::check_url(text, "payload").map_err(|_| malformed())
    }
}

/// The streamed check of a soft-TEE TA image (see the module
/// documentation).
pub(crate) struct ImageStream<'a> {
    provider: &'a Provider,
    sp_certs: &'a [&'a [u8]],
    at: At,
    /// The name being read (raw JSON, without quotes).
    name: Vec<u8>,
    /// The value being read (another member's).
    value: RawValue,
    /// The members other than `payload`: raw JSON name and value.
    members: Vec<(Vec<u8>, Vec<u8>)>,
    payload: Option<Payload>,
}

impl<'a> ImageStream<'a> {
    pub(crate) fn new(provider: &'a Provider, sp_certs: &'a [&'a [u8]]) -> Self {
        ImageStream {
            provider,
            sp_certs,
            at: At::Start,
            name: Vec::new(),
            value: RawValue::default(),
            members: Vec::new(),
            payload: None,
        }
    }

    /// The member name just read, unescaped.
    fn name_text(&self) -> Result<String, TaError> {
        let mut quoted = Vec::with_capacity(self.name.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(&self.name);
        quoted.push(b'"');
        serde_json::from_slice(&quoted).map_err(|_| malformed())
    }

    /// The protected header text of the image's one signature, from the
    /// members read so far (flattened `protected`, or the first of
    /// `signatures`).
    fn protected_b64(&self) -> Option<String> {
        let member = |want: &str| {
            self.members.iter().find_map(|(name, value)| {
                let name: String = serde_json::from_slice(name).ok()?;
                (name == want).then_some(value.as_slice())
            })
        };
        if let Some(raw) = member("protected") {
            return serde_json::from_slice(raw).ok();
        }
        let sigs: Value = serde_json::from_slice(member("signatures")?).ok()?;
        sigs.get(0)?.get("protected")?.as_str().map(String::from)
    }

    /// The digest of the signing input, started with the protected header.
    fn start_message(&self, protected: &str) -> Option<SignedMessage> {
        let header =
            Header::from_json(&b64::decode_url_public(protected, "protected").ok()?).ok()?;
        let alg = JwsAlg::from_name(header.get("alg")?.as_str()?)?;
        let mut m = SignedMessage::new(self.provider, alg).ok()?;
        m.update(protected.as_bytes());
        m.update(b".");
        Some(m)
    }

    /// The payload string starts.
    fn begin_payload(&mut self) -> Result<(), TaError> {
        if self.payload.is_some() {
            return Err(malformed());
        }
        let mut p = Payload::default();
        match self.protected_b64() {
            Some(protected) => match self.start_message(&protected) {
                Some(m) => p.message = Some(m),
                None => p.unverifiable = true,
            },
            None => p.held = Some(Zeroizing::new(Vec::new())),
        }
        self.payload = Some(p);
        Ok(())
    }

    fn payload_mut(&mut self) -> Result<&mut Payload, TaError> {
        self.payload.as_mut().ok_or_else(malformed)
    }

    /// Reads `chunk` from `i`; returns where it stopped.
    fn step(&mut self, chunk: &[u8], i: usize) -> Result<usize, TaError> {
        let rest = chunk.get(i..).unwrap_or_default();
        let Some(&b) = rest.first() else {
            return Ok(i);
        };
        if self.at == At::Payload {
            // A run of payload characters at once.
            let run = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
            let (text, after) = rest.split_at(run);
            self.payload_mut()?.feed(text)?;
            match after.first() {
                Some(b'"') => self.at = At::Next,
                Some(_) => self.at = At::PayloadBackslash,
                None => return Ok(i + run),
            }
            return Ok(i + run + 1);
        }
        let ws = b.is_ascii_whitespace();
        match self.at {
            At::Start if ws => {}
            At::Start if b == b'{' => self.at = At::Open,
            At::Open | At::Comma if ws => {}
            At::Open if b == b'}' => self.at = At::End,
            At::Open | At::Comma if b == b'"' => {
                self.name.clear();
                self.at = At::Name { escaped: false };
            }
            At::Name { escaped } => {
                if !escaped && b == b'"' {
                    self.at = At::Colon;
                } else {
                    if self.name.len() >= MAX_NAME {
                        return Err(malformed());
                    }
                    self.name.push(b);
                    self.at = At::Name {
                        escaped: !escaped && b == b'\\',
                    };
                }
            }
            At::Colon if ws => {}
            At::Colon if b == b':' => self.at = At::Value,
            At::Value if ws => {}
            At::Value => {
                if self.name_text()? == "payload" {
                    if b != b'"' {
                        return Err(malformed());
                    }
                    self.begin_payload()?;
                    self.at = At::Payload;
                } else {
                    if self.members.len() >= MAX_MEMBERS {
                        return Err(TaError::Malformed("too many image members"));
                    }
                    self.value = RawValue::default();
                    self.at = At::Other;
                    return self.step(chunk, i);
                }
            }
            // `\uXXXX` only: any other escape is a character outside
            // base64url.
            At::PayloadBackslash if b == b'u' => {
                self.at = At::PayloadEscape { digits: 0, code: 0 };
            }
            At::PayloadEscape { digits, code } => {
                let d = char::from(b).to_digit(16).ok_or_else(malformed)?;
                let code = code * 16 + d;
                if digits == 3 {
                    let c = u8::try_from(code).map_err(|_| malformed())?;
                    self.payload_mut()?.feed(&[c])?;
                    self.at = At::Payload;
                } else {
                    self.at = At::PayloadEscape {
                        digits: digits + 1,
                        code,
                    };
                }
            }
            At::Other => match self.value.push(b)? {
                None => {}
                Some(consumed) => {
                    let name = core::mem::take(&mut self.name);
                    let mut quoted = Vec::with_capacity(name.len() + 2);
                    quoted.push(b'"');
                    quoted.extend_from_slice(&name);
                    quoted.push(b'"');
                    let value = core::mem::take(&mut self.value.text);
                    self.members.push((quoted, value));
                    self.at = At::Next;
                    if !consumed {
                        return self.step(chunk, i);
                    }
                }
            },
            At::Next if ws => {}
            At::Next if b == b',' => self.at = At::Comma,
            At::Next if b == b'}' => self.at = At::End,
            At::End if ws => {}
            _ => return Err(malformed()),
        }
        Ok(i + 1)
    }

    /// The whole image read: the members as the whole-image check parses
    /// them, with an empty payload in place of the streamed one.
    fn parsed_members(&self) -> Vec<u8> {
        let mut doc = b"{\"payload\":\"\"".to_vec();
        for (name, value) in &self.members {
            doc.push(b',');
            doc.extend_from_slice(name);
            doc.push(b':');
            doc.extend_from_slice(value);
        }
        doc.push(b'}');
        doc
    }
}

impl TaStream for ImageStream<'_> {
    fn update(&mut self, chunk: &[u8]) -> Result<(), TaError> {
        let mut i = 0;
        while i < chunk.len() {
            i = self.step(chunk, i)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<VerifiedTa, TaError> {
        let mut this = *self;
        if this.at != At::End {
            return Err(malformed());
        }
        let doc = this.parsed_members();
        let parsed = ParsedImage::parse(&doc)?;
        let payload = this.payload.take().ok_or_else(malformed)?;
        payload.check_end()?;
        let Payload {
            message,
            held,
            len,
            unverifiable,
            ..
        } = payload;
        let message = match (message, held) {
            _ if unverifiable => None,
            (Some(m), _) => Some(m),
            (None, Some(held)) => this
                .protected_b64()
                .and_then(|protected| this.start_message(&protected))
                .map(|mut m| {
                    m.update(&held);
                    m
                }),
            (None, None) => None,
        };
        let message: HashedMessage = message.ok_or(TaError::UntrustedSigner)?.finish();
        let signature = parsed.signature()?;
        let signer = this
            .sp_certs
            .iter()
            .position(|cert| {
                sp_key(this.provider, cert).is_ok_and(|key| message.verify(&key, signature).is_ok())
            })
            .ok_or(TaError::UntrustedSigner)?;
        if len == 0 {
            return Err(TaError::Malformed("empty TA code"));
        }
        let info = parsed.into_info();
        Ok(VerifiedTa {
            signer,
            taid: info.taid,
            version: info.version,
            taname: info.taname,
        })
    }
}
