//! Versioned schema migrations, embedded in the binary: one file per
//! version and backend under `otrp-tam/migrations/`. Applied in order at
//! [`Store::open`](super::Store::open), each in its own transaction with
//! its version recorded in `otrp_schema`; a database newer than this
//! binary is refused.

use sqlx::Row;

use super::{Backend, Store};
use crate::error::{Error, Result};

/// (version, name, SQLite DDL, PostgreSQL DDL).
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "http_session",
        include_str!("../../migrations/sqlite/0002_http_session.sql"),
        include_str!("../../migrations/postgres/0002_http_session.sql"),
    ),
];

/// The schema version this build creates and uses.
pub const SCHEMA_VERSION: i64 = 2;

pub(super) async fn run(store: &Store) -> Result<()> {
    let mut tx = store.begin().await?;
    if store.backend == Backend::Postgres {
        // Front ends starting together migrate one at a time.
        sqlx::query("SELECT pg_advisory_xact_lock(74827001)")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS otrp_schema (\
         version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM otrp_schema")
        .fetch_one(&mut *tx)
        .await?
        .try_get("v")?;
    let applied = applied.unwrap_or(0);
    if applied > SCHEMA_VERSION {
        return Err(Error::Schema(format!(
            "the database is at version {applied}, newer than this otrp (version {SCHEMA_VERSION})"
        )));
    }
    for (version, name, sqlite, postgres) in MIGRATIONS {
        if *version <= applied {
            continue;
        }
        let ddl = match store.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        sqlx::raw_sql(ddl).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO otrp_schema (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(*version)
            .bind(*name)
            .bind(crate::clock::unix_ms())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
