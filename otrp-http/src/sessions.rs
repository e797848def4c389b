//! The session table of the TAM server: which HTTP sessions are open, who
//! opened them, which answer each is processing, and the last reply of each
//! (so that an identical duplicate of an answer gets the same reply).
//!
//! The table bounds what one client can hold (issue: "a TAM server no
//! single client can lock out"):
//!
//! - at most `max_per_client` open sessions per peer address; a client over
//!   its cap loses its own oldest idle *unbound* session (one that never
//!   got an authenticated answer), or gets 503 when it has none;
//! - at most `max_sessions` in all; when full, the oldest idle unbound
//!   session of the client holding the most sessions is evicted. A session
//!   bound to a device (an authenticated answer came back) is never evicted
//!   by admission, only by its idle timeout: devices that make progress
//!   cannot be starved by new exchanges;
//! - ended sessions leave a tombstone (the digest of their last answer and
//!   the final reply) for `duplicate_window`, bounded to `max_sessions`
//!   tombstones, so a late duplicate of the last answer is answered the
//!   same way. Nothing else outlives a session: memory does not grow with
//!   the number of sessions served.
//!
//! The table is a plain data structure under the server's mutex; it never
//! calls the application (evicted and expired sessions are returned to the
//! caller, which reports them).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http::header::{HeaderName, HeaderValue};
use tokio::sync::watch;

/// SHA-256 of an agent's message.
pub(crate) type Digest = [u8; 32];

/// An HTTP answer of the server, kept to be sent again for a duplicate.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub content_type: Option<&'static str>,
    pub body: Bytes,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    /// A plain-text error reply.
    pub(crate) fn error(status: StatusCode, message: &'static str) -> Self {
        Reply {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            body: Bytes::from_static(message.as_bytes()),
            headers: Vec::new(),
        }
    }
}

/// Where a reply is published for the request that started the step and
/// for identical duplicates waiting on it.
pub(crate) type ReplySender = watch::Sender<Option<Reply>>;
/// The receiving side of a [`ReplySender`].
pub(crate) type ReplyReceiver = watch::Receiver<Option<Reply>>;

/// The limits of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableLimits {
    pub max_sessions: usize,
    pub max_per_client: usize,
    pub duplicate_window: Duration,
}

enum State<L> {
    /// Waiting for the agent's next message; `last` is the digest of the
    /// answer this state followed and the reply it got.
    Idle {
        live: L,
        last: Option<(Digest, Reply)>,
    },
    /// A step is running (`digest` of its message, `None` for the opening
    /// POST); `prev` is restored if the message is refused.
    Busy {
        digest: Option<Digest>,
        done: ReplySender,
        prev: Option<(Digest, Reply)>,
    },
}

struct Slot<L> {
    peer: IpAddr,
    last_seen: Instant,
    bound: bool,
    state: State<L>,
}

struct Tombstone {
    digest: Digest,
    reply: Reply,
    ended: Instant,
}

/// Why a new exchange was not admitted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Full {
    /// The client holds its cap of sessions, none of them evictable.
    Client,
    /// The table is full of bound or busy sessions.
    Table,
}

/// What to do with an agent's message for a session.
pub(crate) enum Claim<L> {
    /// Process it: the session's state, moved out while the step runs.
    Run(L, ReplyReceiver),
    /// An identical message is being processed: wait for its reply.
    Wait(ReplyReceiver),
    /// An identical message was already answered: send this again.
    Replay(Reply),
    /// Another message is being processed.
    Conflict,
    /// No such session (never, expired, or ended).
    Unknown,
}

/// How a step ended.
pub(crate) enum Settle<L> {
    /// The next request was sent; the session waits for its answer.
    Continue { live: L, reply: Reply, bound: bool },
    /// The message was refused; the session is unchanged and waits on.
    Refused { live: L, reply: Reply },
    /// The session is over.
    End { reply: Reply },
    /// The step is over and the session lives in the session store (the
    /// stateless mode): forget it here, without a tombstone.
    Release { reply: Reply },
}

/// The session table.
pub(crate) struct Table<L> {
    limits: TableLimits,
    slots: HashMap<String, Slot<L>>,
    per_client: HashMap<IpAddr, usize>,
    tombstones: HashMap<String, Tombstone>,
    tombstone_order: VecDeque<String>,
}

impl<L> Table<L> {
    pub(crate) fn new(limits: TableLimits) -> Self {
        Table {
            limits,
            slots: HashMap::new(),
            per_client: HashMap::new(),
            tombstones: HashMap::new(),
            tombstone_order: VecDeque::new(),
        }
    }

    /// Open sessions.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Tombstones kept (ended sessions within the duplicate window).
    #[cfg(test)]
    pub(crate) fn tombstones(&self) -> usize {
        self.tombstones.len()
    }

    /// Sessions `peer` holds.
    pub(crate) fn client_sessions(&self, peer: IpAddr) -> usize {
        self.per_client.get(&peer).copied().unwrap_or(0)
    }

    /// Admits a new exchange `id` from `peer`, busy with its first step.
    /// Returns the sessions evicted to make room, or why there is none.
    #[allow(clippy::type_complexity)]
    pub(crate) fn admit(
        &mut self,
        id: String,
        peer: IpAddr,
        now: Instant,
    ) -> Result<(ReplyReceiver, Vec<L>), Full> {
        let mut evicted = Vec::new();
        if self.client_sessions(peer) >= self.limits.max_per_client {
            match self.oldest_unbound(Some(peer)) {
                Some(victim) => evicted.extend(self.remove(&victim)),
                None => return Err(Full::Client),
            }
        }
        if self.slots.len() >= self.limits.max_sessions {
            let heaviest = self.heaviest_client_with_unbound();
            match heaviest.and_then(|p| self.oldest_unbound(Some(p))) {
                Some(victim) => evicted.extend(self.remove(&victim)),
                None => return Err(Full::Table),
            }
        }
        let (done, receiver) = watch::channel(None);
        self.slots.insert(
            id,
            Slot {
                peer,
                last_seen: now,
                bound: false,
                state: State::Busy {
                    digest: None,
                    done,
                    prev: None,
                },
            },
        );
        *self.per_client.entry(peer).or_insert(0) += 1;
        Ok((receiver, evicted))
    }

    /// Claims session `id` for the message of digest `digest`.
    pub(crate) fn claim(&mut self, id: &str, digest: Digest, now: Instant) -> Claim<L> {
        let Some(slot) = self.slots.get_mut(id) else {
            return match self.tombstones.get(id) {
                Some(t) if t.digest == digest => Claim::Replay(t.reply.clone()),
                _ => Claim::Unknown,
            };
        };
        match &slot.state {
            State::Busy {
                digest: Some(d),
                done,
                ..
            } if *d == digest => return Claim::Wait(done.subscribe()),
            State::Busy { .. } => return Claim::Conflict,
            State::Idle {
                last: Some((d, reply)),
                ..
            } if *d == digest => {
                slot.last_seen = now;
                return Claim::Replay(reply.clone());
            }
            State::Idle { .. } => {}
        }
        let (done, receiver) = watch::channel(None);
        let busy = State::Busy {
            digest: Some(digest),
            done,
            prev: None,
        };
        match std::mem::replace(&mut slot.state, busy) {
            State::Idle { live, last } => {
                if let State::Busy { prev, .. } = &mut slot.state {
                    *prev = last;
                }
                slot.last_seen = now;
                Claim::Run(live, receiver)
            }
            // Checked above: the slot was idle.
            State::Busy { .. } => Claim::Conflict,
        }
    }

    /// Holds session `id` busy with the message of digest `digest` while a
    /// step of a session kept in the session store runs (the stateless
    /// mode); `None` when the table already has the session.
    pub(crate) fn hold(
        &mut self,
        id: String,
        peer: IpAddr,
        digest: Digest,
        now: Instant,
    ) -> Option<ReplyReceiver> {
        if self.slots.contains_key(&id) {
            return None;
        }
        let (done, receiver) = watch::channel(None);
        self.slots.insert(
            id,
            Slot {
                peer,
                last_seen: now,
                bound: true,
                state: State::Busy {
                    digest: Some(digest),
                    done,
                    prev: None,
                },
            },
        );
        *self.per_client.entry(peer).or_insert(0) += 1;
        Some(receiver)
    }

    /// Records how the step of session `id` ended and publishes its reply.
    /// Returns the session's state back when the session is not in the
    /// table any more (it cannot happen: busy sessions are never removed;
    /// the caller then ends it).
    pub(crate) fn settle(&mut self, id: &str, outcome: Settle<L>, now: Instant) -> Option<L> {
        let Some(slot) = self.slots.get_mut(id) else {
            return match outcome {
                Settle::Continue { live, .. } | Settle::Refused { live, .. } => Some(live),
                Settle::End { .. } | Settle::Release { .. } => None,
            };
        };
        if !matches!(slot.state, State::Busy { .. }) {
            // Not busy: nothing to settle (cannot happen).
            return match outcome {
                Settle::Continue { live, .. } | Settle::Refused { live, .. } => Some(live),
                Settle::End { .. } | Settle::Release { .. } => None,
            };
        }
        let placeholder = State::Busy {
            digest: None,
            done: watch::channel(None).0,
            prev: None,
        };
        let State::Busy { digest, done, prev } = std::mem::replace(&mut slot.state, placeholder)
        else {
            return None;
        };
        slot.last_seen = now;
        let reply = match outcome {
            Settle::Continue { live, reply, bound } => {
                slot.bound |= bound;
                slot.state = State::Idle {
                    live,
                    last: digest.map(|d| (d, reply.clone())),
                };
                reply
            }
            Settle::Refused { live, reply } => {
                slot.state = State::Idle { live, last: prev };
                reply
            }
            Settle::End { reply } => {
                self.remove(id);
                if let Some(digest) = digest {
                    self.bury(id.to_string(), digest, reply.clone(), now);
                }
                reply
            }
            Settle::Release { reply } => {
                self.remove(id);
                reply
            }
        };
        done.send_replace(Some(reply));
        None
    }

    /// Removes session `id` if `peer` opened it and it is idle (an agent
    /// restarting its exchange or breaking its own session). Another
    /// client holding the cookie cannot end it.
    pub(crate) fn end_by(&mut self, id: &str, peer: IpAddr) -> Option<L> {
        let slot = self.slots.get(id)?;
        if slot.peer != peer || !matches!(slot.state, State::Idle { .. }) {
            return None;
        }
        self.remove(id)
    }

    /// Ends sessions idle for `timeout` and forgets tombstones older than
    /// the duplicate window.
    pub(crate) fn expire(&mut self, now: Instant, timeout: Duration) -> Vec<L> {
        let ids: Vec<String> = self
            .slots
            .iter()
            .filter(|(_, s)| {
                matches!(s.state, State::Idle { .. })
                    && now.saturating_duration_since(s.last_seen) >= timeout
            })
            .map(|(id, _)| id.clone())
            .collect();
        let expired = ids.iter().filter_map(|id| self.remove(id)).collect();
        let window = self.limits.duplicate_window;
        while let Some(id) = self.tombstone_order.front() {
            let old = self
                .tombstones
                .get(id)
                .is_none_or(|t| now.saturating_duration_since(t.ended) >= window);
            if !old {
                break;
            }
            if let Some(id) = self.tombstone_order.pop_front() {
                self.tombstones.remove(&id);
            }
        }
        self.shrink();
        expired
    }

    /// Removes every idle session (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<L> {
        let ids: Vec<String> = self.slots.keys().cloned().collect();
        ids.iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Removes a slot, whatever its state; returns its state when idle.
    fn remove(&mut self, id: &str) -> Option<L> {
        let slot = self.slots.remove(id)?;
        if let Some(n) = self.per_client.get_mut(&slot.peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_client.remove(&slot.peer);
            }
        }
        match slot.state {
            State::Idle { live, .. } => Some(live),
            State::Busy { .. } => None,
        }
    }

    fn bury(&mut self, id: String, digest: Digest, reply: Reply, now: Instant) {
        while self.tombstones.len() >= self.limits.max_sessions {
            match self.tombstone_order.pop_front() {
                Some(old) => {
                    self.tombstones.remove(&old);
                }
                None => break,
            }
        }
        self.tombstone_order.push_back(id.clone());
        self.tombstones.insert(
            id,
            Tombstone {
                digest,
                reply,
                ended: now,
            },
        );
    }

    /// The oldest idle session never bound to a device, of `peer` (or of
    /// anyone).
    fn oldest_unbound(&self, peer: Option<IpAddr>) -> Option<String> {
        self.slots
            .iter()
            .filter(|(_, s)| {
                !s.bound
                    && matches!(s.state, State::Idle { .. })
                    && peer.is_none_or(|p| s.peer == p)
            })
            .min_by_key(|(_, s)| s.last_seen)
            .map(|(id, _)| id.clone())
    }

    /// The client holding the most sessions among those with an evictable
    /// one: the one that pays when the table is full.
    fn heaviest_client_with_unbound(&self) -> Option<IpAddr> {
        let mut evictable: HashMap<IpAddr, ()> = HashMap::new();
        for s in self.slots.values() {
            if !s.bound && matches!(s.state, State::Idle { .. }) {
                evictable.insert(s.peer, ());
            }
        }
        evictable
            .keys()
            .max_by_key(|p| self.client_sessions(**p))
            .copied()
    }

    /// Gives memory back after a burst (a hash map keeps its largest
    /// capacity otherwise).
    fn shrink(&mut self) {
        fn shrink_map<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
            if map.capacity() > 64 && map.len() * 4 < map.capacity() {
                map.shrink_to(map.len() * 2);
            }
        }
        shrink_map(&mut self.slots);
        shrink_map(&mut self.per_client);
        shrink_map(&mut self.tombstones);
        if self.tombstone_order.capacity() > 64
            && self.tombstone_order.len() * 4 < self.tombstone_order.capacity()
        {
            self.tombstone_order
                .shrink_to(self.tombstone_order.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    fn ip(b: [u8; 4]) -> IpAddr {
        IpAddr::from(b)
    }

    fn limits(max_sessions: usize, max_per_client: usize) -> TableLimits {
        TableLimits {
            max_sessions,
            max_per_client,
            duplicate_window: Duration::from_secs(5),
        }
    }

    fn ok() -> Reply {
        Reply::error(StatusCode::OK, "next")
    }

    /// Admits `id` and settles its first step (idle, bound or not).
    fn open(t: &mut Table<u32>, id: &str, peer: IpAddr, live: u32, bound: bool) -> Vec<u32> {
        let now = Instant::now();
        let (_, evicted) = t.admit(id.into(), peer, now).unwrap();
        let reply = ok();
        assert!(
            t.settle(id, Settle::Continue { live, reply, bound }, now)
                .is_none()
        );
        evicted
    }

    #[test]
    fn a_client_over_its_cap_evicts_its_own_oldest_unbound_session() {
        let mut t = Table::new(limits(100, 2));
        open(&mut t, "a1", ip(A), 1, false);
        open(&mut t, "b1", ip(B), 2, false);
        open(&mut t, "a2", ip(A), 3, false);
        assert_eq!(open(&mut t, "a3", ip(A), 4, false), [1]);
        assert_eq!(t.client_sessions(ip(A)), 2);
        assert_eq!(t.client_sessions(ip(B)), 1);
        // Bound sessions are not evicted: the client gets refused instead.
        let mut t = Table::new(limits(100, 1));
        open(&mut t, "a1", ip(A), 1, true);
        assert_eq!(
            t.admit("a2".into(), ip(A), Instant::now()).err(),
            Some(Full::Client)
        );
    }

    #[test]
    fn a_full_table_evicts_from_the_heaviest_client_and_never_a_bound_session() {
        let mut t = Table::new(limits(4, 10));
        open(&mut t, "b1", ip(B), 1, false);
        open(&mut t, "a1", ip(A), 2, false);
        open(&mut t, "a2", ip(A), 3, false);
        open(&mut t, "a3", ip(A), 4, false);
        // B's session is older, but A holds the most.
        assert_eq!(open(&mut t, "b2", ip(B), 5, false), [2]);
        assert_eq!(t.len(), 4);
        // Only bound sessions: nothing to evict.
        let mut t = Table::new(limits(2, 10));
        open(&mut t, "a1", ip(A), 1, true);
        open(&mut t, "b1", ip(B), 2, true);
        assert_eq!(
            t.admit("c".into(), ip(A), Instant::now()).err(),
            Some(Full::Table)
        );
    }

    #[test]
    fn duplicates_wait_or_replay_and_other_messages_conflict() {
        let mut t = Table::new(limits(4, 4));
        open(&mut t, "s", ip(A), 7, false);
        let now = Instant::now();
        let Claim::Run(live, rx) = t.claim("s", [1; 32], now) else {
            panic!("not run")
        };
        assert_eq!(live, 7);
        let Claim::Wait(mut dup) = t.claim("s", [1; 32], now) else {
            panic!("not wait")
        };
        assert!(matches!(t.claim("s", [2; 32], now), Claim::Conflict));
        let reply = Reply::error(StatusCode::OK, "second request");
        t.settle(
            "s",
            Settle::Continue {
                live: 8,
                reply,
                bound: true,
            },
            now,
        );
        for r in [rx.borrow().clone(), dup.borrow_and_update().clone()] {
            assert_eq!(r.unwrap().body, "second request");
        }
        let Claim::Replay(again) = t.claim("s", [1; 32], now) else {
            panic!("not replayed")
        };
        assert_eq!(again.body, "second request");
        // A refused message restores the previous last answer.
        let Claim::Run(live, _) = t.claim("s", [3; 32], now) else {
            panic!("not run")
        };
        let reply = Reply::error(StatusCode::BAD_REQUEST, "refused");
        t.settle("s", Settle::Refused { live, reply }, now);
        assert!(matches!(t.claim("s", [1; 32], now), Claim::Replay(_)));
        // The end leaves a tombstone for the last answer only.
        let Claim::Run(_, _) = t.claim("s", [4; 32], now) else {
            panic!("not run")
        };
        let reply = Reply::error(StatusCode::NO_CONTENT, "");
        t.settle("s", Settle::End { reply }, now);
        assert_eq!(t.len(), 0);
        assert!(matches!(t.claim("s", [4; 32], now), Claim::Replay(r) if r.status == 204));
        assert!(matches!(t.claim("s", [1; 32], now), Claim::Unknown));
        // Tombstones go after the window.
        t.expire(now + Duration::from_secs(6), Duration::from_secs(60));
        assert_eq!(t.tombstones(), 0);
        assert!(matches!(t.claim("s", [4; 32], now), Claim::Unknown));
    }

    #[test]
    fn only_the_opening_client_ends_an_idle_session() {
        let mut t = Table::new(limits(4, 4));
        open(&mut t, "s", ip(A), 1, false);
        assert_eq!(t.end_by("s", ip(B)), None);
        assert_eq!(t.end_by("s", ip(A)), Some(1));
        assert_eq!(t.len(), 0);
        assert_eq!(t.client_sessions(ip(A)), 0);
    }

    #[test]
    fn tombstones_are_bounded() {
        let mut t = Table::new(limits(3, 10));
        let now = Instant::now();
        for i in 0..10u8 {
            let id = format!("s{i}");
            open(&mut t, &id, ip(A), 0, false);
            let Claim::Run(_, _) = t.claim(&id, [i; 32], now) else {
                panic!()
            };
            let reply = Reply::error(StatusCode::NO_CONTENT, "");
            t.settle(&id, Settle::End { reply }, now);
        }
        assert_eq!(t.tombstones(), 3);
        assert_eq!(t.len(), 0);
    }
}
