//! HTTP sessions in the database (issue 16, item 1): the
//! [`otrp_http::SessionStore`] of `otrp tam serve`, so that any number of
//! front ends on one database continue each other's sessions. The table is
//! `http_session` (migration 2); every statement finds its rows by the
//! primary key, the `expires_at` index or the `(peer, opened_at)` index.

use std::net::IpAddr;

use otrp_http::{Admission, SessionStore, SessionStoreError, StoredReply, StoredSession, Taken};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use crate::error::Error;

/// Expired rows removed by one reaper pass at most (bounded work; the next
/// pass takes the rest).
const EXPIRE_BATCH: i64 = 256;

/// The columns of a session row, in [`row_session`]'s order.
const COLUMNS: &str =
    "id, peer, step, bound, ended, state, last_digest, last_status, last_body, expires_at";

/// The store's sessions, used from the HTTP server's blocking threads:
/// each call runs on the runtime of `handle`.
#[derive(Clone, Debug)]
pub struct SqlSessionStore {
    store: Store,
    handle: tokio::runtime::Handle,
}

impl SqlSessionStore {
    /// The sessions of `store`, run on `handle` (a runtime that is not the
    /// caller's: calls block).
    pub fn new(store: Store, handle: tokio::runtime::Handle) -> Self {
        SqlSessionStore { store, handle }
    }
}

fn unavailable(e: impl std::fmt::Display) -> SessionStoreError {
    SessionStoreError(e.to_string())
}

fn from_sqlx(e: sqlx::Error) -> SessionStoreError {
    unavailable(Error::from(e))
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// A session read back from its row.
fn row_session(row: &AnyRow) -> Result<StoredSession, SessionStoreError> {
    let peer: String = row.try_get("peer").map_err(from_sqlx)?;
    let digest: Option<Vec<u8>> = row.try_get("last_digest").map_err(from_sqlx)?;
    let status: Option<i64> = row.try_get("last_status").map_err(from_sqlx)?;
    let body: Option<Vec<u8>> = row.try_get("last_body").map_err(from_sqlx)?;
    let last = match (digest, status) {
        (Some(d), Some(status)) => Some((
            <[u8; 32]>::try_from(d.as_slice()).map_err(|_| unavailable("a stored digest"))?,
            StoredReply {
                status: u16::try_from(status).map_err(|_| unavailable("a stored status"))?,
                body: body.unwrap_or_default(),
            },
        )),
        _ => None,
    };
    Ok(StoredSession {
        id: row.try_get("id").map_err(from_sqlx)?,
        peer: peer
            .parse::<IpAddr>()
            .map_err(|_| unavailable("a stored peer"))?,
        step: row.try_get("step").map_err(from_sqlx)?,
        bound: row.try_get::<i64, _>("bound").map_err(from_sqlx)? != 0,
        ended: row.try_get::<i64, _>("ended").map_err(from_sqlx)? != 0,
        state: row.try_get("state").map_err(from_sqlx)?,
        last,
        expires_at: row.try_get("expires_at").map_err(from_sqlx)?,
    })
}

/// The HTTP sessions in the database at one time ([`Store::session_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// Rows (sessions and tombstones, expired or not).
    pub rows: i64,
    /// Sessions not ended and not expired.
    pub live: i64,
    /// Sessions a step holds locked.
    pub locked: i64,
}

impl Store {
    /// How many HTTP sessions the database holds at `now` (ms).
    pub async fn session_counts(&self, now: i64) -> crate::error::Result<SessionCounts> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n_rows, \
             CAST(COALESCE(SUM(CASE WHEN ended = 0 AND expires_at > $1 THEN 1 ELSE 0 END), 0) \
             AS BIGINT) AS live, \
             CAST(COALESCE(SUM(CASE WHEN locked_until > $1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS locked \
             FROM http_session",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(SessionCounts {
            rows: row.try_get("n_rows")?,
            live: row.try_get("live")?,
            locked: row.try_get("locked")?,
        })
    }
}

impl SqlSessionStore {
    async fn open_async(
        &self,
        s: &StoredSession,
        cap: usize,
        locked_until: i64,
        now: i64,
    ) -> Result<Admission, SessionStoreError> {
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        let peer = s.peer.to_string();
        let held: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM http_session \
             WHERE peer = $1 AND ended = 0 AND expires_at > $2",
        )
        .bind(&peer)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .and_then(|r| r.try_get("n"))
        .map_err(from_sqlx)?;
        let mut evicted = Vec::new();
        if usize::try_from(held).unwrap_or(usize::MAX) >= cap {
            // The client's oldest idle session that never got an
            // authenticated answer pays; bound sessions are never evicted.
            let victim = sqlx::query(&format!(
                "DELETE FROM http_session WHERE id = (\
                 SELECT id FROM http_session WHERE peer = $1 AND ended = 0 \
                 AND bound = 0 AND locked_until <= $2 AND expires_at > $2 \
                 ORDER BY opened_at LIMIT 1) RETURNING {COLUMNS}"
            ))
            .bind(&peer)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            match victim {
                Some(row) => evicted.push(row_session(&row)?),
                None => return Ok(Admission::Full),
            }
        }
        sqlx::query(
            "INSERT INTO http_session (id, peer, step, bound, ended, state, \
             opened_at, expires_at, locked_until) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8)",
        )
        .bind(&s.id)
        .bind(&peer)
        .bind(s.step)
        .bind(flag(s.bound))
        .bind(&s.state)
        .bind(now)
        .bind(s.expires_at)
        .bind(locked_until)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        tx.commit().await.map_err(from_sqlx)?;
        Ok(Admission::Admitted(evicted))
    }

    async fn take_async(
        &self,
        id: &str,
        digest: &[u8; 32],
        locked_until: i64,
        now: i64,
    ) -> Result<Taken, SessionStoreError> {
        let pool = &self.store.pool;
        let locked = sqlx::query(&format!(
            "UPDATE http_session SET locked_until = $1 WHERE id = $2 AND ended = 0 \
             AND expires_at > $3 AND locked_until <= $3 \
             AND (last_digest IS NULL OR last_digest <> $4) RETURNING {COLUMNS}"
        ))
        .bind(locked_until)
        .bind(id)
        .bind(now)
        .bind(digest.to_vec())
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?;
        if let Some(row) = locked {
            return Ok(Taken::Run(row_session(&row)?));
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, locked_until FROM http_session WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?;
        let Some(row) = row else {
            return Ok(Taken::Unknown);
        };
        let busy_until: i64 = row.try_get("locked_until").map_err(from_sqlx)?;
        let s = row_session(&row)?;
        if s.expires_at <= now {
            return Ok(Taken::Unknown);
        }
        Ok(match &s.last {
            Some((d, reply)) if d == digest => Taken::Replay(reply.clone()),
            _ if s.ended => Taken::Unknown,
            _ if busy_until > now => Taken::Busy,
            _ => Taken::Unknown,
        })
    }

    async fn save_async(&self, s: &StoredSession) -> Result<bool, SessionStoreError> {
        let (digest, status, body) = match &s.last {
            Some((d, r)) => (
                Some(d.to_vec()),
                Some(i64::from(r.status)),
                Some(r.body.clone()),
            ),
            None => (None, None, None),
        };
        let saved = sqlx::query(
            "UPDATE http_session SET step = $1, bound = $2, ended = $3, state = $4, \
             last_digest = $5, last_status = $6, last_body = $7, expires_at = $8, \
             locked_until = 0 WHERE id = $9 AND step = $10",
        )
        .bind(s.step)
        .bind(flag(s.bound))
        .bind(flag(s.ended))
        .bind(&s.state)
        .bind(digest)
        .bind(status)
        .bind(body)
        .bind(s.expires_at)
        .bind(&s.id)
        .bind(s.step - 1)
        .execute(&self.store.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(saved.rows_affected() == 1)
    }
}

impl SessionStore for SqlSessionStore {
    fn open(
        &self,
        session: &StoredSession,
        max_per_client: usize,
        locked_until: i64,
        now: i64,
    ) -> Result<Admission, SessionStoreError> {
        self.handle
            .block_on(self.open_async(session, max_per_client, locked_until, now))
    }

    fn take(
        &self,
        id: &str,
        digest: &[u8; 32],
        locked_until: i64,
        now: i64,
    ) -> Result<Taken, SessionStoreError> {
        self.handle
            .block_on(self.take_async(id, digest, locked_until, now))
    }

    fn save(&self, session: &StoredSession) -> Result<bool, SessionStoreError> {
        self.handle.block_on(self.save_async(session))
    }

    fn release(&self, id: &str, step: i64) -> Result<(), SessionStoreError> {
        self.handle.block_on(async {
            sqlx::query("UPDATE http_session SET locked_until = 0 WHERE id = $1 AND step = $2")
                .bind(id)
                .bind(step)
                .execute(&self.store.pool)
                .await
                .map_err(from_sqlx)?;
            Ok(())
        })
    }

    fn end_by(&self, id: &str, peer: IpAddr) -> Result<Option<StoredSession>, SessionStoreError> {
        let now = crate::clock::unix_ms();
        self.handle.block_on(async {
            let row = sqlx::query(&format!(
                "DELETE FROM http_session WHERE id = $1 AND peer = $2 AND ended = 0 \
                 AND locked_until <= $3 RETURNING {COLUMNS}"
            ))
            .bind(id)
            .bind(peer.to_string())
            .bind(now)
            .fetch_optional(&self.store.pool)
            .await
            .map_err(from_sqlx)?;
            row.as_ref().map(row_session).transpose()
        })
    }

    fn expire(&self, now: i64) -> Result<Vec<StoredSession>, SessionStoreError> {
        self.handle.block_on(async {
            let rows = sqlx::query(&format!(
                "DELETE FROM http_session WHERE id IN (\
                 SELECT id FROM http_session WHERE expires_at <= $1 AND locked_until <= $1 \
                 LIMIT {EXPIRE_BATCH}) RETURNING {COLUMNS}"
            ))
            .bind(now)
            .fetch_all(&self.store.pool)
            .await
            .map_err(from_sqlx)?;
            let mut ended = Vec::new();
            for row in &rows {
                let s = row_session(row)?;
                if !s.ended {
                    ended.push(s);
                }
            }
            Ok(ended)
        })
    }
}
