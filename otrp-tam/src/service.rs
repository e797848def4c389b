//! The reconciler as a TAM application of the OTrP/HTTP server (issue 15,
//! item 3): each device session starts with GetDeviceState; after every
//! answer the device's inventory, the policy, the catalog and its
//! high-water marks give the plan ([`crate::plan::plan`]), and the first
//! command of the plan is sent. One device session at a time: a command is
//! *claimed* in the device's row (conditionally on its revision) before it
//! is sent, and no other session acts on the device while the claim's lease
//! runs.
//!
//! Nothing of a session lives only in memory but the session's own
//! bookkeeping (its id, the did, the revision it saved, the command it
//! claimed): a TAM that dies at any point loses nothing the next session
//! needs, since that session plans from the device's DSI.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use otrp_core::tam::{Command, DeviceState, Event, TeeResult};
use otrp_http::{Input, PersistentApp, SessionEnd, SessionStore, Step, TamApp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::inventory::{Inventory, did_text};
use crate::metrics::Metrics;
use crate::plan::{Action, DOWNGRADE_REFUSED, plan};
use crate::store::{Claim, Snapshot, SqlSessionStore, StepOutcome, StepWrite, Store};

/// Options of a [`TamService`].
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// How long a claimed command keeps other sessions off the device (the
    /// longest a device may take to answer; match the HTTP session timeout).
    pub lease: Duration,
    /// Commands in one session at most.
    pub max_commands: usize,
    /// The service's clock.
    pub clock: Clock,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            lease: Duration::from_secs(60),
            max_commands: 64,
            clock: Clock::system(),
        }
    }
}

/// What a [`Note`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// The device's answer to one TAM message (one note per answer).
    Answer,
    /// Where the session leaves the device (compliant or why not), or why
    /// it stopped early.
    Summary,
    /// The session is over (the last note of a session).
    End,
}

/// What the service tells its embedder about a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The HTTP peer.
    pub peer: SocketAddr,
    /// The session's id.
    pub session: String,
    /// The device, once known.
    pub did: Option<String>,
    /// What the note is about.
    pub kind: NoteKind,
    /// What happened.
    pub text: String,
    /// Whether it went as planned.
    pub ok: bool,
}

/// Receives the service's [`Note`]s.
pub type Observer = Arc<dyn Fn(&Note) + Send + Sync>;

/// The reconciler over a [`Store`]: a [`TamApp`] for
/// [`otrp_http::TamServer`].
pub struct TamService {
    store: Store,
    /// Runs the store's futures (`Handle::block_on` from the HTTP server's
    /// blocking threads).
    handle: tokio::runtime::Handle,
    /// Owned here, shut down without blocking on drop (the last reference
    /// may go away on an async thread).
    runtime: Option<tokio::runtime::Runtime>,
    config: ServiceConfig,
    observer: Option<Observer>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for TamService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TamService").finish_non_exhaustive()
    }
}

/// One device session. Serializable: a stateless front end keeps it in
/// the database between steps ([`PersistentApp`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct ServiceSession {
    id: String,
    peer: SocketAddr,
    did: Option<String>,
    tee: Option<String>,
    /// The command sent and not yet answered.
    claim: Option<Action>,
    /// The device revision this session saved last (`None` until its first
    /// step, and after it found the device changed by another session).
    expected: Option<i64>,
    commands: usize,
    failed: bool,
    /// When the session opened, in Unix milliseconds of the front end that
    /// opened it (the session duration metric; wall clock, since the
    /// session may end on another front end).
    started_ms: i64,
}

/// What the last answer brought.
enum Outcome<'a> {
    /// GetDeviceState answered.
    State,
    /// The claimed command succeeded.
    Applied,
    /// The claimed command failed (the TEE's error code, or the broker's).
    Failed(&'a str, Option<&'a str>),
}

/// A step's decision.
#[derive(Debug)]
enum Decision {
    Send(Action),
    /// Another session changed the device since this one's last step: read
    /// its state again before planning.
    Resync,
    Done {
        compliant: bool,
        reasons: Vec<String>,
    },
    Busy(Action),
    Stop(String),
}

impl TamService {
    /// The service on the database at `url` (migrated on open).
    pub fn open(url: &str, config: ServiceConfig) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otrp-tam-store")
            .enable_all()
            .build()
            .map_err(|e| Error::Database(format!("runtime: {e}")))?;
        let store = runtime.block_on(Store::open(url))?;
        Ok(TamService {
            store,
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            config,
            observer: None,
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// Tells `observer` about every message.
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The service's counters (`GET /metrics` on the admin listener).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The HTTP sessions in the store, for
    /// [`TamServer::start_stateless`](otrp_http::TamServer::start_stateless):
    /// front ends on one database continue each other's sessions.
    pub fn session_store(&self) -> Arc<dyn SessionStore> {
        Arc::new(SqlSessionStore::new(
            self.store.clone(),
            self.handle.clone(),
        ))
    }

    /// Runs a store operation to completion (from synchronous code, not
    /// from an async task).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }

    /// The runtime the store runs on (to spawn the admin API on).
    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    fn note(&self, s: &ServiceSession, kind: NoteKind, text: String, ok: bool) {
        if let Some(o) = &self.observer {
            o(&Note {
                peer: s.peer,
                session: s.id.clone(),
                did: s.did.clone(),
                kind,
                text,
                ok,
            });
        }
    }

    /// Records what the device's answer brought and claims the next command.
    fn step(&self, s: &mut ServiceSession, device: &DeviceState, outcome: Outcome<'_>) -> Step {
        let (Some(did), Some(tee)) = (s.did.clone(), s.tee.clone()) else {
            return Step::End;
        };
        let Some(known) = device.tee(&tee) else {
            return Step::End;
        };
        if known.stale {
            // A "pass" without DSI: learn the state again before planning.
            return Step::GetDeviceState;
        }
        let inventory = Inventory::from_dsi(known.dsi.dsi());
        let state = device.to_bytes();
        let now = self.config.clock.now_ms();
        let lease = self.config.lease.as_millis() as i64;
        let claimed = s.claim.take();
        let at_start = matches!(outcome, Outcome::State);
        let step_started = Instant::now();
        let result = self
            .handle
            .block_on(self.store.device_step(&did, now, |snap| {
                decide(
                    snap,
                    &did,
                    &s.id,
                    &tee,
                    &state,
                    &inventory,
                    claimed.as_ref(),
                    &outcome,
                    at_start,
                    s.expected,
                    now + lease,
                )
            }));
        if result.is_err() {
            // A database failure, or a conflict still lost after the retries.
            self.metrics.database_error();
        }
        if !matches!(result, Ok((Decision::Send(_), _))) {
            // A Send step is timed once its command is built, below.
            self.metrics.step(step_started.elapsed());
        }
        if let Ok((decision, revision)) = &result
            && !matches!(decision, Decision::Busy(_))
        {
            s.expected = Some(*revision);
        }
        match result {
            Err(Error::Database(e)) => {
                // Nothing of the step was saved: the agent sends the same
                // answer again once the database is back.
                s.claim = claimed;
                self.note(
                    s,
                    NoteKind::Summary,
                    format!("store unavailable: {e}"),
                    false,
                );
                Step::Retry
            }
            Err(e) => {
                s.failed = true;
                self.note(s, NoteKind::Summary, format!("store: {e}"), false);
                Step::End
            }
            Ok((Decision::Resync, _)) => {
                s.expected = None;
                s.commands += 1;
                if s.commands > self.config.max_commands {
                    s.failed = true;
                    let text = "the device keeps changing under this session".to_string();
                    self.note(s, NoteKind::Summary, text, false);
                    return Step::End;
                }
                let text = "another session changed the device: reading its state again";
                self.note(s, NoteKind::Summary, text.into(), true);
                Step::GetDeviceState
            }
            Ok((Decision::Busy(action), _)) => {
                self.note(
                    s,
                    NoteKind::Summary,
                    format!("device busy: another session is sending {action}"),
                    false,
                );
                Step::End
            }
            Ok((Decision::Stop(why), _)) => {
                s.failed = true;
                self.note(s, NoteKind::Summary, why, false);
                Step::End
            }
            Ok((Decision::Done { compliant, reasons }, _)) => {
                let text = if compliant {
                    "compliant with the policy".to_string()
                } else {
                    format!("not compliant: {}", reasons.join("; "))
                };
                self.note(s, NoteKind::Summary, text, compliant);
                Step::End
            }
            Ok((Decision::Send(action), _)) => {
                if s.commands >= self.config.max_commands {
                    s.failed = true;
                    s.claim = Some(action);
                    self.note(
                        s,
                        NoteKind::Summary,
                        "too many commands in one session".into(),
                        false,
                    );
                    return Step::End;
                }
                let built = self.handle.block_on(self.command(&action));
                self.metrics.step(step_started.elapsed());
                match built {
                    Ok(command) => {
                        s.commands += 1;
                        s.claim = Some(action);
                        Step::Command { tee, command }
                    }
                    Err(e) => {
                        if matches!(e, crate::Error::Database(_)) {
                            self.metrics.database_error();
                        }
                        // finished() releases the claim.
                        s.claim = Some(action);
                        s.failed = true;
                        self.note(
                            s,
                            NoteKind::Summary,
                            format!("cannot build the command: {e}"),
                            false,
                        );
                        Step::End
                    }
                }
            }
        }
    }

    /// The protocol command of a planned action.
    async fn command(&self, action: &Action) -> Result<Command> {
        Ok(match action.clone() {
            Action::CreateSd { spid, sdname } => Command::CreateSd {
                spcert: self.store.sp_cert(&spid).await?,
                spid,
                sdname,
            },
            Action::InstallTa {
                spid,
                sdname,
                taid,
                version,
            } => Command::InstallTa {
                ta: self.store.image(&taid, version).await?.0,
                spid,
                sdname,
                taid,
                spcert: None,
                pdata: None,
            },
            Action::UpdateTa {
                spid,
                sdname,
                taid,
                version,
                ..
            } => Command::UpdateTa {
                ta: Some(self.store.image(&taid, version).await?.0),
                spid,
                sdname,
                taid,
                spcert: None,
                pdata: None,
            },
            Action::DeleteTa { sdname, taid } => Command::DeleteTa { sdname, taid },
            Action::DeleteSd { sdname, .. } => Command::DeleteSd {
                sdname,
                deleteta: false,
            },
        })
    }
}

impl Drop for TamService {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The decision of one step, inside the store's transaction.
#[allow(clippy::too_many_arguments)]
fn decide(
    snap: &Snapshot,
    did: &str,
    session: &str,
    tee: &str,
    state: &[u8],
    inventory: &Inventory,
    claimed: Option<&Action>,
    outcome: &Outcome<'_>,
    at_start: bool,
    expected: Option<i64>,
    lease_until: i64,
) -> Result<StepOutcome<Decision>> {
    let mut audit = Vec::new();
    if let Some(row) = &snap.device
        && let Some(c) = &row.claim
        && c.session != session
    {
        if c.until > snap.now {
            return Ok(StepOutcome::Skip(Decision::Busy(c.action.clone())));
        }
        // A session that ended without telling (its front end
        // died): the DSI shows whether its command was applied.
        audit.push((
            "command.unanswered",
            json!({ "command": c.action, "session": c.session }),
        ));
    }
    // What the answer says about the claimed command.
    let mut marks: Vec<(String, u64)> = inventory
        .versions()
        .map(|(t, v)| (t.to_string(), v))
        .collect();
    let mut last_error = None;
    if let Some(action) = claimed {
        match outcome {
            Outcome::Applied => {
                audit.push(("command", json!({ "command": action, "result": "ok" })));
                if let Action::InstallTa { taid, version, .. }
                | Action::UpdateTa { taid, version, .. } = action
                {
                    marks.push((taid.clone(), *version));
                }
            }
            Outcome::Failed(code, message) => {
                audit.push((
                    "command",
                    json!({ "command": action, "result": code, "message": message }),
                ));
                last_error = Some(format!("{action}: refused by the device ({code})"));
            }
            Outcome::State => {}
        }
    }
    if let (Some(expected), Some(row)) = (expected, &snap.device)
        && row.revision != expected
    {
        // Another session stepped on this device since this one's last
        // step: this answer's DSI may be older than what it did. Record
        // the outcome, keep the row as it is, and read the device again.
        return Ok(StepOutcome::Write(
            Box::new(StepWrite {
                tee: row.tee.clone(),
                state: row.state.clone(),
                inventory: row.inventory.clone(),
                last_error: row.last_error.clone(),
                claim: row.claim.clone(),
                marks,
                audit,
            }),
            Decision::Resync,
        ));
    }
    let mut all_marks = snap.marks.clone();
    for (taid, v) in &marks {
        let m = all_marks.entry(taid.clone()).or_insert(*v);
        *m = (*m).max(*v);
    }
    let p = plan(did, inventory, &snap.policy, &snap.catalog, &all_marks);
    if at_start {
        for r in p.refusals.iter().filter(|r| r.contains(DOWNGRADE_REFUSED)) {
            audit.push(("downgrade.refused", json!({ "reason": r })));
        }
    }
    let next = p.actions.first().cloned();
    let decision = match (&last_error, next) {
        (Some(e), _) => Decision::Stop(e.clone()),
        (None, Some(a)) if Some(&a) == claimed && matches!(outcome, Outcome::Applied) => {
            last_error = Some(format!(
                "{a}: applied but the device's state did not change"
            ));
            Decision::Stop(last_error.clone().unwrap_or_default())
        }
        (None, Some(a)) => Decision::Send(a),
        (None, None) => Decision::Done {
            compliant: p.is_compliant(),
            reasons: p.refusals.clone(),
        },
    };
    let claim = match &decision {
        Decision::Send(a) => Some(Claim {
            action: a.clone(),
            session: session.to_string(),
            until: lease_until,
        }),
        _ => None,
    };
    Ok(StepOutcome::Write(
        Box::new(StepWrite {
            tee: tee.to_string(),
            state: state.to_vec(),
            inventory: inventory.clone(),
            last_error,
            claim,
            marks,
            audit,
        }),
        decision,
    ))
}

impl TamApp for TamService {
    type Session = ServiceSession;

    fn connect(&self, peer: SocketAddr) -> ServiceSession {
        self.metrics.session_started();
        let mut id = [0u8; 16];
        let _ = getrandom::fill(&mut id);
        ServiceSession {
            id: crate::audit::hex(&id),
            peer,
            did: None,
            tee: None,
            claim: None,
            expected: None,
            commands: 0,
            failed: false,
            started_ms: crate::clock::unix_ms(),
        }
    }

    fn next(&self, s: &mut ServiceSession, device: &DeviceState, input: Input<'_>) -> Step {
        let event = match input {
            Input::Connected => return Step::GetDeviceState,
            Input::Event(e) => e,
        };
        match event {
            Event::DeviceState(results) => {
                let accepted = results.iter().find_map(|r| match r {
                    TeeResult::Accepted { name, did, .. } => Some((name.clone(), did_text(did))),
                    _ => None,
                });
                let Some((name, did)) = accepted else {
                    s.failed = true;
                    self.note(
                        s,
                        NoteKind::Answer,
                        format!("no TEE accepted: {}", refusals(results)),
                        false,
                    );
                    return Step::End;
                };
                if s.did.as_ref().is_some_and(|d| *d != did) {
                    s.failed = true;
                    let text = "the device changed within the session".to_string();
                    self.note(s, NoteKind::Answer, text, false);
                    return Step::End;
                }
                self.note(
                    s,
                    NoteKind::Answer,
                    format!("TEE {name} accepted, DSI decrypted"),
                    true,
                );
                s.did = Some(did);
                s.tee = Some(name);
                self.step(s, device, Outcome::State)
            }
            Event::Success { .. } => {
                if let Some(a) = &s.claim {
                    self.metrics.command(a.name(), "ok");
                }
                let text = s
                    .claim
                    .as_ref()
                    .map_or("done".into(), |a| format!("{a}: done"));
                self.note(s, NoteKind::Answer, text, true);
                self.step(s, device, Outcome::Applied)
            }
            Event::TeeFailure(f) => {
                let code = f.code.as_str().to_string();
                if let Some(a) = &s.claim {
                    self.metrics.command(a.name(), &code);
                }
                let text = match &s.claim {
                    Some(a) => format!("{a}: refused by the TEE ({code})"),
                    None => format!("refused by the TEE ({code})"),
                };
                self.note(s, NoteKind::Answer, text, false);
                self.step(s, device, Outcome::Failed(&code, f.message.as_deref()))
            }
            Event::BrokerError(e) => {
                let code = format!("broker {}", e.errcode.as_str());
                if let Some(a) = &s.claim {
                    self.metrics.command(a.name(), &code);
                }
                self.note(
                    s,
                    NoteKind::Answer,
                    format!("OTrP Broker error {code}"),
                    false,
                );
                self.step(s, device, Outcome::Failed(&code, None))
            }
            other => {
                s.failed = true;
                let text = format!("unexpected answer: {}", event_name(other));
                self.note(s, NoteKind::Answer, text, false);
                Step::End
            }
        }
    }

    fn finished(&self, s: ServiceSession, _device: &DeviceState, end: &SessionEnd) {
        let how = end.to_string();
        let (Some(did), Some(action)) = (s.did.clone(), s.claim.clone()) else {
            let ok = matches!(end, SessionEnd::Completed) && !s.failed;
            self.metrics.session_ended(ok, session_age(&s));
            self.note(&s, NoteKind::End, how, ok);
            return;
        };
        self.metrics.command(action.name(), "unanswered");
        self.metrics.session_ended(false, session_age(&s));
        // The claimed command's answer never came: release the device. The
        // next session's DSI shows whether the command was applied.
        let now = self.config.clock.now_ms();
        let released = self
            .handle
            .block_on(self.store.device_step(&did, now, |snap| {
                let Some(row) = &snap.device else {
                    return Ok(StepOutcome::Skip(()));
                };
                if row.claim.as_ref().is_none_or(|c| c.session != s.id) {
                    return Ok(StepOutcome::Skip(()));
                }
                Ok(StepOutcome::Write(
                    Box::new(StepWrite {
                        tee: row.tee.clone(),
                        state: row.state.clone(),
                        inventory: row.inventory.clone(),
                        last_error: Some(format!("{action}: no answer ({how})")),
                        claim: None,
                        marks: Vec::new(),
                        audit: vec![(
                            "command.unanswered",
                            json!({ "command": action, "session": s.id, "end": how }),
                        )],
                    }),
                    (),
                ))
            }));
        let text = match released {
            Ok(_) => format!("{how} before {action} was answered"),
            Err(e) => {
                self.metrics.database_error();
                format!("{how} before {action} was answered; releasing the device failed: {e}")
            }
        };
        self.note(&s, NoteKind::End, text, false);
    }
}

impl PersistentApp for TamService {
    fn save_session(session: &ServiceSession) -> Vec<u8> {
        serde_json::to_vec(session).unwrap_or_default()
    }

    fn load_session(bytes: &[u8]) -> Option<ServiceSession> {
        serde_json::from_slice(bytes).ok()
    }
}

/// How long `s` has been open, by the wall clock (zero if the clocks of
/// two front ends disagree the wrong way).
fn session_age(s: &ServiceSession) -> Duration {
    let ms = crate::clock::unix_ms().saturating_sub(s.started_ms);
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// What each TEE of a GetDeviceState answer said, in words (no TEE was
/// accepted).
fn refusals(results: &[TeeResult]) -> String {
    let each: Vec<String> = results
        .iter()
        .map(|r| match r {
            TeeResult::Accepted { name, .. } => format!("TEE {name} accepted"),
            TeeResult::NotAccepted { name, reason } => {
                format!("TEE {name} not accepted ({reason})")
            }
            TeeResult::Failed(f) => match &f.message {
                Some(m) => format!("refused by the TEE ({}: {m})", f.code.as_str()),
                None => format!("refused by the TEE ({})", f.code.as_str()),
            },
        })
        .collect();
    if each.is_empty() {
        "the answer named no TEE".to_string()
    } else {
        each.join("; ")
    }
}

/// The name of an answer this service does not act on.
fn event_name(event: &Event) -> &'static str {
    match event {
        Event::DeviceState(_) => "a GetDeviceState answer",
        Event::Success { .. } => "a success",
        Event::TeeFailure(_) => "a TEE failure",
        Event::BrokerError(_) => "an OTrP Broker error",
        Event::Resend { .. } => "a resend the server should have made",
        _ => "an answer of a kind this service does not know",
    }
}

#[cfg(test)]
mod words {
    use super::*;
    use otrp_core::message::{ErrorCode, MessageKind};
    use otrp_core::tam::TeeFailure;

    #[test]
    fn refusals_and_session_ends_are_told_in_words() {
        let failed = TeeResult::Failed(TeeFailure {
            kind: MessageKind::GetDeviceState,
            code: ErrorCode::TamNotTrusted,
            message: Some("x5c".into()),
            supportedsigalgs: None,
            authenticated: false,
        });
        let refused = TeeResult::NotAccepted {
            name: "tee1".into(),
            reason: "firmware".into(),
        };
        let text = refusals(&[failed, refused]);
        assert_eq!(
            text,
            "refused by the TEE (ERR_TAM_NOT_TRUSTED: x5c); TEE tee1 not accepted (firmware)"
        );
        assert_eq!(refusals(&[]), "the answer named no TEE");
        for (end, words) in [
            (SessionEnd::Completed, "completed"),
            (
                SessionEnd::Expired,
                "expired: the agent sent nothing within the session timeout",
            ),
            (SessionEnd::Panicked, "failed: the TAM application panicked"),
            (SessionEnd::Shutdown, "closed: the server shut down"),
        ] {
            assert_eq!(end.to_string(), words);
        }
    }
}
