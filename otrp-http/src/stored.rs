//! Sessions kept outside the server's memory, so that any number of TAM
//! front ends continue each other's HTTP sessions (issue 16, item 1).
//!
//! With a [`SessionStore`] ([`TamServer::start_stateless`](crate::TamServer::start_stateless)),
//! a front end holds a session in memory only while it runs one of its
//! steps. Between steps the session is a row of the store keyed by its
//! cookie: the TAM session's [`DeviceState`](otrp_core::tam::DeviceState)
//! (with the outstanding request's rid/tid), the dids it is bound to, the
//! application's session ([`PersistentApp`]), the digest of the last answer
//! and its reply (duplicate replay), and its expiry. A step *locks* the row
//! for a bounded time ([`SessionStore::take`]) and saves conditionally on
//! the step number ([`SessionStore::save`]): when two front ends get the
//! same message, exactly one runs the step; a front end that dies mid-step
//! leaves a lock that ends by itself.

use std::net::IpAddr;

use zeroize::Zeroize;

use crate::TamApp;

/// A [`TamApp`] whose sessions can be written out and read back by another
/// process (the stateless mode).
pub trait PersistentApp: TamApp {
    /// The session's bytes.
    fn save_session(session: &Self::Session) -> Vec<u8>;
    /// A session written by [`save_session`](PersistentApp::save_session);
    /// `None` when the bytes are not one (the HTTP session is then ended).
    fn load_session(bytes: &[u8]) -> Option<Self::Session>;
}

/// A reply kept for an identical duplicate of the answer it followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReply {
    /// The HTTP status.
    pub status: u16,
    /// The body (the TAM's next request, or an error text).
    pub body: Vec<u8>,
}

/// One HTTP session as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    /// The cookie value (128 random bits, hex).
    pub id: String,
    /// The address that opened the exchange (per-client caps; only it may
    /// restart or abort the session).
    pub peer: IpAddr,
    /// Steps saved so far; every save is conditional on the previous one.
    pub step: i64,
    /// Whether an authenticated answer bound the session to its device
    /// (a bound session is never evicted by admission).
    pub bound: bool,
    /// Whether the session is over: the row is then only a tombstone
    /// answering duplicates of the last answer until `expires_at`.
    pub ended: bool,
    /// The server's state of the session (opaque to the store; empty for
    /// a tombstone). Holds the outstanding request's CEK while a request
    /// is outstanding.
    pub state: Vec<u8>,
    /// SHA-256 of the last answer processed, with its reply.
    pub last: Option<([u8; 32], StoredReply)>,
    /// When the session (or tombstone) expires, ms since the Unix epoch.
    pub expires_at: i64,
}

impl Drop for StoredSession {
    fn drop(&mut self) {
        // The state holds the outstanding request's CEK.
        self.state.zeroize();
    }
}

/// What [`SessionStore::take`] found.
#[derive(Debug)]
pub enum Taken {
    /// The session, now locked for this front end's step.
    Run(StoredSession),
    /// The answer is a duplicate of the last one processed: its reply.
    Replay(StoredReply),
    /// Another front end is running a step of the session.
    Busy,
    /// No such session (never, expired, or ended).
    Unknown,
}

/// What [`SessionStore::open`] did.
#[derive(Debug)]
pub enum Admission {
    /// The new session is stored (locked for its first step); the
    /// client's oldest unbound sessions evicted to make room are returned.
    Admitted(Vec<StoredSession>),
    /// The client holds its cap of sessions, all bound or busy.
    Full,
}

/// The store is unreachable or failed: the front end answers 503 with
/// `Retry-After`, and nothing of the step is kept.
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct SessionStoreError(pub String);

/// Where a stateless server keeps its sessions (a database shared by the
/// front ends). Methods block: the server calls them from blocking
/// threads. Times are ms since the Unix epoch.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores `session` (step 0, locked until `locked_until`), first
    /// evicting the oldest idle unbound session of its peer when the peer
    /// holds `max_per_client` live sessions.
    fn open(
        &self,
        session: &StoredSession,
        max_per_client: usize,
        locked_until: i64,
        now: i64,
    ) -> Result<Admission, SessionStoreError>;

    /// Locks session `id` for a step on the answer of SHA-256 `digest`,
    /// until `locked_until`, when it is live, not locked by a step in
    /// progress and `digest` is not its last answer's.
    fn take(
        &self,
        id: &str,
        digest: &[u8; 32],
        locked_until: i64,
        now: i64,
    ) -> Result<Taken, SessionStoreError>;

    /// Saves the step `session.step` (the row must be at `session.step - 1`)
    /// and unlocks it; `false` when the row moved on meanwhile (this
    /// front end's lock ran out and another took the session).
    fn save(&self, session: &StoredSession) -> Result<bool, SessionStoreError>;

    /// Unlocks session `id` at `step` without changing it (its message was
    /// refused, or the step must be retried).
    fn release(&self, id: &str, step: i64) -> Result<(), SessionStoreError>;

    /// Removes session `id` if `peer` opened it and no step holds it
    /// (the agent restarted its exchange or broke its own session).
    fn end_by(&self, id: &str, peer: IpAddr) -> Result<Option<StoredSession>, SessionStoreError>;

    /// Removes the sessions and tombstones expired at `now` that no step
    /// holds; returns the sessions (not the tombstones), each to exactly
    /// one caller, so that the application hears of each end once.
    fn expire(&self, now: i64) -> Result<Vec<StoredSession>, SessionStoreError>;
}
