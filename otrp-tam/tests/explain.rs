//! Every statement the reconciler and the session store run uses an index
//! (issue 16, item 3): the statements are captured from sqlx's own query
//! log while real sessions run through a stateless front end (device
//! steps, claims, releases, session open/take/save/restart/expiry), then
//! each is explained: SQLite `EXPLAIN QUERY PLAN`, and PostgreSQL `EXPLAIN`
//! of its generic plan with sequential scans disabled (so that a small
//! table's cheap scan does not hide a missing index). A scan of a table
//! keyed by device or session fails the test. The policy and the catalog
//! are read whole by design (they are the plan's input, one row per TA).

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use otrp_http::{Agent, HandlerError, ServerConfig, TamServer};
use otrp_tam::clock::Clock;
use otrp_tam::policy::{DeviceSel, PolicyEntry, VersionSel};
use sqlx::{Connection, Row};
use support::*;
use tracing::field::{Field, Visit};

/// Tables read whole on purpose: the policy and the catalog.
const READ_WHOLE: &[&str] = &["policy", "ta_image"];

/// The statements sqlx ran (target `sqlx::query`).
fn statements() -> &'static Mutex<BTreeSet<String>> {
    static SEEN: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    SEEN.get_or_init(|| Mutex::new(BTreeSet::new()))
}

/// Every statement event, counted (database round trips).
static ROUND_TRIPS: AtomicUsize = AtomicUsize::new(0);

/// Database round trips of one device session, at most: connect (4),
/// then per answer a session lock and save (2) around one step
/// transaction (BEGIN, device, policy, catalog, marks, the device write,
/// a high-water mark per TA, three statements per audit entry, COMMIT) and
/// the command's image or certificate.
const MAX_ROUND_TRIPS_PER_SESSION: usize = 50;

struct Capture;

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.statement = value.to_string(),
            _ => {}
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let sql = if f.statement.trim().is_empty() {
            f.summary
        } else {
            f.statement
        };
        ROUND_TRIPS.fetch_add(1, Ordering::SeqCst);
        let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let verb = sql.split(' ').next().unwrap_or("").to_ascii_uppercase();
        if matches!(verb.as_str(), "SELECT" | "INSERT" | "UPDATE" | "DELETE")
            && !sql.contains("otrp_schema")
        {
            statements().lock().unwrap().insert(sql);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The highest `$N` of a statement.
fn params(sql: &str) -> usize {
    let mut max = 0;
    let mut rest = sql;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        max = max.max(digits.parse().unwrap_or(0));
    }
    max
}

/// The tables a plan scans whole.
fn scans(plan: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in plan {
        let words: Vec<&str> = line.split_whitespace().collect();
        for w in words.windows(3) {
            // SQLite: "SCAN t", PostgreSQL: "Seq Scan on t".
            if w[0] == "Seq" && w[1] == "Scan" && w[2] == "on" {
                out.push(words[words.iter().position(|x| *x == "on").unwrap() + 1].to_string());
            }
        }
        if words.first() == Some(&"SCAN") {
            out.push(words.get(1).unwrap_or(&"").to_string());
        }
    }
    out
}

async fn sqlite_plan(url: &str, sql: &str) -> Vec<String> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut q = sqlx::query(&explain);
    for _ in 0..params(sql) {
        q = q.bind(None::<i64>);
    }
    let rows = q.fetch_all(&mut conn).await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String, _>("detail").unwrap())
        .collect()
}

async fn postgres_plan(url: &str, sql: &str) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(
        "SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan; \
         DEALLOCATE ALL",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql(&format!("PREPARE q AS {sql}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let nulls = vec!["NULL"; params(sql)].join(", ");
    let execute = if nulls.is_empty() {
        "EXPLAIN EXECUTE q".to_string()
    } else {
        format!("EXPLAIN EXECUTE q({nulls})")
    };
    // A plan of a DELETE/UPDATE runs nothing under EXPLAIN (no ANALYZE).
    let rows = sqlx::raw_sql(&execute).fetch_all(&mut conn).await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect()
}

fn raw_post(addr: SocketAddr, cookie: Option<&str>, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: otrp-session={c}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /tam HTTP/1.1\r\nHost: x\r\n{cookie}Content-Type: application/otrp+json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: otrp-session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap_or_default();
    (
        head[9..12].parse().unwrap(),
        cookie,
        out[split + 4..].to_vec(),
    )
}

#[test]
fn every_query_of_the_reconciler_and_the_session_store_uses_an_index() {
    tracing::subscriber::set_global_default(Capture).unwrap();
    each_database(3, "explain", |fleet, url| {
        let service = Arc::new(service(url, Clock::system()));
        let store = service.store();
        service
            .block_on(store.add_sp_anchors(&fleet.anchors(), "operator", 0))
            .unwrap();
        service
            .block_on(otrp_tam::catalog::add(
                store,
                &provider(),
                "sp1",
                &fleet.image("wallet", 1),
                "operator",
                1,
            ))
            .unwrap();
        let entry = PolicyEntry {
            taid: "wallet".into(),
            spid: "sp1".into(),
            sdname: "sd1".into(),
            version: VersionSel::Latest,
            devices: DeviceSel::All,
        };
        service
            .block_on(store.set_policy(&entry, "operator", 2))
            .unwrap();
        statements().lock().unwrap().clear();
        let server = TamServer::start_stateless(
            "127.0.0.1:0".parse().unwrap(),
            fleet.tam.clone(),
            service.clone(),
            service.session_store(),
            ServerConfig {
                session_timeout: Duration::from_millis(400),
                max_sessions_per_client: 1,
                ..ServerConfig::default()
            },
        )
        .unwrap();
        let addr = server.local_addr();
        // A device left silent with a command claimed: expiry releases it.
        let mut silent = fleet.device(2);
        let (_, id, request) = raw_post(addr, None, b"");
        let answer = silent.process(&request, now()).into_bytes();
        assert_eq!(raw_post(addr, Some(&id), &answer).0, 200);
        std::thread::sleep(Duration::from_millis(1500));
        // An unbound session evicted by the next one of its client, and a
        // restart with a cookie.
        let _ = raw_post(addr, None, b"");
        let (_, id, _) = raw_post(addr, None, b"");
        let _ = raw_post(addr, Some(&id), b"");
        std::thread::sleep(Duration::from_millis(1000));
        // Two devices reconciled (CreateSD, InstallTA).
        std::thread::sleep(Duration::from_millis(100));
        for i in 0..2 {
            let before = ROUND_TRIPS.load(Ordering::SeqCst);
            let mut d = fleet.device(i);
            let mut handler = |request: &[u8]| -> Result<Vec<u8>, HandlerError> {
                Ok(d.process(request, now()).into_bytes())
            };
            let report = Agent::new(&server.url())
                .unwrap()
                .run_blocking(&mut handler)
                .unwrap();
            assert!(report.ended_by_tam);
            let trips = ROUND_TRIPS.load(Ordering::SeqCst) - before;
            println!(
                "{}: a session of 2 commands: {trips} statements",
                url.split(':').next().unwrap_or("")
            );
            assert!(trips <= MAX_ROUND_TRIPS_PER_SESSION, "{trips}");
        }
        server.shutdown();
        let seen: Vec<String> = statements().lock().unwrap().iter().cloned().collect();
        for table in [
            "device",
            "high_water",
            "http_session",
            "audit",
            "audit_head",
        ] {
            assert!(
                seen.iter().any(|s| s.contains(table)),
                "no statement on {table} captured: {seen:#?}"
            );
        }
        let rt = runtime();
        let mut failures = Vec::new();
        for sql in &seen {
            let plan = rt.block_on(async {
                if url.starts_with("sqlite:") {
                    sqlite_plan(url, sql).await
                } else {
                    postgres_plan(url, sql).await
                }
            });
            for table in scans(&plan) {
                if !READ_WHOLE.contains(&table.as_str()) {
                    failures.push(format!("{sql}\n  scans {table}: {plan:?}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        println!("{url}: {} statements explained", seen.len());
    });
}
