//! `otrp tam serve`: the device-facing OTrP/HTTP server driven by the
//! policy in the database, and the admin API on its own listener.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use otrp_http::{ServerConfig, ServerTls, TamServer};
use otrp_tam::admin::{self, AdminState};
use otrp_tam::clock::{Clock, unix_ms};
use otrp_tam::{Note, NoteKind, ServiceConfig, TamService};

use crate::util::{Error, Result, outln, read_certificates, read_text};

/// `otrp tam serve` arguments.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The test PKI directory (`otrp pki init`): the TAM's key and chain,
    /// the TEE roots, and the SP root the catalog trusts.
    #[arg(long)]
    pub pki: PathBuf,
    /// The database (sqlite:PATH or postgres://...), created or migrated.
    #[arg(long)]
    pub db: String,
    /// The device-facing address, HOST:PORT (HOST an IP address or a name
    /// such as localhost; port 0: an ephemeral port).
    #[arg(long, value_parser = crate::util::parse_listen)]
    pub listen: SocketAddr,
    /// The admin API's address (JSON over HTTP, bearer token), HOST:PORT.
    #[arg(long, value_parser = crate::util::parse_listen)]
    pub admin: Option<SocketAddr>,
    /// A file (mode 0600) holding the admin API's bearer token.
    #[arg(long)]
    pub admin_token_file: Option<PathBuf>,
    /// The admin API's bearer token (prefer --admin-token-file: a flag is
    /// visible to other users of the machine).
    #[arg(long)]
    pub admin_token: Option<String>,
    /// Exit after this many device sessions have ended (default: serve
    /// until killed).
    #[arg(long, value_parser = crate::util::parse_positive)]
    pub sessions: Option<usize>,
    /// Seconds a device session may stay silent between messages, and
    /// the lease of the command it was sent (default 60).
    #[arg(long, value_parser = crate::util::parse_positive, default_value_t = 60)]
    pub session_timeout: usize,
    /// The TLS server certificate chain (PEM, server certificate first)
    /// for both listeners; with --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM: PKCS#8, PKCS#1 or SEC1); with --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address that is not a loopback address
    /// (without it, such a listener needs --tls-cert and --tls-key).
    #[arg(long)]
    pub insecure_http: bool,
    /// On SIGINT or SIGTERM, how long open sessions may take to finish
    /// before they are closed, in seconds.
    #[arg(long, default_value_t = 30)]
    pub drain_timeout: u64,
}

/// Refuses a plain-HTTP listener on an address other than a loopback one
/// without `--insecure-http` (the agent's rule of docs/http.md, on the
/// server side: device messages and the admin token travel in clear).
fn check_plain_http(what: &str, addr: SocketAddr, tls: bool, insecure: bool) -> Result<()> {
    if tls || insecure || addr.ip().is_loopback() {
        return Ok(());
    }
    Err(Error::msg(format!(
        "{what} {addr} is not a loopback address: give --tls-cert and --tls-key \
         (or --insecure-http to serve plain HTTP anyway)"
    )))
}

/// The SP roots of the PKI `dir` (`sp-root.cert.pem`), DER.
pub fn sp_roots(dir: &Path) -> Result<Vec<Vec<u8>>> {
    read_certificates(&dir.join("sp-root.cert.pem"))
}

/// The admin token from the flag or the file (which must not be readable
/// by others).
fn admin_token(args: &ServeArgs) -> Result<String> {
    match (&args.admin_token, &args.admin_token_file) {
        (Some(_), Some(_)) => Err(Error::msg(
            "give --admin-token or --admin-token-file, not both",
        )),
        (Some(t), None) => Ok(t.clone()),
        (None, Some(path)) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(path)
                    .map_err(|e| Error::from(e).context(path.display()))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(Error::msg(format!(
                        "{}: the token file must not be accessible to others (chmod 600)",
                        path.display()
                    )));
                }
            }
            Ok(read_text(path)?.trim().to_string())
        }
        (None, None) => Err(Error::msg(
            "--admin needs --admin-token-file FILE (or --admin-token TOKEN)",
        )),
    }
}

pub fn run(args: &ServeArgs) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    let tam = super::tam_from_pki(&args.pki, &provider)?;
    let roots = sp_roots(&args.pki)?;
    let token = args.admin.map(|_| admin_token(args)).transpose()?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(ServerTls::from_pem_files(cert, key).map_err(|e| Error::msg(e.to_string()))?)
        }
        _ => None,
    };
    check_plain_http("--listen", args.listen, tls.is_some(), args.insecure_http)?;
    if let Some(addr) = args.admin {
        check_plain_http("--admin", addr, tls.is_some(), args.insecure_http)?;
    }
    // The service's notes, or None: SIGINT/SIGTERM.
    let (tx, rx) = std::sync::mpsc::channel::<Option<Note>>();
    let stop = std::sync::Mutex::new(tx.clone());
    let tx = std::sync::Mutex::new(tx);
    let timeout = std::time::Duration::from_secs(args.session_timeout as u64);
    let config = ServiceConfig {
        lease: timeout,
        ..ServiceConfig::default()
    };
    let service =
        TamService::open(&args.db, config)?.with_observer(Arc::new(move |note: &Note| {
            if let Ok(tx) = tx.lock() {
                let _ = tx.send(Some(note.clone()));
            }
        }));
    let _hook = crate::cleanup::on_interrupt(move || {
        if let Ok(tx) = stop.lock() {
            let _ = tx.send(None);
        }
    });
    service.block_on(
        service
            .store()
            .add_sp_anchors(&roots, "operator", unix_ms()),
    )?;
    let service = Arc::new(service);
    // Sessions live in the database: any number of front ends on it
    // continue each other's sessions (docs/tam-service.md).
    let sessions = service.session_store();
    let server = TamServer::start_stateless(
        args.listen,
        Arc::new(tam),
        service.clone(),
        sessions,
        ServerConfig {
            session_timeout: timeout,
            tls: tls.clone(),
            ..ServerConfig::default()
        },
    )
    .map_err(|e| Error::msg(format!("cannot listen on {}: {e}", args.listen)))?;
    outln!("TAM listening on {}", server.url());
    tracing::info!("TAM listening on {}", server.url());
    let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    if let (Some(addr), Some(token)) = (args.admin, token) {
        let state = AdminState::new(service.store().clone(), provider, &token, Clock::system())?
            .with_metrics(service.metrics().clone());
        let (listener, local) = service
            .block_on(admin::bind(addr))
            .map_err(|e| Error::msg(format!("cannot listen on {addr}: {e}")))?;
        let stopped = async move {
            let _ = admin_stopped.await;
        };
        let scheme = match &tls {
            Some(tls) => {
                let config = tls.rustls_config();
                service
                    .handle()
                    .spawn(admin::serve_tls(listener, state, config, stopped));
                "https"
            }
            None => {
                service
                    .handle()
                    .spawn(admin::serve(listener, state, stopped));
                "http"
            }
        };
        outln!("admin API listening on {scheme}://{local}/v1");
    }
    let _ = std::io::stdout().flush();
    let mut ended = 0;
    // Set by SIGINT/SIGTERM: no new exchange; open sessions may finish
    // until this deadline.
    let mut draining: Option<std::time::Instant> = None;
    let tick = std::time::Duration::from_millis(50);
    loop {
        if let Some(deadline) = draining {
            let open = server.session_count();
            if open == 0 || std::time::Instant::now() >= deadline {
                tracing::info!("shutting down: {open} open session(s) closed");
                let _ = stop_admin.send(());
                server.shutdown();
                outln!(
                    "TAM stopped by a signal: {ended} session(s) ended, {open} open session(s) closed"
                );
                return Ok(());
            }
        }
        let note = match rx.recv_timeout(tick) {
            Ok(note) => note,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let Some(note) = note else {
            if draining.is_none() {
                // Refuse new sessions before saying so: a script that reads
                // the line may try one at once (and must get 503).
                server.stop_accepting();
                let open = server.session_count();
                tracing::info!("interrupted: draining {open} open session(s)");
                outln!(
                    "TAM draining: no new session; {open} open session(s) may finish within {} s",
                    args.drain_timeout
                );
                let _ = std::io::stdout().flush();
                draining = Some(
                    std::time::Instant::now() + std::time::Duration::from_secs(args.drain_timeout),
                );
            }
            continue;
        };
        tracing::info!(kind = ?note.kind, ok = note.ok, "{}", note.text);
        let did = note
            .did
            .as_deref()
            .map(|d| format!(" device {}..", &d[..10.min(d.len())]))
            .unwrap_or_default();
        match note.kind {
            NoteKind::End => outln!("session from {}: {}", note.peer, note.text),
            _ => outln!("  {}{did}: {}", note.peer, note.text),
        }
        let _ = std::io::stdout().flush();
        if note.kind == NoteKind::End {
            ended += 1;
            if args.sessions.is_some_and(|n| ended >= n) {
                // The session's end is reported before its last HTTP answer
                // (the 204) is written: let it reach the agent.
                std::thread::sleep(std::time::Duration::from_millis(200));
                break;
            }
        }
    }
    let _ = stop_admin.send(());
    server.shutdown();
    Ok(())
}
