//! The TA catalog and the SP registry in the store.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::{Store, append_audit};
use crate::error::{Error, Result};
use crate::plan::CatalogItem;

/// An image that verified ([`crate::catalog::verify_upload`]), ready to
/// add.
#[derive(Clone, Debug)]
pub struct NewImage {
    /// The SP the operator named.
    pub spid: String,
    /// `taid` from the signed header.
    pub taid: String,
    /// `taversion` from the signed header.
    pub version: u64,
    /// `taname` from the signed header.
    pub taname: Option<String>,
    /// The SP certificate (DER) whose key signed the image.
    pub spcert: Vec<u8>,
    /// The image.
    pub image: Vec<u8>,
    /// Its SHA-256 (hex).
    pub sha256: String,
}

/// One catalog entry (without the image bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogEntry {
    /// `taid`.
    pub taid: String,
    /// Version.
    pub version: u64,
    /// SP.
    pub spid: String,
    /// Friendly name.
    pub taname: Option<String>,
    /// SHA-256 of the image (hex).
    pub sha256: String,
    /// Image size in bytes.
    pub size: u64,
    /// When it was added (RFC 3339).
    pub added: String,
}

impl Store {
    /// The trusted SP roots (DER).
    pub async fn sp_anchors(&self) -> Result<Vec<Vec<u8>>> {
        let rows = sqlx::query("SELECT cert FROM sp_anchor ORDER BY sha256")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<Vec<u8>, _>("cert")?))
            .collect()
    }

    /// Trusts the SP roots `certs` (DER) for catalog uploads; the ones
    /// already trusted are skipped. Returns how many were added.
    pub async fn add_sp_anchors(&self, certs: &[Vec<u8>], actor: &str, now: i64) -> Result<usize> {
        super::retry(|| async {
            let mut tx = self.begin().await?;
            let mut added = 0;
            for cert in certs {
                let id = crate::audit::hex(&<sha2::Sha256 as sha2::Digest>::digest(cert));
                let known = sqlx::query("SELECT sha256 FROM sp_anchor WHERE sha256 = $1")
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if known.is_some() {
                    continue;
                }
                sqlx::query("INSERT INTO sp_anchor (sha256, cert, added_at) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(cert.clone())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                append_audit(&mut tx, now, actor, "sp.anchor", &json!({ "sha256": id })).await?;
                added += 1;
            }
            tx.commit().await?;
            Ok(added)
        })
        .await
    }

    /// Adds a verified image. Refused (nothing changed): a `taid` of
    /// another SP, an SP certificate other than the one pinned for `spid`,
    /// and a version not higher than the catalog's latest of the TA
    /// (versions only move forward: a rollback is old code published under
    /// a new, higher version).
    pub async fn add_image(&self, new: &NewImage, actor: &str, now: i64) -> Result<()> {
        let version = to_i64(new.version)?;
        super::retry(|| async {
            let mut tx = self.begin().await?;
            let pinned = sqlx::query("SELECT cert FROM sp WHERE spid = $1")
                .bind(&new.spid)
                .fetch_optional(&mut *tx)
                .await?;
            match pinned {
                Some(r) => {
                    let cert: Vec<u8> = r.try_get("cert")?;
                    if cert != new.spcert {
                        return Err(Error::input(format!(
                            "the image is signed with a certificate other than SP {}'s",
                            new.spid
                        )));
                    }
                }
                None => {
                    sqlx::query("INSERT INTO sp (spid, cert, added_at) VALUES ($1, $2, $3)")
                        .bind(&new.spid)
                        .bind(new.spcert.clone())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let latest = sqlx::query(
                "SELECT spid, version FROM ta_image WHERE taid = $1 ORDER BY version DESC LIMIT 1",
            )
            .bind(&new.taid)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(r) = latest {
                let spid: String = r.try_get("spid")?;
                let latest: i64 = r.try_get("version")?;
                if spid != new.spid {
                    return Err(Error::input(format!(
                        "TA {} belongs to SP {spid}, not {}",
                        new.taid, new.spid
                    )));
                }
                if version <= latest {
                    return Err(Error::input(format!(
                        "TA {} version {} is not higher than the catalog's latest ({latest}): \
                         versions only move forward",
                        new.taid, new.version
                    )));
                }
            }
            sqlx::query(
                "INSERT INTO ta_image (taid, version, spid, taname, sha256, image, added_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&new.taid)
            .bind(version)
            .bind(&new.spid)
            .bind(new.taname.clone())
            .bind(&new.sha256)
            .bind(new.image.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = json!({
                "taid": new.taid, "version": new.version, "spid": new.spid,
                "sha256": new.sha256, "size": new.image.len(),
            });
            append_audit(&mut tx, now, actor, "ta.add", &detail).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The catalog, by taid and version.
    pub async fn catalog(&self) -> Result<Vec<CatalogEntry>> {
        let rows = sqlx::query(
            "SELECT taid, version, spid, taname, sha256, LENGTH(image) AS size, added_at \
             FROM ta_image ORDER BY taid, version",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CatalogEntry {
                    taid: r.try_get("taid")?,
                    version: r.try_get::<i64, _>("version")? as u64,
                    spid: r.try_get("spid")?,
                    taname: r.try_get("taname")?,
                    sha256: r.try_get("sha256")?,
                    size: r.try_get::<i64, _>("size")? as u64,
                    added: crate::clock::rfc3339(r.try_get("added_at")?),
                })
            })
            .collect()
    }

    /// An image and the certificate of its SP (DER).
    pub async fn image(&self, taid: &str, version: u64) -> Result<(Vec<u8>, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT i.image AS image, s.cert AS cert FROM ta_image i JOIN sp s ON s.spid = i.spid \
             WHERE i.taid = $1 AND i.version = $2",
        )
        .bind(taid)
        .bind(to_i64(version)?)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::input(format!("TA {taid} v{version} is not in the catalog")))?;
        Ok((row.try_get("image")?, row.try_get("cert")?))
    }

    /// The certificate (DER) of SP `spid`.
    pub async fn sp_cert(&self, spid: &str) -> Result<Vec<u8>> {
        let row = sqlx::query("SELECT cert FROM sp WHERE spid = $1")
            .bind(spid)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::input(format!("SP {spid} is not known")))?;
        Ok(row.try_get("cert")?)
    }
}

/// Catalog items (for the planner) inside a transaction.
pub(super) async fn items(conn: &mut sqlx::AnyConnection) -> Result<Vec<CatalogItem>> {
    let rows = sqlx::query("SELECT taid, version, spid FROM ta_image ORDER BY taid, version")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CatalogItem {
                taid: r.try_get("taid")?,
                version: r.try_get::<i64, _>("version")? as u64,
                spid: r.try_get("spid")?,
            })
        })
        .collect()
}

/// A version as the database stores it (BIGINT).
pub(crate) fn to_i64(version: u64) -> Result<i64> {
    i64::try_from(version).map_err(|_| Error::input(format!("version {version} is too large")))
}
