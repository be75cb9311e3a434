//! Command-line flags and their validation.
//!
//! clap reports malformed values itself (exit 2, naming the flag, e.g.
//! `invalid value '5x' for '--probe-interval <DURATION>'`); [`Cli::into_config`]
//! adds the checks that involve several flags, the token file or the
//! environment, with the same exit code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::probe::ProbeSpec;

const AFTER_HELP: &str = "\
Client: `health-sidecar drain --url http://127.0.0.1:9901 [--wait 60s]` asks a
running sidecar to drain and waits for `drained` (for preStop hooks).

Durations are written 500ms, 30s, 5m, 1h (or a plain 0).

Exit codes:
  0    clean exit (SIGTERM handled: drained, then stopped)
  2    usage error: a bad flag or value, an unreadable token file
  3    could not bind the --listen address
  126  the app command could not be started (127: not found)
  N    when supervising: the app's exit status, 128+SIGNAL if a signal ended it";

/// Reports lifecycle status beside an app, drains it, and optionally
/// supervises it.
#[derive(Debug, Parser)]
#[command(name = "health-sidecar", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Address to serve /health, /livez, /readyz, /metrics and the POST
    /// endpoints on, e.g. 127.0.0.1:9901 or 0.0.0.0:9901.
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,

    /// How to check the app: http://HOST:PORT/PATH (ready on 2xx/3xx),
    /// tcp://HOST:PORT (ready on connect) or exec:COMMAND (ready on exit 0).
    #[arg(long, value_name = "PROBE", value_parser = ProbeSpec::parse)]
    pub probe: ProbeSpec,

    /// The port the app serves traffic on; its open connections decide when
    /// a drain is complete. Without it a drain ends after --drain-min.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub app_port: Option<u16>,

    /// Pid of an app the sidecar does not start itself, for the `process`
    /// stats of /health.
    #[arg(long, value_name = "PID", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "command")]
    pub app_pid: Option<u32>,

    /// Time between probes.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "1s", value_parser = positive_duration)]
    pub probe_interval: Duration,

    /// Bound on one probe; an app that does not answer in time failed it.
    /// Default: the smaller of --probe-interval and 2s.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = positive_duration)]
    pub probe_timeout: Option<Duration>,

    /// Time allowed in `starting` before the status becomes `failing`
    /// (reason `startup_timeout`); 0 waits forever.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "60s", value_parser = any_duration)]
    pub startup_timeout: Duration,

    /// Consecutive failed probes that turn `ready` into `failing`.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub failure_threshold: u32,

    /// Consecutive successful probes that turn `failing` back into `ready`.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub success_threshold: u32,

    /// Longest drain: after it the status is `drained` (reason `timeout`)
    /// even with connections still open.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "30s", value_parser = any_duration)]
    pub drain_timeout: Duration,

    /// Shortest drain, so load balancers notice `draining` before the app
    /// stops (use a few seconds behind Kubernetes Services).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "0s", value_parser = any_duration)]
    pub drain_min: Duration,

    /// When supervising: time the app gets after SIGTERM before SIGKILL.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "10s", value_parser = any_duration)]
    pub stop_timeout: Duration,

    /// File holding the bearer token POST endpoints require (trailing
    /// newline ignored). Default: env HEALTH_SIDECAR_TOKEN; with neither,
    /// POST is accepted from loopback only.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// The app's version, reported as `version` in /health.
    #[arg(long, value_name = "LABEL", env = "APP_VERSION")]
    pub version_label: Option<String>,

    /// The app to start and supervise, after `--`.
    #[arg(last = true, value_name = "APP_COMMAND")]
    pub command: Vec<String>,
}

fn any_duration(s: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(s)
}

fn positive_duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("must be greater than 0".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// A problem found after parsing; printed as `health-sidecar: MESSAGE`,
/// exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Everything the daemon needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub probe: ProbeSpec,
    pub app_port: Option<u16>,
    pub app_pid: Option<u32>,
    pub probe_interval: Duration,
    pub probe_timeout: Duration,
    pub startup_timeout: Option<Duration>,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub drain_timeout: Duration,
    pub drain_min: Duration,
    pub stop_timeout: Duration,
    pub token: Option<String>,
    pub version: Option<String>,
    pub command: Vec<String>,
}

/// Env var holding the token when no --token-file is given.
pub const TOKEN_ENV: &str = "HEALTH_SIDECAR_TOKEN";

impl Cli {
    /// Validates what clap cannot. `env_token` is `HEALTH_SIDECAR_TOKEN`,
    /// passed in so tests do not touch the process environment.
    pub fn into_config(self, env_token: Option<String>) -> Result<Config, UsageError> {
        if self.drain_min > self.drain_timeout {
            return Err(UsageError(format!(
                "--drain-min ({}) is longer than --drain-timeout ({})",
                humantime::format_duration(self.drain_min),
                humantime::format_duration(self.drain_timeout)
            )));
        }
        if self.app_port == Some(self.listen.port()) {
            return Err(UsageError(format!(
                "--app-port {} is the sidecar's own --listen port; give the app's port",
                self.listen.port()
            )));
        }
        let token = match (&self.token_file, env_token) {
            (Some(path), _) => Some(read_token(path)?),
            (None, Some(t)) => {
                let t = t.trim().to_string();
                if t.is_empty() {
                    return Err(UsageError(format!("{TOKEN_ENV} is set but empty")));
                }
                Some(t)
            }
            (None, None) => None,
        };
        if self.command.first().is_some_and(|c| c.is_empty()) {
            return Err(UsageError("APP_COMMAND after `--` is empty".into()));
        }
        let probe_timeout = self
            .probe_timeout
            .unwrap_or_else(|| self.probe_interval.min(Duration::from_secs(2)));
        Ok(Config {
            listen: self.listen,
            probe: self.probe,
            app_port: self.app_port,
            app_pid: self.app_pid,
            probe_interval: self.probe_interval,
            probe_timeout,
            startup_timeout: (!self.startup_timeout.is_zero()).then_some(self.startup_timeout),
            failure_threshold: self.failure_threshold,
            success_threshold: self.success_threshold,
            drain_timeout: self.drain_timeout,
            drain_min: self.drain_min,
            stop_timeout: self.stop_timeout,
            token,
            version: self.version_label.filter(|v| !v.trim().is_empty()),
            command: self.command,
        })
    }
}

fn read_token(path: &std::path::Path) -> Result<String, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("--token-file {}: {e}", path.display())))?;
    let token = text.trim().to_string();
    if token.is_empty() {
        return Err(UsageError(format!(
            "--token-file {}: the file is empty",
            path.display()
        )));
    }
    if token.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(UsageError(format!(
            "--token-file {}: the token must be one line without spaces",
            path.display()
        )));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let mut v = vec!["health-sidecar"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v)
    }

    const BASE: [&str; 4] = [
        "--listen",
        "127.0.0.1:9901",
        "--probe",
        "tcp://127.0.0.1:3000",
    ];

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults() {
        let c = parse(&BASE).unwrap().into_config(None).unwrap();
        assert_eq!(c.probe_interval, Duration::from_secs(1));
        assert_eq!(c.probe_timeout, Duration::from_secs(1));
        assert_eq!(c.startup_timeout, Some(Duration::from_secs(60)));
        assert_eq!(c.failure_threshold, 3);
        assert_eq!(c.success_threshold, 1);
        assert_eq!(c.drain_timeout, Duration::from_secs(30));
        assert_eq!(c.drain_min, Duration::ZERO);
        assert_eq!(c.stop_timeout, Duration::from_secs(10));
        assert_eq!(c.token, None);
        assert!(c.command.is_empty());
    }

    #[test]
    fn probe_timeout_is_capped_at_2s_by_default() {
        let mut a = BASE.to_vec();
        a.extend(["--probe-interval", "10s"]);
        let c = parse(&a).unwrap().into_config(None).unwrap();
        assert_eq!(c.probe_timeout, Duration::from_secs(2));
    }

    #[test]
    fn command_after_double_dash() {
        let mut a = BASE.to_vec();
        a.extend([
            "--app-port",
            "3000",
            "--",
            "node",
            "server.js",
            "--port",
            "3000",
        ]);
        let c = parse(&a).unwrap().into_config(None).unwrap();
        assert_eq!(c.command, ["node", "server.js", "--port", "3000"]);
        assert_eq!(c.app_port, Some(3000));
    }

    fn usage_error(args: &[&str]) -> String {
        let e = parse(args).expect_err("must fail");
        assert_eq!(e.exit_code(), 2);
        e.to_string()
    }

    #[test]
    fn bad_values_name_the_flag() {
        let mut a = BASE.to_vec();
        a.extend(["--probe-interval", "5x"]);
        assert!(usage_error(&a).contains("--probe-interval"));
        let mut a = BASE.to_vec();
        a.extend(["--probe-interval", "0"]);
        assert!(usage_error(&a).contains("greater than 0"));
        let mut a = BASE.to_vec();
        a.extend(["--drain-timeout", "10"]);
        assert!(usage_error(&a).contains("--drain-timeout"));
        let mut a = BASE.to_vec();
        a.extend(["--failure-threshold", "0"]);
        assert!(usage_error(&a).contains("--failure-threshold"));
        let mut a = BASE.to_vec();
        a.extend(["--app-port", "70000"]);
        assert!(usage_error(&a).contains("--app-port"));
        let e = usage_error(&["--listen", "nowhere", "--probe", "tcp://a:1"]);
        assert!(e.contains("--listen"), "{e}");
        let e = usage_error(&["--listen", "127.0.0.1:1", "--probe", "gopher://a"]);
        assert!(e.contains("--probe"), "{e}");
        assert!(usage_error(&["--probe", "tcp://a:1"]).contains("--listen"));
        let mut a = BASE.to_vec();
        a.extend(["--app-pid", "10", "--", "app"]);
        assert!(usage_error(&a).contains("--app-pid"));
    }

    #[test]
    fn cross_flag_checks() {
        let mut a = BASE.to_vec();
        a.extend(["--drain-min", "1m", "--drain-timeout", "30s"]);
        let e = parse(&a).unwrap().into_config(None).unwrap_err();
        assert!(e.0.contains("--drain-min"), "{e}");
    }

    #[test]
    fn app_port_is_not_the_listen_port() {
        let mut a = BASE.to_vec();
        a.extend(["--app-port", "9901"]);
        let e = parse(&a).unwrap().into_config(None).unwrap_err();
        assert!(e.0.contains("--app-port 9901"), "{e}");
    }

    #[test]
    fn token_sources() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "abc123\n").unwrap();
        let mut a = BASE.to_vec();
        let path = file.to_string_lossy().into_owned();
        a.extend(["--token-file", &path]);
        // the file wins over the environment
        let c = parse(&a).unwrap().into_config(Some("env".into())).unwrap();
        assert_eq!(c.token.as_deref(), Some("abc123"));
        let c = parse(&BASE)
            .unwrap()
            .into_config(Some("fromenv".into()))
            .unwrap();
        assert_eq!(c.token.as_deref(), Some("fromenv"));
        let e = parse(&BASE)
            .unwrap()
            .into_config(Some(" ".into()))
            .unwrap_err();
        assert!(e.0.contains(TOKEN_ENV));

        std::fs::write(&file, "\n").unwrap();
        let e = parse(&a).unwrap().into_config(None).unwrap_err();
        assert!(e.0.contains("--token-file") && e.0.contains("empty"), "{e}");
        std::fs::write(&file, "two words").unwrap();
        let e = parse(&a).unwrap().into_config(None).unwrap_err();
        assert!(e.0.contains("--token-file"), "{e}");
        let missing = dir.path().join("missing").to_string_lossy().into_owned();
        let mut a = BASE.to_vec();
        a.extend(["--token-file", &missing]);
        let e = parse(&a).unwrap().into_config(None).unwrap_err();
        assert!(
            e.0.contains("--token-file") && e.0.contains("missing"),
            "{e}"
        );
    }
}
