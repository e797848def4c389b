//! The fleet status page (issue 16, item 6): one server-rendered HTML page
//! on the admin listener (`GET /status`) showing the policy, every device
//! with its TAs and versions against the policy, its last contact, and the
//! devices whose last session failed. No script: the page reloads itself
//! (`<meta http-equiv="refresh">`), and the admin API's
//! `Content-Security-Policy` allows only its inline style.
//!
//! Everything a device or an operator chose (TEE names, SD names, taids,
//! error texts) is HTML-escaped: a TEE's DSI is device-controlled.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::clock::rfc3339;
use crate::error::Result;
use crate::plan::CatalogItem;
use crate::policy::{DeviceSel, PolicyEntry, VersionSel};
use crate::report::DeviceReport;
use crate::store::Store;

/// Seconds between automatic reloads of the page.
pub const REFRESH_SECONDS: u32 = 10;

/// Devices listed under "recent failures" at most.
pub const MAX_FAILURES: usize = 20;

/// The page for the fleet in `store`, rendered at `now_ms`.
pub async fn page(store: &Store, now_ms: i64) -> Result<String> {
    let (policy, catalog) = store.desired().await?;
    let devices = crate::report::devices(store).await?;
    Ok(render(&policy, &catalog, &devices, now_ms))
}

/// The version policy `entry` wants, if the catalog has one.
fn wanted(entry: &PolicyEntry, catalog: &[CatalogItem]) -> Option<u64> {
    match entry.version {
        VersionSel::Pinned(v) => Some(v),
        VersionSel::Latest => catalog
            .iter()
            .filter(|c| c.taid == entry.taid && c.spid == entry.spid)
            .map(|c| c.version)
            .max(),
    }
}

/// The page's HTML.
pub fn render(
    policy: &[PolicyEntry],
    catalog: &[CatalogItem],
    devices: &[DeviceReport],
    now_ms: i64,
) -> String {
    let compliant = devices.iter().filter(|d| d.compliant).count();
    let mut out = String::with_capacity(4096 + devices.len() * 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <title>OTrP TAM fleet</title><style>{STYLE}</style></head><body>\n\
         <h1>OTrP TAM fleet</h1>\n<p id=\"summary\">{} device(s), {compliant} compliant, \
         {} not; {} policy entr{}. Rendered {} (reloads every {REFRESH_SECONDS} s).</p>\n",
        devices.len(),
        devices.len() - compliant,
        policy.len(),
        if policy.len() == 1 { "y" } else { "ies" },
        rfc3339(now_ms),
    );

    out.push_str("<h2>Policy</h2>\n<table id=\"policy\"><tr><th>TA</th><th>SP</th><th>SD</th><th>version</th><th>devices</th></tr>\n");
    for e in policy {
        let version = match (e.version, wanted(e, catalog)) {
            (VersionSel::Pinned(v), _) => format!("v{v} (pinned)"),
            (VersionSel::Latest, Some(v)) => format!("latest = v{v}"),
            (VersionSel::Latest, None) => "latest (no image)".into(),
        };
        let sel = match &e.devices {
            DeviceSel::All => "all".to_string(),
            DeviceSel::List(l) => format!("{} listed", l.len()),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.taid),
            esc(&e.spid),
            esc(&e.sdname),
            esc(&version),
            esc(&sel)
        );
    }
    out.push_str("</table>\n");

    out.push_str("<h2>Devices</h2>\n<table id=\"devices\"><tr><th>device</th><th>TEE</th><th>TAs (device / policy)</th><th>last contact</th><th>compliant</th><th>reasons</th></tr>\n");
    for d in devices {
        // What the policy wants on this device, by taid.
        let mut want: BTreeMap<&str, Option<u64>> = policy
            .iter()
            .filter(|e| e.devices.matches(&d.did))
            .map(|e| (e.taid.as_str(), wanted(e, catalog)))
            .collect();
        let mut tas = String::new();
        for sd in &d.sds {
            for ta in &sd.tas {
                let has = ta.version.map_or("?".into(), |v| format!("v{v}"));
                let (class, target) = match want.remove(ta.taid.as_str()) {
                    Some(w) if w == ta.version => ("ok", format!("v{}", w.unwrap_or(0))),
                    Some(Some(w)) => ("diff", format!("v{w}")),
                    Some(None) => ("diff", "?".into()),
                    None => ("extra", "absent".into()),
                };
                let _ = write!(
                    tas,
                    "<span class=\"ta {class}\">{}/{} {} / {}</span> ",
                    esc(&sd.sdname),
                    esc(&ta.taid),
                    esc(&has),
                    esc(&target)
                );
            }
        }
        for (taid, w) in want {
            let target = w.map_or("?".into(), |v| format!("v{v}"));
            let _ = write!(
                tas,
                "<span class=\"ta diff\">{} missing / {}</span> ",
                esc(taid),
                esc(&target)
            );
        }
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td class=\"did\" title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if d.compliant { "ok" } else { "diff" },
            esc(&d.did),
            esc(&d.did),
            esc(&d.tee),
            if tas.is_empty() { "-".into() } else { tas },
            esc(&d.last_contact),
            if d.compliant { "yes" } else { "no" },
            esc(&d.reasons.join("; "))
        );
    }
    out.push_str("</table>\n");

    out.push_str("<h2>Recent failures</h2>\n<table id=\"failures\"><tr><th>last contact</th><th>device</th><th>failure</th></tr>\n");
    let mut failed: Vec<(&DeviceReport, &str)> = devices
        .iter()
        .filter_map(|d| {
            d.reasons
                .iter()
                .find_map(|r| r.strip_prefix("last session: "))
                .map(|r| (d, r))
        })
        .collect();
    // RFC 3339 in UTC sorts as text: newest first.
    failed.sort_by(|a, b| b.0.last_contact.cmp(&a.0.last_contact));
    for (d, why) in failed.iter().take(MAX_FAILURES) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"did\">{}</td><td>{}</td></tr>",
            esc(&d.last_contact),
            esc(&d.did),
            esc(why)
        );
    }
    if failed.is_empty() {
        out.push_str("<tr><td colspan=\"3\">none</td></tr>\n");
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// The page's only style (allowed by the admin API's CSP).
const STYLE: &str = "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\
.did{font-family:monospace;font-size:80%}.ok{background:#e6f4e6}.diff{background:#fde8e8}\
.extra{background:#fff4d6}.ta{white-space:nowrap}";

/// `text` escaped for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{SdEntry, TaEntry};

    fn device(did: &str, tee: &str, tas: &[(&str, Option<u64>)], compliant: bool) -> DeviceReport {
        DeviceReport {
            did: did.into(),
            tee: tee.into(),
            sds: vec![SdEntry {
                sdname: "wsd".into(),
                spid: "sp1".into(),
                tas: tas
                    .iter()
                    .map(|(t, v)| TaEntry {
                        taid: (*t).into(),
                        version: *v,
                    })
                    .collect(),
            }],
            last_contact: "2026-01-01T00:00:00Z".into(),
            compliant,
            reasons: if compliant {
                vec![]
            } else {
                vec!["last session: InstallTA <b>x</b> refused".into()]
            },
        }
    }

    #[test]
    fn shows_versions_against_the_policy_and_escapes_everything() {
        let policy = vec![PolicyEntry {
            taid: "wallet".into(),
            spid: "sp1".into(),
            sdname: "wsd".into(),
            version: VersionSel::Latest,
            devices: DeviceSel::All,
        }];
        let catalog = vec![
            CatalogItem {
                taid: "wallet".into(),
                version: 1,
                spid: "sp1".into(),
            },
            CatalogItem {
                taid: "wallet".into(),
                version: 2,
                spid: "sp1".into(),
            },
        ];
        let devices = vec![
            device("did-a", "soft-tee", &[("wallet", Some(2))], true),
            device(
                "did-b",
                "<script>alert(1)</script>",
                &[("wallet", Some(1)), ("x\"><img src=x>", Some(1))],
                false,
            ),
            device("did-c", "t", &[], false),
        ];
        let html = render(&policy, &catalog, &devices, 0);
        assert!(html.contains("latest = v2"), "{html}");
        assert!(html.contains("wsd/wallet v2 / v2"));
        assert!(html.contains("<span class=\"ta diff\">wsd/wallet v1 / v2</span>"));
        assert!(html.contains("wallet missing / v2"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("x&quot;&gt;&lt;img src=x&gt; v1 / absent"));
        assert!(html.contains("InstallTA &lt;b&gt;x&lt;/b&gt; refused"));
        assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"));
        assert!(html.contains("3 device(s), 1 compliant, 2 not; 1 policy entry."));
        assert!(html.contains("<meta http-equiv=\"refresh\" content=\"10\">"));
    }
}
