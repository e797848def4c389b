//! Operator input: every bad input is refused with one clear error and the
//! store unchanged; the audit log detects an edited, a deleted and a
//! reordered entry. On every database of `support::databases`.

mod support;

use otrp_tam::Store;
use otrp_tam::admin::policy_entry;
use otrp_tam::policy::{DeviceSel, PolicyEntry, VersionSel};
use support::*;

const OP: &str = "operator";

/// Everything an operator can change, as text.
async fn dump(store: &Store) -> String {
    let catalog = store.catalog().await.unwrap();
    let policy = store.policy().await.unwrap();
    let (audit, head) = store.audit_log().await.unwrap();
    let anchors = store.sp_anchors().await.unwrap();
    format!("{catalog:?}\n{policy:?}\n{audit:?}\n{head:?}\n{anchors:?}")
}

#[test]
fn bad_operator_input_is_refused_and_changes_nothing() {
    let fleet = Fleet::new(0);
    let other = test_pki(); // another PKI: its SP is not trusted
    let provider = provider();
    let rt = runtime();
    for url in databases(fleet.dir.path(), "input") {
        let store = rt.block_on(Store::open(&url)).unwrap();
        rt.block_on(async {
            store.add_sp_anchors(&fleet.anchors(), OP, 1).await.unwrap();
            otrp_tam::catalog::add(&store, &provider, "sp1", &fleet.image("wallet", 2), OP, 2)
                .await
                .unwrap();
            let good = policy_entry("sp1", "sd1", "wallet", None).unwrap();
            store.set_policy(&good, OP, 3).await.unwrap();
        });
        let before = rt.block_on(dump(&store));

        // Images.
        let unsigned = b"just some bytes".to_vec();
        let no_chain = {
            // A soft-TEE image without x5c: the catalog cannot check it.
            let key = provider
                .key_loader
                .private_key_from_pkcs8_der(fleet.pki.sp.key().unwrap().pkcs8_der())
                .unwrap();
            let info = otrp_soft_tee::TaImageInfo {
                taid: "wallet".into(),
                version: 3,
                taname: None,
            };
            otrp_soft_tee::sign_ta_image(
                b"code",
                &info,
                key.as_ref(),
                otrp_core::crypto::JwsAlg::Es256,
                &provider,
            )
            .unwrap()
        };
        let untrusted = sign_image(&other.sp, "wallet", 3);
        let wrong_key = {
            // Signed by the other SP's key, claiming our SP's certificate.
            let mut v: serde_json::Value =
                serde_json::from_slice(&sign_image(&other.sp, "wallet", 3)).unwrap();
            let ours: serde_json::Value =
                serde_json::from_slice(&fleet.image("wallet", 3)).unwrap();
            v["header"] = ours["header"].clone();
            v.to_string().into_bytes()
        };
        let tampered = {
            let mut v: serde_json::Value =
                serde_json::from_slice(&fleet.image("wallet", 3)).unwrap();
            v["payload"] = serde_json::Value::from("dGFtcGVyZWQ");
            v.to_string().into_bytes()
        };
        let (v1, v2, v3) = (
            fleet.image("wallet", 1),
            fleet.image("wallet", 2),
            fleet.image("wallet", 3),
        );
        let cases: Vec<(&str, &[u8], &str)> = vec![
            ("sp1", &unsigned, "not a signed TA image"),
            ("sp1", &no_chain, "no SP certificate"),
            ("sp1", &untrusted, "SP certificate"),
            ("sp1", &wrong_key, "does not verify"),
            ("sp1", &tampered, "does not verify"),
            ("sp2", &v3, "belongs to SP sp1"),
            ("sp1", &v2, "not higher"),
            ("sp1", &v1, "not higher"),
            ("", &v3, "spid"),
            ("bad sp", &v3, "spid"),
        ];
        for (spid, image, expected) in cases {
            let e = rt
                .block_on(otrp_tam::catalog::add(
                    &store, &provider, spid, image, OP, 9,
                ))
                .unwrap_err();
            assert!(matches!(e, otrp_tam::Error::Input(_)), "{e:?}");
            assert!(e.to_string().contains(expected), "{expected}: {e}");
            assert!(!e.to_string().contains('\n'));
            assert_eq!(rt.block_on(dump(&store)), before, "{expected}");
        }

        // Policies.
        let did = "A".repeat(43);
        for (spid, sd, ta, devices, expected) in [
            ("sp1", "sd1", "unknown", None, "not in the catalog"),
            ("sp2", "sd1", "wallet", None, "belongs to SP sp1"),
            ("sp1", "sd1", "wallet@7", None, "no version 7"),
            ("sp1", "sd1", "wallet@x", None, "bad version"),
            ("sp1", "sd1", "wallet@0", None, "at least 1"),
            ("sp1", "", "wallet", None, "SD name"),
            ("sp1", "sd1", "", None, "taid"),
            ("sp1", "sd1", "wallet", Some("nobody"), "not a device id"),
            ("sp1", "sd1", "wallet", Some(""), "not a device id"),
            (
                "sp1",
                "sd1",
                "wallet",
                Some(&*format!("{did},")),
                "not a device id",
            ),
        ] {
            let result = policy_entry(spid, sd, ta, devices)
                .and_then(|entry| rt.block_on(store.set_policy(&entry, OP, 9)));
            let e = result.unwrap_err();
            assert!(e.to_string().contains(expected), "{expected}: {e}");
            assert_eq!(rt.block_on(dump(&store)), before, "{expected}");
        }
        // An entry built by hand, bypassing the parser, is checked too.
        let raw = PolicyEntry {
            taid: "wallet".into(),
            spid: "sp1".into(),
            sdname: "sd1".into(),
            version: VersionSel::Latest,
            devices: DeviceSel::List(vec![]),
        };
        assert!(rt.block_on(store.set_policy(&raw, OP, 9)).is_err());
        for ta in ["unknown", "", "a b"] {
            assert!(rt.block_on(store.remove_policy(ta, OP, 9)).is_err());
        }
        assert_eq!(rt.block_on(dump(&store)), before);
        rt.block_on(store.close());
    }

    // Databases that cannot be used.
    for (url, expected) in [
        ("mysql://localhost/x", "unsupported database URL"),
        ("sqlite:/nonexistent-dir/x/tam.db", "cannot open"),
        ("postgres://otrp:secret@127.0.0.1:1/otrp", "cannot open"),
    ] {
        let e = rt.block_on(Store::open(url)).unwrap_err();
        assert!(e.to_string().contains(expected), "{url}: {e}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}

#[test]
fn audit_log_detects_an_edited_a_deleted_and_a_reordered_entry() {
    let fleet = Fleet::new(0);
    let provider = provider();
    let rt = runtime();
    for url in databases(fleet.dir.path(), "audit") {
        for tamper in [
            "UPDATE audit SET detail = '{\"taid\":\"evil\"}' WHERE seq = 2",
            "DELETE FROM audit WHERE seq = 2",
            // Entries 2 and 3 swap places (their numbers swap).
            "UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; \
             UPDATE audit SET seq = 3 WHERE seq = -2",
            "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
        ] {
            let url = fresh(&url, &fleet, tamper);
            let store = rt.block_on(Store::open(&url)).unwrap();
            rt.block_on(async {
                store.add_sp_anchors(&fleet.anchors(), OP, 1).await.unwrap();
                for v in 1..=3 {
                    otrp_tam::catalog::add(&store, &provider, "sp1", &fleet.image("w", v), OP, 2)
                        .await
                        .unwrap();
                }
                assert_eq!(store.verify_audit().await.unwrap(), 4);
            });
            rt.block_on(raw_sql(&url, tamper));
            let e = rt.block_on(store.verify_audit()).unwrap_err();
            assert!(matches!(e, otrp_tam::Error::Tampered(_)), "{tamper}: {e}");
            rt.block_on(store.close());
        }
    }
}

/// A separate database per tamper case (SQLite: a new file; PostgreSQL:
/// the same fresh database per test is fine after a reset).
fn fresh(url: &str, fleet: &Fleet, tag: &str) -> String {
    if url.starts_with("sqlite:") {
        let n = tag.len() + tag.bytes().map(usize::from).sum::<usize>();
        fleet.sqlite(&format!("audit-{n}.db"))
    } else {
        let rt = runtime();
        rt.block_on(raw_sql(
            url,
            "DROP TABLE IF EXISTS audit_head, audit, high_water, device, policy, ta_image, \
             sp_anchor, sp, http_session, otrp_schema",
        ));
        url.to_string()
    }
}

/// Runs SQL on the database behind the service's back (the attacker).
async fn raw_sql(url: &str, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}
