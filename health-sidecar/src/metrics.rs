//! Counters for `/metrics`, kept in atomics so probes and scrapes never
//! wait on each other, and rendered as Prometheus text by hand (the format
//! is a few lines; a metrics crate would be most of our binary).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds, in seconds, of the probe latency histogram.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
pub struct Metrics {
    probe_ok: AtomicU64,
    probe_failed: AtomicU64,
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    latency_micros_sum: AtomicU64,
    drain_requests: AtomicU64,
}

/// The parts of the live state a scrape reports besides the counters.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub status: crate::state::Status,
    pub uptime: Duration,
    pub connections: Option<usize>,
    pub consecutive_failures: u32,
}

impl Metrics {
    pub fn observe_probe(&self, ok: bool, took: Duration) {
        if ok {
            self.probe_ok.fetch_add(1, Relaxed);
        } else {
            self.probe_failed.fetch_add(1, Relaxed);
        }
        let secs = took.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[slot].fetch_add(1, Relaxed);
        self.latency_micros_sum
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    pub fn count_drain_request(&self) {
        self.drain_requests.fetch_add(1, Relaxed);
    }

    /// Renders the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self, snap: &Snapshot) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str(
            "# HELP health_sidecar_status 1 for the current lifecycle status, 0 for the others.\n",
        );
        out.push_str("# TYPE health_sidecar_status gauge\n");
        for s in crate::state::Status::ALL {
            let v = u8::from(s == snap.status);
            let _ = writeln!(out, "health_sidecar_status{{state=\"{}\"}} {v}", s.as_str());
        }
        out.push_str("# HELP health_sidecar_probes_total Probes run, by result.\n");
        out.push_str("# TYPE health_sidecar_probes_total counter\n");
        let _ = writeln!(
            out,
            "health_sidecar_probes_total{{result=\"success\"}} {}",
            self.probe_ok.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "health_sidecar_probes_total{{result=\"failure\"}} {}",
            self.probe_failed.load(Relaxed)
        );
        out.push_str("# HELP health_sidecar_probe_consecutive_failures Failed probes since the last success.\n");
        out.push_str("# TYPE health_sidecar_probe_consecutive_failures gauge\n");
        let _ = writeln!(
            out,
            "health_sidecar_probe_consecutive_failures {}",
            snap.consecutive_failures
        );
        out.push_str("# HELP health_sidecar_probe_duration_seconds Time each probe took.\n");
        out.push_str("# TYPE health_sidecar_probe_duration_seconds histogram\n");
        let mut cumulative = 0u64;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "health_sidecar_probe_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.buckets[BUCKETS.len()].load(Relaxed);
        let _ = writeln!(
            out,
            "health_sidecar_probe_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.latency_micros_sum.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "health_sidecar_probe_duration_seconds_sum {sum}");
        let _ = writeln!(
            out,
            "health_sidecar_probe_duration_seconds_count {cumulative}"
        );
        if let Some(active) = snap.connections {
            out.push_str("# HELP health_sidecar_app_connections Open server-side TCP connections on --app-port.\n");
            out.push_str("# TYPE health_sidecar_app_connections gauge\n");
            let _ = writeln!(out, "health_sidecar_app_connections {active}");
        }
        out.push_str("# HELP health_sidecar_drain_requests_total Drain requests received (HTTP and SIGTERM).\n");
        out.push_str("# TYPE health_sidecar_drain_requests_total counter\n");
        let _ = writeln!(
            out,
            "health_sidecar_drain_requests_total {}",
            self.drain_requests.load(Relaxed)
        );
        out.push_str("# HELP health_sidecar_uptime_seconds Seconds since the sidecar started.\n");
        out.push_str("# TYPE health_sidecar_uptime_seconds gauge\n");
        let _ = writeln!(
            out,
            "health_sidecar_uptime_seconds {:.3}",
            snap.uptime.as_secs_f64()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Status;

    fn snap() -> Snapshot {
        Snapshot {
            status: Status::Draining,
            uptime: Duration::from_millis(1500),
            connections: Some(4),
            consecutive_failures: 0,
        }
    }

    #[test]
    fn renders_status_gauges_and_counters() {
        let m = Metrics::default();
        m.observe_probe(true, Duration::from_micros(800));
        m.observe_probe(true, Duration::from_millis(30));
        m.observe_probe(false, Duration::from_secs(5));
        m.count_drain_request();
        let text = m.render(&snap());
        assert!(text.contains("health_sidecar_status{state=\"draining\"} 1\n"));
        assert!(text.contains("health_sidecar_status{state=\"ready\"} 0\n"));
        assert!(text.contains("health_sidecar_probes_total{result=\"success\"} 2\n"));
        assert!(text.contains("health_sidecar_probes_total{result=\"failure\"} 1\n"));
        assert!(text.contains("health_sidecar_probe_duration_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("health_sidecar_probe_duration_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("health_sidecar_probe_duration_seconds_bucket{le=\"2.5\"} 2\n"));
        assert!(text.contains("health_sidecar_probe_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("health_sidecar_probe_duration_seconds_count 3\n"));
        assert!(text.contains("health_sidecar_probe_duration_seconds_sum 5.0308\n"));
        assert!(text.contains("health_sidecar_app_connections 4\n"));
        assert!(text.contains("health_sidecar_drain_requests_total 1\n"));
        assert!(text.contains("health_sidecar_uptime_seconds 1.500\n"));
    }

    #[test]
    fn every_sample_line_is_well_formed() {
        let text = Metrics::default().render(&Snapshot {
            connections: None,
            ..snap()
        });
        assert!(!text.contains("app_connections"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap_or(("", ""));
            assert!(name.starts_with("health_sidecar_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
