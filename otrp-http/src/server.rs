//! The TAM side: a TEEP/HTTP server (draft section 6) driving one
//! [`TamSession`] per HTTP session.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use otrp_core::crypto::HashAlg;
use otrp_core::message::DeviceId;
use otrp_core::pki::UnixTime;
use otrp_core::tam::{Command, DeviceState, Event, Tam, TamError, TamSession, TeeResult};
use tokio::sync::{Semaphore, oneshot};
use tracing::{Instrument, Span, debug, info, info_span, warn};

use crate::secure_io::SecureHeaders;
use crate::sessions::{
    Claim, Digest, Full as TableFull, Reply, ReplyReceiver, Settle, Table, TableLimits,
};
use crate::stored::{Admission, PersistentApp, SessionStore, StoredReply, StoredSession, Taken};
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
    /// Not now (the application's database is unreachable): the server
    /// answers 503 with `Retry-After`, and the session stays as it was
    /// before the agent's message, which the agent may send again.
    Retry,
}

/// How a session ended (given to [`TamApp::finished`]).
///
/// A message the TAM session refuses (not an authentic answer to the
/// outstanding request, or signed by another device than the one the
/// session is bound to) does not end the session: it gets 400 and the
/// session keeps waiting for the real answer, so a client holding a stolen
/// cookie cannot end a device's session.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionEnd {
    /// The application returned [`Step::End`]: 204 sent.
    Completed,
    /// The next request could not be built (unknown TEE, stale DSI, ...):
    /// 500 sent (draft 6.4).
    Failed(TamError),
    /// The agent sent nothing for longer than the session timeout.
    Expired,
    /// The session had no authenticated answer yet and was evicted to
    /// admit a new exchange (its client was over its cap, or the table was
    /// full and its client held the most sessions).
    Evicted,
    /// The agent opened a new exchange with this session's cookie (from
    /// the address that opened it).
    Restarted,
    /// The HTTP request was unusable (too large, too slow, wrong media
    /// type), from the address that opened the session: the error response
    /// named here was sent.
    Aborted(StatusCode),
    /// The application panicked.
    Panicked,
    /// The server shut down.
    Shutdown,
}

/// How a session ended, in words for logs and audit records.
impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::Completed => f.write_str("completed"),
            SessionEnd::Failed(e) => write!(f, "failed: {e}"),
            SessionEnd::Expired => {
                f.write_str("expired: the agent sent nothing within the session timeout")
            }
            SessionEnd::Evicted => {
                f.write_str("evicted before any authenticated answer, to admit a new exchange")
            }
            SessionEnd::Restarted => {
                f.write_str("restarted: the agent opened a new exchange with this session's cookie")
            }
            SessionEnd::Aborted(status) => {
                write!(f, "aborted: unusable HTTP request, answered {status}")
            }
            SessionEnd::Panicked => f.write_str("failed: the TAM application panicked"),
            SessionEnd::Shutdown => f.write_str("closed: the server shut down"),
        }
    }
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
    /// Sessions kept at once. When full, a new exchange evicts the oldest
    /// session without an authenticated answer of the client holding the
    /// most sessions; a session bound to a device is never evicted. With
    /// nothing to evict, 503. Default 1024.
    pub max_sessions: usize,
    /// Sessions one client (peer IP address) may hold. Over it, a new
    /// exchange of that client evicts its own oldest session without an
    /// authenticated answer, or gets 503. Default 32 (several devices
    /// behind one NAT address share it).
    pub max_sessions_per_client: usize,
    /// Connections served at once; more are closed on accept. Default 256.
    pub max_connections: usize,
    /// Connections one client (peer IP address) may hold open; more are
    /// closed on accept. Default 32.
    pub max_connections_per_client: usize,
    /// How long an ended session remembers its last answer, so that an
    /// identical duplicate of it gets the same final reply (instead of
    /// "unknown session"). Default 10 s.
    pub duplicate_window: Duration,
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
            max_sessions_per_client: 32,
            max_connections: 256,
            max_connections_per_client: 32,
            duplicate_window: Duration::from_secs(10),
            session_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(10),
            tls: None,
            clock: Clock::system(),
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// Set by [`TamServer::stop_accepting`]: new exchanges get 503.
    draining: Arc<AtomicBool>,
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
        Self::start_with(addr, tam, app, config, None)
    }

    /// Like [`start`](TamServer::start), but keeps every session in `store`
    /// between its steps instead of in this process (crate::stored): any
    /// number of servers on one store continue each other's sessions, so a
    /// load balancer may send each POST to any of them. Per-client session
    /// caps are counted in the store; [`ServerConfig::max_sessions`] bounds
    /// the steps in progress here.
    pub fn start_stateless<A: PersistentApp>(
        addr: SocketAddr,
        tam: Arc<Tam>,
        app: Arc<A>,
        store: Arc<dyn SessionStore>,
        config: ServerConfig,
    ) -> Result<TamServer, ServerError> {
        let persist = Persist {
            store,
            save: A::save_session,
            load: A::load_session,
        };
        Self::start_with(addr, tam, app, config, Some(persist))
    }

    fn start_with<A: TamApp>(
        addr: SocketAddr,
        tam: Arc<Tam>,
        app: Arc<A>,
        config: ServerConfig,
        persist: Option<Persist<A::Session>>,
    ) -> Result<TamServer, ServerError> {
        let shared = Shared::new(tam, app, config, persist)?;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let scheme = if shared.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{addr}{}", shared.config.path);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(16)
            .enable_all()
            .thread_name("otrp-http-tam")
            .build()?;
        let draining = shared.draining.clone();
        let counter = shared.clone();
        let sessions = Arc::new(move || counter.session_count());
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
            draining,
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

    /// Starts a graceful shutdown: from now on a new exchange (an empty
    /// POST) is answered 503 with `Retry-After: 1` (a load balancer or the
    /// agent tries another front end), while the open sessions go on. Wait
    /// for [`session_count`](Self::session_count) to reach 0 (or a
    /// deadline), then call [`shutdown`](Self::shutdown).
    pub fn stop_accepting(&self) {
        self.draining.store(true, Ordering::SeqCst);
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

/// One session: the application's state, the TAM's view of the device, the
/// device the session is bound to, and its tracing span.
struct Live<S> {
    app: S,
    device: DeviceState,
    /// The dids of the TEEs of the first authenticated answer; empty until
    /// then. Later answers must come from these TEEs.
    bound: Vec<DeviceId>,
    span: Span,
    /// The address that opened the exchange.
    peer: IpAddr,
    /// Steps saved in the session store (the stateless mode).
    step: i64,
}

/// The session store of a stateless server and how the application's
/// sessions are written to it.
pub(crate) struct Persist<S> {
    store: Arc<dyn SessionStore>,
    save: fn(&S) -> Vec<u8>,
    load: fn(&[u8]) -> Option<S>,
}

pub(crate) struct Shared<A: TamApp> {
    tam: Arc<Tam>,
    app: Arc<A>,
    config: ServerConfig,
    persist: Option<Persist<A::Session>>,
    table: Mutex<Table<Live<A::Session>>>,
    /// Open connections per peer address.
    connections: Mutex<HashMap<IpAddr, usize>>,
    /// Draining for a graceful shutdown: no new exchange.
    draining: Arc<AtomicBool>,
    /// The stateless mode's sessions whose last step ran here and that
    /// wait for their next answer, with when they go quiet: a graceful
    /// drain waits for them (their state is in the store, so another
    /// front end may continue them too).
    served: Mutex<HashMap<String, Instant>>,
}

impl<A: TamApp> Shared<A> {
    /// The state of a server of `tam` and `app` under `config`, checked.
    pub(crate) fn new(
        tam: Arc<Tam>,
        app: Arc<A>,
        config: ServerConfig,
        persist: Option<Persist<A::Session>>,
    ) -> Result<Arc<Self>, ServerError> {
        if !config.path.starts_with('/') {
            return Err(ServerError::Config("the path must start with '/'"));
        }
        if config.max_sessions == 0
            || config.max_connections == 0
            || config.max_sessions_per_client == 0
            || config.max_connections_per_client == 0
        {
            return Err(ServerError::Config("limits must be at least 1"));
        }
        let limits = TableLimits {
            max_sessions: config.max_sessions,
            max_per_client: config.max_sessions_per_client,
            duplicate_window: config.duplicate_window,
        };
        Ok(Arc::new(Shared {
            tam,
            app,
            config,
            persist,
            table: Mutex::new(Table::new(limits)),
            connections: Mutex::new(HashMap::new()),
            draining: Arc::new(AtomicBool::new(false)),
            served: Mutex::new(HashMap::new()),
        }))
    }

    /// Sessions currently kept: in the table, and in the stateless mode
    /// also those whose last step ran here and are not yet quiet (a
    /// session with a step in progress may count twice; only zero matters
    /// to a drain).
    pub(crate) fn session_count(&self) -> usize {
        let steps = self.table().len();
        if self.persist.is_none() {
            return steps;
        }
        let now = Instant::now();
        let mut served = self.served();
        served.retain(|_, quiet_at| *quiet_at > now);
        steps + served.len()
    }

    fn served(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.served
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Session `id` took a step here and waits for its next answer.
    fn note_served(&self, id: &str) {
        let quiet_at = Instant::now() + self.config.session_timeout;
        self.served().insert(id.to_string(), quiet_at);
    }

    /// Session `id` ended, or moved on elsewhere.
    fn forget_served(&self, id: &str) {
        self.served().remove(id);
    }

    fn table(&self) -> MutexGuard<'_, Table<Live<A::Session>>> {
        // A panic while holding the lock cannot leave the table
        // inconsistent: the table never calls out while updating.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Ends sessions idle for longer than the timeout, in the table and
    /// in the session store; forgets old tombstones. Blocks on the store.
    fn expire(&self) {
        self.expire_table();
        if let Some(p) = &self.persist {
            match p.store.expire(unix_ms()) {
                Ok(expired) => {
                    for stored in expired {
                        self.forget_served(&stored.id);
                        if let Some(live) = self.revive(&stored) {
                            self.finish(live, SessionEnd::Expired);
                        }
                    }
                }
                Err(e) => warn!(error = %e, "expiring stored sessions failed"),
            }
        }
    }

    /// Ends the table's sessions idle for longer than the timeout (never
    /// waits on the store).
    fn expire_table(&self) {
        let expired = self
            .table()
            .expire(Instant::now(), self.config.session_timeout);
        for live in expired {
            self.finish(live, SessionEnd::Expired);
        }
    }

    /// A session of the store, as it was after its last step.
    fn revive(&self, stored: &StoredSession) -> Option<Live<A::Session>> {
        let p = self.persist.as_ref()?;
        let (device, bound, app) = split_state(&stored.state)?;
        let device =
            DeviceState::from_bytes(device, self.tam.provider(), self.tam.limits()).ok()?;
        let app = (p.load)(app)?;
        let span = info_span!(
            "tam_session",
            session = stored.id.get(..8).unwrap_or(&stored.id),
            peer = %stored.peer,
            did = tracing::field::Empty
        );
        if let Some(did) = bound.first() {
            span.record("did", tracing::field::debug(did));
        }
        Some(Live {
            app,
            device,
            bound,
            span,
            peer: stored.peer,
            step: stored.step,
        })
    }

    /// The store's row of `live` after its step `live.step` (already
    /// counted), waiting for the next answer.
    fn stored(
        &self,
        id: &str,
        live: &Live<A::Session>,
        last: Option<(Digest, &Reply)>,
    ) -> StoredSession {
        let app = self
            .persist
            .as_ref()
            .map(|p| (p.save)(&live.app))
            .unwrap_or_default();
        StoredSession {
            id: id.to_string(),
            peer: live.peer,
            step: live.step,
            bound: !live.bound.is_empty(),
            ended: false,
            state: join_state(&live.device.to_bytes(), &live.bound, &app),
            last: last.map(|(d, r)| (d, stored_reply(r))),
            expires_at: unix_ms().saturating_add(ms(self.config.session_timeout)),
        }
    }

    pub(crate) fn end_all(&self) {
        let all = self.table().drain();
        for live in all {
            self.finish(live, SessionEnd::Shutdown);
        }
    }

    fn finish(&self, live: Live<A::Session>, end: SessionEnd) {
        info!(parent: &live.span, end = %end, "session ended");
        let app = self.app.clone();
        let device = live.device;
        // The application's callback must not take the server down.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            app.finished(live.app, &device, &end)
        }));
    }

    /// Ends session `id` when `peer` opened it and it is idle (see
    /// [`Table::end_by`]); in the store too, off the reactor.
    fn end_by(self: &Arc<Self>, id: &str, peer: SocketAddr, end: SessionEnd) {
        let removed = self.table().end_by(id, peer.ip());
        if let Some(live) = removed {
            self.finish(live, end);
            self.forget_served(id);
        } else if self.persist.is_some() {
            let shared = self.clone();
            let id = id.to_string();
            drop(tokio::task::spawn_blocking(move || {
                let Some(p) = &shared.persist else { return };
                match p.store.end_by(&id, peer.ip()) {
                    Ok(Some(stored)) => {
                        if let Some(live) = shared.revive(&stored) {
                            shared.finish(live, end);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => warn!(error = %e, "ending a stored session failed"),
                }
                // After the application heard of the end: a drain waiting
                // for this session sees it ended, and counted.
                shared.forget_served(&id);
            }));
        } else {
            self.forget_served(id);
        }
    }
}

/// A connection counted against its client's cap until dropped.
struct ClientConnection<A: TamApp> {
    shared: Arc<Shared<A>>,
    peer: IpAddr,
}

impl<A: TamApp> ClientConnection<A> {
    fn open(shared: &Arc<Shared<A>>, peer: IpAddr) -> Option<Self> {
        let mut map = shared.connections.lock().ok()?;
        let count = map.entry(peer).or_insert(0);
        if *count >= shared.config.max_connections_per_client {
            return None;
        }
        *count += 1;
        Some(ClientConnection {
            shared: shared.clone(),
            peer,
        })
    }
}

impl<A: TamApp> Drop for ClientConnection<A> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.shared.connections.lock() {
            if let Some(n) = map.get_mut(&self.peer) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&self.peer);
                }
            }
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
    let reaper = tokio::spawn(reap(shared.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of descriptors or a network error: back off a
                    // little instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    debug!(%peer, "connection refused: server at its connection limit");
                    drop(stream);
                    continue;
                };
                let Some(client) = ClientConnection::open(&shared, peer.ip()) else {
                    debug!(%peer, "connection refused: client at its connection cap");
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let acceptor = acceptor.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    let _client = client;
                    match acceptor {
                        None => serve_connection(shared, SecureHeaders::new(stream), peer, false).await,
                        Some(acceptor) => {
                            let timeout = shared.config.read_timeout;
                            if let Ok(Ok(tls)) = tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                                serve_connection(shared, SecureHeaders::new(tls), peer, false).await;
                            }
                        }
                    }
                });
            }
        }
    }
    reaper.abort();
    tasks.shutdown().await;
}

/// Ends idle sessions every quarter of the session timeout (10 ms to 1 s),
/// one pass at a time. A task of its own: a pass waits on the session
/// store, and a store that is down or slow must not hold up accepting
/// connections (they get their 503 at once).
async fn reap<A: TamApp>(shared: Arc<Shared<A>>) {
    let tick = (shared.config.session_timeout / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut reaper = tokio::time::interval(tick);
    reaper.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        reaper.tick().await;
        let shared = shared.clone();
        // Expiry runs the application's callbacks: off the reactor.
        let _ = tokio::task::spawn_blocking(move || shared.expire()).await;
    }
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

/// The largest request head accepted (request line and headers); a larger
/// one gets 431 from hyper (with the security headers, [`SecureHeaders`]).
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Serves one connection. `half_close`: a client that closed its sending
/// side still gets the answers to the requests it sent (the offline
/// server's connections end that way); a network client that does so has
/// gone, and its connection is closed at once.
pub(crate) async fn serve_connection<A, I>(
    shared: Arc<Shared<A>>,
    io: SecureHeaders<I>,
    peer: SocketAddr,
    half_close: bool,
) where
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
                let head = request.method() == Method::HEAD;
                let mut response = respond(&shared, peer, request).await;
                if head {
                    // No body, and a framing that says so (Content-Length 0).
                    *response.body_mut() = Full::new(Bytes::new());
                }
                activity.touch();
                activity.in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.read_timeout)
        .max_header_size(MAX_REQUEST_HEAD)
        .writev(false)
        .keep_alive(true)
        .half_close(half_close)
        .serve_connection(TokioIo::new(io), service);
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

/// Whether `id` has the form of [`new_session_id`]'s ids (32 lowercase hex
/// digits).
fn is_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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
    to_response(Reply::error(status, message))
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut r = response(reply.status, reply.content_type, reply.body);
    for (name, value) in reply.headers {
        r.headers_mut().insert(name, value);
    }
    r
}

fn closing(mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn unavailable(message: &'static str) -> Response<Full<Bytes>> {
    let mut r = error(StatusCode::SERVICE_UNAVAILABLE, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// What one step of a session produced.
enum Turn {
    /// The next request for the device.
    Reply(Vec<u8>),
    /// The agent's message was not accepted; the session is unchanged.
    Refused(String),
    /// The application could not take the step now; the session is
    /// unchanged and the agent may send its message again.
    Retry,
    /// The session is over.
    Done(SessionEnd),
}

/// Why an accepted answer does not fit the session's binding: once bound,
/// every answer must be authenticated as one of the bound TEEs.
fn check_binding(bound: &[DeviceId], event: &Event, after: &DeviceState) -> Result<(), String> {
    match event {
        Event::BrokerError(_) => {
            return Err("an unsigned broker error in a session bound to a device".into());
        }
        Event::DeviceState(results) => {
            if results.is_empty() {
                return Err("an answer without any TEE".into());
            }
            for result in results {
                match result {
                    TeeResult::Accepted { did, .. } if !bound.contains(did) => {
                        return Err("a GetDeviceState answer from another device".into());
                    }
                    TeeResult::NotAccepted { name, .. } => {
                        return Err(format!("TEE {name:?} of another device"));
                    }
                    TeeResult::Failed(f) if !f.authenticated => {
                        return Err("an unauthenticated failure".into());
                    }
                    _ => {}
                }
            }
        }
        Event::Success { .. } | Event::TeeFailure(_) | Event::Resend { .. } => {}
        _ => return Err("an answer of a kind this server does not know".into()),
    }
    if after.tees().iter().any(|t| !bound.contains(&t.did)) {
        return Err("a TEE of another device".into());
    }
    Ok(())
}

/// Runs one step of a session: hands the agent's message (if any) to the
/// TAM session, checks the session's device binding, asks the application
/// for the next step and builds it.
fn advance<A: TamApp>(
    tam: &Tam,
    app: &A,
    live: &mut Live<A::Session>,
    message: Option<&[u8]>,
    now: UnixTime,
) -> Turn {
    let device = std::mem::take(&mut live.device);
    // What a Retry restores: the agent sends the same answer again.
    let (device_before, bound_before) = (device.clone(), live.bound.clone());
    let mut session = TamSession::resume(tam, device);
    let turn = (|| {
        let event;
        let input = match message {
            None => Input::Connected,
            Some(bytes) => {
                let before = (!live.bound.is_empty()).then(|| session.state().clone());
                let accepted = match session.handle_response(bytes, now) {
                    Ok(e) => e,
                    Err(e) => return Turn::Refused(e.to_string()),
                };
                match before {
                    Some(before) => {
                        if let Err(why) = check_binding(&live.bound, &accepted, session.state()) {
                            session = TamSession::resume(tam, before);
                            return Turn::Refused(why);
                        }
                    }
                    None => {
                        live.bound = session.state().tees().iter().map(|t| t.did).collect();
                        if let Some(did) = live.bound.first() {
                            live.span.record("did", tracing::field::debug(did));
                            info!(tees = live.bound.len(), "session bound to the device");
                        }
                    }
                }
                debug!(event = event_name(&accepted), "answer accepted");
                // The TEE no longer knew this TAM's certificate: the same
                // request goes again with x5c, without asking the app.
                if let Event::Resend { request, .. } = accepted {
                    debug!("request sent again with x5c");
                    return Turn::Reply(request);
                }
                event = accepted;
                Input::Event(&event)
            }
        };
        let built = match app.next(&mut live.app, session.state(), input) {
            Step::End => return Turn::Done(SessionEnd::Completed),
            Step::Retry => {
                session = TamSession::resume(tam, device_before);
                live.bound = bound_before;
                return Turn::Retry;
            }
            Step::GetDeviceState => session.get_device_state(),
            Step::Command { tee, command } => session.command(&tee, command),
        };
        match built {
            Ok(bytes) => {
                if let Some(o) = session.state().outstanding() {
                    debug!(
                        kind = ?o.kind,
                        rid = o.rid.as_str(),
                        tid = o.tid.as_str(),
                        tee = o.tee.as_deref().unwrap_or(""),
                        "request sent"
                    );
                }
                Turn::Reply(bytes)
            }
            Err(e) => Turn::Done(SessionEnd::Failed(e)),
        }
    })();
    live.device = session.into_state();
    turn
}

fn event_name(event: &Event) -> &'static str {
    match event {
        Event::DeviceState(_) => "device state",
        Event::Success { .. } => "success",
        Event::TeeFailure(_) => "TEE failure",
        Event::BrokerError(_) => "broker error",
        Event::Resend { .. } => "resend with x5c",
        _ => "other",
    }
}

async fn respond<A: TamApp>(
    shared: &Arc<Shared<A>>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let config = &shared.config;
    // RFC 9112 3.2: a client sends Host in every HTTP/1.1 request, once;
    // a server answers 400 otherwise.
    let hosts = request.headers().get_all(header::HOST).iter().count();
    if hosts > 1 || (hosts == 0 && request.version() == Version::HTTP_11) {
        return closing(error(
            StatusCode::BAD_REQUEST,
            "an HTTP/1.1 request needs exactly one Host header\n",
        ));
    }
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
            shared.end_by(id, peer, SessionEnd::Aborted(StatusCode::PAYLOAD_TOO_LARGE));
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
                shared.end_by(id, peer, SessionEnd::Aborted(status));
            }
            return closing(error(status, "request body unreadable or too large\n"));
        }
        Err(_) => {
            if let Some(id) = &cookie {
                shared.end_by(id, peer, SessionEnd::Aborted(StatusCode::REQUEST_TIMEOUT));
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
                shared.end_by(
                    id,
                    peer,
                    SessionEnd::Aborted(StatusCode::UNSUPPORTED_MEDIA_TYPE),
                );
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
        continue_session(shared, peer, id, message).await
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
    if shared.draining.load(Ordering::SeqCst) {
        debug!(%peer, "exchange refused: the server is shutting down");
        return unavailable("the TAM is shutting down\n");
    }
    if let Some(old) = &cookie {
        shared.end_by(old, peer, SessionEnd::Restarted);
    }
    let Some(id) = new_session_id() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness\n");
    };
    let mut admitted = shared.table().admit(id.clone(), peer.ip(), Instant::now());
    if let Err(TableFull::Table) = admitted {
        shared.expire_table();
        admitted = shared.table().admit(id.clone(), peer.ip(), Instant::now());
    }
    let (reply, evicted) = match admitted {
        Ok(done) => done,
        Err(TableFull::Client) => {
            debug!(%peer, "exchange refused: client at its session cap");
            return unavailable("too many sessions from this address\n");
        }
        Err(TableFull::Table) => {
            debug!(%peer, "exchange refused: session table full");
            return unavailable("too many sessions\n");
        }
    };
    for live in evicted {
        shared.finish(live, SessionEnd::Evicted);
    }
    let span = info_span!(
        "tam_session",
        session = id.get(..8).unwrap_or(&id),
        %peer,
        did = tracing::field::Empty
    );
    let worker = shared.clone();
    let step = tokio::task::spawn_blocking(move || {
        let app = worker.app.clone();
        let connected = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            span.in_scope(|| app.connect(peer))
        }));
        match connected {
            Ok(app_session) => {
                let live = Live {
                    app: app_session,
                    device: DeviceState::new(),
                    bound: Vec::new(),
                    span,
                    peer: peer.ip(),
                    step: 0,
                };
                if let Some(refusal) = open_stored(&worker, &id, &live) {
                    worker.finish(live, SessionEnd::Aborted(refusal.status));
                    worker
                        .table()
                        .settle(&id, Settle::End { reply: refusal }, Instant::now());
                    return;
                }
                run_step(&worker, &id, live, None);
            }
            Err(_) => {
                let reply = Reply::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "TAM application failed\n",
                );
                worker
                    .table()
                    .settle(&id, Settle::End { reply }, Instant::now());
            }
        }
    });
    drop(step); // runs to the end even if this request is dropped
    await_reply(reply).await
}

/// A POST carrying the TEE's message for session `id` (draft 5.2, 6.1).
async fn continue_session<A: TamApp>(
    shared: &Arc<Shared<A>>,
    peer: SocketAddr,
    id: String,
    message: Bytes,
) -> Response<Full<Bytes>> {
    let digest: Digest = match shared
        .tam
        .provider()
        .digest(HashAlg::Sha256)
        .map(|d| d.digest(&message))
        .ok()
        .and_then(|d| d.try_into().ok())
    {
        Some(d) => d,
        None => return error(StatusCode::INTERNAL_SERVER_ERROR, "no SHA-256\n"),
    };
    if !is_session_id(&id) {
        // Not one this server hands out: no table or store lookup.
        return error(StatusCode::BAD_REQUEST, "unknown or expired session\n");
    }
    let claim = {
        let mut table = shared.table();
        match table.claim(&id, digest, Instant::now()) {
            Claim::Unknown if shared.persist.is_some() => {
                match table.hold(id.clone(), peer.ip(), digest, Instant::now()) {
                    Some(receiver) => Err(receiver),
                    None => Ok(Claim::Conflict),
                }
            }
            other => Ok(other),
        }
    };
    let claim = match claim {
        Ok(claim) => claim,
        Err(receiver) => {
            // The stateless mode: the session is in the store.
            let worker = shared.clone();
            let step = tokio::task::spawn_blocking(move || {
                stored_step(&worker, &id, digest, &message);
            });
            drop(step); // runs to the end even if this request is dropped
            return await_reply(receiver).await;
        }
    };
    match claim {
        Claim::Unknown => error(StatusCode::BAD_REQUEST, "unknown or expired session\n"),
        Claim::Conflict => error(
            StatusCode::CONFLICT,
            "the session is processing another message\n",
        ),
        Claim::Replay(reply) => {
            debug!("identical duplicate answered again");
            to_response(reply)
        }
        Claim::Wait(receiver) => await_reply(receiver).await,
        Claim::Run(live, receiver) => {
            let worker = shared.clone();
            let span = live.span.clone();
            let step = tokio::task::spawn_blocking(move || {
                run_step(&worker, &id, live, Some((digest, &message)));
            });
            drop(step); // runs to the end even if this request is dropped
            await_reply(receiver).instrument(span).await
        }
    }
}

/// The reply of a step, once published.
async fn await_reply(mut receiver: ReplyReceiver) -> Response<Full<Bytes>> {
    let reply = match receiver.wait_for(Option::is_some).await {
        Ok(reply) => reply.clone(),
        Err(_) => None,
    };
    match reply {
        Some(reply) => to_response(reply),
        None => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "TAM application failed\n",
        ),
    }
}

/// Stores a new session (the stateless mode), evicting the client's
/// oldest unbound session when it is at its cap; the refusal to send when
/// it cannot be stored.
fn open_stored<A: TamApp>(shared: &Shared<A>, id: &str, live: &Live<A::Session>) -> Option<Reply> {
    let p = shared.persist.as_ref()?;
    let fresh = shared.stored(id, live, None);
    let now = unix_ms();
    let locked_until = now.saturating_add(ms(shared.config.read_timeout));
    let cap = shared.config.max_sessions_per_client;
    match p.store.open(&fresh, cap, locked_until, now) {
        Ok(Admission::Admitted(evicted)) => {
            for stored in evicted {
                if let Some(old) = shared.revive(&stored) {
                    shared.finish(old, SessionEnd::Evicted);
                }
            }
            None
        }
        Ok(Admission::Full) => {
            debug!(peer = %live.peer, "exchange refused: client at its session cap");
            Some(retry_reply("too many sessions from this address\n"))
        }
        Err(e) => {
            warn!(error = %e, "session store unavailable");
            Some(retry_reply("session store unavailable, retry later\n"))
        }
    }
}

/// A step of a session kept in the store (the stateless mode): locks it
/// there, runs the step, and saves it (or answers a duplicate again).
fn stored_step<A: TamApp>(shared: &Shared<A>, id: &str, digest: Digest, message: &[u8]) {
    let release = |reply: Reply| {
        shared
            .table()
            .settle(id, Settle::Release { reply }, Instant::now());
    };
    let Some(p) = &shared.persist else {
        return release(Reply::error(
            StatusCode::BAD_REQUEST,
            "unknown or expired session\n",
        ));
    };
    let now = unix_ms();
    let locked_until = now.saturating_add(ms(shared.config.read_timeout));
    match p.store.take(id, &digest, locked_until, now) {
        Ok(Taken::Run(stored)) => match shared.revive(&stored) {
            Some(live) => run_step(shared, id, live, Some((digest, message))),
            None => {
                warn!("a stored session could not be read back: ended");
                let _ = p.store.end_by(id, stored.peer);
                release(Reply::error(
                    StatusCode::BAD_REQUEST,
                    "unknown or expired session\n",
                ));
            }
        },
        Ok(Taken::Replay(reply)) => {
            debug!("identical duplicate answered again (stored)");
            release(reply_of(reply));
        }
        Ok(Taken::Busy) => release(retry_reply("the session is processing another message\n")),
        Ok(Taken::Unknown) => {
            shared.forget_served(id);
            release(Reply::error(
                StatusCode::BAD_REQUEST,
                "unknown or expired session\n",
            ))
        }
        Err(e) => {
            warn!(error = %e, "session store unavailable");
            release(retry_reply("session store unavailable, retry later\n"));
        }
    }
}

/// Runs a step (on a blocking worker), records its outcome in the table
/// (which publishes the reply), and in the session store in the stateless
/// mode, and reports the end of the session.
fn run_step<A: TamApp>(
    shared: &Shared<A>,
    id: &str,
    mut live: Live<A::Session>,
    message: Option<(Digest, &[u8])>,
) {
    let now = shared.config.clock.now();
    let span = live.span.clone();
    let _entered = span.enter();
    // A panic of the application ends this session only.
    let turn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        advance(
            &shared.tam,
            &*shared.app,
            &mut live,
            message.map(|m| m.1),
            now,
        )
    }))
    .unwrap_or(Turn::Done(SessionEnd::Panicked));
    let digest = message.map(|m| m.0);
    let settle = |outcome: Settle<Live<A::Session>>| {
        let orphan = shared.table().settle(id, outcome, Instant::now());
        if let Some(live) = orphan {
            shared.finish(live, SessionEnd::Restarted);
        }
    };
    match turn {
        Turn::Reply(bytes) => {
            let mut reply = Reply {
                status: StatusCode::OK,
                content_type: Some(MEDIA_TYPE),
                body: Bytes::from(bytes),
                headers: Vec::new(),
            };
            if message.is_none() {
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
                    reply.headers.push((header::SET_COOKIE, value));
                }
            }
            let Some(p) = &shared.persist else {
                let bound = !live.bound.is_empty();
                return settle(Settle::Continue { live, reply, bound });
            };
            live.step += 1;
            let row = shared.stored(id, &live, digest.map(|d| (d, &reply)));
            let reply = match p.store.save(&row) {
                Ok(true) => {
                    shared.note_served(id);
                    reply
                }
                Ok(false) => {
                    shared.forget_served(id);
                    warn!("another front end moved the session on: this step is dropped");
                    Reply::error(StatusCode::CONFLICT, "the session moved on\n")
                }
                Err(e) => {
                    warn!(error = %e, "saving the session failed");
                    retry_reply("session store unavailable, retry later\n")
                }
            };
            settle(Settle::Release { reply });
        }
        Turn::Refused(why) => {
            warn!(reason = %why, "answer refused; the session waits on");
            let reply = Reply::error(
                StatusCode::BAD_REQUEST,
                "the message is not an answer the TAM accepts\n",
            );
            unlock_or_settle(shared, id, live, reply);
        }
        Turn::Retry => {
            info!("the application asked for a retry; the session waits on");
            let reply = retry_reply("the TAM cannot take this step now, retry later\n");
            unlock_or_settle(shared, id, live, reply);
        }
        Turn::Done(end) => {
            let reply = match &end {
                SessionEnd::Completed => Reply {
                    status: StatusCode::NO_CONTENT,
                    content_type: None,
                    body: Bytes::new(),
                    headers: Vec::new(),
                },
                SessionEnd::Panicked => Reply::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "TAM application failed\n",
                ),
                _ => Reply::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the TAM could not build its next message\n",
                ),
            };
            let tombstone = shared.persist.as_ref().map(|p| {
                let mut row = shared.stored(id, &live, digest.map(|d| (d, &reply)));
                row.step += 1;
                row.ended = true;
                row.state = Vec::new();
                row.expires_at = unix_ms().saturating_add(ms(shared.config.duplicate_window));
                (p, row)
            });
            // The application hears of the end before the agent does.
            shared.forget_served(id);
            shared.finish(live, end);
            match tombstone {
                None => settle(Settle::End { reply }),
                Some((p, row)) => {
                    if let Err(e) = p.store.save(&row) {
                        warn!(error = %e, "saving the end of the session failed");
                    }
                    settle(Settle::Release { reply });
                }
            }
        }
    }
}

/// Answers `reply` and leaves the session as it was: unlocked in the
/// store (the stateless mode), or idle in the table.
fn unlock_or_settle<A: TamApp>(shared: &Shared<A>, id: &str, live: Live<A::Session>, reply: Reply) {
    let outcome = match &shared.persist {
        Some(p) => {
            if let Err(e) = p.store.release(id, live.step) {
                warn!(error = %e, "unlocking the session failed (its lock runs out)");
            }
            Settle::Release { reply }
        }
        None => Settle::Refused { live, reply },
    };
    if let Some(live) = shared.table().settle(id, outcome, Instant::now()) {
        shared.finish(live, SessionEnd::Restarted);
    }
}

/// A 503 with `Retry-After`: the client may send the same request again.
fn retry_reply(message: &'static str) -> Reply {
    let mut reply = Reply::error(StatusCode::SERVICE_UNAVAILABLE, message);
    reply
        .headers
        .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
    reply
}

/// A reply as the store keeps it (status and body; its content type
/// follows from them).
fn stored_reply(reply: &Reply) -> StoredReply {
    StoredReply {
        status: reply.status.as_u16(),
        body: reply.body.to_vec(),
    }
}

/// A reply read back from the store.
fn reply_of(stored: StoredReply) -> Reply {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if stored.body.is_empty() {
        None
    } else if status == StatusCode::OK {
        Some(MEDIA_TYPE)
    } else {
        Some("text/plain; charset=utf-8")
    };
    Reply {
        status,
        content_type,
        body: Bytes::from(stored.body),
        headers: Vec::new(),
    }
}

/// The server's state of a session in one blob: the `DeviceState` (length
/// prefixed), the bound dids (count, then 32 bytes each), the application's
/// session.
fn join_state(device: &[u8], bound: &[DeviceId], app: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + device.len() + 32 * bound.len() + app.len());
    out.extend_from_slice(&(device.len() as u32).to_be_bytes());
    out.extend_from_slice(device);
    out.extend_from_slice(&(bound.len() as u32).to_be_bytes());
    for did in bound {
        out.extend_from_slice(did.as_bytes());
    }
    out.extend_from_slice(app);
    out
}

/// The parts of a blob written by [`join_state`].
fn split_state(blob: &[u8]) -> Option<(&[u8], Vec<DeviceId>, &[u8])> {
    fn take(blob: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
        (blob.len() >= n).then(|| blob.split_at(n))
    }
    fn count(blob: &[u8]) -> Option<(usize, &[u8])> {
        let (n, rest) = take(blob, 4)?;
        let n = u32::from_be_bytes(n.try_into().ok()?);
        Some((usize::try_from(n).ok()?, rest))
    }
    let (n, rest) = count(blob)?;
    let (device, rest) = take(rest, n)?;
    let (dids, mut rest) = count(rest)?;
    let mut bound = Vec::with_capacity(dids.min(rest.len() / 32));
    for _ in 0..dids {
        let (did, tail) = take(rest, 32)?;
        bound.push(DeviceId::try_from(did).ok()?);
        rest = tail;
    }
    Some((device, bound, rest))
}

/// Now, in ms since the Unix epoch.
fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A duration in ms.
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_session_blob_round_trips_and_a_damaged_one_is_refused() {
        let did = DeviceId([7; 32]);
        let blob = join_state(b"device", &[did, did], b"app");
        let (device, bound, app) = split_state(&blob).unwrap();
        assert_eq!(device, b"device");
        assert_eq!(bound, [did, did]);
        assert_eq!(app, b"app");
        // Cut anywhere before the app's bytes: refused, never a panic.
        for n in 0..(4 + 6 + 4 + 64) {
            assert!(split_state(&blob[..n]).is_none(), "{n}");
        }
        // Lengths that lie: refused without allocating what they claim.
        let mut lying = blob.clone();
        lying[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(split_state(&lying).is_none());
        let mut lying = blob;
        lying[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(split_state(&lying).is_none());
    }

    #[test]
    fn only_ids_of_the_servers_form_are_looked_up() {
        assert!(is_session_id(&new_session_id().unwrap()));
        let id = "0123456789abcdef0123456789abcdef";
        assert!(is_session_id(id));
        for bad in [
            "",
            "x",
            &id[..31],
            &id.to_uppercase(),
            &format!("{id}0"),
            "g".repeat(32).as_str(),
        ] {
            assert!(!is_session_id(bad), "{bad}");
        }
    }

    #[test]
    fn stored_replies_keep_status_body_and_content_type() {
        let next = Reply {
            status: StatusCode::OK,
            content_type: Some(MEDIA_TYPE),
            body: Bytes::from_static(b"{}"),
            headers: Vec::new(),
        };
        let back = reply_of(stored_reply(&next));
        assert_eq!(
            (back.status, back.content_type),
            (StatusCode::OK, Some(MEDIA_TYPE))
        );
        assert_eq!(back.body, next.body);
        let end = reply_of(StoredReply {
            status: 204,
            body: Vec::new(),
        });
        assert_eq!(
            (end.status, end.content_type),
            (StatusCode::NO_CONTENT, None)
        );
        let junk = reply_of(StoredReply {
            status: 1000,
            body: b"x".to_vec(),
        });
        assert_eq!(junk.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
