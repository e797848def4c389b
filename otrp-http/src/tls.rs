//! rustls configuration (ring provider) for the server and the agent.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM or DER input could not be read.
    #[error("TLS: {0}")]
    Input(String),
    /// rustls refused the certificate, key or trust anchor.
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

pub(crate) fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS identity of a [`TamServer`](crate::TamServer): its certificate
/// chain and private key, as a rustls server configuration (ring provider,
/// TLS 1.2 and 1.3, ALPN `http/1.1`).
#[derive(Clone, Debug)]
pub struct ServerTls {
    pub(crate) config: Arc<rustls::ServerConfig>,
}

impl ServerTls {
    /// A certificate chain (DER, server certificate first) and its PKCS#8
    /// private key (DER).
    pub fn from_der(chain: Vec<Vec<u8>>, key_pkcs8: Vec<u8>) -> Result<Self, TlsError> {
        if chain.is_empty() {
            return Err(TlsError::Input(
                "the server chain has no certificate".into(),
            ));
        }
        let chain = chain.into_iter().map(CertificateDer::from).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8));
        Self::from_parts(chain, key)
    }

    /// A PEM certificate chain (server certificate first) and a PEM private
    /// key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Input(format!("certificate chain: {e}")))?;
        if chain.is_empty() {
            return Err(TlsError::Input(
                "the server chain has no certificate".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| TlsError::Input(format!("private key: {e}")))?;
        Self::from_parts(chain, key)
    }

    /// The PEM files of a certificate chain (server certificate first)
    /// and of its private key (PKCS#8, PKCS#1 or SEC1), as `otrp tam
    /// serve --tls-cert --tls-key` take them. The key's text is wiped from
    /// memory once parsed.
    pub fn from_pem_files(chain: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain_pem = read_pem(chain)?;
        let key_pem = zeroize::Zeroizing::new(read_pem(key)?);
        Self::from_pem(&chain_pem, &key_pem)
    }

    /// A rustls configuration built by the caller (client authentication,
    /// session resumption, other protocol versions...). Its ALPN list should
    /// offer `http/1.1` or be empty.
    pub fn from_config(config: Arc<rustls::ServerConfig>) -> Self {
        ServerTls { config }
    }

    /// The rustls configuration, to serve other listeners of the same
    /// program (the TAM's admin API) with the same identity.
    pub fn rustls_config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }

    fn from_parts(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
        })
    }
}

/// The text of a PEM file; errors name the file.
pub(crate) fn read_pem(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|e| TlsError::Input(format!("{}: {e}", path.display())))
}

/// Reads every certificate of a PEM bundle.
pub(crate) fn certificates_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Input(format!("certificates: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Input("no certificate in the PEM input".into()));
    }
    Ok(certs)
}

/// A client configuration that validates servers against `roots` only
/// (RFC 2818 name checks by rustls-webpki).
pub(crate) fn client_config(
    roots: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone())?;
    }
    let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
