//! The fleet simulator (issue 16, item 3): N soft-TEE devices (in-memory
//! storage, each its own TEE identity) run one session each against real
//! TAM front ends (`otrp_http::TamServer` driven by `otrp_tam::TamService`,
//! as `otrp tam serve` runs them) over loopback HTTP, with a policy of two
//! TAs in one SD, from empty devices. Reports sessions per second, session
//! latency percentiles, database statements per session, and the TAM's CPU
//! time per session split into protocol work and service work.
//!
//! ```text
//! cargo run -p otrp-benches --bin fleet -- [--devices 1000] [--concurrency 8]
//!     [--front-ends 1] [--db sqlite:PATH | postgres://USER@HOST:PORT/DB] [--replay 50]
//! ```
//!
//! How the numbers are measured (docs/performance.md, "Fleet simulator"):
//!
//! - **latency**: each device's whole session (empty POST to the TAM's
//!   204), wall clock, on the device's thread;
//! - **database statements**: every statement sqlx executes (its
//!   `sqlx::query` tracing events, counted by a subscriber that listens to
//!   nothing else) during the run, divided by the sessions;
//! - **TAM CPU per session**: the process's CPU time over the run minus the
//!   CPU time of the device threads (each device's TEE and HTTP client run
//!   on its own thread, measured from `/proc/thread-self/schedstat`);
//! - **protocol CPU per session**: the same sessions' TAM-side protocol work
//!   (`TamSession` with its crypto: GetDeviceState, CreateSD, two InstallTA,
//!   and each answer's verification), replayed without HTTP or database on
//!   `--replay` fresh devices, timing only the `TamSession` calls;
//! - **service CPU per session** = TAM CPU - protocol CPU: HTTP, the session
//!   table, the store (SQLite's or PostgreSQL's client side), the plan.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use otrp_core::broker::Broker;
use otrp_core::crypto::Provider;
use otrp_core::message::Limits;
use otrp_core::pki::{TrustAnchors, UnixTime};
use otrp_core::tam::{Command, DeviceState, Event, Tam, TamSession};
use otrp_core::tee::{Tee, TeeConfig, TeeHooks};
use otrp_http::{Agent, HandlerError, ServerConfig, TamServer};
use otrp_soft_tee::{SoftIdentity, SoftSpAik, SoftStorage, SoftTaPlatform, TaImageInfo};
use otrp_tam::clock::unix_ms;
use otrp_tam::{ServiceConfig, TamService};
use otrp_test_pki::{CertSpec, Key, KeyType, OcspResponseBuilder, Profile, TestPki};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{Layer, filter};

use otrp_benches::MemFs;

/// The policy: two TAs of SP `sp1` in SD `sd1`.
const SPID: &str = "sp1";
const SDNAME: &str = "sd1";
const TAS: [&str; 2] = ["wallet", "auth"];
/// Bytes of TA code per image.
const CODE_BYTES: usize = 4096;

struct Args {
    devices: usize,
    concurrency: usize,
    front_ends: usize,
    db: Option<String>,
    replay: usize,
    /// Sessions in each front end's memory instead of the database (the
    /// library's `TamServer::start`; a load balancer must then pin).
    memory_sessions: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        devices: 1000,
        concurrency: 8,
        front_ends: 1,
        db: None,
        replay: 50,
        memory_sessions: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--devices" => a.devices = number(value()?)?,
            "--concurrency" => a.concurrency = number(value()?)?.max(1),
            "--front-ends" => a.front_ends = number(value()?)?.max(1),
            "--replay" => a.replay = number(value()?)?.max(1),
            "--db" => a.db = Some(value()?),
            "--memory-sessions" => a.memory_sessions = true,
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn now() -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// CPU time of the calling thread (Linux `schedstat`: nanoseconds on CPU).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// CPU time of the whole process, every thread that ever ran included
/// (`/proc/self/stat` utime + stime, in clock ticks of 10 ms).
fn process_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Counts the statements sqlx executes (its `sqlx::query` events), and
/// each statement's summary (sqlx's first words of it).
struct StatementCounter {
    count: Arc<AtomicU64>,
    kinds: Arc<Mutex<std::collections::BTreeMap<String, u64>>>,
}

/// Takes the `summary` field of a sqlx event.
struct Summary(String);

impl tracing::field::Visit for Summary {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            self.0 = value.to_string();
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for StatementCounter {
    fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut summary = Summary(String::new());
        e.record(&mut summary);
        if let Ok(mut k) = self.kinds.lock() {
            *k.entry(summary.0).or_insert(0) += 1;
        }
    }
}

/// The PKI, the TAM, the images and the device identities.
struct World {
    provider: Provider,
    pki: TestPki,
    tam: Arc<Tam>,
    images: Vec<Vec<u8>>,
    /// Device certificate (DER) and PKCS#8 key.
    devices: Vec<(Vec<u8>, Vec<u8>)>,
}

impl World {
    fn new(n: usize) -> World {
        let provider = otrp_crypto_rustcrypto::provider();
        let rng = &otrp_crypto_rustcrypto::OS_RANDOM;
        let pki = TestPki::builder(KeyType::P256)
            .build(rng)
            .expect("test PKI");
        let key = provider
            .key_loader
            .private_key_from_pkcs8_der(pki.tam.key().expect("TAM key").pkcs8_der())
            .expect("TAM key");
        let ocsp = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, now())
            .build()
            .expect("OCSP");
        let tam = Tam::new(
            provider,
            key,
            vec![pki.tam.der().to_vec(), pki.tam_root.der().to_vec()],
            TrustAnchors::from_certificates([pki.tee_root.der()]).expect("TEE root"),
        )
        .expect("TAM")
        .with_ocspdat(vec![ocsp]);
        let sp_key = provider
            .key_loader
            .private_key_from_pkcs8_der(pki.sp.key().expect("SP key").pkcs8_der())
            .expect("SP key");
        let images = TAS
            .iter()
            .map(|taid| {
                let info = TaImageInfo {
                    taid: (*taid).into(),
                    version: 1,
                    taname: None,
                };
                otrp_tam::catalog::build_image(
                    &provider,
                    &vec![0x5a; CODE_BYTES],
                    &info,
                    sp_key.as_ref(),
                    &[pki.sp.der().to_vec()],
                )
                .expect("TA image")
            })
            .collect();
        let at = |s| UnixTime::since_unix_epoch(Duration::from_secs(s));
        let devices = (0..n)
            .map(|i| {
                let key = Key::generate(KeyType::P256, rng).expect("device key");
                let spec = CertSpec::new(
                    &format!("device-{i}"),
                    1000 + i as u64,
                    at(otrp_test_pki::DEFAULT_NOT_BEFORE),
                    at(otrp_test_pki::DEFAULT_NOT_AFTER),
                    Profile::Tee,
                );
                let cert = pki.tee_root.issue(&spec, key).expect("device certificate");
                let key = cert.key().expect("device key").pkcs8_der().to_vec();
                (cert.der().to_vec(), key)
            })
            .collect();
        World {
            provider,
            pki,
            tam: Arc::new(tam),
            images,
            devices,
        }
    }

    /// Device `i`: an empty soft TEE in memory behind a broker.
    fn device(&self, i: usize) -> Broker<Tee> {
        let (cert, key) = &self.devices[i];
        let identity = SoftIdentity::from_der(
            &self.provider,
            cert.clone(),
            vec![self.pki.tee_root.der().to_vec()],
            key,
        )
        .expect("device identity");
        let mut config = TeeConfig::new(
            "soft-tee",
            TrustAnchors::from_certificates([self.pki.tam_root.der()]).expect("TAM root"),
        );
        config.sp_anchors =
            TrustAnchors::from_certificates([self.pki.sp_root.der()]).expect("SP root");
        let dir = std::env::temp_dir().join("otrp-fleet-memfs");
        let storage = SoftStorage::open(&dir, Arc::new(MemFs::new()), self.provider)
            .expect("in-memory storage");
        let hooks = TeeHooks {
            identity: Box::new(identity),
            sp_aik: Box::new(SoftSpAik::new(self.provider)),
            storage: Box::new(storage),
            ta: Box::new(SoftTaPlatform::default()),
            firmware: None,
            clock: None,
        };
        let tee = Tee::open(config, self.provider, hooks).expect("soft TEE");
        let mut broker = Broker::new(Limits::DEFAULT);
        broker.register("soft-tee", tee);
        broker
    }

    /// The commands the policy makes the service send to an empty device.
    fn commands(&self) -> Vec<Command> {
        let mut out = vec![Command::CreateSd {
            spcert: self.pki.sp.der().to_vec(),
            spid: SPID.into(),
            sdname: SDNAME.into(),
        }];
        for (taid, ta) in TAS.iter().zip(&self.images) {
            out.push(Command::InstallTa {
                ta: ta.clone(),
                spid: SPID.into(),
                sdname: SDNAME.into(),
                taid: (*taid).into(),
                spcert: None,
                pdata: None,
            });
        }
        out
    }
}

/// The service's reasons for stopping a session early, counted.
type Problems = Arc<Mutex<std::collections::BTreeMap<String, usize>>>;

/// A fresh database for the run: `--db`, or SQLite in a temporary file.
fn open_service(world: &World, url: &str, problems: &Problems) -> TamService {
    let problems = problems.clone();
    let service = TamService::open(url, ServiceConfig::default())
        .expect("open the database")
        .with_observer(Arc::new(move |note: &otrp_tam::Note| {
            if !note.ok
                && note.kind == otrp_tam::NoteKind::Summary
                && let Ok(mut p) = problems.lock()
            {
                *p.entry(note.text.clone()).or_insert(0) += 1;
            }
        }));
    let store = service.store();
    let t = unix_ms();
    service
        .block_on(store.add_sp_anchors(&[world.pki.sp_root.der().to_vec()], "operator", t))
        .expect("SP root");
    for image in &world.images {
        // A second front end on the same database finds them there.
        let _ = service.block_on(otrp_tam::catalog::add(
            store,
            &world.provider,
            SPID,
            image,
            "operator",
            t,
        ));
    }
    for taid in TAS {
        let entry = otrp_tam::admin::policy_entry(SPID, SDNAME, taid, None).expect("policy entry");
        service
            .block_on(store.set_policy(&entry, "operator", t))
            .expect("policy");
    }
    service
}

/// The TAM-side protocol CPU of one session from an empty device to the
/// policy (the same messages the service sends), timing only `TamSession`.
fn protocol_cpu(world: &World, i: usize) -> Duration {
    let mut device = world.device(i);
    let mut spent = Duration::ZERO;
    let mut state = DeviceState::new();
    let mut commands = world.commands().into_iter();
    let mut answer: Option<Vec<u8>> = None;
    loop {
        let c0 = thread_cpu();
        let mut session = TamSession::resume(&world.tam, std::mem::take(&mut state));
        if let Some(bytes) = &answer {
            let event = session.handle_response(bytes, now()).expect("answer");
            assert!(
                matches!(event, Event::DeviceState(_) | Event::Success { .. }),
                "{event:?}"
            );
        }
        let request = if answer.is_none() {
            Some(session.get_device_state().expect("GetDeviceState"))
        } else {
            commands
                .next()
                .map(|c| session.command("soft-tee", c).expect("command"))
        };
        state = session.into_state();
        spent += thread_cpu() - c0;
        let Some(request) = request else {
            return spent;
        };
        answer = Some(device.process(&request, now()).into_bytes());
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fleet: {e}");
            std::process::exit(2);
        }
    };
    let statements = Arc::new(AtomicU64::new(0));
    let kinds = Arc::new(Mutex::new(std::collections::BTreeMap::new()));
    let subscriber = tracing_subscriber::registry().with(
        StatementCounter {
            count: statements.clone(),
            kinds: kinds.clone(),
        }
        .with_filter(filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE)),
    );
    tracing::subscriber::set_global_default(subscriber).expect("tracing subscriber");

    let setup = Instant::now();
    let world = World::new(args.devices.max(args.replay));
    let tmp = tempfile::tempdir().expect("temporary directory");
    let url = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", tmp.path().join("fleet.db").display()));
    let backend = url.split(':').next().unwrap_or("").to_string();
    let problems: Problems = Arc::default();
    let services: Vec<Arc<TamService>> = (0..args.front_ends)
        .map(|_| Arc::new(open_service(&world, &url, &problems)))
        .collect();
    let servers: Vec<TamServer> = services
        .iter()
        .map(|s| {
            let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
            let config = ServerConfig {
                max_sessions_per_client: args.concurrency.max(32),
                max_connections_per_client: args.concurrency.max(32),
                ..ServerConfig::default()
            };
            if args.memory_sessions {
                TamServer::start(addr, world.tam.clone(), s.clone(), config)
            } else {
                // Sessions in the database, as `otrp tam serve` keeps them
                // (any front end continues any session).
                TamServer::start_stateless(
                    addr,
                    world.tam.clone(),
                    s.clone(),
                    s.session_store(),
                    config,
                )
            }
            .expect("TAM server")
        })
        .collect();
    let urls: Vec<String> = servers.iter().map(TamServer::url).collect();
    eprintln!(
        "setup: {} devices, {} front end(s) on {backend}, sessions in {}, {:.1} s",
        args.devices,
        args.front_ends,
        if args.memory_sessions {
            "memory"
        } else {
            "the database"
        },
        setup.elapsed().as_secs_f64()
    );

    // The run.
    let next = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(args.devices));
    let device_cpu_ns = AtomicU64::new(0);
    let failures = AtomicUsize::new(0);
    statements.store(0, Ordering::SeqCst);
    if let Ok(mut k) = kinds.lock() {
        k.clear();
    }
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..args.concurrency {
            scope.spawn(|| {
                let c0 = thread_cpu();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= args.devices {
                        break;
                    }
                    let mut device = world.device(i);
                    let agent = Agent::new(&urls[i % urls.len()]).expect("agent");
                    let started = Instant::now();
                    let report =
                        agent.run_blocking(&mut |m: &[u8]| -> Result<Vec<u8>, HandlerError> {
                            Ok(device.process(m, now()).into_bytes())
                        });
                    let took = started.elapsed();
                    match report {
                        Ok(r) if r.ended_by_tam && r.exchanges.len() == 5 => {}
                        Ok(r) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            eprintln!("device {i}: {} round trips", r.exchanges.len());
                        }
                        Err(e) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            eprintln!("device {i}: {e}");
                        }
                    }
                    if let Ok(mut l) = latencies.lock() {
                        l.push(took);
                    }
                }
                let spent = thread_cpu() - c0;
                device_cpu_ns.fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
            });
        }
    });
    let wall = t0.elapsed();
    // Let the last sessions settle (finished() after the 204).
    std::thread::sleep(Duration::from_millis(300));
    let total_cpu = process_cpu() - cpu0;
    let run_statements = statements.load(Ordering::SeqCst);
    let run_kinds = kinds.lock().map(|k| k.clone()).unwrap_or_default();
    let device_cpu = Duration::from_nanos(device_cpu_ns.load(Ordering::Relaxed));
    for s in servers {
        s.shutdown();
    }
    let reports = services[0]
        .block_on(otrp_tam::report::devices(services[0].store()))
        .expect("fleet report");
    let compliant = reports.iter().filter(|r| r.compliant).count();
    // Why devices are left behind (the service's last error per device).
    let mut why: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for r in reports.iter().filter(|r| !r.compliant) {
        *why.entry(r.reasons.join("; ")).or_insert(0) += 1;
    }

    // The protocol work alone.
    let replay: Vec<Duration> = (0..args.replay).map(|i| protocol_cpu(&world, i)).collect();
    let protocol = replay.iter().sum::<Duration>() / args.replay as u32;

    let n = args.devices.max(1) as u32;
    let mut lat = latencies.into_inner().unwrap_or_default();
    lat.sort();
    let tam_cpu = total_cpu.saturating_sub(device_cpu) / n;
    let service = tam_cpu.saturating_sub(protocol);
    println!(
        "fleet simulator: {} devices, {} front end(s), {} concurrent devices, {backend}",
        args.devices, args.front_ends, args.concurrency
    );
    println!(
        "  sessions ok               {} ({} failed), {compliant} devices compliant",
        args.devices - failures.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed)
    );
    println!("  wall                      {:.2} s", wall.as_secs_f64());
    println!(
        "  sessions/s                {:.1}",
        args.devices as f64 / wall.as_secs_f64()
    );
    println!(
        "  latency p50/p95/p99       {:.1} / {:.1} / {:.1} ms",
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.95)),
        ms(percentile(&lat, 0.99))
    );
    println!(
        "  DB statements/session     {:.2} ({} in all; 4 steps and 3 commands per session)",
        run_statements as f64 / f64::from(n),
        run_statements
    );
    for (kind, count) in &run_kinds {
        println!(
            "    {:>6.2}  {}",
            *count as f64 / f64::from(n),
            kind.replace(char::is_whitespace, " ")
        );
    }
    println!("  CPU/session, whole process {:.2} ms", ms(total_cpu / n));
    println!(
        "  CPU/session, devices       {:.2} ms (TEE + agent)",
        ms(device_cpu / n)
    );
    println!("  CPU/session, TAM           {:.2} ms", ms(tam_cpu));
    println!(
        "    protocol (TamSession)    {:.2} ms (replayed on {} devices)",
        ms(protocol),
        args.replay
    );
    println!("    service (HTTP, DB, plan) {:.2} ms", ms(service));
    println!(
        "  service/protocol          {:.2} (target <= 1)",
        service.as_secs_f64() / protocol.as_secs_f64().max(1e-9)
    );
    for (text, count) in problems.lock().map(|p| p.clone()).unwrap_or_default() {
        println!("  sessions stopped early ({count}): {text}");
    }
    for (reason, count) in &why {
        println!("  not compliant ({count}): {reason}");
    }
    if failures.load(Ordering::Relaxed) > 0 || compliant != args.devices {
        std::process::exit(1);
    }
}
