//! The device registry in the store, and the transaction of a device step.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::catalog::{items, to_i64};
use super::policy::entries;
use super::{Store, append_audit};
use crate::error::{Error, Result};
use crate::inventory::Inventory;
use crate::plan::{Action, CatalogItem};
use crate::policy::PolicyEntry;

/// The command a session is sending to a device: while its lease runs no
/// other session acts on the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The command.
    pub action: Action,
    /// The session holding it.
    pub session: String,
    /// The end of its lease (ms since the epoch).
    pub until: i64,
}

/// One device as stored.
#[derive(Clone, Debug)]
pub struct DeviceRow {
    /// base64url did.
    pub did: String,
    /// TEE routing name.
    pub tee: String,
    /// Grows with every step.
    pub revision: i64,
    /// The TAM's `DeviceState` blob after the last step (never with an
    /// outstanding request: the step is saved before the request is built).
    pub state: Vec<u8>,
    /// SDs and TAs from the last DSI.
    pub inventory: Inventory,
    /// First contact (ms).
    pub first_contact: i64,
    /// Last contact (ms).
    pub last_contact: i64,
    /// The last session's failure, if it failed.
    pub last_error: Option<String>,
    /// The command in flight, if any.
    pub claim: Option<Claim>,
}

/// What a step sees, read in its transaction.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Now (ms).
    pub now: i64,
    /// The device, if known.
    pub device: Option<DeviceRow>,
    /// The policy.
    pub policy: Vec<PolicyEntry>,
    /// The catalog.
    pub catalog: Vec<CatalogItem>,
    /// The device's high-water marks.
    pub marks: BTreeMap<String, u64>,
}

/// What a step writes.
#[derive(Clone, Debug)]
pub struct StepWrite {
    /// TEE routing name.
    pub tee: String,
    /// The `DeviceState` blob.
    pub state: Vec<u8>,
    /// The inventory.
    pub inventory: Inventory,
    /// The session's failure, if any.
    pub last_error: Option<String>,
    /// The command now in flight.
    pub claim: Option<Claim>,
    /// High-water marks to raise (taid, version).
    pub marks: Vec<(String, u64)>,
    /// Audit entries (action, detail).
    pub audit: Vec<(&'static str, serde_json::Value)>,
}

/// A step's decision.
#[derive(Debug)]
pub enum StepOutcome<T> {
    /// Save this, conditionally on the revision read.
    Write(Box<StepWrite>, T),
    /// Change nothing.
    Skip(T),
}

/// The audit actor of device steps.
pub(super) const RECONCILER: &str = "reconciler";

impl Store {
    /// One device step in one transaction: reads the [`Snapshot`], lets
    /// `decide` choose, and saves its [`StepWrite`] only if the device's
    /// revision is still the one read (an insert for a new device). When
    /// another front end saved first, the step is retried with a fresh
    /// snapshot. Returns the decision's value and the revision saved.
    pub async fn device_step<T>(
        &self,
        did: &str,
        now: i64,
        mut decide: impl FnMut(&Snapshot) -> Result<StepOutcome<T>>,
    ) -> Result<(T, i64)> {
        let mut attempt = 0;
        loop {
            match self.try_step(did, now, &mut decide).await {
                Err(Error::Conflict(_)) if attempt < super::MAX_RETRIES => {
                    attempt += 1;
                    super::backoff(attempt).await;
                }
                other => return other,
            }
        }
    }

    async fn try_step<T>(
        &self,
        did: &str,
        now: i64,
        decide: &mut impl FnMut(&Snapshot) -> Result<StepOutcome<T>>,
    ) -> Result<(T, i64)> {
        let mut tx = self.begin().await?;
        let device = sqlx::query(DEVICE_SELECT_ONE)
            .bind(did)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| device_row(&r))
            .transpose()?;
        let snapshot = Snapshot {
            now,
            policy: entries(&mut tx).await?,
            catalog: items(&mut tx).await?,
            marks: marks(&mut tx, did).await?,
            device,
        };
        let (write, value) = match decide(&snapshot)? {
            StepOutcome::Skip(v) => {
                let revision = snapshot.device.as_ref().map_or(0, |d| d.revision);
                return Ok((v, revision));
            }
            StepOutcome::Write(w, v) => (w, v),
        };
        let inventory = serde_json::to_string(&write.inventory).unwrap_or_default();
        let claim = write
            .claim
            .as_ref()
            .map(|c| serde_json::to_string(&c.action).unwrap_or_default());
        let claim_session = write.claim.as_ref().map(|c| c.session.clone());
        let claim_until = write.claim.as_ref().map(|c| c.until);
        let revision = match &snapshot.device {
            None => {
                sqlx::query(
                    "INSERT INTO device (did, tee, revision, state, inventory, \
                             first_contact, last_contact, last_error, claim, claim_session, \
                             claim_until) VALUES ($1, $2, 1, $3, $4, $5, $5, $6, $7, $8, $9)",
                )
                .bind(did)
                .bind(&write.tee)
                .bind(write.state.clone())
                .bind(&inventory)
                .bind(now)
                .bind(write.last_error.clone())
                .bind(claim)
                .bind(claim_session)
                .bind(claim_until)
                .execute(&mut *tx)
                .await?;
                1
            }
            Some(d) => {
                let saved = sqlx::query(
                    "UPDATE device SET tee = $1, revision = $2, state = $3, \
                             inventory = $4, last_contact = $5, last_error = $6, claim = $7, \
                             claim_session = $8, claim_until = $9 \
                             WHERE did = $10 AND revision = $11",
                )
                .bind(&write.tee)
                .bind(d.revision + 1)
                .bind(write.state.clone())
                .bind(&inventory)
                .bind(now)
                .bind(write.last_error.clone())
                .bind(claim)
                .bind(claim_session)
                .bind(claim_until)
                .bind(did)
                .bind(d.revision)
                .execute(&mut *tx)
                .await?;
                if saved.rows_affected() != 1 {
                    return Err(Error::Conflict(format!("device {did}")));
                }
                d.revision + 1
            }
        };
        for (taid, version) in &write.marks {
            raise_mark(&mut tx, did, taid, *version).await?;
        }
        for (action, detail) in &write.audit {
            let mut detail = detail.clone();
            if let Some(o) = detail.as_object_mut() {
                o.insert("did".into(), json!(did));
            }
            append_audit(&mut tx, now, RECONCILER, action, &detail).await?;
        }
        tx.commit().await?;
        Ok((value, revision))
    }

    /// Every device, by did.
    pub async fn devices(&self) -> Result<Vec<DeviceRow>> {
        let rows = sqlx::query(DEVICE_SELECT_ALL).fetch_all(&self.pool).await?;
        rows.iter().map(device_row).collect()
    }

    /// The high-water marks of `did`.
    pub async fn marks(&self, did: &str) -> Result<BTreeMap<String, u64>> {
        let mut conn = self.pool.acquire().await?;
        marks(&mut conn, did).await
    }

    /// The policy and catalog, read together (for reports).
    pub async fn desired(&self) -> Result<(Vec<PolicyEntry>, Vec<CatalogItem>)> {
        let mut tx = self.begin().await?;
        let policy = entries(&mut tx).await?;
        let catalog = items(&mut tx).await?;
        tx.commit().await?;
        Ok((policy, catalog))
    }
}

const DEVICE_SELECT_ONE: &str = "SELECT did, tee, revision, state, inventory, first_contact, \
     last_contact, last_error, claim, claim_session, claim_until FROM device WHERE did = $1";
const DEVICE_SELECT_ALL: &str = "SELECT did, tee, revision, state, inventory, first_contact, \
     last_contact, last_error, claim, claim_session, claim_until FROM device ORDER BY did";

fn device_row(r: &AnyRow) -> Result<DeviceRow> {
    let did: String = r.try_get("did")?;
    let bad = |what: &str| Error::Database(format!("device {did}: unreadable {what}"));
    let inventory: String = r.try_get("inventory")?;
    let inventory = serde_json::from_str(&inventory).map_err(|_| bad("inventory"))?;
    let claim: Option<String> = r.try_get("claim")?;
    let session: Option<String> = r.try_get("claim_session")?;
    let until: Option<i64> = r.try_get("claim_until")?;
    let claim = match (claim, session, until) {
        (Some(c), Some(session), Some(until)) => Some(Claim {
            action: serde_json::from_str(&c).map_err(|_| bad("claim"))?,
            session,
            until,
        }),
        _ => None,
    };
    Ok(DeviceRow {
        tee: r.try_get("tee")?,
        revision: r.try_get("revision")?,
        state: r.try_get("state")?,
        inventory,
        first_contact: r.try_get("first_contact")?,
        last_contact: r.try_get("last_contact")?,
        last_error: r.try_get("last_error")?,
        claim,
        did,
    })
}

async fn marks(conn: &mut sqlx::AnyConnection, did: &str) -> Result<BTreeMap<String, u64>> {
    let rows = sqlx::query("SELECT taid, version FROM high_water WHERE did = $1")
        .bind(did)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("taid")?, r.try_get::<i64, _>("version")? as u64)))
        .collect()
}

async fn raise_mark(
    conn: &mut sqlx::AnyConnection,
    did: &str,
    taid: &str,
    version: u64,
) -> Result<()> {
    let version = to_i64(version)?;
    let current = sqlx::query("SELECT version FROM high_water WHERE did = $1 AND taid = $2")
        .bind(did)
        .bind(taid)
        .fetch_optional(&mut *conn)
        .await?;
    match current {
        None => {
            sqlx::query("INSERT INTO high_water (did, taid, version) VALUES ($1, $2, $3)")
                .bind(did)
                .bind(taid)
                .bind(version)
                .execute(&mut *conn)
                .await?;
        }
        Some(r) if r.try_get::<i64, _>("version")? < version => {
            sqlx::query("UPDATE high_water SET version = $1 WHERE did = $2 AND taid = $3")
                .bind(version)
                .bind(did)
                .bind(taid)
                .execute(&mut *conn)
                .await?;
        }
        Some(_) => {}
    }
    Ok(())
}
