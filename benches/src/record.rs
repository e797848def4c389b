//! A recording provider: wraps every algorithm, key loader, private key and
//! random source of a backend, and while [`record`] runs captures each
//! primitive call with its inputs. [`Calls::replay`] makes exactly those
//! calls again, directly on the backend: the "raw primitive" baseline of a
//! protocol operation, on the same backend, with nothing of otrp's parsing,
//! encoding, copying or storage in between.
//!
//! The soft TEE's own primitives (AES-256-CBC of `encrypted_ta`, SP AIK
//! generation and loading with the p256 crate) bypass the provider; they
//! are captured by wrapping its [`TaPlatform`] and [`SpAikKeys`] hooks
//! ([`wrap_tee_hooks`]).

use std::cell::RefCell;
use std::sync::Arc;

use otrp_core::crypto::{
    AgreementParams, Cek, CekDecrypter, ContentAlg, ContentCipher, CryptoError, Digest,
    EncryptionKey, JwsAlg, JwsSigner, KeyAlg, KeyComponents, KeyKind, KeyLoader, PrivateKey,
    Provider, PublicKey, SecretBytes, SecureRandom, SignatureVerifier, WrappedCek,
};
use otrp_core::message::TaEncAlg;
use otrp_core::pki::UnixTime;
use otrp_core::tee::{HookError, NewSpAik, SpAikKeys, TaError, TaPlatform, TeeHooks, VerifiedTa};
use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// One primitive call with its inputs.
pub enum Call {
    /// A JWS signature verification.
    Verify(&'static dyn SignatureVerifier, PublicKey, Vec<u8>, Vec<u8>),
    /// A certificate or OCSP signature verification (chain validation).
    Webpki(
        &'static dyn SignatureVerificationAlgorithm,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
    ),
    /// A private-key signature.
    Sign(Arc<dyn PrivateKey>, JwsAlg, Vec<u8>),
    /// A CEK decryption (RSA, ECDH + key unwrap).
    DecryptCek(
        Arc<dyn PrivateKey>,
        KeyAlg,
        ContentAlg,
        AgreementParams,
        Vec<u8>,
    ),
    /// A CEK encryption to a public key.
    EncryptCek(
        &'static dyn KeyEncrypter,
        PublicKey,
        ContentAlg,
        Option<Cek>,
        AgreementParams,
    ),
    /// Content encryption.
    Encrypt(&'static dyn ContentCipher, Cek, Vec<u8>, Vec<u8>, Vec<u8>),
    /// Content decryption (the ciphertext and tag).
    Decrypt(
        &'static dyn ContentCipher,
        Cek,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
    ),
    /// A digest.
    Digest(&'static dyn Digest, Vec<u8>),
    /// A private key parsed from PKCS#8.
    LoadPrivate(&'static dyn KeyLoader, Vec<u8>),
    /// A public key parsed from a SubjectPublicKeyInfo.
    LoadPublic(&'static dyn KeyLoader, Vec<u8>),
    /// Random bytes.
    Random(&'static dyn SecureRandom, usize),
    /// `encrypted_ta` decryption by the soft TEE (AES-256-CBC).
    TaDecrypt(SecretBytes, [u8; 16], Vec<u8>),
    /// SP AIK generation by the soft TEE (P-256).
    SpAikGenerate(&'static dyn SecureRandom),
    /// SP AIK loading from its sealed PKCS#8 by the soft TEE.
    SpAikLoad(Provider, Vec<u8>),
}

use otrp_core::crypto::KeyEncrypter;

impl Call {
    /// A short name of the primitive, for reports.
    pub fn name(&self) -> String {
        match self {
            Call::Verify(v, ..) => format!("verify {}", v.algorithm()),
            Call::Webpki(a, ..) => format!("x509 verify {a:?}"),
            Call::Sign(_, alg, _) => format!("sign {alg}"),
            Call::DecryptCek(_, alg, ..) => format!("decrypt CEK {alg}"),
            Call::EncryptCek(e, ..) => format!("encrypt CEK {}", e.algorithm()),
            Call::Encrypt(c, _, _, _, b) => format!("encrypt {} {}B", c.algorithm(), b.len()),
            Call::Decrypt(c, _, _, _, b, _) => format!("decrypt {} {}B", c.algorithm(), b.len()),
            Call::Digest(d, data) => format!("digest {:?} {}B", d.algorithm(), data.len()),
            Call::LoadPrivate(..) => "load PKCS#8".into(),
            Call::LoadPublic(..) => "load SPKI".into(),
            Call::Random(_, n) => format!("random {n}B"),
            Call::TaDecrypt(_, _, d) => format!("AES-256-CBC decrypt {}B", d.len()),
            Call::SpAikGenerate(_) => "SP AIK generate P-256".into(),
            Call::SpAikLoad(..) => "SP AIK load".into(),
        }
    }

    /// Makes the call again on the backend (results are checked: a replay
    /// that fails means the recording is wrong).
    pub fn replay(&self, rng: &dyn SecureRandom) {
        match self {
            Call::Verify(v, key, m, s) => v.verify(key, m, s).expect("replayed verify"),
            Call::Webpki(a, k, m, s) => a.verify_signature(k, m, s).expect("replayed x509"),
            Call::Sign(key, alg, m) => {
                std::hint::black_box(key.sign(*alg, m, rng).expect("replayed sign"));
            }
            Call::DecryptCek(key, alg, enc, p, ek) => {
                std::hint::black_box(key.decrypt_cek(*alg, *enc, p, ek, rng).expect("CEK"));
            }
            Call::EncryptCek(e, key, enc, cek, p) => {
                let w = e
                    .encrypt_cek(EncryptionKey::Public(key), *enc, cek.as_ref(), p, rng)
                    .expect("replayed CEK encryption");
                std::hint::black_box(w);
            }
            Call::Encrypt(c, cek, iv, aad, buf) => {
                let mut b = buf.clone();
                std::hint::black_box(c.encrypt(cek, iv, aad, &mut b).expect("encrypt"));
            }
            Call::Decrypt(c, cek, iv, aad, buf, tag) => {
                let mut b = buf.clone();
                c.decrypt(cek, iv, aad, &mut b, tag).expect("decrypt");
                std::hint::black_box(b);
            }
            Call::Digest(d, data) => {
                std::hint::black_box(d.digest(data));
            }
            Call::LoadPrivate(l, der) => {
                std::hint::black_box(l.private_key_from_pkcs8_der(der).expect("PKCS#8"));
            }
            Call::LoadPublic(l, der) => {
                std::hint::black_box(l.public_key_from_spki_der(der).expect("SPKI"));
            }
            Call::Random(r, n) => {
                let mut b = vec![0u8; *n];
                r.fill(&mut b).expect("random");
                std::hint::black_box(b);
            }
            Call::TaDecrypt(key, iv, data) => {
                let p = otrp_soft_tee::SoftTaPlatform::whole_image();
                std::hint::black_box(
                    p.decrypt_ta_data(TaEncAlg::AesCbc, key, iv, data)
                        .expect("TA data"),
                );
            }
            Call::SpAikGenerate(r) => {
                let aik = otrp_soft_tee::SoftSpAik::new(otrp_crypto_rustcrypto::provider());
                std::hint::black_box(aik.generate(*r).expect("SP AIK").public_spki);
            }
            Call::SpAikLoad(p, sealed) => {
                let aik = otrp_soft_tee::SoftSpAik::new(*p);
                let key = aik.decrypter(sealed).expect("SP AIK");
                std::hint::black_box(&key);
            }
        }
    }
}

/// The calls of one operation.
#[derive(Default)]
pub struct Calls(pub Vec<Call>);

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(Call::name))
            .finish()
    }
}

impl Calls {
    /// Replays every call in order.
    pub fn replay(&self, rng: &dyn SecureRandom) {
        for c in &self.0 {
            c.replay(rng);
        }
    }

    /// `name x count` lines, for reports.
    pub fn summary(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for c in &self.0 {
            let n = c.name();
            match out.iter_mut().find(|(k, _)| *k == n) {
                Some((_, count)) => *count += 1,
                None => out.push((n, 1)),
            }
        }
        out
    }

    /// Without random draws and key loads (the primitives a
    /// hardware-backed TEE would not redo per request).
    pub fn without(mut self, drop: impl Fn(&Call) -> bool) -> Calls {
        self.0.retain(|c| !drop(c));
        self
    }
}

thread_local! {
    static LOG: RefCell<Option<Vec<Call>>> = const { RefCell::new(None) };
}

fn log(call: impl FnOnce() -> Call) {
    LOG.with(|l| {
        if let Some(v) = l.borrow_mut().as_mut() {
            v.push(call());
        }
    });
}

/// Runs `f`, capturing the primitive calls made through recording
/// providers and hooks on this thread.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, Calls) {
    LOG.with(|l| *l.borrow_mut() = Some(Vec::new()));
    let out = f();
    let calls = LOG.with(|l| l.borrow_mut().take()).unwrap_or_default();
    (out, Calls(calls))
}

struct RecVerifier(&'static dyn SignatureVerifier);
impl SignatureVerifier for RecVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.0.algorithm()
    }
    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        log(|| Call::Verify(self.0, key.clone(), message.to_vec(), signature.to_vec()));
        self.0.verify(key, message, signature)
    }
}

struct RecEncrypter(&'static dyn KeyEncrypter);
impl KeyEncrypter for RecEncrypter {
    fn algorithm(&self) -> KeyAlg {
        self.0.algorithm()
    }
    fn encrypt_cek(
        &self,
        key: EncryptionKey<'_>,
        enc: ContentAlg,
        cek: Option<&Cek>,
        params: &AgreementParams,
        rng: &dyn SecureRandom,
    ) -> Result<WrappedCek, CryptoError> {
        if let EncryptionKey::Public(k) = key {
            log(|| Call::EncryptCek(self.0, k.clone(), enc, cek.cloned(), params.clone()));
        }
        self.0.encrypt_cek(key, enc, cek, params, rng)
    }
}

struct RecCipher(&'static dyn ContentCipher);
impl ContentCipher for RecCipher {
    fn algorithm(&self) -> ContentAlg {
        self.0.algorithm()
    }
    fn encrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u8>, CryptoError> {
        log(|| Call::Encrypt(self.0, cek.clone(), iv.to_vec(), aad.to_vec(), buf.clone()));
        self.0.encrypt(cek, iv, aad, buf)
    }
    fn decrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        log(|| {
            Call::Decrypt(
                self.0,
                cek.clone(),
                iv.to_vec(),
                aad.to_vec(),
                buf.clone(),
                tag.to_vec(),
            )
        });
        self.0.decrypt(cek, iv, aad, buf, tag)
    }
}

struct RecDigest(&'static dyn Digest);
impl Digest for RecDigest {
    fn algorithm(&self) -> otrp_core::crypto::HashAlg {
        self.0.algorithm()
    }
    fn digest(&self, data: &[u8]) -> Vec<u8> {
        log(|| Call::Digest(self.0, data.to_vec()));
        self.0.digest(data)
    }
}

struct RecRandom(&'static dyn SecureRandom);
impl SecureRandom for RecRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        log(|| Call::Random(self.0, dest.len()));
        self.0.fill(dest)
    }
}

#[derive(Debug)]
struct RecWebpki(&'static dyn SignatureVerificationAlgorithm);
impl SignatureVerificationAlgorithm for RecWebpki {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        log(|| {
            Call::Webpki(
                self.0,
                public_key.to_vec(),
                message.to_vec(),
                signature.to_vec(),
            )
        });
        self.0.verify_signature(public_key, message, signature)
    }
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.0.public_key_alg_id()
    }
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.0.signature_alg_id()
    }
    fn fips(&self) -> bool {
        self.0.fips()
    }
}

struct RecKey(Arc<dyn PrivateKey>);
impl JwsSigner for RecKey {
    fn key_kind(&self) -> KeyKind {
        JwsSigner::key_kind(self.0.as_ref())
    }
    fn public_key(&self) -> Option<PublicKey> {
        self.0.public_key()
    }
    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError> {
        log(|| Call::Sign(self.0.clone(), alg, message.to_vec()));
        self.0.sign(alg, message, rng)
    }
}
impl CekDecrypter for RecKey {
    fn key_kind(&self) -> KeyKind {
        CekDecrypter::key_kind(self.0.as_ref())
    }
    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        enc: ContentAlg,
        params: &AgreementParams,
        encrypted_key: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        log(|| {
            Call::DecryptCek(
                self.0.clone(),
                alg,
                enc,
                params.clone(),
                encrypted_key.to_vec(),
            )
        });
        self.0.decrypt_cek(alg, enc, params, encrypted_key, rng)
    }
}

struct RecLoader(&'static dyn KeyLoader);
impl KeyLoader for RecLoader {
    fn private_key_from_pkcs8_der(&self, der: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
        log(|| Call::LoadPrivate(self.0, der.to_vec()));
        let key = self.0.private_key_from_pkcs8_der(der)?;
        Ok(Box::new(RecKey(Arc::from(key))))
    }
    fn private_key_from_components(
        &self,
        components: &KeyComponents,
    ) -> Result<Box<dyn PrivateKey>, CryptoError> {
        let key = self.0.private_key_from_components(components)?;
        Ok(Box::new(RecKey(Arc::from(key))))
    }
    fn public_key_from_spki_der(&self, der: &[u8]) -> Result<PublicKey, CryptoError> {
        log(|| Call::LoadPublic(self.0, der.to_vec()));
        self.0.public_key_from_spki_der(der)
    }
}

fn leak_all<T: ?Sized + 'static, W: 'static>(
    items: &'static [&'static T],
    wrap: impl Fn(&'static T) -> W,
    erase: impl Fn(&'static W) -> &'static T,
) -> &'static [&'static T] {
    let wrapped: Vec<&'static T> = items
        .iter()
        .map(|i| erase(Box::leak(Box::new(wrap(*i)))))
        .collect();
    Box::leak(wrapped.into_boxed_slice())
}

/// `base` with every algorithm, the key loader and the random source
/// wrapped for [`record`] (leaked: for set-up code).
pub fn recording(base: Provider) -> Provider {
    Provider {
        signature_verifiers: leak_all(base.signature_verifiers, RecVerifier, |w| w as _),
        key_encrypters: leak_all(base.key_encrypters, RecEncrypter, |w| w as _),
        content_ciphers: leak_all(base.content_ciphers, RecCipher, |w| w as _),
        digests: leak_all(base.digests, RecDigest, |w| w as _),
        secure_random: Box::leak(Box::new(RecRandom(base.secure_random))),
        key_loader: Box::leak(Box::new(RecLoader(base.key_loader))),
        webpki_algorithms: leak_all(base.webpki_algorithms, RecWebpki, |w| w as _),
    }
}

struct RecTa(Box<dyn TaPlatform>);
impl TaPlatform for RecTa {
    fn decrypt_ta_data(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        data: &[u8],
    ) -> Result<SecretBytes, TaError> {
        log(|| Call::TaDecrypt(key.clone(), *iv, data.to_vec()));
        self.0.decrypt_ta_data(alg, key, iv, data)
    }
    fn verify_ta(
        &self,
        provider: &Provider,
        taid: &str,
        image: &[u8],
        sp_certs: &[&[u8]],
        now: UnixTime,
    ) -> Result<VerifiedTa, TaError> {
        self.0.verify_ta(provider, taid, image, sp_certs, now)
    }
}

struct RecAik(Box<dyn SpAikKeys>, Provider);
impl SpAikKeys for RecAik {
    fn generate(&self, rng: &dyn SecureRandom) -> Result<NewSpAik, HookError> {
        log(|| Call::SpAikGenerate(self.1.secure_random));
        self.0.generate(rng)
    }
    fn decrypter(&self, sealed: &[u8]) -> Result<Box<dyn CekDecrypter>, HookError> {
        log(|| Call::SpAikLoad(self.1, sealed.to_vec()));
        self.0.decrypter(sealed)
    }
}

/// Wraps the soft TEE's TA platform and SP AIK hooks for [`record`];
/// `base` is the unwrapped provider the replays run on.
pub fn wrap_tee_hooks(mut hooks: TeeHooks, base: Provider) -> TeeHooks {
    hooks.ta = Box::new(RecTa(hooks.ta));
    hooks.sp_aik = Box::new(RecAik(hooks.sp_aik, base));
    hooks
}
