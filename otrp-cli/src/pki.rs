//! `otrp pki init|issue|ocsp`: a test PKI as PEM files (otrp-test-pki).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Subcommand, ValueEnum};
use otrp_core::crypto::SecureRandom;
use otrp_core::pki::UnixTime;
use otrp_test_pki::{
    Cert, CertSpec, DEFAULT_NOT_AFTER, DEFAULT_NOT_BEFORE, DEFAULT_VALIDITY_SECS, Key,
    OcspResponseBuilder, OcspStatus, Profile, TamIdSan, TestPki,
};

use crate::KeyTypeArg;
use crate::util::{Error, Result, now, outln, read_certificates, read_text, write_stdout};

#[derive(Subcommand, Debug)]
pub enum PkiCmd {
    /// Writes a fresh test PKI into DIR (fixed file names, see README.txt there).
    Init {
        /// The directory (created if missing; existing PKI files are refused).
        dir: PathBuf,
        /// Key type of every certificate.
        #[arg(long, value_enum, default_value = "ec")]
        key_type: KeyTypeArg,
    },
    /// Issues one more certificate and key under a role's root.
    Issue {
        /// The PKI directory.
        dir: PathBuf,
        /// The role: tam, tee or sp.
        #[arg(long, value_enum)]
        role: Role,
        /// File name stem and commonName (letters, digits, '.', '-', '_').
        #[arg(long)]
        name: String,
        /// The tamid of a TAM certificate (a URI, or a dotted OID for a
        /// registeredID); default <https://tam.example.com/NAME>.
        #[arg(long)]
        tamid: Option<String>,
    },
    /// Prints a DER OCSP response for a certificate, base64.
    Ocsp {
        /// The PKI directory (holds the issuing CA and its key).
        dir: PathBuf,
        /// The certificate (PEM; the first certificate of the file).
        #[arg(long)]
        cert: PathBuf,
        /// The status to certify.
        #[arg(long, value_enum, default_value = "good")]
        status: Status,
        /// Seconds from now to nextUpdate; negative for a response that
        /// expired that long ago (for tests; thisUpdate is then one day
        /// before nextUpdate).
        #[arg(long, default_value_t = DEFAULT_VALIDITY_SECS as i64, allow_negative_numbers = true)]
        valid_for: i64,
    },
}

/// A role of `pki issue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// A TAM signer (under tam-root).
    Tam,
    /// A TEE device (under tee-root).
    Tee,
    /// An SP TA signer (under sp-root).
    Sp,
}

/// An OCSP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// good.
    Good,
    /// revoked (now).
    Revoked,
}

/// The CA files of a PKI directory: (name, role it issues).
const CAS: [&str; 5] = ["tam-root", "tee-ca", "tee-root", "sp-root", "tfw-root"];

pub fn run(cmd: PkiCmd) -> Result<()> {
    match cmd {
        PkiCmd::Init { dir, key_type } => {
            init(&dir, key_type)?;
            outln!("test PKI written to {} (see README.txt)", dir.display());
            Ok(())
        }
        PkiCmd::Issue {
            dir,
            role,
            name,
            tamid,
        } => {
            let written = issue(&dir, role, &name, tamid.as_deref())?;
            for p in written {
                outln!("{}", p.display());
            }
            Ok(())
        }
        PkiCmd::Ocsp {
            dir,
            cert,
            status,
            valid_for,
        } => {
            let der = ocsp(&dir, &cert, status, valid_for)?;
            let mut line = otrp_core::jose::b64::encode_std(&der);
            line.push('\n');
            write_stdout(line.as_bytes())
        }
    }
}

/// Generates a test PKI and writes its files into `dir`.
pub fn init(dir: &Path, key_type: KeyTypeArg) -> Result<TestPki> {
    if dir.join("tam.key.pem").exists() {
        return Err(Error::msg(format!(
            "{} already holds a PKI (tam.key.pem exists)",
            dir.display()
        )));
    }
    let pki = TestPki::builder(key_type.key_type()).build(&otrp_crypto_rustcrypto::OS_RANDOM)?;
    pki.write_files(dir)
        .map_err(|e| Error::from(e).context(dir.display()))?;
    Ok(pki)
}

fn load_ca(dir: &Path, name: &str) -> Result<Cert> {
    let cert = read_text(&dir.join(format!("{name}.cert.pem")))?;
    let key = Key::from_pkcs8_pem(&read_text(&dir.join(format!("{name}.key.pem")))?)
        .map_err(|e| Error::from(e).context(format!("{name}.key.pem")))?;
    Ok(Cert::from_pem(&cert, Some(key))?)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

/// `pki issue`: NAME.key.pem, NAME.cert.pem, NAME.chain.pem (leaf, root).
pub fn issue(dir: &Path, role: Role, name: &str, tamid: Option<&str>) -> Result<Vec<PathBuf>> {
    if !valid_name(name) {
        return Err(Error::msg(format!(
            "invalid --name {name:?}: use letters, digits, '.', '-' and '_'"
        )));
    }
    if tamid.is_some() && role != Role::Tam {
        return Err(Error::usage("--tamid applies to --role tam only"));
    }
    let key_path = dir.join(format!("{name}.key.pem"));
    if key_path.exists() || dir.join(format!("{name}.cert.pem")).exists() {
        return Err(Error::msg(format!(
            "{name}.key.pem or {name}.cert.pem already exists in {}",
            dir.display()
        )));
    }
    let (root, profile) = match role {
        Role::Tam => {
            let id = tamid
                .map(str::to_string)
                .unwrap_or_else(|| format!("https://tam.example.com/{name}"));
            ("tam-root", Profile::Tam(tamid_san(id)?))
        }
        Role::Tee => ("tee-root", Profile::Tee),
        Role::Sp => ("sp-root", Profile::Sp),
    };
    let ca = load_ca(dir, root)?;
    let key_type = ca.key().ok_or(otrp_test_pki::Error::MissingKey)?.key_type();
    let rng = &otrp_crypto_rustcrypto::OS_RANDOM;
    let key = Key::generate(key_type, rng)?;
    let mut serial = [0u8; 8];
    rng.fill(&mut serial)?;
    let serial = u64::from_be_bytes(serial) >> 2 | 1 << 32;
    let spec = CertSpec::new(
        name,
        serial,
        at(DEFAULT_NOT_BEFORE),
        at(DEFAULT_NOT_AFTER),
        profile,
    );
    let cert = ca.issue(&spec, key)?;
    let key_pem = cert
        .key()
        .ok_or(otrp_test_pki::Error::MissingKey)?
        .pkcs8_pem()?;
    let cert_path = dir.join(format!("{name}.cert.pem"));
    let chain_path = dir.join(format!("{name}.chain.pem"));
    crate::util::write_private(&key_path, key_pem.as_bytes())?;
    std::fs::write(&cert_path, cert.pem())?;
    std::fs::write(&chain_path, format!("{}{}", cert.pem(), ca.pem()))?;
    Ok(vec![key_path, cert_path, chain_path])
}

/// The subjectAltName for a tamid (5.4): a dotted OID (at least two arcs,
/// the first 0, 1 or 2) becomes a registeredID, an absolute URI (RFC 3986:
/// `scheme:rest`, printable ASCII without spaces) a URI; anything else is
/// refused.
fn tamid_san(id: String) -> Result<TamIdSan> {
    let arcs: Vec<&str> = id.split('.').collect();
    let digits = |a: &&str| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit());
    if arcs.iter().all(digits) {
        let first_ok = matches!(arcs.first(), Some(&"0" | &"1" | &"2"));
        if arcs.len() >= 2 && first_ok {
            return Ok(TamIdSan::RegisteredId(id));
        }
        return Err(Error::usage(format!(
            "invalid --tamid {id:?}: an OID needs at least two arcs and starts with 0, 1 or 2"
        )));
    }
    let uri_ok = id.split_once(':').is_some_and(|(scheme, rest)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
    }) && id.bytes().all(|b| b.is_ascii_graphic());
    if uri_ok {
        Ok(TamIdSan::Uri(id))
    } else {
        Err(Error::usage(format!(
            "invalid --tamid {id:?}: give an absolute URI (https://tam.example.com/tam1) \
             or a dotted OID (1.3.6.1.4.1.99999.1)"
        )))
    }
}

/// `pki ocsp`: the issuer is the CA of `dir` whose subject is the
/// certificate's issuer; it signs the response itself.
pub fn ocsp(dir: &Path, cert: &Path, status: Status, valid_for: i64) -> Result<Vec<u8>> {
    let der = read_certificates(cert)?.remove(0);
    let subject = Cert::from_der(der.clone(), None)?;
    let subject_x509 = subject.x509()?;
    let issuer_name = subject_x509.tbs_certificate.issuer.clone();
    let mut issuer = None;
    for name in CAS {
        if !dir.join(format!("{name}.cert.pem")).exists() {
            continue;
        }
        let ca = load_ca(dir, name)?;
        let ca_x509 = ca.x509()?;
        if ca_x509.tbs_certificate.subject == issuer_name && same_key_id(&subject_x509, &ca_x509) {
            issuer = Some(ca);
            break;
        }
    }
    let issuer = issuer.ok_or_else(|| {
        Error::msg(format!(
            "no CA of {} issued {}",
            dir.display(),
            cert.display()
        ))
    })?;
    let now = now().as_secs();
    let next = now
        .checked_add_signed(valid_for)
        .ok_or_else(|| Error::usage(format!("--valid-for {valid_for} is out of range")))?;
    // An already expired response was issued a day before it expired.
    let this_update = at(if valid_for < 0 {
        next.saturating_sub(DEFAULT_VALIDITY_SECS)
    } else {
        now
    });
    let status = match status {
        Status::Good => OcspStatus::Good,
        Status::Revoked => OcspStatus::Revoked {
            time: this_update,
            reason: None,
        },
    };
    Ok(OcspResponseBuilder::new(&der, &issuer, this_update)
        .status(status)
        .next_update(Some(at(next)))
        .build()?)
}

/// Whether `ca` may have issued `cert` by key identifier: the certificate's
/// authorityKeyIdentifier equals the CA's subjectKeyIdentifier (RFC 5280
/// 4.2.1.1). Names alone are not enough: two test PKIs share their subject
/// names. Without both extensions the name match decides.
fn same_key_id(cert: &x509_cert::Certificate, ca: &x509_cert::Certificate) -> bool {
    use der::Decode as _;
    use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};
    const AKI: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.35");
    const SKI: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.14");
    let ext = |c: &x509_cert::Certificate, oid| {
        c.tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes().to_vec())
    };
    let aki = ext(cert, AKI)
        .and_then(|v| AuthorityKeyIdentifier::from_der(&v).ok())
        .and_then(|a| a.key_identifier);
    let ski = ext(ca, SKI).and_then(|v| SubjectKeyIdentifier::from_der(&v).ok());
    match (aki, ski) {
        (Some(a), Some(s)) => a.as_bytes() == s.0.as_bytes(),
        _ => true,
    }
}
