//! The whole test hierarchy of `test-pki/generate.sh`, for one key type, and
//! the file set of `otrp pki init DIR`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use otrp_core::crypto::SecureRandom;
use otrp_core::pki::UnixTime;

use crate::{Cert, CertSpec, Error, Key, KeyType, Profile, TamIdSan};

/// 2026-01-01T00:00:00Z, notBefore of the fixtures' good certificates.
pub const DEFAULT_NOT_BEFORE: u64 = 1_767_225_600;
/// 2046-01-01T00:00:00Z, their notAfter.
pub const DEFAULT_NOT_AFTER: u64 = 2_398_377_600;
/// The TAM's tamid in the fixtures (`tam`).
pub const DEFAULT_TAMID_URI: &str = "https://tam.example.com/tam1";

/// One certificate of the hierarchy; the names are those of the fixtures in
/// `test-pki/` (so their `*.key` PKCS#8 PEM keys can be passed in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slot {
    /// TAM root CA (a TEE's TAM trust anchor, spec 4.2).
    TamRoot,
    /// TAM signer with the tamid (4.4 item 3, 5.4).
    Tam,
    /// TEE root CA (a TAM's TEE trust anchor, 4.3).
    TeeRoot,
    /// TEE intermediate CA (sent as `cacert`).
    TeeCa,
    /// TEE device certificate (4.4 item 2).
    Tee,
    /// SP root CA.
    SpRoot,
    /// SP (TA signer) certificate (4.4 item 4).
    Sp,
    /// TFW root CA (a TAM's firmware trust anchor, 4.3).
    TfwRoot,
    /// TFW certificate (4.4 item 1).
    Tfw,
    /// Delegated OCSP responder of the TAM root (RFC 6960 4.2.2.2).
    OcspResponder,
}

impl Slot {
    /// Every slot, issuers before what they issue.
    pub const ALL: [Slot; 10] = [
        Slot::TamRoot,
        Slot::Tam,
        Slot::OcspResponder,
        Slot::TeeRoot,
        Slot::TeeCa,
        Slot::Tee,
        Slot::SpRoot,
        Slot::Sp,
        Slot::TfwRoot,
        Slot::Tfw,
    ];

    /// The fixture name in `test-pki/{rsa,ec}/` (`tam-root`, `tee-ca`,
    /// `ocsp-responder`, ...).
    pub fn fixture_name(self) -> &'static str {
        match self {
            Slot::TamRoot => "tam-root",
            Slot::Tam => "tam",
            Slot::TeeRoot => "tee-root",
            Slot::TeeCa => "tee-ca",
            Slot::Tee => "tee",
            Slot::SpRoot => "sp-root",
            Slot::Sp => "sp",
            Slot::TfwRoot => "tfw-root",
            Slot::Tfw => "tfw",
            Slot::OcspResponder => "ocsp-responder",
        }
    }

    /// Subject commonName and serial number, as in `generate.sh`.
    fn shape(self) -> (&'static str, u64) {
        match self {
            Slot::TamRoot => ("TAM Root CA", 0x1000),
            Slot::Tam => ("TAM 1", 0x1001),
            Slot::OcspResponder => ("TAM Root OCSP Responder", 0x100d),
            Slot::TeeRoot => ("TEE Root CA", 0x2000),
            Slot::TeeCa => ("TEE Intermediate CA", 0x2001),
            Slot::Tee => ("TEE Device 0001", 0x2100),
            Slot::SpRoot => ("SP Root CA", 0x3000),
            Slot::Sp => ("SP 1 TA Signer", 0x3001),
            Slot::TfwRoot => ("TFW Root CA", 0x4000),
            Slot::Tfw => ("TFW Device 0001", 0x4001),
        }
    }
}

/// Builds a [`TestPki`]: key type, validity, tamid, and any keys to reuse.
#[derive(Debug)]
#[must_use = "a TestPkiBuilder builds nothing until `build` is called"]
pub struct TestPkiBuilder {
    key_type: KeyType,
    not_before: UnixTime,
    not_after: UnixTime,
    tamid: TamIdSan,
    keys: BTreeMap<Slot, Key>,
}

impl TestPkiBuilder {
    /// Defaults: validity 2026-01-01 .. 2046-01-01, tamid
    /// `URI:https://tam.example.com/tam1`, fresh keys of `key_type`.
    pub fn new(key_type: KeyType) -> Self {
        TestPkiBuilder {
            key_type,
            not_before: at(DEFAULT_NOT_BEFORE),
            not_after: at(DEFAULT_NOT_AFTER),
            tamid: TamIdSan::Uri(DEFAULT_TAMID_URI.into()),
            keys: BTreeMap::new(),
        }
    }

    /// The validity of every certificate.
    pub fn validity(mut self, not_before: UnixTime, not_after: UnixTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// The TAM certificate's tamid.
    pub fn tamid(mut self, tamid: TamIdSan) -> Self {
        self.tamid = tamid;
        self
    }

    /// Uses `key` for `slot` instead of generating one (no RSA generation
    /// when every slot has a key).
    pub fn key(mut self, slot: Slot, key: Key) -> Self {
        self.keys.insert(slot, key);
        self
    }

    /// Generates the missing keys from `rng` and issues every certificate.
    pub fn build(mut self, rng: &dyn SecureRandom) -> Result<TestPki, Error> {
        let mut certs: BTreeMap<Slot, Cert> = BTreeMap::new();
        for slot in Slot::ALL {
            let key = match self.keys.remove(&slot) {
                Some(k) => k,
                None => Key::generate(self.key_type, rng)?,
            };
            let (cn, serial) = slot.shape();
            let profile = match slot {
                Slot::TamRoot | Slot::TeeRoot | Slot::SpRoot | Slot::TfwRoot => Profile::Root,
                Slot::TeeCa => Profile::Intermediate,
                Slot::Tam => Profile::Tam(self.tamid.clone()),
                Slot::Tee => Profile::Tee,
                Slot::Sp => Profile::Sp,
                Slot::Tfw => Profile::Tfw,
                Slot::OcspResponder => Profile::OcspResponder,
            };
            let spec = CertSpec::new(cn, serial, self.not_before, self.not_after, profile);
            let issuer = match slot {
                Slot::Tam | Slot::OcspResponder => Some(Slot::TamRoot),
                Slot::TeeCa => Some(Slot::TeeRoot),
                Slot::Tee => Some(Slot::TeeCa),
                Slot::Sp => Some(Slot::SpRoot),
                Slot::Tfw => Some(Slot::TfwRoot),
                _ => None,
            };
            let cert = match issuer {
                None => Cert::self_signed(&spec, key)?,
                Some(i) => certs.get(&i).ok_or(Error::MissingKey)?.issue(&spec, key)?,
            };
            certs.insert(slot, cert);
        }
        let mut take = |slot| certs.remove(&slot).ok_or(Error::MissingKey);
        Ok(TestPki {
            tamid: self.tamid,
            tam_root: take(Slot::TamRoot)?,
            tam: take(Slot::Tam)?,
            ocsp_responder: take(Slot::OcspResponder)?,
            tee_root: take(Slot::TeeRoot)?,
            tee_ca: take(Slot::TeeCa)?,
            tee: take(Slot::Tee)?,
            sp_root: take(Slot::SpRoot)?,
            sp: take(Slot::Sp)?,
            tfw_root: take(Slot::TfwRoot)?,
            tfw: take(Slot::Tfw)?,
        })
    }
}

/// A complete test PKI for one key type: every certificate with its key.
#[derive(Debug)]
pub struct TestPki {
    /// The tamid in `tam`.
    pub tamid: TamIdSan,
    /// TAM root CA.
    pub tam_root: Cert,
    /// TAM signer.
    pub tam: Cert,
    /// Delegated OCSP responder of the TAM root.
    pub ocsp_responder: Cert,
    /// TEE root CA.
    pub tee_root: Cert,
    /// TEE intermediate CA.
    pub tee_ca: Cert,
    /// TEE device certificate.
    pub tee: Cert,
    /// SP root CA.
    pub sp_root: Cert,
    /// SP certificate.
    pub sp: Cert,
    /// TFW root CA.
    pub tfw_root: Cert,
    /// TFW certificate.
    pub tfw: Cert,
}

impl TestPki {
    /// [`TestPkiBuilder::new`].
    pub fn builder(key_type: KeyType) -> TestPkiBuilder {
        TestPkiBuilder::new(key_type)
    }

    /// The certificate in `slot`.
    pub fn cert(&self, slot: Slot) -> &Cert {
        match slot {
            Slot::TamRoot => &self.tam_root,
            Slot::Tam => &self.tam,
            Slot::OcspResponder => &self.ocsp_responder,
            Slot::TeeRoot => &self.tee_root,
            Slot::TeeCa => &self.tee_ca,
            Slot::Tee => &self.tee,
            Slot::SpRoot => &self.sp_root,
            Slot::Sp => &self.sp,
            Slot::TfwRoot => &self.tfw_root,
            Slot::Tfw => &self.tfw,
        }
    }

    /// The TAM's `x5c` (9.1.1): TAM certificate, then the root.
    pub fn tam_x5c(&self) -> Vec<&[u8]> {
        vec![self.tam.der(), self.tam_root.der()]
    }

    /// The TEE's `cacert` (9.2.1.1): the intermediate CA.
    pub fn tee_cacert(&self) -> Vec<&[u8]> {
        vec![self.tee_ca.der()]
    }

    /// Writes the file set of `otrp pki init DIR` into `dir` (created if
    /// missing) and returns the paths written. Private keys are PKCS#8 PEM,
    /// mode 0600 on Unix; chains are leaf first, up to and including the
    /// root.
    pub fn write_files(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        let mut put = |name: &str, text: &str, secret: bool| -> Result<(), Error> {
            let path = dir.join(name);
            write_file(&path, text.as_bytes(), secret)?;
            written.push(path);
            Ok(())
        };
        let chain = |certs: &[&Cert]| certs.iter().map(|c| c.pem()).collect::<String>();
        for (name, cert) in [
            ("tam", &self.tam),
            ("tam-root", &self.tam_root),
            ("tee", &self.tee),
            ("tee-ca", &self.tee_ca),
            ("tee-root", &self.tee_root),
            ("sp", &self.sp),
            ("sp-root", &self.sp_root),
            ("tfw", &self.tfw),
            ("tfw-root", &self.tfw_root),
            ("ocsp", &self.ocsp_responder),
        ] {
            let key = cert.key().ok_or(Error::MissingKey)?;
            put(&format!("{name}.key.pem"), &key.pkcs8_pem()?, true)?;
            put(&format!("{name}.cert.pem"), &cert.pem(), false)?;
        }
        put("tam.chain.pem", &chain(&[&self.tam, &self.tam_root]), false)?;
        put(
            "tee.chain.pem",
            &chain(&[&self.tee, &self.tee_ca, &self.tee_root]),
            false,
        )?;
        put("tfw.chain.pem", &chain(&[&self.tfw, &self.tfw_root]), false)?;
        put("README.txt", &self.readme(), false)?;
        Ok(written)
    }

    fn readme(&self) -> String {
        let kind = match self.tam.key().map(Key::key_type) {
            Some(KeyType::Rsa2048) => "RSA-2048 (sha256WithRSAEncryption)",
            Some(KeyType::P256) | None => "P-256 (ecdsa-with-SHA256)",
        };
        let tamid = match &self.tamid {
            TamIdSan::Uri(u) => format!("{u} (subjectAltName URI)"),
            TamIdSan::RegisteredId(r) => format!("{r} (subjectAltName registeredID)"),
        };
        format!(
            "OTrP test PKI (generated by otrp-test-pki; for tests and demos only)\n\
             \n\
             Keys: {kind}. Private keys are unencrypted PKCS#8 PEM.\n\
             tamid of the TAM certificate: {tamid}\n\
             \n\
             tam.key.pem, tam.cert.pem   TAM signer (spec 4.4 item 3, 5.4)\n\
             tam.chain.pem               TAM certificate then TAM root (the x5c a TAM sends)\n\
             tam-root.cert.pem/.key.pem  TAM root CA: a TEE's TAM trust anchor (4.2)\n\
             ocsp.key.pem, ocsp.cert.pem delegated OCSP responder of the TAM root (id-kp-OCSPSigning)\n\
             tee.key.pem, tee.cert.pem   TEE device certificate (4.4 item 2)\n\
             tee.chain.pem               TEE certificate, TEE intermediate CA, TEE root\n\
             tee-ca.cert.pem/.key.pem    TEE intermediate CA (the cacert a TEE sends)\n\
             tee-root.cert.pem/.key.pem  TEE root CA: a TAM's TEE trust anchor (4.3)\n\
             sp.key.pem, sp.cert.pem     SP (TA signer) certificate (4.4 item 4)\n\
             sp-root.cert.pem/.key.pem   SP root CA\n\
             tfw.key.pem, tfw.cert.pem   TFW certificate (4.4 item 1)\n\
             tfw.chain.pem               TFW certificate then TFW root\n\
             tfw-root.cert.pem/.key.pem  TFW root CA: a TAM's firmware trust anchor (4.3)\n"
        )
    }
}

/// Writes `data` to `path`. A secret goes through a new file created mode
/// 0600 beside it (never wider, not even for a moment, whatever the mode of
/// a file already at `path`), synced and then renamed over `path`.
fn write_file(path: &Path, data: &[u8], secret: bool) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    let target = if secret {
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".tmp-{}", std::process::id()));
        std::path::PathBuf::from(name)
    } else {
        options.write(true).create(true).truncate(true);
        path.to_path_buf()
    };
    let written = (|| -> Result<(), Error> {
        let mut file = options.open(&target)?;
        file.write_all(data)?;
        file.sync_all()?;
        if secret {
            std::fs::rename(&target, path)?;
        }
        Ok(())
    })();
    if written.is_err() && secret {
        let _ = std::fs::remove_file(&target);
    }
    written
}

fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}
