//! Peak heap of the TEE agent handling an InstallTA with 1 MiB and 16 MiB
//! TA images, measured with a counting global allocator (this binary only,
//! so the allocator does not distort the timed benchmarks). The request
//! bytes are allocated before the measurement starts: the figure is the
//! agent's working memory on top of its input. Target: at most 3 times the
//! TA size.
//!
//! Results go to stdout and to `<target>/criterion/install_ta_heap/*.json`
//! for `cargo run -p otrp-benches --bin report`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use otrp_benches::install::{SIZES, ciphertadata, image_len};
use otrp_benches::{Kind, Scenario, now, providers};
use otrp_core::message::MessageKind;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);
static TOTAL: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    let now = CURRENT.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
    COUNT.fetch_add(1, Relaxed);
    TOTAL.fetch_add(n, Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Relaxed);
            grow(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(Into::into)
        .unwrap_or_else(|| otrp_benches::fixtures::repo_dir().join("target"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let out = target_dir().join("criterion/install_ta_heap");
    std::fs::create_dir_all(&out).expect("output directory");
    for (name, provider) in providers::all() {
        for size in SIZES {
            let s = Scenario::run(Kind::Rsa, provider, size);
            let step = s.step(MessageKind::InstallTa);
            let ta = image_len(&ciphertadata(&s));
            let mut tee = s.tee.open(step.tee_before.snapshot());
            let base = CURRENT.load(Relaxed);
            PEAK.store(base, Relaxed);
            COUNT.store(0, Relaxed);
            TOTAL.store(0, Relaxed);
            let answer = tee.handle(&step.request, now()).expect("answer");
            let peak = PEAK.load(Relaxed) - base;
            let (count, total) = (COUNT.load(Relaxed), TOTAL.load(Relaxed));
            drop(answer);
            let ratio = peak as f64 / ta as f64;
            println!(
                "install_ta_heap/{name}/{}MiB: TA image {ta} B, request {} B, peak heap {peak} B ({ratio:.2}x the TA), {count} allocations, {total} B allocated in all",
                size >> 20,
                step.request.len()
            );
            let json = serde_json::json!({
                "provider": name,
                "size_mib": size >> 20,
                "ta_bytes": ta,
                "request_bytes": step.request.len(),
                "peak_bytes": peak,
                "ratio": ratio,
                "allocations": count,
                "allocated_bytes": total,
            });
            std::fs::write(
                out.join(format!("{name}-{}MiB.json", size >> 20)),
                serde_json::to_vec_pretty(&json).expect("JSON"),
            )
            .expect("write result");
        }
    }
}
