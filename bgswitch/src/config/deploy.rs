//! The keys `deploy` adds to `bgswitch.toml`, parsed here so they stay one
//! block apart from the rest of the file's parsing: a pool's `start` and
//! `stop` argv, `[deploy]`, `[gate] version_field`, the health entries
//! (`http(s)://` or `exec:`), and the smoke requests in both forms (the
//! one-line `"GET /api/status 200"` and a table with headers, a body and a
//! repeat count with an error budget).

use std::time::Duration;

use serde::Deserialize;

/// `[deploy]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployConfig {
    /// How long `start` (and `stop`) may run before it is killed.
    pub start_timeout: Duration,
    pub stop_old: StopOld,
}

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig {
            start_timeout: Duration::from_secs(600),
            stop_old: StopOld::AfterDrain,
        }
    }
}

/// `[deploy] stop_old`: whether `deploy` stops the pool traffic left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOld {
    /// Once it is drained and no old nginx worker still uses it.
    AfterDrain,
    /// Leave it running (a warm rollback target).
    Never,
}

/// `[deploy]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeploy {
    start_timeout: Option<String>,
    stop_old: Option<String>,
}

/// `[deploy]` checked; `duration` parses a duration value by its key.
pub(super) fn deploy(
    raw: Option<RawDeploy>,
    duration: impl Fn(&str, Option<&String>, &str) -> Result<Duration, (String, String)>,
) -> Result<DeployConfig, (String, String)> {
    let raw = raw.unwrap_or_default();
    let start_timeout = duration("deploy.start_timeout", raw.start_timeout.as_ref(), "10m")?;
    if start_timeout.is_zero() {
        return Err(("deploy.start_timeout".into(), "must be more than 0".into()));
    }
    let stop_old = match raw.stop_old.as_deref() {
        None | Some("after_drain") => StopOld::AfterDrain,
        Some("never") => StopOld::Never,
        Some(other) => {
            return Err((
                "deploy.stop_old".into(),
                format!("\"{other}\" is not one of after_drain, never"),
            ))
        }
    };
    Ok(DeployConfig {
        start_timeout,
        stop_old,
    })
}

/// A pool's `start` or `stop`: absent is `None`; present, it must name a
/// program (it runs without a shell).
pub(super) fn argv(value: Option<Vec<String>>) -> Result<Option<Vec<String>>, String> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() || v[0].trim().is_empty() => Err(
            "must be a non-empty list naming a program, e.g. [\"docker\", \"compose\", \"up\", \"-d\", \"app-{pool}\"]"
                .into(),
        ),
        Some(v) => Ok(Some(v)),
    }
}

/// `[gate] version_field`: a top-level JSON field name, not empty.
pub(super) fn version_field(value: Option<String>) -> Result<Option<String>, String> {
    match value {
        Some(f) if f.trim().is_empty() => {
            Err("must name a top-level JSON field, e.g. \"version\"".into())
        }
        other => Ok(other),
    }
}

/// A health entry: `exec:COMMAND` (run by `sh -c`) or an http(s) URL that
/// `check_url` accepts.
pub(super) fn health_entry(
    entry: &str,
    check_url: impl Fn(&str) -> Result<(), String>,
) -> Result<(), String> {
    match entry.strip_prefix("exec:") {
        Some(cmd) if cmd.trim().is_empty() => Err(format!(
            "\"{entry}\": exec: needs a command, e.g. \"exec:docker inspect -f '{{{{.State.Health.Status}}}}' app | grep -qx healthy\""
        )),
        Some(_) => Ok(()),
        None => check_url(entry).map_err(|e| format!("\"{entry}\": {e}")),
    }
}

/// One smoke request: sent `repeat` times, it passes when at most
/// `max_failure_ratio` of them do not answer `status`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub status: u16,
    pub repeat: u32,
    pub max_failure_ratio: f64,
}

/// An entry of `[smoke] requests`: a string `METHOD PATH STATUS` or a
/// table `{ method, path, headers, body, status, repeat, max_failure_ratio }`.
/// `Err`: the key under the entry (empty for the entry itself) and why.
pub(super) fn smoke_request(value: &toml::Value) -> Result<SmokeRequest, (String, String)> {
    match value {
        toml::Value::String(text) => parse_smoke_line(text).map_err(|m| (String::new(), m)),
        toml::Value::Table(t) => smoke_table(t),
        other => Err((
            String::new(),
            format!(
                "a {}: write \"GET /api/status 200\" or {{ method = \"POST\", path = \"/predict\", status = 200 }}",
                other.type_str()
            ),
        )),
    }
}

fn smoke_table(t: &toml::Table) -> Result<SmokeRequest, (String, String)> {
    const KEYS: [&str; 7] = [
        "method",
        "path",
        "headers",
        "body",
        "status",
        "repeat",
        "max_failure_ratio",
    ];
    if let Some(k) = t.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err((
            format!(".{k}"),
            format!("unknown field `{k}`, expected one of {}", KEYS.join(", ")),
        ));
    }
    let e = |k: &str, m: String| (format!(".{k}"), m);
    let string = |k: &str| -> Result<Option<String>, (String, String)> {
        match t.get(k) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(e(k, format!("must be a string, not a {}", v.type_str()))),
        }
    };
    let integer = |k: &str, range: std::ops::RangeInclusive<i64>, default: i64| match t.get(k) {
        None => Ok(default),
        Some(toml::Value::Integer(n)) if range.contains(n) => Ok(*n),
        Some(v) => Err(e(
            k,
            format!(
                "{v} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    };
    let method = string("method")?.unwrap_or_else(|| "GET".into());
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(e("method", format!("\"{method}\" is not an HTTP method")));
    }
    let path = string("path")?.ok_or_else(|| e("path", "missing, e.g. \"/predict\"".into()))?;
    if !path.starts_with('/') {
        return Err(e("path", format!("\"{path}\": must start with /")));
    }
    let mut headers = Vec::new();
    match t.get("headers") {
        None => {}
        Some(toml::Value::Table(h)) => {
            for (name, v) in h {
                let toml::Value::String(v) = v else {
                    return Err(e(&format!("headers.{name}"), "must be a string".into()));
                };
                if name.is_empty()
                    || name.contains([':', ' ', '\r', '\n'])
                    || v.contains(['\r', '\n'])
                {
                    return Err(e(&format!("headers.{name}"), "not a valid header".into()));
                }
                headers.push((name.clone(), v.clone()));
            }
        }
        Some(v) => {
            return Err(e(
                "headers",
                format!(
                    "must be a table, e.g. {{ \"Content-Type\" = \"application/json\" }}, not a {}",
                    v.type_str()
                ),
            ))
        }
    }
    let status = integer("status", 100..=599, 200)? as u16;
    let repeat = integer("repeat", 1..=10_000, 1)? as u32;
    let max_failure_ratio = match t.get("max_failure_ratio") {
        None => 0.0,
        Some(toml::Value::Float(f)) if (0.0..=1.0).contains(f) => *f,
        Some(toml::Value::Integer(n)) if (0..=1).contains(n) => *n as f64,
        Some(v) => {
            return Err(e(
                "max_failure_ratio",
                format!("{v} is not between 0 and 1"),
            ))
        }
    };
    Ok(SmokeRequest {
        method: method.to_ascii_uppercase(),
        path,
        headers,
        body: string("body")?,
        status,
        repeat,
        max_failure_ratio,
    })
}

/// `GET /api/status 200`.
pub(super) fn parse_smoke_line(text: &str) -> Result<SmokeRequest, String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [method, path, status] = parts.as_slice() else {
        return Err(format!(
            "\"{text}\": write METHOD PATH STATUS, e.g. \"GET /api/status 200\""
        ));
    };
    if !path.starts_with('/') {
        return Err(format!("\"{text}\": the path must start with /"));
    }
    let status: u16 = status
        .parse()
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| format!("\"{text}\": \"{status}\" is not an HTTP status"))?;
    Ok(SmokeRequest {
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        headers: Vec::new(),
        body: None,
        status,
        repeat: 1,
        max_failure_ratio: 0.0,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(text: &str) -> Result<SmokeRequest, (String, String)> {
        let t: toml::Table = toml::from_str(&format!("r = {text}")).unwrap();
        smoke_request(&t["r"])
    }

    #[test]
    fn smoke_line_and_table_forms() {
        let line = entry("\"post /api/echo 201\"").unwrap();
        assert_eq!(
            (line.method.as_str(), line.status, line.repeat),
            ("POST", 201, 1)
        );
        let t = entry(
            r#"{ method = "POST", path = "/predict", headers = { "Content-Type" = "application/json" }, body = '{"text":"hi"}', status = 200, repeat = 50, max_failure_ratio = 0.05 }"#,
        )
        .unwrap();
        assert_eq!(t.method, "POST");
        assert_eq!(
            t.headers,
            [("Content-Type".to_string(), "application/json".to_string())]
        );
        assert_eq!(t.body.as_deref(), Some(r#"{"text":"hi"}"#));
        assert_eq!((t.repeat, t.max_failure_ratio), (50, 0.05));
        let d = entry(r#"{ path = "/health" }"#).unwrap();
        assert_eq!((d.method.as_str(), d.status, d.repeat), ("GET", 200, 1));
    }

    #[test]
    fn smoke_table_errors_name_the_field() {
        assert_eq!(entry(r#"{ method = "GET" }"#).unwrap_err().0, ".path");
        assert_eq!(
            entry(r#"{ path = "/", repeat = 0 }"#).unwrap_err().0,
            ".repeat"
        );
        assert_eq!(
            entry(r#"{ path = "/", status = 2000 }"#).unwrap_err().0,
            ".status"
        );
        assert_eq!(
            entry(r#"{ path = "/", max_failure_ratio = 1.5 }"#)
                .unwrap_err()
                .0,
            ".max_failure_ratio"
        );
        assert_eq!(entry(r#"{ path = "/", bdy = "x" }"#).unwrap_err().0, ".bdy");
        assert_eq!(
            entry(r#"{ path = "/", headers = { A = 1 } }"#)
                .unwrap_err()
                .0,
            ".headers.A"
        );
        assert!(entry("\"GET /x\"").is_err());
        assert!(entry("3").is_err());
    }

    #[test]
    fn argv_and_health_entries() {
        assert_eq!(argv(None).unwrap(), None);
        assert!(argv(Some(vec![])).is_err());
        assert!(argv(Some(vec![" ".into()])).is_err());
        assert!(argv(Some(vec!["true".into()])).unwrap().is_some());
        let http = |u: &str| {
            if u.starts_with("http") {
                Ok(())
            } else {
                Err("not http".to_string())
            }
        };
        assert!(health_entry("exec:true", http).is_ok());
        assert!(health_entry("exec:  ", http).is_err());
        assert!(health_entry("ftp://x", http).is_err());
        assert!(version_field(Some(String::new())).is_err());
    }
}
