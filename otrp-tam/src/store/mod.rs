//! The store (issue 15, item 1): everything the service keeps, in SQLite
//! (a file; nothing to install) or PostgreSQL, through one sqlx code path
//! (the `Any` driver) and a schema migrated on open.
//!
//! Every write is one transaction. Device steps save conditionally on the
//! device's revision ([`Store::device_step`]), so two front ends on one
//! database never both apply a step: the loser gets [`Error::Conflict`],
//! reloads and retries. Every write appends to the audit log in the same
//! transaction.

mod catalog;
mod device;
mod migrate;
mod policy;
mod session;

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::audit::{self, AuditEntry};
use crate::error::{Error, Result};

pub use catalog::{CatalogEntry, NewImage};
pub use device::{Claim, DeviceRow, Snapshot, StepOutcome, StepWrite};
pub use migrate::SCHEMA_VERSION;
pub use session::{SessionCounts, SqlSessionStore};

/// The database family of a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:PATH`.
    Sqlite,
    /// `postgres://...` or `postgresql://...`.
    Postgres,
}

impl Backend {
    /// The backend of `url`, or an input error naming the accepted forms.
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::input(format!(
                "unsupported database URL {:?} (sqlite:PATH or postgres://...)",
                redact(url)
            )))
        }
    }
}

/// `url` without a password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A connection pool on the service's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` (`sqlite:PATH`, created if missing, or
    /// `postgres://...`) and creates or migrates the schema.
    pub async fn open(url: &str) -> Result<Store> {
        let backend = Backend::of_url(url)?;
        sqlx::any::install_default_drivers();
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL: readers do not block the writer; several
                    // processes share the file.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| Error::Database(format!("cannot open {}: {e}", redact(&url))))?;
        let store = Store { pool, backend };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`, waiting up to the busy timeout): every transaction here
    /// writes, and a deferred one that reads first fails with "database is
    /// locked" whenever another connection wrote in between, without
    /// waiting.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _ => self.pool.begin().await?,
        })
    }

    /// The audit log in order, with its head.
    pub async fn audit_log(&self) -> Result<(Vec<AuditEntry>, Option<(i64, String)>)> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, detail, prev, hash FROM audit ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            entries.push(AuditEntry {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                detail: r.try_get("detail")?,
                prev: r.try_get("prev")?,
                hash: r.try_get("hash")?,
            });
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| -> Result<(i64, String)> { Ok((r.try_get("seq")?, r.try_get("hash")?)) })
            .transpose()?;
        Ok((entries, head))
    }

    /// Verifies the audit log's hash chain and head.
    pub async fn verify_audit(&self) -> Result<usize> {
        let (entries, head) = self.audit_log().await?;
        audit::verify(&entries, head.as_ref().map(|(s, h)| (*s, h.as_str())))
            .map_err(Error::Tampered)?;
        Ok(entries.len())
    }
}

/// Appends an audit entry inside `tx` (the caller's transaction, so the
/// entry exists exactly when the change it records does). A concurrent
/// append makes the head update fail: [`Error::Conflict`].
pub(crate) async fn append_audit(
    tx: &mut Transaction<'static, Any>,
    at: i64,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (last, prev) = match head {
        Some(r) => (r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?),
        None => (0, audit::GENESIS.to_string()),
    };
    let seq = last + 1;
    let detail = detail.to_string();
    let hash = audit::entry_hash(&prev, seq, at, actor, action, &detail);
    sqlx::query(
        "INSERT INTO audit (seq, at, actor, action, detail, prev, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    let moved = if last == 0 {
        sqlx::query("INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)")
            .bind(seq)
            .bind(&hash)
            .execute(&mut **tx)
            .await?
    } else {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3")
            .bind(seq)
            .bind(&hash)
            .bind(last)
            .execute(&mut **tx)
            .await?
    };
    if moved.rows_affected() != 1 {
        return Err(Error::Conflict("the audit log".into()));
    }
    Ok(())
}

/// Runs `op` (one transaction) again while it reports a conflict, up to a
/// few times.
pub async fn retry<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 0u32;
    loop {
        match op().await {
            Err(Error::Conflict(_)) if attempt < MAX_RETRIES => {
                attempt += 1;
                backoff(attempt).await;
            }
            other => return other,
        }
    }
}

/// Retries of a transaction that lost a conflict.
pub(crate) const MAX_RETRIES: u32 = 8;

/// The pause before retry `attempt` (a little randomness keeps two
/// front ends from colliding again).
pub(crate) async fn backoff(attempt: u32) {
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    let ms = (2u64 << attempt.min(6)) + u64::from(jitter[0] % 8);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
