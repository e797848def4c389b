//! The device side: a TEEP/HTTP client (draft section 5).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use tracing::Instrument;

use crate::tls::{TlsError, certificates_from_pem, client_config, read_pem};
use crate::{MEDIA_TYPE, is_otrp_media_type};

/// The error a [`DeviceHandler`] returns when the TEE gave no answer at all
/// (a local error, draft 5.5).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The TEEP implementation behind the agent (the TEE, or the OTrP Broker in
/// front of several): given a TAM message, its answer.
///
/// An empty answer means "no data passed back" and ends the exchange
/// (draft 5.3). Any closure `FnMut(&[u8]) -> Result<Vec<u8>, HandlerError>`
/// is a handler.
pub trait DeviceHandler {
    /// The answer to `message` (a TAM request, spec 9.1 to 9.3), or an
    /// empty buffer.
    fn process(&mut self, message: &[u8]) -> Result<Vec<u8>, HandlerError>;

    /// The exchange failed on the HTTP side ("ProcessError", draft 5.5).
    fn error(&mut self, error: &AgentError) {
        let _ = error;
    }
}

impl<F> DeviceHandler for F
where
    F: FnMut(&[u8]) -> Result<Vec<u8>, HandlerError>,
{
    fn process(&mut self, message: &[u8]) -> Result<Vec<u8>, HandlerError> {
        self(message)
    }
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The TAM URI is not an absolute http(s) URI.
    #[error("invalid TAM URI: {0}")]
    InvalidUri(String),
    /// Plain http to a host that is not a loopback address, without
    /// [`Agent::allow_insecure_http`].
    #[error("refusing plain http to {0}: use https or allow insecure http explicitly")]
    InsecureHttp(String),
    /// An https TAM URI, but no trust anchor was given.
    #[error("https needs trust anchors (root certificates) for the TAM's server certificate")]
    NoTrustAnchors,
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Connecting, TLS (including certificate validation) or HTTP failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// The TAM took longer than the request timeout.
    #[error("the TAM did not answer within {0:?}")]
    Timeout(Duration),
    /// The TAM answered with an HTTP error (draft 5.5).
    #[error("the TAM answered {status}: {message}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the response body, for diagnostics.
        message: String,
    },
    /// A 2xx response with a body of another media type than OTrP's.
    #[error("unexpected content type {0:?}")]
    ContentType(String),
    /// The TAM's message exceeds the configured maximum.
    #[error("TAM message larger than {0} bytes")]
    TooLarge(usize),
    /// The device handler failed (draft 5.5).
    #[error("device handler: {0}")]
    Handler(HandlerError),
    /// More round trips than the configured maximum.
    #[error("more than {0} round trips")]
    TooManyExchanges(usize),
    /// The runtime for [`Agent::run_blocking`] could not start.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// One round trip: a POST and its answer, and the handler's work on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Bytes of the TEE message posted (0 for the opening POST).
    pub sent: usize,
    /// Bytes of the TAM message received (0 for the final 204).
    pub received: usize,
    /// HTTP status of the answer.
    pub status: u16,
    /// From sending the POST to the whole answer read.
    pub round_trip: Duration,
    /// Time the handler took on the received message (zero when none).
    pub handling: Duration,
}

/// What an exchange did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentReport {
    /// The round trips, in order.
    pub exchanges: Vec<Exchange>,
    /// True when the TAM ended the exchange (empty 2xx); false when the
    /// handler passed no data back (draft 5.3).
    pub ended_by_tam: bool,
}

/// A TEEP/HTTP client for one TAM URI (draft section 5).
#[derive(Clone, Debug)]
pub struct Agent {
    uri: Uri,
    roots: Vec<CertificateDer<'static>>,
    tls: Option<Arc<rustls::ClientConfig>>,
    allow_insecure_http: bool,
    local_address: Option<IpAddr>,
    connect_timeout: Duration,
    request_timeout: Duration,
    max_message_bytes: usize,
    max_exchanges: usize,
    /// 503 + `Retry-After` answers retried per round trip.
    retries: u32,
    user_agent: String,
}

/// The longest `Retry-After` the agent waits for (longer: the 503 is
/// reported instead).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

impl Agent {
    /// An agent for the TAM URI `tam_uri` (`http://` or `https://`).
    ///
    /// Defaults: connect timeout 10 s, 60 s per round trip, TAM messages up
    /// to 64 MiB (InstallTA carries the TA), at most 1000 round trips; no
    /// trust anchors (https needs [`with_root_certificates_pem`] or
    /// another `with_*` call); plain http only towards a loopback host.
    ///
    /// [`with_root_certificates_pem`]: Agent::with_root_certificates_pem
    pub fn new(tam_uri: &str) -> Result<Agent, AgentError> {
        let uri: Uri = tam_uri
            .parse()
            .map_err(|e| AgentError::InvalidUri(format!("{tam_uri}: {e}")))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => {
                return Err(AgentError::InvalidUri(format!(
                    "{tam_uri}: the scheme must be http or https"
                )));
            }
        }
        if uri.host().is_none() {
            return Err(AgentError::InvalidUri(format!("{tam_uri}: no host")));
        }
        Ok(Agent {
            uri,
            roots: Vec::new(),
            tls: None,
            allow_insecure_http: false,
            local_address: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_message_bytes: 64 << 20,
            max_exchanges: 1000,
            retries: 0,
            user_agent: concat!("otrp-http/", env!("CARGO_PKG_VERSION")).into(),
        })
    }

    /// Allows plain http to a host that is not a loopback address (the
    /// draft leaves http vs https to policy, section 8; real deployments use
    /// https).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Trusts a root certificate (DER) for the TAM's TLS certificate.
    pub fn with_root_certificate_der(mut self, der: &[u8]) -> Self {
        self.roots.push(CertificateDer::from(der.to_vec()));
        self
    }

    /// Trusts every certificate of a PEM bundle for the TAM's TLS
    /// certificate.
    pub fn with_root_certificates_pem(mut self, pem: &str) -> Result<Self, AgentError> {
        self.roots.extend(certificates_from_pem(pem)?);
        Ok(self)
    }

    /// Trusts every certificate of a PEM file for the TAM's TLS
    /// certificate (as `otrp agent --tam-root` takes it).
    pub fn with_root_certificates_pem_file(self, path: &Path) -> Result<Self, AgentError> {
        let pem = read_pem(path)?;
        self.with_root_certificates_pem(&pem)
    }

    /// A complete rustls client configuration (client certificates, other
    /// verifiers); replaces the root certificates given.
    pub fn with_tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Connects from this local address (a multi-homed device; tests use
    /// several loopback addresses to look like several clients).
    pub fn with_local_address(mut self, address: IpAddr) -> Self {
        self.local_address = Some(address);
        self
    }

    /// Time allowed to open a TCP connection.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one round trip (POST sent, whole answer read).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The largest TAM message accepted.
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = max;
        self
    }

    /// The most round trips one exchange may take.
    pub fn with_max_exchanges(mut self, max: usize) -> Self {
        self.max_exchanges = max;
        self
    }

    /// Sends a message again, up to `retries` times, when the TAM answers
    /// 503 with `Retry-After` (of at most 30 s; waiting that long): a TAM
    /// whose database is briefly unavailable keeps the session where it
    /// was (docs/http.md). None by default.
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The TAM URI.
    pub fn uri(&self) -> String {
        self.uri.to_string()
    }

    fn check_transport(&self) -> Result<Arc<rustls::ClientConfig>, AgentError> {
        let host = self.uri.host().unwrap_or("");
        if self.uri.scheme_str() == Some("https") {
            if let Some(config) = &self.tls {
                return Ok(config.clone());
            }
            if self.roots.is_empty() {
                return Err(AgentError::NoTrustAnchors);
            }
            return Ok(client_config(&self.roots)?);
        }
        if !self.allow_insecure_http && !is_loopback(host) {
            return Err(AgentError::InsecureHttp(host.into()));
        }
        // Never used for an http URI (redirects are not followed).
        Ok(client_config(&[])?)
    }

    /// Runs one exchange (draft 5.1.1 to 5.3): an empty POST, then each TAM
    /// message to `handler` and its answer back, until the TAM answers with
    /// an empty 2xx or the handler passes no data back. Redirects are not
    /// followed.
    ///
    /// The handler runs on the calling task; a slow TEE blocks it.
    pub async fn run<H: DeviceHandler + ?Sized>(
        &self,
        handler: &mut H,
    ) -> Result<AgentReport, AgentError> {
        let span = tracing::info_span!("otrp_agent", uri = %self.uri);
        let result = self.exchange(handler).instrument(span).await;
        if let Err(e) = &result {
            if !matches!(e, AgentError::Handler(_)) {
                handler.error(e);
            }
        }
        result
    }

    /// [`run`](Agent::run) on a runtime of its own, for synchronous callers
    /// (not from inside a tokio runtime).
    pub fn run_blocking<H: DeviceHandler + ?Sized>(
        &self,
        handler: &mut H,
    ) -> Result<AgentReport, AgentError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(AgentError::Runtime)?;
        runtime.block_on(self.run(handler))
    }

    async fn exchange<H: DeviceHandler + ?Sized>(
        &self,
        handler: &mut H,
    ) -> Result<AgentReport, AgentError> {
        let tls = self.check_transport()?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        http.set_local_address(self.local_address);
        let connector: HttpsConnector<HttpConnector> = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build(connector);

        let mut report = AgentReport::default();
        let mut cookies: Vec<(String, String)> = Vec::new();
        let mut outgoing: Vec<u8> = Vec::new();
        loop {
            if report.exchanges.len() >= self.max_exchanges {
                return Err(AgentError::TooManyExchanges(self.max_exchanges));
            }
            let sent = outgoing.len();
            let started = Instant::now();
            let mut message = Some(std::mem::take(&mut outgoing));
            let mut retries = self.retries;
            let (status, content_type, body) = loop {
                // Kept for a retry while one is left.
                let body = if retries > 0 {
                    message.clone()
                } else {
                    message.take()
                };
                let request = self.request(body.unwrap_or_default(), &cookies)?;
                let (status, retry_after, content_type, body) = tokio::time::timeout(
                    self.request_timeout,
                    self.round_trip(&client, request, &mut cookies),
                )
                .await
                .map_err(|_| AgentError::Timeout(self.request_timeout))??;
                match retry_after {
                    Some(wait) if status == StatusCode::SERVICE_UNAVAILABLE && retries > 0 => {
                        retries -= 1;
                        tracing::debug!(wait_ms = wait.as_millis() as u64, "503: retrying");
                        tokio::time::sleep(wait).await;
                    }
                    _ => break (status, content_type, body),
                }
            };
            let mut exchange = Exchange {
                sent,
                received: body.len(),
                status: status.as_u16(),
                round_trip: started.elapsed(),
                handling: Duration::ZERO,
            };
            tracing::debug!(
                status = exchange.status,
                sent = exchange.sent,
                received = exchange.received,
                round_trip_ms = exchange.round_trip.as_millis() as u64,
                "round trip"
            );
            if !status.is_success() {
                report.exchanges.push(exchange);
                let message = String::from_utf8_lossy(&body[..body.len().min(200)])
                    .trim()
                    .to_string();
                return Err(AgentError::Status {
                    status: status.as_u16(),
                    message,
                });
            }
            if body.is_empty() {
                // The TAM is done (draft 5.3, 6.2).
                report.exchanges.push(exchange);
                report.ended_by_tam = true;
                return Ok(report);
            }
            if !content_type.as_deref().is_some_and(is_otrp_media_type) {
                report.exchanges.push(exchange);
                return Err(AgentError::ContentType(content_type.unwrap_or_default()));
            }
            let handling = Instant::now();
            let answer = handler.process(&body).map_err(AgentError::Handler);
            exchange.handling = handling.elapsed();
            report.exchanges.push(exchange);
            outgoing = answer?;
            if outgoing.is_empty() {
                // No data passed back: the task is complete (draft 5.3).
                return Ok(report);
            }
        }
    }

    fn request(
        &self,
        body: Vec<u8>,
        cookies: &[(String, String)],
    ) -> Result<Request<Full<Bytes>>, AgentError> {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(header::ACCEPT, MEDIA_TYPE)
            .header(header::USER_AGENT, self.user_agent.as_str());
        if !body.is_empty() {
            builder = builder.header(header::CONTENT_TYPE, MEDIA_TYPE);
        }
        if !cookies.is_empty() {
            let value = cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let value = HeaderValue::from_str(&value)
                .map_err(|_| AgentError::Http("the TAM set an unusable cookie".into()))?;
            builder = builder.header(header::COOKIE, value);
        }
        builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| AgentError::Http(e.to_string()))
    }

    async fn round_trip(
        &self,
        client: &Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
        request: Request<Full<Bytes>>,
        cookies: &mut Vec<(String, String)>,
    ) -> Result<(StatusCode, Option<Duration>, Option<String>, Bytes), AgentError> {
        let response = client
            .request(request)
            .await
            .map_err(|e| AgentError::Http(error_chain(&e)))?;
        let (parts, body) = response.into_parts();
        for value in parts.headers.get_all(header::SET_COOKIE) {
            if let Some((name, value)) = value
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .and_then(|pair| pair.split_once('='))
            {
                let (name, value) = (name.trim().to_string(), value.trim().to_string());
                cookies.retain(|(n, _)| *n != name);
                cookies.push((name, value));
            }
        }
        // Retry-After in seconds (RFC 9110 10.2.3; an HTTP date is not
        // followed).
        let retry_after = parts
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .filter(|d| *d <= MAX_RETRY_AFTER);
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = Limited::new(body, self.max_message_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    AgentError::TooLarge(self.max_message_bytes)
                } else {
                    AgentError::Http(format!("reading the answer: {e}"))
                }
            })?
            .to_bytes();
        Ok((parts.status, retry_after, content_type, body))
    }
}

/// An error with its sources, on one line (hyper's errors say little at the
/// top level: the TLS or I/O cause is underneath).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.9.9.9"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("LOCALHOST"));
        assert!(!is_loopback("10.0.0.1"));
        assert!(!is_loopback("tam.example"));
        assert!(!is_loopback("localhost.example"));
    }

    #[test]
    fn plain_http_needs_loopback_or_the_flag() {
        let agent = Agent::new("http://tam.example/tam").unwrap();
        assert!(matches!(
            agent.check_transport(),
            Err(AgentError::InsecureHttp(h)) if h == "tam.example"
        ));
        assert!(
            agent
                .clone()
                .allow_insecure_http(true)
                .check_transport()
                .is_ok()
        );
        assert!(
            Agent::new("http://127.0.0.1:9/tam")
                .unwrap()
                .check_transport()
                .is_ok()
        );
    }

    #[test]
    fn https_needs_trust_anchors() {
        let agent = Agent::new("https://tam.example/tam").unwrap();
        assert!(matches!(
            agent.check_transport(),
            Err(AgentError::NoTrustAnchors)
        ));
    }

    #[test]
    fn only_http_uris() {
        for bad in ["ftp://x/tam", "/tam", "tam.example", "http:///x"] {
            assert!(
                matches!(Agent::new(bad), Err(AgentError::InvalidUri(_))),
                "{bad}"
            );
        }
    }
}
