//! The server's logs: one `tam_session` span per device session, carrying
//! the peer and, once the session is bound, the device's `did`; within it
//! an event per request sent with its message ids (`rid`, `tid`), and the
//! end. A recording subscriber (this test binary's global default) checks
//! them after a whole lifecycle over loopback.

mod support;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use otrp_http::Agent;
use support::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type Fields = HashMap<String, String>;

#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, (String, Fields)>>,
    /// (message, fields, the span it happened in)
    events: Mutex<Vec<(String, Fields, Option<u64>)>>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = Fields::new();
        attrs.record(&mut Collect(&mut fields));
        self.spans
            .lock()
            .unwrap()
            .insert(id, (attrs.metadata().name().to_string(), fields));
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some((_, fields)) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Collect(fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Collect(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let span = match event.parent() {
            Some(id) => Some(id.into_u64()),
            None if event.is_contextual() => CURRENT.with(|c| c.borrow().last().copied()),
            None => None,
        };
        self.events.lock().unwrap().push((message, fields, span));
    }
    fn enter(&self, span: &Id) {
        CURRENT.with(|c| c.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, span: &Id) {
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if let Some(pos) = c.iter().rposition(|s| *s == span.into_u64()) {
                c.remove(pos);
            }
        });
    }
}

static RECORDER: std::sync::OnceLock<&'static Recorder> = std::sync::OnceLock::new();

#[test]
fn a_span_per_session_with_the_did_and_the_message_ids() {
    let recorder: &'static Recorder = RECORDER.get_or_init(|| Box::leak(Box::default()));
    tracing::subscriber::set_global_default(Forward(recorder)).unwrap();

    let app = Scripted::new(lifecycle(Kind::Ec));
    let server = start(Kind::Ec, app.clone(), test_config());
    let dir = TempDir::new("tracing");
    let mut device = Device::new(Kind::Ec, dir.path());
    let report = Agent::new(&server.url())
        .unwrap()
        .run_blocking(&mut device)
        .unwrap();
    assert!(report.ended_by_tam);
    server.shutdown();

    let spans = recorder.spans.lock().unwrap();
    let sessions: Vec<(&u64, &Fields)> = spans
        .iter()
        .filter(|(_, (name, _))| name == "tam_session")
        .map(|(id, (_, f))| (id, f))
        .collect();
    assert_eq!(sessions.len(), 1, "{spans:?}");
    let (session_id, fields) = sessions[0];
    assert!(fields["peer"].starts_with("127.0.0.1:"), "{fields:?}");
    assert_eq!(fields["session"].len(), 8);
    assert!(fields["did"].starts_with("DeviceId("), "{fields:?}");

    let events = recorder.events.lock().unwrap();
    let in_session: Vec<&(String, Fields, Option<u64>)> = events
        .iter()
        .filter(|(_, _, span)| *span == Some(*session_id))
        .collect();
    let requests: Vec<&Fields> = in_session
        .iter()
        .filter(|(m, _, _)| m == "request sent")
        .map(|(_, f, _)| f)
        .collect();
    assert_eq!(requests.len(), LIFECYCLE_KINDS.len(), "{in_session:#?}");
    let mut rids: Vec<&String> = requests.iter().map(|f| &f["rid"]).collect();
    rids.sort();
    rids.dedup();
    assert_eq!(rids.len(), LIFECYCLE_KINDS.len());
    assert!(requests.iter().all(|f| f["tid"].len() == 32));
    assert_eq!(requests[0]["kind"], "GetDeviceState");
    let messages: Vec<&str> = in_session.iter().map(|(m, _, _)| m.as_str()).collect();
    assert!(messages.contains(&"session bound to the device"));
    assert_eq!(
        in_session
            .iter()
            .find(|(m, _, _)| m == "session ended")
            .map(|(_, f, _)| f["end"].as_str()),
        Some("completed")
    );
    // The agent's side: one span, a round trip event per POST.
    assert!(spans.values().any(|(name, _)| name == "otrp_agent"));
    assert_eq!(
        events.iter().filter(|(m, _, _)| m == "round trip").count(),
        report.exchanges.len()
    );
}

/// The global subscriber, forwarding to the leaked recorder.
struct Forward(&'static Recorder);

impl Subscriber for Forward {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        self.0.enabled(m)
    }
    fn new_span(&self, a: &Attributes<'_>) -> Id {
        self.0.new_span(a)
    }
    fn record(&self, s: &Id, v: &Record<'_>) {
        self.0.record(s, v)
    }
    fn record_follows_from(&self, a: &Id, b: &Id) {
        self.0.record_follows_from(a, b)
    }
    fn event(&self, e: &Event<'_>) {
        self.0.event(e)
    }
    fn enter(&self, s: &Id) {
        self.0.enter(s)
    }
    fn exit(&self, s: &Id) {
        self.0.exit(s)
    }
}
