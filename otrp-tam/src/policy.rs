//! The desired state (issue 15, item 3): declarative policy entries, one
//! per TA. An entry says which SP's SD the TA lives in, which version the
//! devices must run (a pinned version or the latest in the catalog) and
//! which devices it applies to. A catalog TA that no entry applicable to a
//! device names must be absent from it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The longest `spid`, `sdname` or `taid` accepted from an operator.
pub const MAX_NAME: usize = 128;

/// Which version of a TA the devices must run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionSel {
    /// The highest version in the catalog, followed as new ones are added.
    Latest,
    /// Exactly this version (rolling back means publishing the old code
    /// under a new, higher version: a pin below what a device has had is
    /// refused there, "downgrade refused").
    Pinned(u64),
}

/// The devices an entry applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceSel {
    /// Every device.
    All,
    /// These devices (their `did`, base64url of the TEE certificate's
    /// SHA-256).
    List(Vec<String>),
}

impl DeviceSel {
    /// Whether the device `did` is selected.
    pub fn matches(&self, did: &str) -> bool {
        match self {
            DeviceSel::All => true,
            DeviceSel::List(dids) => dids.iter().any(|d| d == did),
        }
    }

    /// Parses `all` or a comma-separated list of dids.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text == "all" {
            return Ok(DeviceSel::All);
        }
        let mut dids = Vec::new();
        for did in text.split(',').map(str::trim) {
            check_did(did)?;
            if !dids.iter().any(|d| d == did) {
                dids.push(did.to_string());
            }
        }
        Ok(DeviceSel::List(dids))
    }
}

/// One TA of the desired state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEntry {
    /// The TA.
    pub taid: String,
    /// Its Service Provider (the catalog's images of `taid` are this SP's).
    pub spid: String,
    /// The SD the TA is installed in (created for `spid` when missing).
    pub sdname: String,
    /// The version the devices must run.
    pub version: VersionSel,
    /// The devices concerned.
    pub devices: DeviceSel,
}

impl PolicyEntry {
    /// Checks the names an operator gave.
    pub fn validate(&self) -> Result<()> {
        check_name("spid", &self.spid)?;
        check_name("SD name", &self.sdname)?;
        check_name("taid", &self.taid)?;
        if let VersionSel::Pinned(0) = self.version {
            return Err(Error::input("a pinned version must be at least 1"));
        }
        if let DeviceSel::List(dids) = &self.devices {
            if dids.is_empty() {
                return Err(Error::input("the device list is empty"));
            }
            for did in dids {
                check_did(did)?;
            }
        }
        Ok(())
    }
}

/// Parses `TAID` or `TAID@VERSION` (`TAID@latest` is `TAID`).
pub fn parse_ta_spec(text: &str) -> Result<(String, VersionSel)> {
    let (taid, version) = match text.rsplit_once('@') {
        None => (text, VersionSel::Latest),
        Some((taid, "latest")) => (taid, VersionSel::Latest),
        Some((taid, v)) => {
            let n: u64 = v.parse().map_err(|_| {
                Error::input(format!(
                    "bad version {v:?} in {text:?} (TAID or TAID@VERSION)"
                ))
            })?;
            (taid, VersionSel::Pinned(n))
        }
    };
    check_name("taid", taid)?;
    Ok((taid.to_string(), version))
}

/// A name an operator gives (SP, SD, TA): 1 to [`MAX_NAME`] printable
/// characters, no '@' or ',' (they separate versions and lists).
pub fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Error::input(format!(
            "{what} must be 1 to {MAX_NAME} characters"
        )));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '@' || c == ',')
    {
        return Err(Error::input(format!(
            "{what} {name:?} has a space, control character, '@' or ','"
        )));
    }
    Ok(())
}

/// A device id: base64url (no padding) of a SHA-256, 43 characters.
pub fn check_did(did: &str) -> Result<()> {
    let ok = did.len() == 43
        && did
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "{did:?} is not a device id (base64url of a SHA-256, 43 characters)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ta_specs() {
        assert_eq!(
            parse_ta_spec("wallet").unwrap(),
            ("wallet".into(), VersionSel::Latest)
        );
        assert_eq!(
            parse_ta_spec("wallet@3").unwrap(),
            ("wallet".into(), VersionSel::Pinned(3))
        );
        assert_eq!(
            parse_ta_spec("wallet@latest").unwrap(),
            ("wallet".into(), VersionSel::Latest)
        );
        for bad in ["", "@1", "wallet@", "wallet@x", "wallet@-1", "a b", "w@1@2"] {
            assert!(parse_ta_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn device_selections() {
        let did = "A".repeat(43);
        assert_eq!(DeviceSel::parse("all").unwrap(), DeviceSel::All);
        assert_eq!(
            DeviceSel::parse(&format!("{did},{did}")).unwrap(),
            DeviceSel::List(vec![did.clone()])
        );
        assert!(DeviceSel::parse("").is_err());
        assert!(DeviceSel::parse("abc").is_err());
        assert!(DeviceSel::parse(&format!("{did},")).is_err());
    }
}
