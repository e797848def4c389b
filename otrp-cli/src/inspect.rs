//! `otrp inspect`: decodes any OTrP message or JOSE object and prints its
//! structure. Every JWS shows its headers and its decoded payload; every
//! JWE (the `content`, `edsi` and TA keys of OTrP messages) shows its
//! headers and, when a `--key` opens it, its plaintext, decoded in turn.
//! Signatures are checked against the `--key` files, or, without one,
//! against the key of the `x5c` leaf (saying that the chain itself was not
//! validated).

use std::fmt::Write as _;
use std::path::PathBuf;

use otrp_core::crypto::Provider;
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
use serde_json::Value;

use crate::keys::{LoadedKey, jws_algs_for, load_keys};
use crate::util::{Error, Result, read_input, write_stdout};

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The message or JOSE object (stdin when absent or `-`).
    pub file: Option<PathBuf>,
    /// Keys to verify signatures and decrypt with (repeatable).
    #[arg(long)]
    pub key: Vec<PathBuf>,
}

/// Strings longer than this are shortened in the output.
const MAX_SHOWN: usize = 72;
/// Nesting beyond this is not expanded.
const MAX_DEPTH: usize = 24;

pub fn run(args: &InspectArgs) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    let input = read_input(args.file.as_deref())?;
    let mut keys = Vec::new();
    for k in &args.key {
        keys.extend(load_keys(k, &provider)?);
    }
    let (out, failures) = inspect(&input, &provider, &keys)?;
    write_stdout(out.as_bytes())?;
    match failures.as_slice() {
        [] => Ok(()),
        [one] => Err(Error::msg(format!("a signature does not verify: {one}"))),
        [first, ..] => Err(Error::msg(format!(
            "{} signatures do not verify; the first: {first}",
            failures.len()
        ))),
    }
}

/// The readable form of `input`, and every signature that did not verify
/// (with the `--key`s, or without them against its `x5c` leaf).
pub fn inspect(
    input: &[u8],
    provider: &Provider,
    keys: &[LoadedKey],
) -> Result<(String, Vec<String>)> {
    let mut i = Inspector {
        provider,
        keys,
        out: String::new(),
        failures: Vec::new(),
    };
    let text = std::str::from_utf8(input)
        .map_err(|_| Error::msg("input is not UTF-8: not an OTrP message or JOSE object"))?
        .trim();
    if text.starts_with('{') || text.starts_with('[') {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::msg(format!("input is not valid JSON: {e}")))?;
        i.value(&value, 0);
    } else {
        match text.split('.').count() {
            3 => {
                let jws = Jws::parse_compact(text)?;
                i.line(0, "JWS (compact serialization)");
                i.jws(&jws, 1);
            }
            5 => {
                let jwe = Jwe::parse_compact(text)?;
                i.line(0, "JWE (compact serialization)");
                i.jwe(&jwe, 1);
            }
            _ => {
                return Err(Error::msg("input is neither JSON nor a compact JWS/JWE"));
            }
        }
    }
    Ok((i.out, i.failures))
}

struct Inspector<'a> {
    provider: &'a Provider,
    keys: &'a [LoadedKey],
    failures: Vec<String>,
    out: String,
}

fn is_jws(m: &serde_json::Map<String, Value>) -> bool {
    m.contains_key("payload") && (m.contains_key("signature") || m.contains_key("signatures"))
}

fn is_jwe(m: &serde_json::Map<String, Value>) -> bool {
    m.contains_key("ciphertext") && m.contains_key("iv")
}

fn short(s: &str) -> String {
    if s.chars().count() <= MAX_SHOWN {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX_SHOWN - 8).collect();
        format!("\"{head}...\" ({} chars)", s.chars().count())
    }
}

/// A header as one line of JSON, long values (x5c certificates, keys)
/// shortened.
fn header_text(h: &Header) -> String {
    fn shorten(v: &mut Value) {
        match v {
            Value::String(s) if s.chars().count() > MAX_SHOWN => {
                let n = s.chars().count();
                let head: String = s.chars().take(24).collect();
                *s = format!("{head}...({n} chars)");
            }
            Value::Array(items) => items.iter_mut().for_each(shorten),
            Value::Object(m) => m.values_mut().for_each(shorten),
            _ => {}
        }
    }
    let json = h.to_json();
    match serde_json::from_slice::<Value>(&json) {
        Ok(mut v) => {
            shorten(&mut v);
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(&json).into_owned(),
    }
}

fn subject_of(der: &[u8]) -> String {
    otrp_test_pki::Cert::from_der(der.to_vec(), None)
        .and_then(|c| c.x509())
        .map(|x| x.tbs_certificate.subject.to_string())
        .unwrap_or_else(|_| "(not a parsable certificate)".into())
}

impl Inspector<'_> {
    fn line(&mut self, indent: usize, text: &str) {
        let _ = writeln!(self.out, "{:width$}{text}", "", width = indent * 2);
    }

    fn value(&mut self, v: &Value, indent: usize) {
        if indent > MAX_DEPTH {
            self.line(indent, "(nested too deeply)");
            return;
        }
        match v {
            Value::Object(m) if is_jws(m) => self.jws_value(v, indent),
            Value::Object(m) if is_jwe(m) => self.jwe_value(v, indent),
            Value::Object(m) => {
                if m.is_empty() {
                    self.line(indent, "{}");
                }
                for (k, val) in m {
                    self.member(k, val, indent);
                }
            }
            Value::Array(items) => {
                if items.is_empty() {
                    self.line(indent, "[]");
                }
                for (n, item) in items.iter().enumerate() {
                    self.member(&format!("[{n}]"), item, indent);
                }
            }
            other => self.line(indent, &scalar(other)),
        }
    }

    fn member(&mut self, name: &str, v: &Value, indent: usize) {
        match v {
            Value::Object(m) if is_jws(m) => {
                self.line(indent, &format!("{name}: JWS"));
                self.jws_value(v, indent + 1);
            }
            Value::Object(m) if is_jwe(m) => {
                self.line(indent, &format!("{name}: JWE (encrypted)"));
                self.jwe_value(v, indent + 1);
            }
            Value::Object(_) | Value::Array(_) => {
                self.line(indent, &format!("{name}:"));
                self.value(v, indent + 1);
            }
            other => self.line(indent, &format!("{name}: {}", scalar(other))),
        }
    }

    fn jws_value(&mut self, v: &Value, indent: usize) {
        let bytes = serde_json::to_vec(v).unwrap_or_default();
        match Jws::parse_json(&bytes) {
            Ok(jws) => self.jws(&jws, indent),
            Err(e) => self.line(indent, &format!("malformed JWS: {e}")),
        }
    }

    fn jwe_value(&mut self, v: &Value, indent: usize) {
        let bytes = serde_json::to_vec(v).unwrap_or_default();
        match Jwe::parse_json(&bytes) {
            Ok(jwe) => self.jwe(&jwe, indent),
            Err(e) => self.line(indent, &format!("malformed JWE: {e}")),
        }
    }

    fn jws(&mut self, jws: &Jws, indent: usize) {
        for (n, sig) in jws.signatures().iter().enumerate() {
            let label = if jws.signatures().len() > 1 {
                format!("signature {}", n + 1)
            } else {
                "signature".into()
            };
            self.line(
                indent,
                &format!("{label} protected header: {}", header_text(sig.protected())),
            );
            if let Some(h) = sig.unprotected() {
                self.line(
                    indent,
                    &format!("{label} unprotected header: {}", header_text(h)),
                );
            }
            let x5c = sig.x5c().ok().flatten();
            if let Some(chain) = &x5c {
                for (i, der) in chain.iter().enumerate() {
                    self.line(indent + 1, &format!("x5c[{i}]: {}", subject_of(der)));
                }
            }
        }
        let (text, ok) = self.verification(jws);
        self.line(indent, &text);
        if !ok {
            self.failures.push(text);
        }
        match jws.unverified_payload() {
            Ok(payload) => self.payload("payload", &payload, indent),
            Err(e) => self.line(indent, &format!("payload: undecodable ({e})")),
        }
    }

    /// What the signature check found, and whether that is not a failure.
    fn verification(&self, jws: &Jws) -> (String, bool) {
        if !self.keys.is_empty() {
            let mut last = String::from("no --key holds a public key");
            for k in self.keys {
                let Some(public) = &k.public else { continue };
                match jws.verify(self.provider, public, &jws_algs_for(public.kind())) {
                    Ok(_) => {
                        return (
                            format!("signature: VALID, verified with {}", k.describe()),
                            true,
                        );
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            return (
                format!("signature: NOT verified with the given keys ({last})"),
                false,
            );
        }
        let leaf = jws
            .signatures()
            .first()
            .and_then(|s| s.x5c().ok().flatten())
            .and_then(|chain| chain.into_iter().next());
        let Some(leaf) = leaf else {
            return ("signature: not checked (no --key, no x5c)".into(), true);
        };
        let key = otrp_core::pki::spki_of_certificate(&leaf)
            .ok()
            .and_then(|spki| {
                self.provider
                    .key_loader
                    .public_key_from_spki_der(&spki)
                    .ok()
            });
        match key {
            Some(public) => {
                match jws.verify(self.provider, &public, &jws_algs_for(public.kind())) {
                    Ok(_) => (
                        "signature: valid for the x5c leaf key (certificate chain not validated)"
                            .into(),
                        true,
                    ),
                    Err(e) => (
                        format!("signature: INVALID for the x5c leaf key ({e})"),
                        false,
                    ),
                }
            }
            None => (
                "signature: not checked (x5c leaf key unreadable)".into(),
                true,
            ),
        }
    }

    fn jwe(&mut self, jwe: &Jwe, indent: usize) {
        self.line(
            indent,
            &format!("protected header: {}", header_text(jwe.protected())),
        );
        if let Some(h) = jwe.unprotected() {
            self.line(indent, &format!("unprotected header: {}", header_text(h)));
        }
        for (n, r) in jwe.recipients().iter().enumerate() {
            let header = r.header().map(header_text).unwrap_or_else(|| "{}".into());
            self.line(
                indent,
                &format!(
                    "recipient {}: header {header}, encrypted key {} bytes",
                    n + 1,
                    r.encrypted_key().len()
                ),
            );
        }
        let mut result = None;
        let mut last = None;
        for k in self.keys {
            let Some(d) = k.decrypter() else { continue };
            match jwe.decrypt(self.provider, d, &JwePolicy::ANY) {
                Ok(p) => {
                    result = Some((p, k.describe()));
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        match (result, last) {
            (Some((plaintext, by)), _) => {
                self.line(indent, &format!("decrypted with {by}"));
                self.payload("plaintext", &plaintext, indent);
            }
            (None, Some(e)) => self.line(indent, &format!("not decrypted: {e}")),
            (None, None) => self.line(indent, "not decrypted (no --key to open it)"),
        }
    }

    fn payload(&mut self, what: &str, bytes: &[u8], indent: usize) {
        if let Ok(v) = serde_json::from_slice::<Value>(bytes)
            && (v.is_object() || v.is_array())
        {
            self.line(indent, &format!("{what} ({} bytes, JSON):", bytes.len()));
            self.value(&v, indent + 1);
            return;
        }
        // A JOSE object in compact form inside.
        if let Ok(text) = std::str::from_utf8(bytes) {
            let printable = text
                .chars()
                .all(|c| !c.is_control() || c == '\n' || c == '\t');
            if printable {
                self.line(
                    indent,
                    &format!("{what} ({} bytes, text): {}", bytes.len(), short(text)),
                );
                return;
            }
        }
        let b64 = otrp_core::jose::b64::encode_std(bytes);
        self.line(
            indent,
            &format!(
                "{what} ({} bytes, binary, base64): {}",
                bytes.len(),
                short(&b64)
            ),
        );
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => short(s),
        other => other.to_string(),
    }
}
