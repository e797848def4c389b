//! The admin HTTP API (issue 15, item 6): the operations of `otrp tam` for
//! remote operators, as JSON over HTTP on its own listener (`otrp tam
//! serve --admin ADDR`), every request authenticated with a bearer token.
//!
//! | Method and path | Operation |
//! |---|---|
//! | `GET /v1/tas` | the catalog |
//! | `POST /v1/tas?spid=SP` (body: the image) | `ta add` |
//! | `GET /v1/policy` | `policy show` |
//! | `PUT /v1/policy` (`{"spid","sd","ta","devices"}`) | `policy set` |
//! | `DELETE /v1/policy/{taid}` | `policy remove` |
//! | `GET /v1/devices` | `devices` |
//! | `GET /v1/audit` | `audit` |
//! | `GET /v1/audit/verify` | `audit --verify` |
//! | `GET /metrics` | the service's metrics, Prometheus text format ([`crate::metrics`]) |
//! | `GET /status` | the fleet status page, HTML ([`crate::status`]) |
//!
//! The token goes as `Authorization: Bearer TOKEN`, or as the password of
//! HTTP Basic authentication (any user name), so that a browser can open
//! the status page. With a TLS identity ([`serve_tls`]) the listener speaks
//! only TLS.
//!
//! Errors are `{"error": "..."}` with 400 (refused input, nothing
//! changed), 401 (no or wrong token), 409 (conflict, or a tampered audit
//! log) or 503 (database unreachable).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use otrp_core::crypto::Provider;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::clock::Clock;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::policy::{DeviceSel, PolicyEntry, parse_ta_spec};
use crate::store::Store;

/// The audit actor of admin API requests.
pub const ADMIN: &str = "admin";

/// What the admin API works with.
#[derive(Clone)]
pub struct AdminState {
    store: Store,
    provider: Provider,
    token: Arc<Vec<u8>>,
    clock: Clock,
    metrics: Option<Arc<Metrics>>,
}

impl AdminState {
    /// The API over `store`, accepting `token` (at least 16 characters).
    pub fn new(store: Store, provider: Provider, token: &str, clock: Clock) -> crate::Result<Self> {
        let token = token.trim();
        if token.len() < 16 {
            return Err(Error::input(
                "the admin token must be at least 16 characters",
            ));
        }
        Ok(AdminState {
            store,
            provider,
            token: Arc::new(token.as_bytes().to_vec()),
            clock,
            metrics: None,
        })
    }

    /// Serves `metrics` at `GET /metrics` (without it, the endpoint shows
    /// no service counters: a 404).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

/// The API's routes.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/v1/tas", get(list_tas).post(add_ta))
        .route("/v1/policy", get(show_policy).put(set_policy))
        .route("/v1/policy/{taid}", delete(remove_policy))
        .route("/v1/devices", get(devices))
        .route("/v1/audit", get(audit))
        .route("/v1/audit/verify", get(verify_audit))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .layer(DefaultBodyLimit::max(crate::catalog::MAX_IMAGE + 4096))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AdminState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the API over TLS (`config`: the server's rustls configuration,
/// e.g. [`otrp_http::ServerTls::rustls_config`]) on `listener` until
/// `shutdown` completes. Each connection's handshake runs in its own task
/// and is bounded by [`TLS_HANDSHAKE_TIMEOUT`].
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AdminState,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let app = router(state);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A failed accept (out of descriptors, a reset) is the
                // connection's problem, not the listener's.
                Err(_) => continue,
            },
            () = &mut shutdown => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(Ok(tls)) =
                tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            let service = hyper::service::service_fn(move |request| {
                tower::ServiceExt::oneshot(app.clone(), request)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(TLS_HANDSHAKE_TIMEOUT)
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The longest a TLS handshake (and a request head) may take on the admin
/// listener.
pub const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Binds `addr` for [`serve`]; returns the listener and its address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

async fn authenticate(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(presented_token)
        .unwrap_or_default();
    let ok = given.len() == state.token.len()
        && bool::from(given.as_bytes().ct_eq(state.token.as_slice()));
    if !ok {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "a valid bearer token is required" })),
        )
            .into_response();
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r.headers_mut().append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"otrp-tam admin\", charset=\"UTF-8\""),
        );
        return r;
    }
    next.run(request).await
}

/// The token of an `Authorization` value: `Bearer TOKEN`, or `Basic` with
/// the token as the password (any user name).
fn presented_token(value: &str) -> Option<String> {
    if let Some(t) = value.strip_prefix("Bearer ") {
        return Some(t.trim().to_string());
    }
    use base64::Engine as _;
    let encoded = value.strip_prefix("Basic ")?.trim();
    // A token is short: refuse to decode anything long before it is checked.
    if encoded.len() > 1024 {
        return None;
    }
    let decoded = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?,
    );
    let text = std::str::from_utf8(&decoded).ok()?;
    let (_user, password) = text.split_once(':')?;
    Some(password.trim().to_string())
}

/// An [`Error`] as an HTTP answer.
struct ApiError(Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            Error::Input(_) => StatusCode::BAD_REQUEST,
            Error::Conflict(_) | Error::Tampered(_) => StatusCode::CONFLICT,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, Json(json!({ "error": self.0.to_string() }))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

async fn list_tas(State(s): State<AdminState>) -> ApiResult {
    Ok(Json(s.store.catalog().await?).into_response())
}

#[derive(Deserialize)]
struct AddQuery {
    spid: String,
}

async fn add_ta(State(s): State<AdminState>, Query(q): Query<AddQuery>, body: Bytes) -> ApiResult {
    let now = s.clock.now_ms();
    let added = crate::catalog::add(&s.store, &s.provider, &q.spid, &body, ADMIN, now).await?;
    let body = json!({
        "taid": added.taid, "version": added.version, "spid": added.spid,
        "sha256": added.sha256,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn show_policy(State(s): State<AdminState>) -> ApiResult {
    Ok(Json(s.store.policy().await?).into_response())
}

/// The body of `PUT /v1/policy`: the arguments of `otrp tam policy set`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicySet {
    spid: String,
    sd: String,
    ta: String,
    #[serde(default)]
    devices: Option<String>,
}

async fn set_policy(State(s): State<AdminState>, body: Bytes) -> ApiResult {
    let set: PolicySet = serde_json::from_slice(&body)
        .map_err(|e| Error::input(format!("malformed policy: {e}")))?;
    let entry = policy_entry(&set.spid, &set.sd, &set.ta, set.devices.as_deref())?;
    s.store.set_policy(&entry, ADMIN, s.clock.now_ms()).await?;
    Ok(Json(entry).into_response())
}

/// A policy entry from the operator's words (`--spid`, `--sd`, `--ta
/// TAID[@VERSION]`, `--devices all|DID,...`).
pub fn policy_entry(
    spid: &str,
    sd: &str,
    ta: &str,
    devices: Option<&str>,
) -> crate::Result<PolicyEntry> {
    let (taid, version) = parse_ta_spec(ta)?;
    let devices = DeviceSel::parse(devices.unwrap_or("all"))?;
    let entry = PolicyEntry {
        taid,
        spid: spid.to_string(),
        sdname: sd.to_string(),
        version,
        devices,
    };
    entry.validate()?;
    Ok(entry)
}

async fn remove_policy(State(s): State<AdminState>, Path(taid): Path<String>) -> ApiResult {
    s.store
        .remove_policy(&taid, ADMIN, s.clock.now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn devices(State(s): State<AdminState>) -> ApiResult {
    Ok(Json(crate::report::devices(&s.store).await?).into_response())
}

async fn audit(State(s): State<AdminState>) -> ApiResult {
    let (entries, head) = s.store.audit_log().await?;
    let head = head.map(|(seq, hash)| json!({ "seq": seq, "hash": hash }));
    Ok(Json(json!({ "entries": entries, "head": head })).into_response())
}

/// `GET /metrics`: the Prometheus text exposition.
async fn metrics(State(s): State<AdminState>) -> Response {
    let Some(m) = &s.metrics else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no metrics on this listener" })),
        )
            .into_response();
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        m.render(),
    )
        .into_response()
}

/// `GET /status`: the fleet status page.
async fn status(State(s): State<AdminState>) -> ApiResult {
    let html = crate::status::page(&s.store, s.clock.now_ms()).await?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    Ok((headers, html).into_response())
}

async fn verify_audit(State(s): State<AdminState>, _headers: HeaderMap) -> ApiResult {
    let n = s.store.verify_audit().await?;
    Ok(Json(json!({ "verified": true, "entries": n })).into_response())
}
