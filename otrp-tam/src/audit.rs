//! The audit log (issue 15, item 5): append-only and tamper-evident. Each
//! entry carries the SHA-256 of the previous entry's hash and its own
//! content, so editing, deleting or reordering an entry breaks the chain;
//! the head (last sequence number and hash), kept in its own row and
//! printed by `otrp tam audit`, also reveals a truncated tail.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// 1, 2, 3, ... without gaps.
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// Who: `operator` (CLI), `admin` (admin API) or `device DID`.
    pub actor: String,
    /// What, in one word (`ta.add`, `policy.set`, `command`, ...).
    pub action: String,
    /// The details, as JSON text.
    pub detail: String,
    /// The previous entry's hash (hex).
    pub prev: String,
    /// This entry's hash (hex).
    pub hash: String,
}

/// The hash of an entry: SHA-256 over the JSON array
/// `[prev, seq, at, actor, action, detail]` (lowercase hex).
pub fn entry_hash(
    prev: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    detail: &str,
) -> String {
    let bytes = serde_json::to_vec(&(prev, seq, at, actor, action, detail)).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a whole log read in `seq` order, and that it ends at `head`
/// (the head row's sequence number and hash; `None` for an empty log).
/// Returns the first inconsistency.
pub fn verify(entries: &[AuditEntry], head: Option<(i64, &str)>) -> Result<(), String> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if e.seq != expected_seq {
            return Err(format!(
                "entry {expected_seq} is missing (found {} in its place)",
                e.seq
            ));
        }
        if e.prev != prev {
            return Err(format!(
                "entry {} does not follow entry {} (reordered or an entry deleted)",
                e.seq,
                e.seq - 1
            ));
        }
        let hash = entry_hash(&e.prev, e.seq, e.at, &e.actor, &e.action, &e.detail);
        if hash != e.hash {
            return Err(format!(
                "entry {} was edited (its hash does not match)",
                e.seq
            ));
        }
        prev = hash;
    }
    let last = entries.last().map(|e| (e.seq, e.hash.as_str()));
    match (last, head) {
        (None, None) => Ok(()),
        (Some((s, h)), Some((hs, hh))) if s == hs && h == hh => Ok(()),
        (_, Some((hs, _))) => Err(format!(
            "the log ends at entry {} but its head is entry {hs} (entries deleted at the end)",
            last.map_or(0, |l| l.0)
        )),
        (Some(_), None) => Err("the log has entries but no head".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let detail = format!("{{\"n\":{seq}}}");
                let hash = entry_hash(&prev, seq, 1000 + seq, "operator", "test", &detail);
                let e = AuditEntry {
                    seq,
                    at: 1000 + seq,
                    actor: "operator".into(),
                    action: "test".into(),
                    detail,
                    prev: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn head(l: &[AuditEntry]) -> Option<(i64, &str)> {
        l.last().map(|e| (e.seq, e.hash.as_str()))
    }

    #[test]
    fn tampering_is_detected() {
        let good = log(4);
        assert_eq!(verify(&good, head(&good)), Ok(()));
        assert_eq!(verify(&[], None), Ok(()));

        let mut edited = good.clone();
        edited[1].detail = "{\"n\":99}".into();
        assert!(verify(&edited, head(&good)).unwrap_err().contains("edited"));

        let mut deleted = good.clone();
        deleted.remove(1);
        assert!(verify(&deleted, head(&good)).is_err());

        let mut reordered = good.clone();
        reordered.swap(1, 2);
        assert!(verify(&reordered, head(&good)).is_err());

        let truncated = &good[..3];
        assert!(
            verify(truncated, head(&good))
                .unwrap_err()
                .contains("deleted at the end")
        );
    }
}
