//! Peak heap of the TEE agent handling an InstallTA with 1 MiB and 16 MiB
//! TA images, measured with a counting global allocator (this binary only,
//! so the allocator does not distort the timed benchmarks). The request
//! bytes are allocated before the measurement starts: the figure is the
//! agent's working memory on top of its input. Two variants: the
//! whole-image TA hooks (`default`) and the streaming TA hook
//! (`streaming`, issue 17). The TEE runs on its real storage, a directory
//! on disk (as `otrp tee` does; a fresh temporary one per case), so the
//! sealed TA it writes is on the disk, not on the heap: the peak is what the
//! TEE holds in memory, measured (`disk_bytes`, what the directory grew by,
//! is given for information).
//!
//! With `OTRP_HEAP_TRACE=1` it also prints, for the 1 MiB case, every
//! block of 64 KiB or more that was live at the peak, with the otrp frames
//! of its allocation's backtrace: where the memory goes
//! (`OTRP_HEAP_TRACE=<bytes>` above 1: every block of at least that many
//! bytes, to find the constant; slow).
//!
//! Results go to stdout and to `<target>/criterion/install_ta_heap/*.json`
//! for `cargo run -p otrp-benches --bin report`.
#![allow(unsafe_code)] // the counting allocator forwards to the system allocator

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

use otrp_benches::install::{SIZES, ciphertadata, image_len};
use otrp_benches::{Kind, Scenario, now, providers};
use otrp_core::message::MessageKind;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);
static TOTAL: AtomicUsize = AtomicUsize::new(0);

/// Blocks of at least this size are traced when tracing is on (64 KiB
/// unless `OTRP_HEAP_TRACE` gives another size).
static LARGE: AtomicUsize = AtomicUsize::new(64 * 1024);
static TRACING: AtomicBool = AtomicBool::new(false);
type Live = Vec<(usize, usize, std::sync::Arc<Backtrace>)>;
/// Live large blocks: (address, size, where allocated).
static LIVE: Mutex<Live> = Mutex::new(Vec::new());
/// The live large blocks at the last peak.
static AT_PEAK: Mutex<Live> = Mutex::new(Vec::new());

thread_local! {
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` unless already inside the tracing hook on this thread (the
/// hook allocates).
fn hook(f: impl FnOnce()) {
    if !TRACING.load(Relaxed) || IN_HOOK.with(Cell::get) {
        return;
    }
    IN_HOOK.with(|h| h.set(true));
    f();
    IN_HOOK.with(|h| h.set(false));
}

fn grow(n: usize, addr: usize) {
    let now = CURRENT.fetch_add(n, Relaxed) + n;
    let new_peak = PEAK.fetch_max(now, Relaxed) < now;
    COUNT.fetch_add(1, Relaxed);
    TOTAL.fetch_add(n, Relaxed);
    if n >= LARGE.load(Relaxed) {
        hook(|| {
            let bt = std::sync::Arc::new(Backtrace::force_capture());
            if let Ok(mut live) = LIVE.lock() {
                live.push((addr, n, bt));
            }
        });
    }
    if new_peak {
        hook(|| {
            if let (Ok(live), Ok(mut at)) = (LIVE.lock(), AT_PEAK.lock()) {
                at.clone_from(&live);
            }
        });
    }
}

fn shrink(n: usize, addr: usize) {
    CURRENT.fetch_sub(n, Relaxed);
    if n >= LARGE.load(Relaxed) {
        hook(|| {
            if let Ok(mut live) = LIVE.lock() {
                live.retain(|(a, _, _)| *a != addr);
            }
        });
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size(), p as usize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size(), p as usize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size(), ptr as usize);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrink(layout.size(), ptr as usize);
            grow(new_size, p as usize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The large blocks live at the peak, biggest first, with their otrp
/// frames.
fn print_peak(peak: usize) {
    let at: Live = AT_PEAK.lock().map(|a| a.clone()).unwrap_or_default();
    let mut rows: Vec<(usize, String)> = at
        .iter()
        .map(|(_, n, bt)| {
            let frames: Vec<String> = bt
                .to_string()
                .lines()
                .filter(|l| l.contains(": otrp_") || l.contains(": <otrp_"))
                .map(|l| l.split(": ").nth(1).unwrap_or(l).trim().to_string())
                .filter(|l| !l.contains("install_ta_heap") && !l.contains("otrp_benches"))
                .take(4)
                .collect();
            (*n, frames.join(" < "))
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let traced: usize = rows.iter().map(|r| r.0).sum();
    println!(
        "live blocks >= {} B at the peak: {traced} of {peak} B",
        LARGE.load(Relaxed)
    );
    for (n, frames) in rows {
        println!("  {n:>9} B  {frames}");
    }
}

fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(Into::into)
        .unwrap_or_else(|| otrp_benches::fixtures::repo_dir().join("target"))
}

/// The bytes of the files in `dir` (the TEE's storage on disk).
fn disk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("storage directory")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let out = target_dir().join("criterion/install_ta_heap");
    std::fs::create_dir_all(&out).expect("output directory");
    for (name, provider) in providers::all() {
        for (size, streaming) in SIZES.into_iter().flat_map(|n| [(n, false), (n, true)]) {
            let s = Scenario::run(Kind::Rsa, provider, size);
            let step = s.step(MessageKind::InstallTa);
            let ta = image_len(&ciphertadata(&s));
            let parts = if streaming {
                s.tee.clone().streaming()
            } else {
                s.tee.clone()
            };
            let dir = tempfile::Builder::new()
                .prefix("otrp-install-ta-heap")
                .tempdir()
                .expect("temporary directory");
            let mut tee = parts.open_on_disk(&step.tee_before, dir.path());
            let disk_before = disk_bytes(dir.path());
            let hooks = if streaming { "streaming" } else { "default" };
            let trace_min = std::env::var("OTRP_HEAP_TRACE").ok();
            if let Some(min) = trace_min.as_deref().and_then(|v| v.parse::<usize>().ok())
                && min > 1
            {
                LARGE.store(min, Relaxed);
            }
            let trace = size == SIZES[0] && trace_min.is_some();
            if let (Ok(mut live), Ok(mut at)) = (LIVE.lock(), AT_PEAK.lock()) {
                live.clear();
                at.clear();
            }
            TRACING.store(trace, Relaxed);
            let base = CURRENT.load(Relaxed);
            PEAK.store(base, Relaxed);
            COUNT.store(0, Relaxed);
            TOTAL.store(0, Relaxed);
            let answer = tee.handle(&step.request, now()).expect("answer");
            TRACING.store(false, Relaxed);
            let peak = PEAK.load(Relaxed) - base;
            if trace {
                print_peak(peak);
            }
            let (count, total) = (COUNT.load(Relaxed), TOTAL.load(Relaxed));
            drop(answer);
            drop(tee);
            let disk = disk_bytes(dir.path()).saturating_sub(disk_before);
            let ratio = peak as f64 / ta as f64;
            println!(
                "install_ta_heap/{name}/{hooks}/{}MiB: TA image {ta} B, request {} B, peak heap {peak} B ({ratio:.2}x the TA), disk +{disk} B, {count} allocations, {total} B allocated in all",
                size >> 20,
                step.request.len()
            );
            let json = serde_json::json!({
                "provider": name,
                "hooks": hooks,
                "size_mib": size >> 20,
                "ta_bytes": ta,
                "request_bytes": step.request.len(),
                "peak_bytes": peak,
                "ratio": ratio,
                "disk_bytes": disk,
                "allocations": count,
                "allocated_bytes": total,
            });
            let file = if streaming {
                format!("{name}-streaming-{}MiB.json", size >> 20)
            } else {
                format!("{name}-{}MiB.json", size >> 20)
            };
            std::fs::write(
                out.join(file),
                serde_json::to_vec_pretty(&json).expect("JSON"),
            )
            .expect("write result");
        }
    }
}
