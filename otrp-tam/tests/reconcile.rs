//! The reconciler against soft TEEs, on every database of
//! `support::databases`: a fleet reconciled from empty, a rollout, a pinned
//! version, a device list, removal; the TAM killed between any two messages
//! and restarted; two front ends on one database; downgrades refused.

mod support;

use std::sync::atomic::Ordering;

use otrp_tam::policy::{DeviceSel, PolicyEntry, VersionSel};
use otrp_tam::report::DeviceReport;
use support::*;

const SPID: &str = "sp1";
const SD: &str = "wallet-sd";
const TA: &str = "wallet";
const OP: &str = "operator";

fn entry(version: VersionSel, devices: DeviceSel) -> PolicyEntry {
    PolicyEntry {
        taid: TA.into(),
        spid: SPID.into(),
        sdname: SD.into(),
        version,
        devices,
    }
}

fn add(service: &otrp_tam::TamService, fleet: &Fleet, version: u64) {
    let store = service.store();
    service
        .block_on(store.add_sp_anchors(&fleet.anchors(), OP, 0))
        .unwrap();
    service
        .block_on(otrp_tam::catalog::add(
            store,
            &provider(),
            SPID,
            &fleet.image(TA, version),
            OP,
            1,
        ))
        .unwrap();
}

fn set(service: &otrp_tam::TamService, e: PolicyEntry) {
    service
        .block_on(service.store().set_policy(&e, OP, 2))
        .unwrap();
}

fn reports(service: &otrp_tam::TamService) -> Vec<DeviceReport> {
    service
        .block_on(otrp_tam::report::devices(service.store()))
        .unwrap()
}

fn ta_version(r: &DeviceReport) -> Option<u64> {
    r.sds
        .iter()
        .flat_map(|s| &s.tas)
        .find(|t| t.taid == TA)?
        .version
}

/// Failed commands in the audit log (a duplicate command would fail at
/// the TEE and show here).
fn failed_commands(service: &otrp_tam::TamService) -> Vec<String> {
    let (log, _) = service.block_on(service.store().audit_log()).unwrap();
    log.iter()
        .filter(|e| e.action == "command" && !e.detail.contains("\"result\":\"ok\""))
        .map(|e| e.detail.clone())
        .collect()
}

#[test]
fn fleet_from_empty_rollout_pin_device_list_and_removal() {
    each_database(3, "fleet", |fleet, url| {
        let service = service(url, otrp_tam::clock::Clock::system());
        let mut devices: Vec<_> = (0..3).map(|i| fleet.device(i)).collect();
        let mut wire = Wire::default();
        let mut round = |wire: &mut Wire| {
            for d in devices.iter_mut() {
                assert_eq!(
                    session(&service, &fleet.tam, d, wire, None),
                    Ended::Completed
                );
            }
        };
        // From empty: CreateSD + InstallTA v1 on every device.
        add(&service, fleet, 1);
        set(&service, entry(VersionSel::Latest, DeviceSel::All));
        round(&mut wire);
        assert_eq!(wire.reached("CreateSD"), 3, "{url}");
        assert_eq!(wire.reached("InstallTA"), 3);
        let r = reports(&service);
        assert_eq!(r.len(), 3);
        assert!(
            r.iter().all(|d| d.compliant && ta_version(d) == Some(1)),
            "{r:?}"
        );
        // A second round changes nothing.
        round(&mut wire);
        assert_eq!(wire.processed.len(), 3 * 3 + 3);

        // v2 published: "latest" rolls out.
        add(&service, fleet, 2);
        let r = reports(&service);
        assert!(r.iter().all(|d| !d.compliant), "{r:?}");
        assert!(
            r[0].reasons[0].contains("UpdateTA wallet v1 -> v2"),
            "{r:?}"
        );
        round(&mut wire);
        assert_eq!(wire.reached("UpdateTA"), 3);
        assert!(
            reports(&service)
                .iter()
                .all(|d| d.compliant && ta_version(d) == Some(2))
        );

        // Pinned: v3 published, but the policy pins v2.
        add(&service, fleet, 3);
        set(&service, entry(VersionSel::Pinned(2), DeviceSel::All));
        round(&mut wire);
        assert_eq!(wire.reached("UpdateTA"), 3);
        assert!(
            reports(&service)
                .iter()
                .all(|d| d.compliant && ta_version(d) == Some(2))
        );

        // A device list: only device 0 keeps the TA (at v3); the others
        // lose it, and their SD with it.
        let did0 = reports(&service)
            .into_iter()
            .find(|r| r.tee == Fleet::tee_name(0))
            .unwrap()
            .did;
        set(
            &service,
            entry(VersionSel::Pinned(3), DeviceSel::List(vec![did0.clone()])),
        );
        round(&mut wire);
        for r in reports(&service) {
            assert!(r.compliant, "{r:?}");
            if r.did == did0 {
                assert_eq!(ta_version(&r), Some(3));
            } else {
                assert!(r.sds.is_empty(), "{r:?}");
            }
        }
        assert_eq!(wire.reached("DeleteTA"), 2);
        assert_eq!(wire.reached("DeleteSD"), 2);

        // Removal: the TA, then its SD, and the SP's TEE SP AIK with it.
        service
            .block_on(service.store().remove_policy(TA, OP, 3))
            .unwrap();
        round(&mut wire);
        for (i, d) in devices.iter().enumerate() {
            assert!(tee_contents(d, i).is_empty());
        }
        let rows = service.block_on(service.store().devices()).unwrap();
        assert!(
            rows.iter()
                .all(|r| r.inventory.sds.is_empty() && r.inventory.aiks.is_empty())
        );
        assert!(reports(&service).iter().all(|r| r.compliant));
        assert!(failed_commands(&service).is_empty());
        service.block_on(service.store().verify_audit()).unwrap();
    });
}

/// (SD, TA, version) on a TEE.
type Installed = (String, String, u64);

/// Every message of the scenario below, in a run without faults.
const SCENARIO_MESSAGES: usize = 8;

/// Three phases (install v1; update to v2; remove), with the TAM killed
/// once at `cut` and restarted (its claims expired).
fn scenario(fleet: &Fleet, url: &str, cut: Option<Cut>) -> Wire {
    let (clock, offset) = movable_clock();
    let mut service = service(url, clock.clone());
    let mut device = fleet.device(0);
    let mut wire = Wire::default();
    let mut cut = cut;
    let phases: [(&str, Vec<Installed>); 3] = [
        ("v1", vec![(SD.into(), TA.into(), 1)]),
        ("v2", vec![(SD.into(), TA.into(), 2)]),
        ("remove", vec![]),
    ];
    for (phase, expected) in phases {
        match phase {
            "v1" => {
                add(&service, fleet, 1);
                set(&service, entry(VersionSel::Latest, DeviceSel::All));
            }
            "v2" => add(&service, fleet, 2),
            _ => service
                .block_on(service.store().remove_policy(TA, OP, 3))
                .unwrap(),
        }
        let mut sessions = 0;
        loop {
            sessions += 1;
            assert!(sessions < 5, "{url} {cut:?}: no convergence in {phase}");
            match session(&service, &fleet.tam, &mut device, &mut wire, cut) {
                Ended::Killed => {
                    // The TAM died: a new one on the same database, later.
                    cut = None;
                    drop(service);
                    offset.fetch_add(120_000, Ordering::SeqCst);
                    service = support::service(url, clock.clone());
                }
                Ended::Completed => {
                    let r = reports(&service);
                    if r.len() == 1 && r[0].compliant {
                        break;
                    }
                }
                Ended::Other(why) => panic!("{url} {cut:?}: {why}"),
            }
        }
        assert_eq!(tee_contents(&device, 0), expected, "{url} {cut:?} {phase}");
    }
    assert!(failed_commands(&service).is_empty(), "{url} {cut:?}");
    service.block_on(service.store().verify_audit()).unwrap();
    wire
}

#[test]
fn tam_killed_between_any_two_messages_resumes_from_the_dsi() {
    let fleet = Fleet::new(1);
    let clean = scenario(&fleet, &fleet.sqlite("clean.db"), None);
    assert_eq!(clean.count, SCENARIO_MESSAGES, "{:?}", clean.processed);
    let mut cuts = Vec::new();
    for k in 0..SCENARIO_MESSAGES {
        cuts.push(Cut::BeforeTee(k));
        cuts.push(Cut::AfterTee(k));
    }
    for (n, cut) in cuts.into_iter().enumerate() {
        // A fresh device and database for each cut.
        each_database(1, &format!("cut{n}"), |fleet, url| {
            let wire = scenario(fleet, url, Some(cut));
            // Every command reached the TEE exactly once: none repeated
            // after the restart, none lost.
            for kind in ["CreateSD", "InstallTA", "UpdateTA", "DeleteTA", "DeleteSD"] {
                assert_eq!(
                    wire.reached(kind),
                    1,
                    "{url} {cut:?} {kind}: {:?}",
                    wire.processed
                );
            }
        });
    }
}

#[test]
fn two_front_ends_on_one_database_never_both_apply_a_step() {
    each_database(1, "fronts", |fleet, url| {
        let (clock, _) = movable_clock();
        let a = service(url, clock.clone());
        let b = service(url, clock.clone());
        add(&a, fleet, 1);
        set(&a, entry(VersionSel::Latest, DeviceSel::All));
        let mut device = fleet.device(0);

        // A claims CreateSD and sends it; B, meanwhile, gets the device's
        // state and finds the device busy: it sends nothing.
        let mut wire = Wire::default();
        let stop_a = Cut::BeforeTee(1); // A's CreateSD is in flight
        assert_eq!(
            session(&a, &fleet.tam, &mut device, &mut wire, Some(stop_a)),
            Ended::Killed
        );
        let mut wire_b = Wire::default();
        assert_eq!(
            session(&b, &fleet.tam, &mut device, &mut wire_b, None),
            Ended::Completed
        );
        assert_eq!(wire_b.processed, ["GetDeviceState"], "{url}");

        let did = a.block_on(a.store().devices()).unwrap()[0].did.clone();
        let b_store = b.store().clone();
        let b_handle = b.handle().clone();
        // B's step, on another thread (another front end): it claims the
        // device for "front-end-b" and says whose claim it found.
        let b_step = |did: String| {
            let (b_store, b_handle) = (b_store.clone(), b_handle.clone());
            std::thread::spawn(move || {
                b_handle
                    .block_on(b_store.device_step(&did, 5, |snap| {
                        let row = snap.device.clone().unwrap();
                        let found = row.claim.as_ref().map(|c| c.session.clone());
                        Ok(otrp_tam::store::StepOutcome::Write(
                            Box::new(write_of(&row, "front-end-b")),
                            found,
                        ))
                    }))
                    .unwrap()
                    .0
            })
        };
        if url.starts_with("sqlite") {
            // SQLite: a step holds the write lock from its first read
            // (BEGIN IMMEDIATE), so B cannot commit between A's read and
            // A's write: B's step, started inside A's, waits for A's
            // commit and then finds A's claim.
            let mut b_thread = None;
            a.block_on(
                a.store()
                    .device_step(&did, otrp_tam::clock::unix_ms(), |snap| {
                        let row = snap.device.clone().unwrap();
                        if b_thread.is_none() {
                            b_thread = Some(b_step(did.clone()));
                            std::thread::sleep(std::time::Duration::from_millis(200));
                        }
                        Ok(otrp_tam::store::StepOutcome::Write(
                            Box::new(write_of(&row, "front-end-a")),
                            (),
                        ))
                    }),
            )
            .unwrap();
            let found = b_thread.unwrap().join().unwrap();
            assert_eq!(found.as_deref(), Some("front-end-a"), "{url}");
            return;
        }
        // The conditional save (PostgreSQL): front end B commits between
        // A's read and A's write. A's save fails on the revision, is
        // retried with the new snapshot, and sees B's claim.
        let mut calls = 0;
        let (decision, _) = a
            .block_on(
                a.store()
                    .device_step(&did, otrp_tam::clock::unix_ms(), |snap| {
                        calls += 1;
                        let row = snap.device.clone().unwrap();
                        if calls == 1 {
                            b_step(did.clone()).join().unwrap();
                        }
                        let claimed_by = row.claim.as_ref().map(|c| c.session.clone());
                        Ok(otrp_tam::store::StepOutcome::Write(
                            Box::new(write_of(&row, "front-end-a")),
                            claimed_by,
                        ))
                    }),
            )
            .unwrap();
        assert_eq!(calls, 2, "{url}: the conflict was not detected and retried");
        assert_eq!(decision.as_deref(), Some("front-end-b"), "{url}");
    });
}

/// A step that claims the device's next command for `session`.
fn write_of(row: &otrp_tam::store::DeviceRow, session: &str) -> otrp_tam::store::StepWrite {
    otrp_tam::store::StepWrite {
        tee: row.tee.clone(),
        state: row.state.clone(),
        inventory: row.inventory.clone(),
        last_error: None,
        claim: Some(otrp_tam::store::Claim {
            action: otrp_tam::plan::Action::CreateSd {
                spid: SPID.into(),
                sdname: SD.into(),
            },
            session: session.into(),
            until: i64::MAX,
        }),
        marks: Vec::new(),
        audit: Vec::new(),
    }
}

#[test]
fn downgrades_are_refused_and_audited() {
    each_database(1, "downgrade", |fleet, url| {
        let service = service(url, otrp_tam::clock::Clock::system());
        let mut device = fleet.device(0);
        let mut wire = Wire::default();
        add(&service, fleet, 1);
        add(&service, fleet, 2);
        set(&service, entry(VersionSel::Latest, DeviceSel::All));
        assert_eq!(
            session(&service, &fleet.tam, &mut device, &mut wire, None),
            Ended::Completed
        );
        assert_eq!(tee_contents(&device, 0), [(SD.into(), TA.into(), 2)]);

        // A catalog image whose version is not higher: refused.
        let store = service.store();
        for v in [1, 2] {
            let e = service
                .block_on(otrp_tam::catalog::add(
                    store,
                    &provider(),
                    SPID,
                    &fleet.image(TA, v),
                    OP,
                    9,
                ))
                .unwrap_err();
            assert!(e.to_string().contains("not higher"), "{e}");
        }

        // The policy pins v1: nothing is sent, the device is
        // non-compliant with "downgrade refused", and the refusal audited.
        set(&service, entry(VersionSel::Pinned(1), DeviceSel::All));
        let before = wire.processed.len();
        assert_eq!(
            session(&service, &fleet.tam, &mut device, &mut wire, None),
            Ended::Completed
        );
        assert_eq!(&wire.processed[before..], ["GetDeviceState"]);
        assert_eq!(tee_contents(&device, 0), [(SD.into(), TA.into(), 2)]);
        let r = reports(&service);
        assert!(!r[0].compliant);
        assert!(
            r[0].reasons.iter().any(|x| x.contains("downgrade refused")),
            "{r:?}"
        );
        let (log, _) = service.block_on(store.audit_log()).unwrap();
        assert!(log.iter().any(|e| e.action == "downgrade.refused"));

        // Deleted and pinned back to v2: the device has had v2, so
        // reinstalling it is a downgrade too (the TEE's floor agrees).
        service.block_on(store.remove_policy(TA, OP, 10)).unwrap();
        assert_eq!(
            session(&service, &fleet.tam, &mut device, &mut wire, None),
            Ended::Completed
        );
        assert!(tee_contents(&device, 0).is_empty());
        set(&service, entry(VersionSel::Pinned(2), DeviceSel::All));
        let before = wire.processed.len();
        assert_eq!(
            session(&service, &fleet.tam, &mut device, &mut wire, None),
            Ended::Completed
        );
        assert!(!wire.processed[before..].iter().any(|k| k == "InstallTA"));
        assert!(
            reports(&service)[0]
                .reasons
                .iter()
                .any(|x| x.contains("downgrade refused"))
        );

        // Rolling back = the old code under a new, higher version.
        add(&service, fleet, 3);
        set(&service, entry(VersionSel::Pinned(3), DeviceSel::All));
        assert_eq!(
            session(&service, &fleet.tam, &mut device, &mut wire, None),
            Ended::Completed
        );
        assert_eq!(tee_contents(&device, 0), [(SD.into(), TA.into(), 3)]);
        assert!(reports(&service)[0].compliant);
    });
}

#[test]
fn a_tee_refusal_is_audited_with_its_error_code_and_stops_the_session() {
    each_database(1, "refusal", |fleet, url| {
        let service = service(url, otrp_tam::clock::Clock::system());
        // The device trusts another SP root: CreateSD's spcert is refused.
        let other = test_pki();
        let mut device = fleet.device_trusting(0, other.sp_root.der());
        let mut wire = Wire::default();
        add(&service, fleet, 1);
        set(&service, entry(VersionSel::Latest, DeviceSel::All));
        assert_eq!(
            session(&service, &fleet.tam, &mut device, &mut wire, None),
            Ended::Completed
        );
        assert_eq!(wire.processed, ["GetDeviceState", "CreateSD"], "{url}");
        let failed = failed_commands(&service);
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].contains("ERR_SPCERT_INVALID"), "{failed:?}");
        let r = reports(&service);
        assert!(!r[0].compliant);
        assert!(
            r[0].reasons
                .iter()
                .any(|x| x.contains("refused by the device (ERR_SPCERT_INVALID)")),
            "{r:?}"
        );
        // The claim is released: the next session tries again (and is
        // refused again), it is not blocked.
        assert_eq!(
            session(&service, &fleet.tam, &mut device, &mut wire, None),
            Ended::Completed
        );
        assert_eq!(wire.reached("CreateSD"), 2);
        service.block_on(service.store().verify_audit()).unwrap();
    });
}

#[test]
fn a_session_that_finds_the_device_changed_by_another_reads_it_again() {
    each_database(1, "resync", |fleet, url| {
        let (clock, _) = movable_clock();
        let a = service(url, clock.clone());
        let b = service(url, clock);
        add(&a, fleet, 1);
        set(&a, entry(VersionSel::Latest, DeviceSel::All));
        let mut device = fleet.device(0);
        let mut wire = Wire::default();
        // While A's CreateSD answer is on its way back, front end B saves
        // a step of the same device (and clears A's claim).
        let mut between = |k: usize| {
            if k != 1 {
                return;
            }
            let did = b.block_on(b.store().devices()).unwrap()[0].did.clone();
            b.block_on(b.store().device_step(&did, 7, |snap| {
                let row = snap.device.clone().unwrap();
                let mut w = write_of(&row, "front-end-b");
                w.claim = None;
                Ok(otrp_tam::store::StepOutcome::Write(Box::new(w), ()))
            }))
            .unwrap();
        };
        assert_eq!(
            session_with(&a, &fleet.tam, &mut device, &mut wire, None, &mut between),
            Ended::Completed
        );
        // A noticed (revision), read the device again, and went on from
        // its real state: no command repeated.
        assert_eq!(
            wire.processed,
            ["GetDeviceState", "CreateSD", "GetDeviceState", "InstallTA"],
            "{url}"
        );
        assert!(failed_commands(&a).is_empty());
        assert!(reports(&a)[0].compliant);
    });
}
