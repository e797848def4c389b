//! The service's metrics in the Prometheus text exposition format (issue
//! 16, item 5), served on the admin listener as `GET /metrics`.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `otrp_tam_sessions_started_total` | counter | - |
//! | `otrp_tam_sessions_ended_total` | counter | `outcome` = `completed` or `failed` |
//! | `otrp_tam_sessions_open` | gauge | - |
//! | `otrp_tam_commands_total` | counter | `command` (CreateSD, InstallTA, ...), `outcome` (`ok`, the TEE's error code, `broker ERR_...`, `unanswered`) |
//! | `otrp_tam_database_errors_total` | counter | - |
//! | `otrp_tam_session_duration_seconds` | histogram | - |
//! | `otrp_tam_step_duration_seconds` | histogram | - (one device step: the store transaction, the plan, building the command) |
//!
//! A small hand-written encoder: the format is a few lines of text and the
//! service needs counters, one gauge and two histograms, no registry.
//! Label values come from authenticated TEE answers, but are still bounded
//! ([`MAX_SERIES`] command series; further ones count under `outcome =
//! "other"`) and escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Distinct `(command, outcome)` series kept at most.
pub const MAX_SERIES: usize = 256;

/// Upper bounds of the latency histograms' buckets, seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
struct Histogram {
    /// Observations per bucket (not cumulative; `+Inf` is the last).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// The sum of the observations, microseconds.
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len());
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn encode(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.buckets[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// The service's counters; shared by the [`TamService`](crate::TamService)
/// (which counts) and the admin API (which renders them).
#[derive(Debug, Default)]
pub struct Metrics {
    started: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    database_errors: AtomicU64,
    commands: Mutex<BTreeMap<(String, String), u64>>,
    session_duration: Histogram,
    step_duration: Histogram,
}

impl Metrics {
    /// Fresh counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// A device session opened.
    pub fn session_started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// A device session ended after `duration`, completed (the exchange
    /// ran to its end without a failure) or not.
    pub fn session_ended(&self, completed: bool, duration: Duration) {
        if completed {
            self.completed.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.session_duration.observe(duration);
    }

    /// A command's outcome: `ok`, the TEE's error code, ...
    pub fn command(&self, command: &str, outcome: &str) {
        let Ok(mut map) = self.commands.lock() else {
            return;
        };
        let key = (command.to_string(), outcome.to_string());
        if map.len() >= MAX_SERIES && !map.contains_key(&key) {
            *map.entry((command.to_string(), "other".to_string()))
                .or_insert(0) += 1;
            return;
        }
        *map.entry(key).or_insert(0) += 1;
    }

    /// A store operation failed (a lost race counts only once its retries
    /// are exhausted).
    pub fn database_error(&self) {
        self.database_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// One device step took `d`.
    pub fn step(&self, d: Duration) {
        self.step_duration.observe(d);
    }

    /// The count of `(command, outcome)`, 0 if never seen.
    pub fn command_count(&self, command: &str, outcome: &str) -> u64 {
        self.commands
            .lock()
            .ok()
            .and_then(|m| m.get(&(command.to_string(), outcome.to_string())).copied())
            .unwrap_or(0)
    }

    /// Sessions open now (started and not ended).
    pub fn open(&self) -> u64 {
        let ended = self.completed.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed);
        self.started.load(Ordering::Relaxed).saturating_sub(ended)
    }

    /// The Prometheus text exposition (format version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {v}");
        };
        counter(
            &mut out,
            "otrp_tam_sessions_started_total",
            "Device sessions opened.",
            self.started.load(Ordering::Relaxed),
        );
        out.push_str("# HELP otrp_tam_sessions_ended_total Device sessions ended, by outcome.\n");
        out.push_str("# TYPE otrp_tam_sessions_ended_total counter\n");
        for (outcome, v) in [("completed", &self.completed), ("failed", &self.failed)] {
            let _ = writeln!(
                out,
                "otrp_tam_sessions_ended_total{{outcome=\"{outcome}\"}} {}",
                v.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP otrp_tam_sessions_open Device sessions open now.\n");
        out.push_str("# TYPE otrp_tam_sessions_open gauge\n");
        let _ = writeln!(out, "otrp_tam_sessions_open {}", self.open());
        out.push_str(
            "# HELP otrp_tam_commands_total Commands answered, by command and outcome (ok or the TEE's error code).\n",
        );
        out.push_str("# TYPE otrp_tam_commands_total counter\n");
        if let Ok(map) = self.commands.lock() {
            for ((command, outcome), v) in map.iter() {
                let _ = writeln!(
                    out,
                    "otrp_tam_commands_total{{command=\"{}\",outcome=\"{}\"}} {v}",
                    escape(command),
                    escape(outcome)
                );
            }
        }
        counter(
            &mut out,
            "otrp_tam_database_errors_total",
            "Store operations that failed (a lost race once its retries are exhausted).",
            self.database_errors.load(Ordering::Relaxed),
        );
        self.session_duration.encode(
            &mut out,
            "otrp_tam_session_duration_seconds",
            "Device session duration, from the empty POST to the end.",
        );
        self.step_duration.encode(
            &mut out,
            "otrp_tam_step_duration_seconds",
            "One device step: the store transaction, the plan and building the next command.",
        );
        out
    }
}

/// A label value escaped for the text format (backslash, quote, newline).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_labels_and_cumulative_histograms() {
        let m = Metrics::new();
        m.session_started();
        m.session_started();
        m.session_ended(true, Duration::from_millis(3));
        m.command("InstallTA", "ok");
        m.command("InstallTA", "ERR_TA_INVALID");
        m.command("DeleteTA", "we\"ird\\\n");
        m.database_error();
        m.step(Duration::from_secs(120));
        let text = m.render();
        for line in [
            "otrp_tam_sessions_started_total 2",
            "otrp_tam_sessions_ended_total{outcome=\"completed\"} 1",
            "otrp_tam_sessions_ended_total{outcome=\"failed\"} 0",
            "otrp_tam_sessions_open 1",
            "otrp_tam_commands_total{command=\"InstallTA\",outcome=\"ok\"} 1",
            "otrp_tam_commands_total{command=\"InstallTA\",outcome=\"ERR_TA_INVALID\"} 1",
            "otrp_tam_commands_total{command=\"DeleteTA\",outcome=\"we\\\"ird\\\\\\n\"} 1",
            "otrp_tam_database_errors_total 1",
            "otrp_tam_session_duration_seconds_bucket{le=\"0.0025\"} 0",
            "otrp_tam_session_duration_seconds_bucket{le=\"0.005\"} 1",
            "otrp_tam_session_duration_seconds_bucket{le=\"+Inf\"} 1",
            "otrp_tam_session_duration_seconds_sum 0.003",
            "otrp_tam_step_duration_seconds_bucket{le=\"60\"} 0",
            "otrp_tam_step_duration_seconds_bucket{le=\"+Inf\"} 1",
            "otrp_tam_step_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        // Every sample line is NAME[{labels}] VALUE.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let value = l.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }

    #[test]
    fn command_series_are_bounded() {
        let m = Metrics::new();
        for i in 0..MAX_SERIES + 10 {
            m.command("InstallTA", &format!("code{i}"));
        }
        assert_eq!(m.commands.lock().unwrap().len(), MAX_SERIES + 1);
        assert_eq!(m.command_count("InstallTA", "other"), 10);
    }
}
