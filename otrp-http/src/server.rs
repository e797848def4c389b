//! The TAM side: a TEEP/HTTP server (draft section 6) driving one
//! [`TamSession`] per HTTP session.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use otrp_core::pki::UnixTime;
use otrp_core::tam::{Command, DeviceState, Event, Tam, TamError, TamSession};
use tokio::sync::{Semaphore, oneshot};

use crate::tls::ServerTls;
use crate::{MEDIA_TYPE, SECURITY_HEADERS, SESSION_COOKIE, is_otrp_media_type};

/// What the TAM does in a session: the embedding program's policy.
///
/// The server calls [`connect`](TamApp::connect) for each new exchange (an
/// empty POST, draft 6.1 "ProcessConnect"), then [`next`](TamApp::next)
/// with [`Input::Connected`] and after each authentic TEE answer with
/// [`Input::Event`]; the returned [`Step`] becomes the next HTTP response.
/// [`finished`](TamApp::finished) tells how the session ended.
///
/// Calls for one session never overlap; calls for different sessions may run
/// in parallel (on blocking worker threads: they may take time, e.g. to
/// load a TA from disk). `finished` should be quick.
pub trait TamApp: Send + Sync + 'static {
    /// Per-session state of the application (a script position, the device
    /// it turned out to be, ...).
    type Session: Send + 'static;

    /// A new exchange from `peer`.
    fn connect(&self, peer: SocketAddr) -> Self::Session;

    /// The next step. `device` is the TAM's view of the device so far (the
    /// TEEs accepted by GetDeviceState, their DSIs).
    fn next(&self, session: &mut Self::Session, device: &DeviceState, input: Input<'_>) -> Step;

    /// The session is over; `device` is its final state (to store in a
    /// [`DeviceStore`](otrp_core::tam::DeviceStore), for example).
    fn finished(&self, session: Self::Session, device: &DeviceState, end: &SessionEnd) {
        let _ = (session, device, end);
    }
}

/// What [`TamApp::next`] is told.
#[derive(Debug)]
pub enum Input<'a> {
    /// The agent opened the exchange (empty POST, draft 6.1).
    Connected,
    /// The TEE (or broker) answered the last request: the verified event
    /// (spec 9.1.7, 9.2, 9.3, section 10).
    Event(&'a Event),
}

/// What the TAM sends next.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A GetDeviceStateRequest (spec 9.1.1).
    GetDeviceState,
    /// An SD or TA command for the TEE named `tee` (spec 9.2, 9.3).
    Command {
        /// The TEE's routing name (from the GetDeviceState answer).
        tee: String,
        /// The command.
        command: Command,
    },
    /// Nothing more: the server answers 204 (draft 6.2).
    End,
}

/// How a session ended (given to [`TamApp::finished`]).
#[derive(Debug)]
pub enum SessionEnd {
    /// The application returned [`Step::End`]: 204 sent.
    Completed,
    /// The agent's message was refused by the TAM session (not an authentic
    /// answer to the outstanding request): 400 sent.
    Refused(TamError),
    /// The next request could not be built (unknown TEE, stale DSI, ...):
    /// 500 sent (draft 6.4).
    Failed(TamError),
    /// The agent sent nothing for longer than the session timeout.
    Expired,
    /// The agent opened a new exchange with this session's cookie.
    Restarted,
    /// The HTTP request was unusable (too large, too slow, wrong media
    /// type): the error response named here was sent.
    Aborted(StatusCode),
    /// The application panicked.
    Panicked,
    /// The server shut down.
    Shutdown,
}

/// The time given to the TAM session for certificate validation (spec
/// 9.1.7). The system clock by default.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> UnixTime + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(Arc::new(|| {
            UnixTime::since_unix_epoch(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default(),
            )
        }))
    }

    /// Always `time` (tests, reproducible demos).
    pub fn fixed(time: UnixTime) -> Self {
        Clock(Arc::new(move || time))
    }

    /// Any time source.
    pub fn from_fn(f: impl Fn() -> UnixTime + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }

    /// The current time.
    pub fn now(&self) -> UnixTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Limits and options of a [`TamServer`].
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The path of the TAM URI (draft section 4); other paths get 404.
    pub path: String,
    /// The largest request body accepted (a TEE response); larger ones get
    /// 413. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Sessions kept at once; a new exchange beyond it gets 503. Default
    /// 1024.
    pub max_sessions: usize,
    /// Connections served at once; more are closed on accept. Default 256.
    pub max_connections: usize,
    /// How long a session waits for the agent's next POST, and an idle
    /// keep-alive connection for its next request. Default 60 s.
    pub session_timeout: Duration,
    /// How long the TLS handshake, the request headers and the request body
    /// may take each; a slower request gets 408 and its connection closed.
    /// Default 10 s.
    pub read_timeout: Duration,
    /// Serve HTTPS with this identity (plain HTTP when `None`).
    pub tls: Option<ServerTls>,
    /// The time for the TAM session (certificate validation).
    pub clock: Clock,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            path: "/tam".into(),
            max_body_bytes: 1 << 20,
            max_sessions: 1024,
            max_connections: 256,
            session_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(10),
            tls: None,
            clock: Clock::system(),
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the address or starting the runtime failed.
    #[error("server I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration is unusable.
    #[error("server configuration: {0}")]
    Config(&'static str),
}

/// A running TAM server (draft section 6) on its own thread; stopped by
/// [`shutdown`](TamServer::shutdown) or when dropped.
pub struct TamServer {
    addr: SocketAddr,
    url: String,
    sessions: Arc<dyn Fn() -> usize + Send + Sync>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for TamServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TamServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TamServer {
    /// Binds `addr` (port 0: an ephemeral port) and serves `tam`, with
    /// `app` deciding each session's steps, on a background thread.
    pub fn start<A: TamApp>(
        addr: SocketAddr,
        tam: Arc<Tam>,
        app: Arc<A>,
        config: ServerConfig,
    ) -> Result<TamServer, ServerError> {
        if !config.path.starts_with('/') {
            return Err(ServerError::Config("the path must start with '/'"));
        }
        if config.max_sessions == 0 || config.max_connections == 0 {
            return Err(ServerError::Config("limits must be at least 1"));
        }
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{addr}{}", config.path);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(16)
            .enable_all()
            .thread_name("otrp-http-tam")
            .build()?;
        let shared = Arc::new(Shared {
            tam,
            app,
            config,
            sessions: Mutex::new(HashMap::new()),
        });
        let counter = shared.clone();
        let sessions = Arc::new(move || counter.table().len());
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("otrp-http-tam".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => accept_loop(shared.clone(), listener, stopped).await,
                        Err(_) => return,
                    }
                    shared.end_all();
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(TamServer {
            addr,
            url,
            sessions,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TAM URI (`http(s)://ADDR/PATH`) agents post to.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Sessions currently kept (open exchanges).
    pub fn session_count(&self) -> usize {
        (self.sessions)()
    }

    /// Stops accepting, ends every session ([`SessionEnd::Shutdown`]) and
    /// waits for the server thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TamServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// One session: the application's state and the TAM's view of the device.
struct Live<S> {
    app: S,
    device: DeviceState,
}

/// A session table entry; `live` is `None` while one of its POSTs is being
/// processed.
struct Slot<S> {
    last_seen: Instant,
    live: Option<Live<S>>,
}

struct Shared<A: TamApp> {
    tam: Arc<Tam>,
    app: Arc<A>,
    config: ServerConfig,
    sessions: Mutex<HashMap<String, Slot<A::Session>>>,
}

impl<A: TamApp> Shared<A> {
    fn table(&self) -> MutexGuard<'_, HashMap<String, Slot<A::Session>>> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single insert or remove).
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Ends sessions idle for longer than the timeout.
    fn expire(&self) {
        let timeout = self.config.session_timeout;
        let expired: Vec<Live<A::Session>> = {
            let mut table = self.table();
            let ids: Vec<String> = table
                .iter()
                .filter(|(_, s)| s.live.is_some() && s.last_seen.elapsed() >= timeout)
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter()
                .filter_map(|id| table.remove(id).and_then(|s| s.live))
                .collect()
        };
        for live in expired {
            self.finish(live, SessionEnd::Expired);
        }
    }

    fn end_all(&self) {
        let all: Vec<Live<A::Session>> = self
            .table()
            .drain()
            .filter_map(|(_, slot)| slot.live)
            .collect();
        for live in all {
            self.finish(live, SessionEnd::Shutdown);
        }
    }

    fn finish(&self, live: Live<A::Session>, end: SessionEnd) {
        let app = self.app.clone();
        let device = live.device;
        // The application's callback must not take the server down.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            app.finished(live.app, &device, &end)
        }));
    }

    /// Removes a session (whatever its state) and reports `end` if it was
    /// idle.
    fn abort(&self, id: &str, end: SessionEnd) {
        let removed = self.table().remove(id).and_then(|s| s.live);
        if let Some(live) = removed {
            self.finish(live, end);
        }
    }
}

async fn accept_loop<A: TamApp>(
    shared: Arc<Shared<A>>,
    listener: tokio::net::TcpListener,
    mut stopped: oneshot::Receiver<()>,
) {
    let connections = Arc::new(Semaphore::new(shared.config.max_connections));
    let acceptor = shared
        .config
        .tls
        .as_ref()
        .map(|tls| tokio_rustls::TlsAcceptor::from(tls.config.clone()));
    let tick = (shared.config.session_timeout / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut reaper = tokio::time::interval(tick);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = reaper.tick() => {
                let shared = shared.clone();
                // Expiry runs the application's callbacks: off the reactor.
                let _ = tokio::task::spawn_blocking(move || shared.expire()).await;
            }
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of descriptors or a network error: back off a
                    // little instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    drop(stream); // over the connection limit
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let acceptor = acceptor.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    match acceptor {
                        None => serve_connection(shared, TokioIo::new(stream), peer).await,
                        Some(acceptor) => {
                            let timeout = shared.config.read_timeout;
                            if let Ok(Ok(tls)) = tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                                serve_connection(shared, TokioIo::new(tls), peer).await;
                            }
                        }
                    }
                });
                // Reap finished connection tasks.
                while tasks.try_join_next().is_some() {}
            }
        }
    }
    tasks.shutdown().await;
}

/// Connection activity, to close keep-alive connections that stay idle.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    fn touch(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = Instant::now();
        }
    }
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return Duration::ZERO;
        }
        self.last.lock().map(|l| l.elapsed()).unwrap_or_default()
    }
}

async fn serve_connection<A, I>(shared: Arc<Shared<A>>, io: TokioIo<I>, peer: SocketAddr)
where
    A: TamApp,
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity {
        in_flight: AtomicUsize::new(0),
        last: Mutex::new(Instant::now()),
    });
    let service = {
        let shared = shared.clone();
        let activity = activity.clone();
        service_fn(move |request: Request<Incoming>| {
            let shared = shared.clone();
            let activity = activity.clone();
            async move {
                activity.in_flight.fetch_add(1, Ordering::SeqCst);
                let response = respond(&shared, peer, request).await;
                activity.touch();
                activity.in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.read_timeout)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let idle_limit = shared.config.session_timeout;
    let tick = (idle_limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut closing = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => break,
            _ = tokio::time::sleep(tick), if !closing => {
                if activity.idle_for() >= idle_limit {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// The session id of a `Cookie` header, if it names one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

fn new_session_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether an `Accept` header allows the OTrP media type (absent: yes).
fn accepts_otrp(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return true;
    }
    values.iter().flat_map(|v| v.split(',')).any(|range| {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !refused
            && (essence.eq_ignore_ascii_case(MEDIA_TYPE)
                || essence == "*/*"
                || essence.eq_ignore_ascii_case("application/*"))
    })
}

/// A response with the draft's security headers (section 4).
fn response(
    status: StatusCode,
    content_type: Option<&'static str>,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(content_type) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn error(status: StatusCode, message: &'static str) -> Response<Full<Bytes>> {
    response(
        status,
        Some("text/plain; charset=utf-8"),
        Bytes::from_static(message.as_bytes()),
    )
}

fn closing(mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// What one step of a session produced.
enum Turn {
    Reply(Vec<u8>),
    Done(SessionEnd),
}

/// Runs one step of a session: hands the agent's message (if any) to the
/// TAM session, asks the application for the next step and builds it.
fn advance<A: TamApp>(
    tam: &Tam,
    app: &A,
    live: &mut Live<A::Session>,
    message: Option<&[u8]>,
    now: UnixTime,
) -> Turn {
    let device = std::mem::take(&mut live.device);
    let mut session = TamSession::resume(tam, device);
    let turn = (|| {
        let event;
        let input = match message {
            None => Input::Connected,
            Some(bytes) => match session.handle_response(bytes, now) {
                Ok(e) => {
                    event = e;
                    Input::Event(&event)
                }
                Err(e) => return Turn::Done(SessionEnd::Refused(e)),
            },
        };
        let built = match app.next(&mut live.app, session.state(), input) {
            Step::End => return Turn::Done(SessionEnd::Completed),
            Step::GetDeviceState => session.get_device_state(),
            Step::Command { tee, command } => session.command(&tee, command),
        };
        match built {
            Ok(bytes) => Turn::Reply(bytes),
            Err(e) => Turn::Done(SessionEnd::Failed(e)),
        }
    })();
    live.device = session.into_state();
    turn
}

async fn respond<A: TamApp>(
    shared: &Arc<Shared<A>>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let config = &shared.config;
    if request.uri().path() != config.path {
        return error(StatusCode::NOT_FOUND, "not a TAM URI\n");
    }
    if request.method() != Method::POST {
        // Only POST is defined for TAM resources (draft section 4).
        let mut r = error(StatusCode::METHOD_NOT_ALLOWED, "only POST is allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let (parts, body) = request.into_parts();
    let cookie = session_cookie(&parts.headers);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > config.max_body_bytes as u64) {
        if let Some(id) = &cookie {
            shared.abort(id, SessionEnd::Aborted(StatusCode::PAYLOAD_TOO_LARGE));
        }
        return closing(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n",
        ));
    }
    let read = tokio::time::timeout(
        config.read_timeout,
        Limited::new(body, config.max_body_bytes).collect(),
    )
    .await;
    let message = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => {
            let status = if e.downcast_ref::<LengthLimitError>().is_some() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            if let Some(id) = &cookie {
                shared.abort(id, SessionEnd::Aborted(status));
            }
            return closing(error(status, "request body unreadable or too large\n"));
        }
        Err(_) => {
            if let Some(id) = &cookie {
                shared.abort(id, SessionEnd::Aborted(StatusCode::REQUEST_TIMEOUT));
            }
            return closing(error(
                StatusCode::REQUEST_TIMEOUT,
                "request body too slow\n",
            ));
        }
    };

    if message.is_empty() {
        connect(shared, peer, &parts.headers, cookie).await
    } else {
        let media_ok = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_otrp_media_type);
        if !media_ok {
            if let Some(id) = &cookie {
                shared.abort(id, SessionEnd::Aborted(StatusCode::UNSUPPORTED_MEDIA_TYPE));
            }
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be application/otrp+json\n",
            );
        }
        let Some(id) = cookie else {
            return error(
                StatusCode::BAD_REQUEST,
                "no session: start with an empty POST\n",
            );
        };
        continue_session(shared, id, message).await
    }
}

/// An empty POST: a new exchange (draft 5.1.1, 6.1).
async fn connect<A: TamApp>(
    shared: &Arc<Shared<A>>,
    peer: SocketAddr,
    headers: &HeaderMap,
    cookie: Option<String>,
) -> Response<Full<Bytes>> {
    if !accepts_otrp(headers) {
        return error(
            StatusCode::NOT_ACCEPTABLE,
            "the TAM answers application/otrp+json only\n",
        );
    }
    if let Some(old) = &cookie {
        shared.abort(old, SessionEnd::Restarted);
    }
    if shared.table().len() >= shared.config.max_sessions {
        shared.expire();
        if shared.table().len() >= shared.config.max_sessions {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "too many sessions\n");
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return r;
        }
    }
    let Some(id) = new_session_id() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness\n");
    };
    // Reserve the slot (busy) so the limit holds while the first step runs.
    shared.table().insert(
        id.clone(),
        Slot {
            last_seen: Instant::now(),
            live: None,
        },
    );
    let app_session = {
        let app = shared.app.clone();
        let result = tokio::task::spawn_blocking(move || app.connect(peer)).await;
        match result {
            Ok(s) => s,
            Err(_) => {
                shared.table().remove(&id);
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "TAM application failed\n",
                );
            }
        }
    };
    let live = Live {
        app: app_session,
        device: DeviceState::new(),
    };
    run_step(shared, id, live, None, true).await
}

/// A POST carrying the TEE's message for session `id` (draft 5.2, 6.1).
async fn continue_session<A: TamApp>(
    shared: &Arc<Shared<A>>,
    id: String,
    message: Bytes,
) -> Response<Full<Bytes>> {
    let live = {
        let mut table = shared.table();
        match table.get_mut(&id) {
            None => {
                return error(StatusCode::BAD_REQUEST, "unknown or expired session\n");
            }
            Some(slot) => match slot.live.take() {
                Some(live) => {
                    slot.last_seen = Instant::now();
                    live
                }
                None => {
                    return error(
                        StatusCode::CONFLICT,
                        "the session is processing another message\n",
                    );
                }
            },
        }
    };
    run_step(shared, id, live, Some(message), false).await
}

/// Runs a step off the reactor and turns it into the HTTP answer.
async fn run_step<A: TamApp>(
    shared: &Arc<Shared<A>>,
    id: String,
    mut live: Live<A::Session>,
    message: Option<Bytes>,
    first: bool,
) -> Response<Full<Bytes>> {
    let now = shared.config.clock.now();
    let worker = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || {
            // A panic of the application ends this session only.
            let turn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                advance(
                    &shared.tam,
                    &*shared.app,
                    &mut live,
                    message.as_deref(),
                    now,
                )
            }))
            .unwrap_or(Turn::Done(SessionEnd::Panicked));
            (live, turn)
        })
    };
    let (live, turn) = match worker.await {
        Ok(done) => done,
        Err(_) => {
            shared.table().remove(&id);
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "TAM application failed\n",
            );
        }
    };
    match turn {
        Turn::Reply(bytes) => {
            {
                let mut table = shared.table();
                match table.get_mut(&id) {
                    Some(slot) => {
                        slot.last_seen = Instant::now();
                        slot.live = Some(live);
                    }
                    None => {
                        // Removed meanwhile (restarted or aborted): end it.
                        drop(table);
                        shared.finish(live, SessionEnd::Restarted);
                        return error(StatusCode::CONFLICT, "the session was ended\n");
                    }
                }
            }
            let mut r = response(StatusCode::OK, Some(MEDIA_TYPE), Bytes::from(bytes));
            if first {
                let secure = if shared.config.tls.is_some() {
                    "; Secure"
                } else {
                    ""
                };
                let cookie = format!(
                    "{SESSION_COOKIE}={id}; Path={}; HttpOnly; SameSite=Strict{secure}",
                    shared.config.path
                );
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    r.headers_mut().insert(header::SET_COOKIE, value);
                }
            }
            r
        }
        Turn::Done(end) => {
            shared.table().remove(&id);
            let r = match &end {
                SessionEnd::Completed => response(StatusCode::NO_CONTENT, None, Bytes::new()),
                SessionEnd::Refused(_) => error(
                    StatusCode::BAD_REQUEST,
                    "the message is not an answer the TAM accepts\n",
                ),
                SessionEnd::Panicked => error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "TAM application failed\n",
                ),
                _ => error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the TAM could not build its next message\n",
                ),
            };
            shared.finish(live, end);
            r
        }
    }
}
