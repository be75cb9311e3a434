//! `kind = "flag"`: the live switch with no reload. nginx evaluates a
//! selector on every request (`set $backend app_blue;` and `if (-f
//! DIR/green) { set $backend app_green; }`); bgswitch reads it from the
//! config ([`selector`]), knows the live pool from the flags on disk as
//! nginx would evaluate them, and switches by creating or removing a flag
//! file ([`dir`]). No edit, no `nginx -t`, no reload: no nginx worker
//! closes a keep-alive connection.

pub mod dir;
pub mod selector;

use std::path::{Path, PathBuf};

use nginx_edit::includes::ConfigSet;

use crate::config::Config;
pub use selector::{Selector, SelectorError};

/// A flag file created or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagMove {
    pub path: PathBuf,
    /// `true`: created; `false`: removed.
    pub create: bool,
}

impl std::fmt::Display for FlagMove {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.create { "create" } else { "remove" };
        write!(f, "{verb} {}", self.path.display())
    }
}

/// The selector of a config, checked against the pools and `flag_dir`.
#[derive(Debug, Clone)]
pub struct FlagSwitch {
    pub selector: Selector,
    pub dir: PathBuf,
    volatile_ok: bool,
}

impl FlagSwitch {
    /// Reads and checks everything a flag switch needs; every refusal
    /// names the file and line (or the config key).
    pub fn read(set: &ConfigSet, cfg: &Config) -> Result<FlagSwitch, String> {
        let var = cfg.switch.map.as_deref().unwrap_or_default();
        let flag = cfg.switch.flag.as_ref().ok_or("switch.flag_dir: missing")?;
        let selector = Selector::read(set, var).map_err(|e| e.to_string())?;
        let at = |file: &Path, line: usize| format!("{}:{line}", file.display());
        let first = &selector.servers[0];
        for p in cfg.pools.values() {
            let target = p.target.as_deref().unwrap_or_default();
            if target != selector.default && !selector.tests.iter().any(|t| t.value == target) {
                return Err(format!(
                    "pools.{}.target: no selector sets \"{target}\" ({}: default {}, flags select {})",
                    p.name,
                    selector.at(),
                    selector.default,
                    selector
                        .tests
                        .iter()
                        .map(|t| t.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        for t in &selector.tests {
            let (dir, _) = t.dir_and_name();
            if !same_dir(Path::new(dir), &flag.dir) {
                return Err(format!(
                    "{}: this flag test looks in {dir}, but [switch] flag_dir is {}",
                    at(&first.path, t.line),
                    flag.dir.display()
                ));
            }
            if !cfg
                .pools
                .values()
                .any(|p| p.target.as_deref() == Some(&t.value))
            {
                return Err(format!(
                    "{}: the flag selects \"{}\", which is no pool's target",
                    at(&first.path, t.line),
                    t.value
                ));
            }
        }
        Ok(FlagSwitch {
            selector,
            dir: flag.dir.clone(),
            volatile_ok: flag.volatile,
        })
    }

    /// The flag directory exists, is writable, and survives a reboot (or
    /// the user said a volatile one is meant).
    pub fn check_dir(&self) -> Result<(), String> {
        dir::check(&self.dir, self.volatile_ok)
    }

    /// The live pool, as nginx evaluates the selector for the flags on disk.
    pub fn live(&self, cfg: &Config) -> Option<String> {
        let value = self.selector.value();
        cfg.pools
            .values()
            .find(|p| p.target.as_deref() == Some(value))
            .map(|p| p.name.clone())
    }

    /// The flag files to create and remove to make `to` live (one, for two
    /// pools: the selector has one test per value that is not the default).
    pub fn plan(&self, cfg: &Config, to: &str) -> Vec<FlagMove> {
        let value = cfg.pools[to].target.as_deref().unwrap_or_default();
        let chosen = self.selector.tests.iter().rposition(|t| t.value == value);
        let mut moves = Vec::new();
        if let Some(i) = chosen {
            let path = PathBuf::from(&self.selector.tests[i].path);
            if !path.is_file() {
                moves.push(FlagMove { path, create: true });
            }
        }
        for (i, t) in self.selector.tests.iter().enumerate() {
            let path = PathBuf::from(&t.path);
            if Some(i) != chosen && path.exists() {
                moves.push(FlagMove {
                    path,
                    create: false,
                });
            }
        }
        moves
    }

    /// The flag files' names, for the unknown-file report.
    pub fn names(&self) -> Vec<&str> {
        self.selector
            .tests
            .iter()
            .map(|t| t.dir_and_name().1)
            .collect()
    }

    /// Files in the flag directory that bgswitch did not write.
    pub fn unknown_files(&self) -> Vec<String> {
        dir::unknown(&self.dir, &self.names())
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    let clean = |p: &Path| -> PathBuf {
        p.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    };
    if clean(a) == clean(b) {
        return true;
    }
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// What a flag file says about who wrote it.
pub fn note(pool: &str) -> String {
    format!(
        "written by bgswitch: {pool} is live while this file exists ({})\n",
        humantime::format_rfc3339_millis(std::time::SystemTime::now())
    )
}

/// nginx's upstream `keepalive_timeout` when none is set.
pub const NGINX_DEFAULT_UPSTREAM_KEEPALIVE: std::time::Duration =
    std::time::Duration::from_secs(60);

/// Nothing reloads in a flag switch, so nginx keeps its idle keep-alive
/// connections to the old pool until the upstream's `keepalive_timeout`
/// closes them; the old pool's sidecar counts them and reports `drained`
/// only after that. Says so for each pool whose upstream keeps idle
/// connections longer than `[drain] wait_drained`.
pub fn keepalive_notes(set: &ConfigSet, cfg: &Config) -> Vec<String> {
    let wait = cfg.drain.wait_drained;
    let mut notes = Vec::new();
    for pool in cfg.pools.values() {
        let Some(target) = pool.target.as_deref() else {
            continue;
        };
        for f in &set.files {
            for up in f
                .doc()
                .walk()
                .filter(|d| d.is("upstream") && d.arg(0).is_some_and(|a| a.text() == target))
            {
                if !up.children().any(|c| c.is("keepalive")) {
                    continue;
                }
                let timeout = up
                    .children()
                    .find(|c| c.is("keepalive_timeout"))
                    .and_then(|c| c.arg(0))
                    .map(|a| nginx_seconds(&a.text()));
                let idle = match timeout {
                    Some(Some(t)) => t,
                    Some(None) => continue,
                    None => NGINX_DEFAULT_UPSTREAM_KEEPALIVE,
                };
                if wait.is_zero() || idle <= wait {
                    continue;
                }
                notes.push(format!(
                    "{}:{}: upstream {target} keeps idle connections for {idle:?}{}: nothing reloads, so the old pool reports drained only after they close, later than [drain] wait_drained ({wait:?}); add `keepalive_timeout 5s;` to it",
                    f.path.display(),
                    up.line(),
                    if timeout.is_none() { " (nginx's default)" } else { "" }
                ));
            }
        }
    }
    notes
}

/// An nginx time (`5s`, `1m`, `500ms`, `60`: seconds without a unit).
fn nginx_seconds(text: &str) -> Option<std::time::Duration> {
    if let Ok(n) = text.parse::<u64>() {
        return Some(std::time::Duration::from_secs(n));
    }
    humantime::parse_duration(text).ok()
}
