//! Soak: the TAM server's memory does not grow with the number of sessions
//! it has served. A counting allocator (this test binary's global
//! allocator) measures the bytes live on the heap after 100 sessions and
//! after 1,000; they must be within a small constant of each other. Each
//! session is a whole exchange (empty POST, GetDeviceState, the TEE's
//! authenticated answer, 204) with a fresh soft TEE, so that nothing on the
//! device side carries over between sessions.
#![allow(unsafe_code)] // the counting allocator forwards to the system allocator

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Duration;

use otrp_core::tam::DeviceState;
use otrp_http::{Input, ServerConfig, SessionEnd, Step, TamApp, TamServer};
use support::*;

/// Counts the bytes live on the heap.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// GetDeviceState, then the end; counts completed sessions and keeps
/// nothing else.
struct Inventory(AtomicUsize);

impl TamApp for Inventory {
    type Session = bool;
    fn connect(&self, _peer: SocketAddr) -> bool {
        false
    }
    fn next(&self, sent: &mut bool, _device: &DeviceState, _input: Input<'_>) -> Step {
        if std::mem::replace(sent, true) {
            Step::End
        } else {
            Step::GetDeviceState
        }
    }
    fn finished(&self, _sent: bool, _device: &DeviceState, end: &SessionEnd) {
        if matches!(end, SessionEnd::Completed) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn one_session(addr: SocketAddr) {
    let dir = TempDir::new("soak");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let first = post(addr, None, b"");
    assert_eq!(first.status, 200);
    let id = first.session_cookie().unwrap();
    let answer = tee.handle(&first.body, now()).unwrap();
    let end = post(addr, Some(&id), &answer);
    assert_eq!(end.status, 204);
}

/// Waits for the duplicate window of the last sessions to pass (their
/// tombstones go) and returns the live heap.
fn settled(server: &TamServer) -> isize {
    assert!(wait_until(Duration::from_secs(10), || server
        .session_count()
        == 0));
    std::thread::sleep(Duration::from_millis(700));
    LIVE.load(Ordering::SeqCst)
}

#[test]
fn memory_after_1000_sessions_is_memory_after_100() {
    let config = ServerConfig {
        duplicate_window: Duration::from_millis(100),
        session_timeout: Duration::from_secs(2),
        ..test_config()
    };
    let app = Arc::new(Inventory(AtomicUsize::new(0)));
    let server = TamServer::start(
        "127.0.0.1:0".parse().unwrap(),
        tam(Kind::Ec),
        app.clone(),
        config,
    )
    .unwrap();
    let addr = server.local_addr();
    for _ in 0..100 {
        one_session(addr);
    }
    let after_100 = settled(&server);
    for _ in 100..1000 {
        one_session(addr);
    }
    let after_1000 = settled(&server);
    assert_eq!(app.0.load(Ordering::SeqCst), 1000);
    let growth = after_1000 - after_100;
    eprintln!(
        "live heap: {after_100} B after 100 sessions, {after_1000} B after 1000 ({growth:+} B)"
    );
    // A leak of even 100 bytes a session would be 90,000 bytes here.
    assert!(
        growth < 32 * 1024,
        "the heap grew by {growth} bytes over 900 sessions"
    );
}
