//! `health-sidecar drain`: the client side of `POST /health/drain`, for a
//! Kubernetes `preStop` hook (whose `httpGet` cannot POST) or a deploy
//! script: request a drain, then wait until the sidecar reports `drained`.
//!
//! Blocking std sockets and no runtime: it runs once and exits.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::duration;
use crate::probe::ProbeSpec;

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
    let (host, port) = match ProbeSpec::parse(&cli.url) {
        Ok(ProbeSpec::Http { host, port, .. }) => (host, port),
        Ok(_) => {
            eprintln!("health-sidecar drain: --url must be http://HOST:PORT");
            return 2;
        }
        Err(e) => {
            eprintln!("health-sidecar drain: --url {e}");
            return 2;
        }
    };
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
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    match call(&host, port, "POST", "/health/drain", &auth) {
        Ok((202, _)) => {}
        Ok((code, body)) => {
            eprintln!(
                "health-sidecar drain: the sidecar answered {code}: {}",
                body.trim()
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
        if let Ok((_, body)) = call(&host, port, "GET", "/health", "") {
            if let Ok(doc) = serde_json::from_str::<serde_json::Value>(&body) {
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

/// One HTTP/1.1 request with `Connection: close`; returns status and body.
fn call(
    host: &str,
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
) -> std::io::Result<(u16, String)> {
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut s = TcpStream::connect(&addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n{headers}\r\n"
    )?;
    let mut buf = Vec::new();
    s.take(1 << 20).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    Ok((code, body.to_string()))
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
