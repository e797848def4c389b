//! The fleet simulator runs end to end (a handful of devices; the recorded
//! 1,000-device runs are in docs/performance.md): every device reaches the
//! policy, and every figure of the report is there.

use std::process::Command;

#[test]
fn fleet_simulator_brings_every_device_to_the_policy() {
    let out = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["--devices", "4", "--concurrency", "2", "--replay", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("sessions ok               4 (0 failed), 4 devices compliant"),
        "{text}"
    );
    for figure in [
        "sessions/s",
        "latency p50/p95/p99",
        "DB statements/session",
        "UPDATE device SET",
        "protocol (TamSession)",
        "service (HTTP, DB, plan)",
        "service/protocol",
    ] {
        assert!(text.contains(figure), "{figure} missing in\n{text}");
    }
}
