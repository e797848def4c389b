//! The policy in the store.

use serde_json::json;
use sqlx::Row;

use super::catalog::to_i64;
use super::{Store, append_audit};
use crate::error::{Error, Result};
use crate::policy::{DeviceSel, PolicyEntry, VersionSel};

impl Store {
    /// Sets the entry of `entry.taid` (replacing the old one). Refused
    /// (nothing changed): a malformed entry, a TA not in the catalog or of
    /// another SP, a pinned version not in the catalog.
    pub async fn set_policy(&self, entry: &PolicyEntry, actor: &str, now: i64) -> Result<()> {
        entry.validate()?;
        let devices = match &entry.devices {
            DeviceSel::All => "all".to_string(),
            DeviceSel::List(dids) => serde_json::to_string(dids).unwrap_or_default(),
        };
        let version = match entry.version {
            VersionSel::Latest => None,
            VersionSel::Pinned(n) => Some(to_i64(n)?),
        };
        super::retry(|| async {
            let mut tx = self.begin().await?;
            let rows = sqlx::query("SELECT spid, version FROM ta_image WHERE taid = $1")
                .bind(&entry.taid)
                .fetch_all(&mut *tx)
                .await?;
            let Some(first) = rows.first() else {
                return Err(Error::input(format!(
                    "TA {} is not in the catalog (add it with `otrp tam ta add`)",
                    entry.taid
                )));
            };
            let spid: String = first.try_get("spid")?;
            if spid != entry.spid {
                return Err(Error::input(format!(
                    "TA {} belongs to SP {spid}, not {}",
                    entry.taid, entry.spid
                )));
            }
            if let Some(v) = version {
                let mut found = false;
                for r in &rows {
                    found |= r.try_get::<i64, _>("version")? == v;
                }
                if !found {
                    return Err(Error::input(format!(
                        "TA {} has no version {v} in the catalog",
                        entry.taid
                    )));
                }
            }
            sqlx::query("DELETE FROM policy WHERE taid = $1")
                .bind(&entry.taid)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO policy (taid, spid, sdname, version, devices, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&entry.taid)
            .bind(&entry.spid)
            .bind(&entry.sdname)
            .bind(version)
            .bind(&devices)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            append_audit(&mut tx, now, actor, "policy.set", &json!(entry)).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Removes the entry of `taid`: the TA must then be absent from every
    /// device (and its SD, once no entry needs it).
    pub async fn remove_policy(&self, taid: &str, actor: &str, now: i64) -> Result<()> {
        crate::policy::check_name("taid", taid)?;
        super::retry(|| async {
            let mut tx = self.begin().await?;
            let gone = sqlx::query("DELETE FROM policy WHERE taid = $1")
                .bind(taid)
                .execute(&mut *tx)
                .await?;
            if gone.rows_affected() == 0 {
                return Err(Error::input(format!(
                    "the policy has no entry for TA {taid}"
                )));
            }
            append_audit(
                &mut tx,
                now,
                actor,
                "policy.remove",
                &json!({ "taid": taid }),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The policy, by taid.
    pub async fn policy(&self) -> Result<Vec<PolicyEntry>> {
        let mut conn = self.pool.acquire().await?;
        entries(&mut conn).await
    }
}

/// The policy entries, on `conn` (a pool connection or a transaction).
pub(super) async fn entries(conn: &mut sqlx::AnyConnection) -> Result<Vec<PolicyEntry>> {
    let rows = sqlx::query("SELECT taid, spid, sdname, version, devices FROM policy ORDER BY taid")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let devices: String = r.try_get("devices")?;
            let devices = if devices == "all" {
                DeviceSel::All
            } else {
                DeviceSel::List(serde_json::from_str(&devices).map_err(|_| {
                    Error::Database(format!("policy: unreadable device list {devices:?}"))
                })?)
            };
            let version: Option<i64> = r.try_get("version")?;
            Ok(PolicyEntry {
                taid: r.try_get("taid")?,
                spid: r.try_get("spid")?,
                sdname: r.try_get("sdname")?,
                version: version.map_or(VersionSel::Latest, |v| VersionSel::Pinned(v as u64)),
                devices,
            })
        })
        .collect()
}
