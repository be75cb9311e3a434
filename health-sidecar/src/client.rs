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
    /// The sidecar's base URL, e.g. http://127.0.0.1:9901
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
    let base = match cli.url.parse::<ureq::http::Uri>() {
        Ok(u) if u.scheme_str() == Some("http") && u.host().is_some() => {
            format!("http://{}", u.authority().map_or("", |a| a.as_str()))
        }
        Ok(_) => {
            eprintln!(
                "health-sidecar drain: --url {}: write http://HOST:PORT",
                cli.url
            );
            return 2;
        }
        Err(e) => {
            eprintln!("health-sidecar drain: --url {}: {e}", cli.url);
            return 2;
        }
    };
    let (drain, health) = (format!("{base}/health/drain"), format!("{base}/health"));
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
        if cli.wait.is_zero() {
            return 0;
        }
        if let Ok(mut r) = agent.get(&health).call() {
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
    fn parses_defaults() {
        let c = DrainCli::try_parse_from(["drain", "--url", "http://127.0.0.1:9901"]);
        assert_eq!(c.map(|c| c.wait).ok(), Some(Duration::from_secs(60)));
    }
}
