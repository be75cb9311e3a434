//! Health of a pool (DESIGN.md "Health of a pool"), for the gate,
//! `status`, the soak and the drain: an `http(s)://` URL is ready when it
//! answers 2xx, so an app's own `/health` works as well as a
//! health-sidecar (`{"status":"healthy"}`, `{"status":"operational"}`, a
//! bare 200). A JSON `status` field (a sidecar's `draining`, `drained`
//! ...) is kept: it drives undrain and drain and is shown in messages.
//! `exec:COMMAND` is ready when `sh -c COMMAND` exits 0 within the
//! timeout. `[gate] version_field` names the JSON field that reports the
//! running version.

use std::time::Duration;

use crate::http;
use crate::switch::requests;

/// What one health entry said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The URL or `exec:` entry as configured.
    pub entry: String,
    pub ready: bool,
    /// The HTTP status, when it answered.
    pub http: Option<u16>,
    /// The JSON body's `status` field (sidecar style), when it has one.
    pub status: Option<String>,
    /// The `version_field` of the JSON body, when asked for and present.
    pub version: Option<String>,
    /// Why there is no answer, or how the command ended.
    pub error: Option<String>,
}

impl Health {
    /// Whether it is an `exec:` probe (it has no JSON, no version, no
    /// drain).
    pub fn is_exec(&self) -> bool {
        self.entry.starts_with("exec:")
    }

    /// Whether it answers like a health-sidecar (or an app with its own
    /// drain, seed 004): JSON with a `status` field. Only those are sent
    /// `POST .../drain` and `/undrain`.
    pub fn takes_drain(&self) -> bool {
        self.status.is_some()
    }

    /// One word or so for messages and `status`: the JSON `status` when
    /// there is one (`ready`, `healthy`, `draining`), else `ready` on 2xx
    /// or what went wrong (`HTTP 503`, `unreachable (...)`, `exit status: 1`).
    pub fn shown_status(&self) -> String {
        match (&self.status, self.http, &self.error) {
            (Some(s), _, _) => s.clone(),
            (None, _, _) if self.ready => "ready".into(),
            (None, Some(code), _) => format!("HTTP {code} without a status"),
            (None, None, Some(e)) if self.is_exec() => e.clone(),
            (None, None, Some(e)) => format!("unreachable ({e})"),
            (None, None, None) => "no answer".into(),
        }
    }

    /// What answered, for a step's detail: `healthy (HTTP 200)`,
    /// `HTTP 200`, `draining (HTTP 503)`, `exit 0`.
    pub fn describe(&self) -> String {
        match (self.http, &self.status) {
            (Some(code), Some(s)) => format!("{s} (HTTP {code})"),
            (Some(code), None) => format!("HTTP {code}"),
            (None, _) if self.is_exec() && self.ready => "exit 0".into(),
            (None, _) => self.shown_status(),
        }
    }
}

/// Asks one health entry, bounded by `timeout`.
/// `client`: `[gate]`'s (its TLS keys are the health URLs').
pub fn probe(
    client: &http::Client,
    entry: &str,
    timeout: Duration,
    version_field: Option<&str>,
) -> Health {
    let mut h = Health {
        entry: entry.to_string(),
        ready: false,
        http: None,
        status: None,
        version: None,
        error: None,
    };
    if let Some(command) = entry.strip_prefix("exec:") {
        match crate::commands::run_probe(command, timeout.max(Duration::from_millis(100))) {
            Ok(()) => h.ready = true,
            Err(e) => h.error = Some(e),
        }
        return h;
    }
    match requests::health_get(client, entry, timeout) {
        Ok(r) => {
            h.http = Some(r.status);
            h.ready = (200..300).contains(&r.status);
            h.status = r.json_field("status");
            h.version = version_field.and_then(|f| r.json_field(f));
        }
        Err(e) => h.error = Some(e),
    }
    h
}

/// The running version a pool reports: the one every answering entry
/// agrees on, or the distinct ones joined with `, ` when they differ;
/// `None` when none reports one.
pub fn pool_version(healths: &[Health]) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    for v in healths.iter().filter_map(|h| h.version.as_deref()) {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    (!seen.is_empty()).then(|| seen.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(code: u16, status: Option<&str>) -> Health {
        Health {
            entry: "http://x/health".into(),
            ready: (200..300).contains(&code),
            http: Some(code),
            status: status.map(String::from),
            version: None,
            error: None,
        }
    }

    #[test]
    fn what_an_answer_shows() {
        assert_eq!(answered(200, None).shown_status(), "ready");
        assert_eq!(answered(200, None).describe(), "HTTP 200");
        assert_eq!(
            answered(200, Some("healthy")).describe(),
            "healthy (HTTP 200)"
        );
        assert_eq!(
            answered(503, None).shown_status(),
            "HTTP 503 without a status"
        );
        assert_eq!(answered(503, Some("draining")).shown_status(), "draining");
        assert!(answered(503, Some("draining")).takes_drain());
        assert!(!answered(200, None).takes_drain());
    }

    #[test]
    fn exec_probes() {
        let ok = probe(
            &http::Client::default(),
            "exec:exit 0",
            Duration::from_secs(5),
            Some("version"),
        );
        assert!(ok.ready && ok.is_exec() && !ok.takes_drain());
        assert_eq!(ok.describe(), "exit 0");
        let bad = probe(
            &http::Client::default(),
            "exec:exit 3",
            Duration::from_secs(5),
            None,
        );
        assert!(!bad.ready);
        assert_eq!(bad.shown_status(), "exit status: 3");
        let slow = probe(
            &http::Client::default(),
            "exec:sleep 5",
            Duration::from_millis(150),
            None,
        );
        assert!(!slow.ready && slow.shown_status().contains("killed"));
    }

    #[test]
    fn a_pool_version_is_what_its_entries_report() {
        let mut a = answered(200, None);
        a.version = Some("v2".into());
        let mut b = a.clone();
        assert_eq!(pool_version(&[a.clone(), b.clone()]).as_deref(), Some("v2"));
        b.version = Some("v1".into());
        assert_eq!(pool_version(&[a, b]).as_deref(), Some("v2, v1"));
        assert_eq!(pool_version(&[answered(200, None)]), None);
    }
}
