//! What a device has, as its TEE's DSI says (spec 9.1.5): the reconciler's
//! view of the device, kept in the store after every step.

use otrp_core::jose::b64;
use otrp_core::message::Dsi;
use serde::{Deserialize, Serialize};

/// One TA on the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaEntry {
    /// `taid`.
    pub taid: String,
    /// The version the TEE reports (`taversion`), when it does.
    pub version: Option<u64>,
}

/// One SD on the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdEntry {
    /// The SD name.
    pub sdname: String,
    /// Its SP.
    pub spid: String,
    /// Its TAs.
    pub tas: Vec<TaEntry>,
}

/// A TEE's SDs, TAs and SP AIKs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The TEE's routing name.
    pub tee: String,
    /// Its SDs.
    pub sds: Vec<SdEntry>,
    /// The SPs the TEE holds an SP AIK for (`teeaiklist`).
    pub aiks: Vec<String>,
}

impl Inventory {
    /// The inventory a DSI describes.
    pub fn from_dsi(dsi: &Dsi) -> Self {
        Inventory {
            tee: dsi.tee.name.clone(),
            sds: dsi
                .tee
                .sdlist
                .sd
                .iter()
                .map(|sd| SdEntry {
                    sdname: sd.name.clone(),
                    spid: sd.spid.clone(),
                    tas: sd
                        .talist
                        .iter()
                        .map(|ta| TaEntry {
                            taid: ta.taid.clone(),
                            version: ta.version,
                        })
                        .collect(),
                })
                .collect(),
            aiks: dsi.tee.teeaiklist.iter().map(|k| k.spid.clone()).collect(),
        }
    }

    /// The SD named `sdname`.
    pub fn sd(&self, sdname: &str) -> Option<&SdEntry> {
        self.sds.iter().find(|sd| sd.sdname == sdname)
    }

    /// The SD holding TA `taid`, with the TA.
    pub fn ta(&self, taid: &str) -> Option<(&SdEntry, &TaEntry)> {
        self.sds
            .iter()
            .find_map(|sd| sd.tas.iter().find(|t| t.taid == taid).map(|t| (sd, t)))
    }

    /// Every (taid, version) the device reports.
    pub fn versions(&self) -> impl Iterator<Item = (&str, u64)> {
        self.sds
            .iter()
            .flat_map(|sd| sd.tas.iter())
            .filter_map(|t| t.version.map(|v| (t.taid.as_str(), v)))
    }
}

/// The did of a TEE as the service names it: base64url of the SHA-256 of
/// its certificate (9.2.1.1).
pub fn did_text(did: &otrp_core::message::DeviceId) -> String {
    b64::encode_url(did.as_bytes())
}
