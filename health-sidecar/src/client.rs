//! `health-sidecar drain`: the client side of `POST /health/drain`, for a
//! Kubernetes `preStop` hook (whose `httpGet` cannot POST) or a deploy
//! script: request a drain, then wait until the sidecar reports `drained`.
//!
//! Blocking, no runtime: it runs once and exits. HTTP through `ureq`
//! (plain http: a sidecar listens on loopback or a private address).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;

/// Asks a running sidecar to drain and waits for `drained`.
#[derive(Debug, Parser)]
#[command(
    name = "health-sidecar drain",
    after_help = "Exit codes: 0 drained (or accepted, with --wait 0), 1 refused, unreachable or not drained in time, 2 usage error."
)]
pub struct DrainCli {
    /// The sidecar's base URL (http://127.0.0.1:9901: POSTs /health/drain),
    /// or the drain URL itself, path and query kept (behind a proxy:
    /// http://lb/sidecar/health/drain); the status is read from its path
    /// without the last `/drain`.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// How long to wait for `drained`; 0 sends the request and returns.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration, allow_hyphen_values = true)]
    pub wait: Duration,
    /// File holding the bearer token (default: env HEALTH_SIDECAR_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// Runs the `drain` subcommand; `args` excludes the program name and the
/// word `drain`.
pub fn main(args: Vec<std::ffi::OsString>) -> u8 {
    let mut full = vec![std::ffi::OsString::from("health-sidecar drain")];
    full.extend(args);
    let cli = match DrainCli::try_parse_from(full) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let (drain, health) = match drain_urls(&cli.url, !cli.wait.is_zero()) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("health-sidecar drain: --url {}: {e}", cli.url);
            return 2;
        }
    };
    let agent = agent();
    let token = match &cli.token_file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t.trim().to_string()),
            Err(e) => {
                eprintln!("health-sidecar drain: --token-file {}: {e}", p.display());
                return 2;
            }
        },
        None => std::env::var(crate::cli::TOKEN_ENV).ok(),
    };
    let auth = token
        .filter(|t| !t.is_empty())
        .map(|t| format!("Bearer {t}"));
    let mut post = agent.post(&drain);
    if let Some(a) = &auth {
        post = post.header("Authorization", a);
    }
    match post.send_empty() {
        Ok(r) if r.status() == 202 => {}
        Ok(mut r) => {
            eprintln!(
                "health-sidecar drain: the sidecar answered {}: {}",
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default().trim()
            );
            return 1;
        }
        Err(e) => {
            eprintln!("health-sidecar drain: {}: {e}", cli.url);
            return 1;
        }
    }
    let deadline = Instant::now() + cli.wait;
    loop {
        let Some(health) = health.as_deref().filter(|_| !cli.wait.is_zero()) else {
            return 0;
        };
        if let Ok(mut r) = agent.get(health).call() {
            let body = r.body_mut().read_to_vec().unwrap_or_default();
            if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&body) {
                if doc["status"] == "drained" {
                    eprintln!(
                        "health-sidecar drain: drained ({})",
                        doc["drain"]["reason"].as_str().unwrap_or("done")
                    );
                    return 0;
                }
            }
        }
        if Instant::now() >= deadline {
            eprintln!(
                "health-sidecar drain: not drained within {}",
                humantime::format_duration(cli.wait)
            );
            return 1;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The URL to POST and the URL whose `GET` reports the status, from
/// `--url`. A bare base URL means the sidecar's own paths; a URL with a
/// path is used as given (a proxy in front may route on path or query),
/// and its status is the same URL without the last `/drain`. `wait` says
/// whether a status URL is needed at all.
fn drain_urls(url: &str, wait: bool) -> Result<(String, Option<String>), String> {
    let uri = url.parse::<ureq::http::Uri>().map_err(|e| e.to_string())?;
    let authority = match (uri.scheme_str(), uri.authority()) {
        (Some("http"), Some(a)) if !a.host().is_empty() => a.as_str(),
        _ => {
            return Err(
                "write http://HOST:PORT or the drain URL http://HOST:PORT/health/drain".into(),
            )
        }
    };
    let base = format!("http://{authority}");
    let path = uri.path();
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    if (path.is_empty() || path == "/") && query.is_empty() {
        return Ok((
            format!("{base}/health/drain"),
            Some(format!("{base}/health")),
        ));
    }
    let status = match path.strip_suffix("/drain") {
        Some(p) => Some(format!("{base}{p}{query}")),
        None if wait => {
            return Err(format!(
                "the path {path} does not end in /drain, so there is no status URL to wait on \
                 (give the URL of /health/drain, or --wait 0)"
            ))
        }
        None => None,
    };
    Ok((format!("{base}{path}{query}"), status))
}

/// Bound of each request (lookup, connect, answer).
const TIMEOUT: Duration = Duration::from_secs(5);

/// Any status is an answer (503 while not drained); each request within
/// [`TIMEOUT`], name lookup included (ureq resolves on a thread of its own
/// when a timeout is set).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(TIMEOUT))
        .build()
        .new_agent()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        DrainCli::command().debug_assert();
    }

    #[test]
    fn drain_url_keeps_path_and_query() {
        let base = |u| drain_urls(u, true);
        assert_eq!(
            base("http://127.0.0.1:9901"),
            Ok((
                "http://127.0.0.1:9901/health/drain".into(),
                Some("http://127.0.0.1:9901/health".into())
            ))
        );
        assert_eq!(base("http://h:1/"), base("http://h:1"));
        assert_eq!(
            base("http://lb:8080/sc/a/health/drain?pool=blue"),
            Ok((
                "http://lb:8080/sc/a/health/drain?pool=blue".into(),
                Some("http://lb:8080/sc/a/health?pool=blue".into())
            ))
        );
        assert!(
            base("http://h:1/?x=1").is_err(),
            "a query makes it a URL as given"
        );
        let e = base("http://h:1/drainage").err().unwrap_or_default();
        assert!(e.contains("/drainage") && e.contains("--wait 0"), "{e}");
        assert_eq!(
            drain_urls("http://h:1/drainage", false),
            Ok(("http://h:1/drainage".into(), None))
        );
        assert!(base("https://h:1/health/drain").is_err());
        assert!(base("tcp://h:1").is_err());
        assert!(base("/health/drain").is_err());
    }

    #[test]
    fn parses_defaults() {
        let c = DrainCli::try_parse_from(["drain", "--url", "http://127.0.0.1:9901"]);
        assert_eq!(c.map(|c| c.wait).ok(), Some(Duration::from_secs(60)));
    }
}
