//! The fleet as operators see it (`otrp tam devices`): each device's SDs
//! and TAs with versions, its last contact, and whether it matches the
//! policy and why not.

use serde::Serialize;

use crate::clock::rfc3339;
use crate::error::Result;
use crate::inventory::SdEntry;
use crate::plan::plan;
use crate::store::Store;

/// One device's report (the `--json` form of `otrp tam devices`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceReport {
    /// base64url did.
    pub did: String,
    /// TEE routing name.
    pub tee: String,
    /// SDs and TAs from the last DSI.
    pub sds: Vec<SdEntry>,
    /// Last contact, RFC 3339.
    pub last_contact: String,
    /// Whether the device is in the policy's state.
    pub compliant: bool,
    /// Why not: the commands it still needs, refused downgrades, the last
    /// session's failure.
    pub reasons: Vec<String>,
}

/// Every device's report, by did.
pub async fn devices(store: &Store) -> Result<Vec<DeviceReport>> {
    let (policy, catalog) = store.desired().await?;
    let mut out = Vec::new();
    for row in store.devices().await? {
        let marks = store.marks(&row.did).await?;
        let p = plan(&row.did, &row.inventory, &policy, &catalog, &marks);
        let compliant = p.is_compliant();
        let mut reasons: Vec<String> = p.actions.iter().map(|a| format!("needs {a}")).collect();
        reasons.extend(p.refusals);
        if !compliant && let Some(e) = &row.last_error {
            reasons.push(format!("last session: {e}"));
        }
        out.push(DeviceReport {
            did: row.did,
            tee: row.tee,
            sds: row.inventory.sds,
            last_contact: rfc3339(row.last_contact),
            compliant,
            reasons,
        });
    }
    Ok(out)
}

/// The reports as a text table.
pub fn table(reports: &[DeviceReport]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<10} {:<24} {:<20} {:<9} reasons",
        "DEVICE", "TEE", "SD/TA", "LAST CONTACT", "COMPLIANT"
    );
    if reports.is_empty() {
        out.push_str("(no device has contacted the TAM)\n");
    }
    for r in reports {
        let mut tas: Vec<String> = Vec::new();
        for sd in &r.sds {
            if sd.tas.is_empty() {
                tas.push(format!("{}/-", sd.sdname));
            }
            for ta in &sd.tas {
                let v = ta.version.map_or("?".to_string(), |v| v.to_string());
                tas.push(format!("{}/{} v{v}", sd.sdname, ta.taid));
            }
        }
        let tas = if tas.is_empty() {
            "-".into()
        } else {
            tas.join(", ")
        };
        let short: String = r.did.chars().take(10).collect();
        let line = format!(
            "{:<12} {:<10} {:<24} {:<20} {:<9} {}",
            format!("{short}.."),
            r.tee,
            tas,
            r.last_contact,
            if r.compliant { "yes" } else { "no" },
            r.reasons.join("; ")
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
