//! The reconciler's pure core (issue 15, items 3 and 4): a device's
//! inventory (from its DSI), the policy, the catalog and the device's
//! high-water marks give the plan of commands that brings the device to the
//! desired state, and the reasons it cannot get there.
//!
//! The plan is recomputed from the DSI after every command, so a session
//! that was interrupted at any point resumes correctly: an applied command
//! shows in the DSI and is not planned again; one that was not applied is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::inventory::Inventory;
use crate::policy::{PolicyEntry, VersionSel};

/// One catalog image, as the planner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogItem {
    /// `taid`.
    pub taid: String,
    /// The image's version.
    pub version: u64,
    /// The SP that signed it.
    pub spid: String,
}

/// One command of a plan (sections 9.2, 9.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command")]
pub enum Action {
    /// CreateSD `sdname` for `spid`.
    CreateSd {
        /// The SP.
        spid: String,
        /// The SD.
        sdname: String,
    },
    /// InstallTA `taid` at `version` into `sdname`.
    InstallTa {
        /// The SP.
        spid: String,
        /// The SD.
        sdname: String,
        /// The TA.
        taid: String,
        /// The catalog version sent.
        version: u64,
    },
    /// UpdateTA `taid` to `version`.
    UpdateTa {
        /// The SP.
        spid: String,
        /// The SD.
        sdname: String,
        /// The TA.
        taid: String,
        /// The version the device reports, if any.
        from: Option<u64>,
        /// The catalog version sent.
        version: u64,
    },
    /// DeleteTA `taid` from `sdname`.
    DeleteTa {
        /// The SD.
        sdname: String,
        /// The TA.
        taid: String,
    },
    /// DeleteSD `sdname` (empty by then; the TEE drops the SP's TEE SP AIK
    /// with its last SD).
    DeleteSd {
        /// The SP.
        spid: String,
        /// The SD.
        sdname: String,
    },
}

impl Action {
    /// The command's name in the spec.
    pub fn name(&self) -> &'static str {
        match self {
            Action::CreateSd { .. } => "CreateSD",
            Action::InstallTa { .. } => "InstallTA",
            Action::UpdateTa { .. } => "UpdateTA",
            Action::DeleteTa { .. } => "DeleteTA",
            Action::DeleteSd { .. } => "DeleteSD",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateSd { spid, sdname } => write!(f, "CreateSD {sdname} for {spid}"),
            Action::InstallTa {
                sdname,
                taid,
                version,
                ..
            } => write!(f, "InstallTA {taid} v{version} into {sdname}"),
            Action::UpdateTa {
                taid,
                from,
                version,
                ..
            } => match from {
                Some(v) => write!(f, "UpdateTA {taid} v{v} -> v{version}"),
                None => write!(f, "UpdateTA {taid} -> v{version}"),
            },
            Action::DeleteTa { sdname, taid } => write!(f, "DeleteTA {taid} from {sdname}"),
            Action::DeleteSd { sdname, .. } => write!(f, "DeleteSD {sdname}"),
        }
    }
}

/// What a device needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The commands, in the order to send them: DeleteTA, CreateSD,
    /// InstallTA/UpdateTA, DeleteSD.
    pub actions: Vec<Action>,
    /// Why the device cannot reach the desired state (a refused downgrade,
    /// a name clash): it stays non-compliant for these.
    pub refusals: Vec<String>,
}

impl Plan {
    /// Whether the device is in the desired state.
    pub fn is_compliant(&self) -> bool {
        self.actions.is_empty() && self.refusals.is_empty()
    }
}

/// The reason text of a refused downgrade (issue 15, item 4).
pub const DOWNGRADE_REFUSED: &str = "downgrade refused";

/// Plans device `did` with inventory `inv` against `policy` and `catalog`;
/// `marks` is the device's high-water mark per TA (the highest version it
/// has ever had). Only TAs and SDs of the catalog's SPs are managed: what
/// other TAMs installed is left alone.
pub fn plan(
    did: &str,
    inv: &Inventory,
    policy: &[PolicyEntry],
    catalog: &[CatalogItem],
    marks: &BTreeMap<String, u64>,
) -> Plan {
    let managed_sps: BTreeSet<&str> = catalog.iter().map(|c| c.spid.as_str()).collect();
    let known_tas: BTreeSet<&str> = catalog.iter().map(|c| c.taid.as_str()).collect();
    let mut out = Plan::default();

    // The entries for this device, with their target versions.
    let mut wanted: Vec<(&PolicyEntry, u64)> = Vec::new();
    for entry in policy.iter().filter(|e| e.devices.matches(did)) {
        let images = catalog
            .iter()
            .filter(|c| c.taid == entry.taid && c.spid == entry.spid);
        let target = match entry.version {
            VersionSel::Latest => images.map(|c| c.version).max(),
            VersionSel::Pinned(n) => images.map(|c| c.version).find(|v| *v == n),
        };
        match target {
            Some(v) => wanted.push((entry, v)),
            None => out.refusals.push(format!(
                "TA {}: no catalog image of SP {} for the policy's version",
                entry.taid, entry.spid
            )),
        }
    }
    wanted.sort_by(|a, b| a.0.taid.cmp(&b.0.taid));

    // TAs of managed SDs that no entry wants where they are.
    let mut deleted: BTreeSet<(&str, &str)> = BTreeSet::new();
    for sd in inv
        .sds
        .iter()
        .filter(|sd| managed_sps.contains(sd.spid.as_str()))
    {
        for ta in sd
            .tas
            .iter()
            .filter(|t| known_tas.contains(t.taid.as_str()))
        {
            let kept = wanted
                .iter()
                .any(|(e, _)| e.taid == ta.taid && e.sdname == sd.sdname);
            if !kept {
                deleted.insert((&sd.sdname, &ta.taid));
                out.actions.push(Action::DeleteTa {
                    sdname: sd.sdname.clone(),
                    taid: ta.taid.clone(),
                });
            }
        }
    }

    // SDs and TAs the entries want.
    let mut installs = Vec::new();
    let mut created: BTreeSet<&str> = BTreeSet::new();
    for (entry, target) in &wanted {
        let (target, taid) = (*target, entry.taid.as_str());
        let mark = marks.get(taid).copied();
        let downgrade = |have: u64, what: &str| {
            format!(
                "TA {taid}: {DOWNGRADE_REFUSED} (policy wants v{target}, device {what} v{have})"
            )
        };
        let sd = inv.sd(&entry.sdname);
        match sd {
            Some(sd) if sd.spid != entry.spid => {
                out.refusals.push(format!(
                    "TA {taid}: SD {} belongs to SP {}, not {}",
                    sd.sdname, sd.spid, entry.spid
                ));
                continue;
            }
            Some(_) => {}
            None => {
                if created.insert(&entry.sdname) {
                    out.actions.push(Action::CreateSd {
                        spid: entry.spid.clone(),
                        sdname: entry.sdname.clone(),
                    });
                }
            }
        }
        let present = sd.and_then(|sd| sd.tas.iter().find(|t| t.taid == taid));
        match present {
            Some(ta) => {
                let have = ta.version.or(mark);
                match have {
                    Some(h) if target < h => out.refusals.push(downgrade(h, "has")),
                    Some(h) if target == h => {}
                    _ => match mark {
                        Some(m) if m >= target => out.refusals.push(downgrade(m, "has had")),
                        _ => installs.push(Action::UpdateTa {
                            spid: entry.spid.clone(),
                            sdname: entry.sdname.clone(),
                            taid: taid.into(),
                            from: ta.version,
                            version: target,
                        }),
                    },
                }
            }
            None => match mark {
                Some(m) if m >= target => out.refusals.push(downgrade(m, "has had")),
                _ => installs.push(Action::InstallTa {
                    spid: entry.spid.clone(),
                    sdname: entry.sdname.clone(),
                    taid: taid.into(),
                    version: target,
                }),
            },
        }
    }
    out.actions.extend(installs);

    // Managed SDs no entry needs: deleted once their TAs are gone.
    for sd in inv
        .sds
        .iter()
        .filter(|sd| managed_sps.contains(sd.spid.as_str()))
    {
        let needed = wanted.iter().any(|(e, _)| e.sdname == sd.sdname);
        let emptied = sd
            .tas
            .iter()
            .all(|t| deleted.contains(&(sd.sdname.as_str(), t.taid.as_str())));
        if !needed && emptied {
            out.actions.push(Action::DeleteSd {
                spid: sd.spid.clone(),
                sdname: sd.sdname.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{SdEntry, TaEntry};
    use crate::policy::DeviceSel;

    const DID: &str = "did-of-the-device-under-test-0000000000000";

    fn entry(version: VersionSel) -> PolicyEntry {
        PolicyEntry {
            taid: "wallet".into(),
            spid: "sp1".into(),
            sdname: "sd1".into(),
            version,
            devices: DeviceSel::All,
        }
    }

    fn catalog(versions: &[u64]) -> Vec<CatalogItem> {
        versions
            .iter()
            .map(|v| CatalogItem {
                taid: "wallet".into(),
                version: *v,
                spid: "sp1".into(),
            })
            .collect()
    }

    fn inv(ta: Option<u64>) -> Inventory {
        Inventory {
            tee: "t".into(),
            sds: vec![SdEntry {
                sdname: "sd1".into(),
                spid: "sp1".into(),
                tas: ta
                    .map(|v| TaEntry {
                        taid: "wallet".into(),
                        version: Some(v),
                    })
                    .into_iter()
                    .collect(),
            }],
            aiks: vec!["sp1".into()],
        }
    }

    #[test]
    fn from_empty_creates_and_installs_latest() {
        let p = plan(
            DID,
            &Inventory::default(),
            &[entry(VersionSel::Latest)],
            &catalog(&[1, 2]),
            &BTreeMap::new(),
        );
        assert_eq!(p.actions.len(), 2);
        assert!(matches!(p.actions[0], Action::CreateSd { .. }));
        assert!(matches!(p.actions[1], Action::InstallTa { version: 2, .. }));
        assert!(p.refusals.is_empty());
    }

    #[test]
    fn update_pin_and_downgrade() {
        let marks = BTreeMap::from([("wallet".to_string(), 2)]);
        let pol = [entry(VersionSel::Latest)];
        let p = plan(DID, &inv(Some(1)), &pol, &catalog(&[1, 2, 3]), &marks);
        assert_eq!(
            p.actions,
            vec![Action::UpdateTa {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                taid: "wallet".into(),
                from: Some(1),
                version: 3
            }]
        );
        let p = plan(DID, &inv(Some(3)), &pol, &catalog(&[1, 2, 3]), &marks);
        assert!(p.is_compliant());
        // Pinned below what the device has: refused, nothing sent.
        let p = plan(
            DID,
            &inv(Some(3)),
            &[entry(VersionSel::Pinned(1))],
            &catalog(&[1, 3]),
            &marks,
        );
        assert!(p.actions.is_empty());
        assert!(p.refusals[0].contains(DOWNGRADE_REFUSED), "{p:?}");
        // Absent now, but the device has had v2: reinstalling v2 is refused.
        let p = plan(
            DID,
            &inv(None),
            &[entry(VersionSel::Pinned(2))],
            &catalog(&[2]),
            &marks,
        );
        assert!(p.actions.is_empty());
        assert!(p.refusals[0].contains(DOWNGRADE_REFUSED));
    }

    #[test]
    fn removal_deletes_ta_then_sd() {
        let p = plan(DID, &inv(Some(2)), &[], &catalog(&[2]), &BTreeMap::new());
        assert_eq!(
            p.actions,
            vec![
                Action::DeleteTa {
                    sdname: "sd1".into(),
                    taid: "wallet".into()
                },
                Action::DeleteSd {
                    spid: "sp1".into(),
                    sdname: "sd1".into()
                }
            ]
        );
        // Another device's list: not this one.
        let mut e = entry(VersionSel::Latest);
        e.devices = DeviceSel::List(vec!["x".repeat(43)]);
        let p = plan(DID, &inv(Some(2)), &[e], &catalog(&[2]), &BTreeMap::new());
        assert_eq!(p.actions.len(), 2);
        // Unmanaged SDs and TAs are left alone.
        let p = plan(DID, &inv(Some(2)), &[], &[], &BTreeMap::new());
        assert!(p.is_compliant());
    }
}
