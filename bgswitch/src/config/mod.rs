//! `bgswitch.toml`: the pools, the switch, and how to prove it. Every value
//! is checked when the file is read; an error names the key.
//!
//! [`raw`] is the file as written (serde), [`parse`] turns it into the
//! typed [`Config`] below, section by section, with [`values`] checking
//! single values (durations, commands, TLS keys). [`deploy`] holds the
//! keys `deploy` adds (start/stop, `[deploy]`, health entries, smoke
//! requests in both forms), [`flag`] those of `kind = "flag"`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::http;

mod deploy;
mod flag;
mod parse;
mod raw;
#[cfg(test)]
mod tests;
mod values;

pub use deploy::{DeployConfig, SmokeRequest, StopOld};
pub use flag::FlagConfig;
pub use parse::parse;

/// A configuration error, naming the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub message: String,
}

/// The whole configuration, with defaults applied and paths resolved
/// against the directory of the file.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub nginx: NginxConfig,
    pub switch: SwitchConfig,
    /// Pools by name, in name order.
    pub pools: BTreeMap<String, Pool>,
    pub gate: GateConfig,
    pub verify: VerifyConfig,
    pub smoke: SmokeConfig,
    pub soak: SoakConfig,
    pub drain: DrainConfig,
    pub state: StateConfig,
    pub deploy: DeployConfig,
}

#[derive(Debug, Clone)]
pub struct NginxConfig {
    /// The file that holds the switch (or, with `main`, any file the main
    /// config includes).
    pub config: PathBuf,
    pub main: Option<PathBuf>,
    pub test_command: Vec<String>,
    pub reload_command: Vec<String>,
    /// Where the master's pid is; `None`: proof rests on `[verify]` alone.
    pub pid_file: Option<PathBuf>,
    /// How long to wait for new workers after a reload.
    pub reload_timeout: Duration,
    /// How the nginx file is written (`write`).
    pub write: WriteMode,
    /// The command that prints the configuration nginx reads (`nginx -T`),
    /// to check that it sees the bytes written. `None`: derived from
    /// `test_command` (its `-t` made `-T`); `Some([])`: no check.
    pub dump_command: Option<Vec<String>>,
}

/// `[nginx] write`: how the new bytes reach the nginx file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Temporary file, fsync, rename (atomic; a new inode).
    #[default]
    Replace,
    /// Into the same inode, after a backup and a record of the write under
    /// way: a file bind-mounted on its own into a container sees it.
    InPlace,
}

impl WriteMode {
    /// The value as written in `bgswitch.toml`.
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::Replace => "replace",
            WriteMode::InPlace => "in-place",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchKind {
    Map,
    Upstream,
    Replace,
    /// No edit, no reload: nginx tests a flag file on every request.
    Flag,
}

#[derive(Debug, Clone)]
pub struct SwitchConfig {
    pub kind: SwitchKind,
    /// `map`: the map's result variable (`$backend`).
    pub map: Option<String>,
    /// `upstream` / `replace`: the upstream's name.
    pub upstream: Option<String>,
    /// `flag`: where the flag files live, and whether it may be volatile.
    pub flag: Option<FlagConfig>,
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    /// `map`: the default value that means "this pool is live".
    pub target: Option<String>,
    /// `upstream` / `replace`: the pool's addresses as written in nginx.
    pub servers: Vec<String>,
    /// The pool's health: sidecars or the app's own `/health` (http(s)), or `exec:COMMAND`.
    pub health: Vec<String>,
    /// What verify must see through the load balancer.
    pub expect: String,
    /// `deploy`: argv run without a shell, `{pool}` and `{version}`
    /// replaced; `None` when not configured.
    pub start: Option<Vec<String>>,
    pub stop: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct GateConfig {
    pub timeout: Duration,
    pub interval: Duration,
    /// `deploy`: the top-level JSON field of a health answer that reports
    /// the running version.
    pub version_field: Option<String>,
    /// `connect_to`, `ca_file`, `insecure` for the health URLs.
    pub transport: http::Transport,
    /// The client for the health URLs (and the sidecars' POSTs).
    pub client: http::Client,
}

#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub url: Option<String>,
    pub header: Option<String>,
    pub json_field: Option<String>,
    pub consecutive: u32,
    pub timeout: Duration,
    /// `connect_to`, `ca_file`, `insecure` for `url` and the smoke
    /// requests through the load balancer.
    pub transport: http::Transport,
    pub client: http::Client,
}

#[derive(Debug, Clone)]
pub struct SmokeConfig {
    pub requests: Vec<SmokeRequest>,
}

#[derive(Debug, Clone)]
pub struct SoakConfig {
    pub duration: Duration,
    pub access_log: Option<PathBuf>,
    pub max_5xx_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct DrainConfig {
    pub enabled: bool,
    pub old_workers_timeout: Duration,
    pub wait_drained: Duration,
    /// Bearer token for the sidecars' POST endpoints (a sidecar not on
    /// loopback accepts POST only with its token): `token_file`, else the
    /// env variable `HEALTH_SIDECAR_TOKEN`.
    pub token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StateConfig {
    pub journal: PathBuf,
    pub lock: PathBuf,
}

impl Config {
    /// One line per section that skips certificate checks: every run that
    /// uses `insecure = true` says so.
    pub fn insecure_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.verify.transport.insecure {
            notes.push(
                "insecure: verify.insecure = true, certificates of [verify] url are not checked"
                    .to_string(),
            );
        }
        if self.gate.transport.insecure {
            notes.push(
                "insecure: gate.insecure = true, certificates of the health URLs are not checked"
                    .to_string(),
            );
        }
        notes
    }
}

/// Reads and checks `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        key: "(file)".into(),
        message: e.to_string(),
    })?;
    parse(&text, path)
}
