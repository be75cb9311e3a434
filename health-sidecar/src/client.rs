//! `health-sidecar drain`: the client side of `POST /health/drain`, for a
//! Kubernetes `preStop` hook (whose `httpGet` cannot POST) or a deploy
//! script: request a drain, then wait until the sidecar reports `drained`.
//!
//! Blocking std sockets and no runtime: it runs once and exits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::duration;
use crate::http_client::{self, Url};

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
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration::parse, allow_hyphen_values = true)]
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
    let base = match Url::parse(&cli.url) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("health-sidecar drain: --url {}: {e}", cli.url);
            return 2;
        }
    };
    let (drain, health) = (base.with_path("/health/drain"), base.with_path("/health"));
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
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    match http_client::request("POST", &drain, &headers, TIMEOUT) {
        Ok(r) if r.status == 202 => {}
        Ok(r) => {
            eprintln!(
                "health-sidecar drain: the sidecar answered {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body).trim()
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
        if let Ok(r) = http_client::request("GET", &health, &[], TIMEOUT) {
            if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&r.body) {
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
                duration::Human(cli.wait)
            );
            return 1;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Bound of each request (connect, lookup, answer).
const TIMEOUT: Duration = Duration::from_secs(5);

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
