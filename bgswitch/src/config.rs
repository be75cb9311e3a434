//! `bgswitch.toml`: the pools, the switch, and how to prove it. Every value
//! is checked when the file is read; an error names the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod flag;
pub use flag::FlagConfig;

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
    // deploy (config_deploy.rs)
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
    // --- [nginx] write and dump_command (issue 10: nginx in a container) ---
    /// How the nginx file is written (`write`).
    pub write: WriteMode,
    /// The command that prints the configuration nginx reads (`nginx -T`),
    /// to check that it sees the bytes written. `None`: derived from
    /// `test_command` (its `-t` made `-T`); `Some([])`: no check.
    pub dump_command: Option<Vec<String>>,
    // --- end of [nginx] write and dump_command ---
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
    pub flag: Option<flag::FlagConfig>,
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
    // deploy (config_deploy.rs): argv run without a shell, `{pool}` and
    // `{version}` replaced; `None` when not configured.
    pub start: Option<Vec<String>>,
    pub stop: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct GateConfig {
    pub timeout: Duration,
    pub interval: Duration,
    // deploy (config_deploy.rs): the top-level JSON field of a health
    // answer that reports the running version.
    pub version_field: Option<String>,
}

#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub url: Option<String>,
    pub header: Option<String>,
    pub json_field: Option<String>,
    pub consecutive: u32,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SmokeConfig {
    pub requests: Vec<SmokeRequest>,
}

// deploy (config_deploy.rs): the smoke request, in its line and table forms.
pub use crate::config_deploy::{DeployConfig, SmokeRequest, StopOld};

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

// The file as written: every field optional, unknown keys refused.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    nginx: Option<RawNginx>,
    switch: Option<RawSwitch>,
    pools: Option<BTreeMap<String, RawPool>>,
    gate: Option<RawGate>,
    verify: Option<RawVerify>,
    smoke: Option<RawSmoke>,
    soak: Option<RawSoak>,
    drain: Option<RawDrain>,
    state: Option<RawState>,
    // deploy (config_deploy.rs)
    deploy: Option<crate::config_deploy::RawDeploy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNginx {
    config: Option<String>,
    main: Option<String>,
    test_command: Option<Vec<String>>,
    reload_command: Option<Vec<String>>,
    pid_file: Option<String>,
    reload_timeout: Option<String>,
    // [nginx] write and dump_command (issue 10)
    write: Option<String>,
    dump_command: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSwitch {
    kind: Option<String>,
    map: Option<String>,
    upstream: Option<String>,
    // kind = "flag" (config/flag.rs)
    flag_dir: Option<String>,
    flag_dir_volatile: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPool {
    target: Option<String>,
    servers: Option<Vec<String>>,
    health: Option<Vec<String>>,
    expect: Option<String>,
    // deploy (config_deploy.rs)
    start: Option<Vec<String>>,
    stop: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    timeout: Option<String>,
    interval: Option<String>,
    // deploy (config_deploy.rs)
    version_field: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerify {
    url: Option<String>,
    header: Option<String>,
    json_field: Option<String>,
    consecutive: Option<i64>,
    timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmoke {
    // deploy (config_deploy.rs): strings or tables
    requests: Option<Vec<toml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSoak {
    duration: Option<String>,
    access_log: Option<String>,
    max_5xx_ratio: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrain {
    enabled: Option<bool>,
    old_workers_timeout: Option<String>,
    wait_drained: Option<String>,
    token_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    journal: Option<String>,
    lock: Option<String>,
}

/// Reads and checks `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let err = |key: &str, message: String| ConfigError {
        file: file.clone(),
        key: key.to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err("(file)", e.to_string()))?;
    parse(&text, path)
}

/// Parses the text of a configuration file found at `path`.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let err = |key: &str, message: String| ConfigError {
        file: file.clone(),
        key: key.to_string(),
        message,
    };
    // A value of the wrong type is reported by its key (`gate.timeout`),
    // a syntax error by its line and column.
    let at = |e: &toml::de::Error| {
        e.span()
            .map(|s| {
                let (line, col) = line_col(text, s.start);
                format!("line {line}, column {col}")
            })
            .unwrap_or_else(|| "(file)".into())
    };
    let de = toml::Deserializer::parse(text).map_err(|e| err(&at(&e), e.message().to_string()))?;
    let raw: RawFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let key = if key.is_empty() || key == "." {
            at(&inner)
        } else {
            key
        };
        err(&key, inner.message().to_string())
    })?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let resolve = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let duration =
        |key: &str, value: Option<&String>, default: &str| -> Result<Duration, ConfigError> {
            let text = value.map_or(default, String::as_str);
            health_sidecar::duration::parse(text).map_err(|e| {
                err(
                    key,
                    format!("invalid duration \"{text}\": {e} (write 500ms, 30s, 5m)"),
                )
            })
        };

    let n = raw.nginx.unwrap_or_default();
    let config = n.config.as_deref().map(resolve).ok_or_else(|| {
        err(
            "nginx.config",
            "missing: the nginx file that holds the switch".into(),
        )
    })?;
    let command = |key: &str, value: Option<Vec<String>>, default: &[&str]| {
        let mut v = value.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
        if v.is_empty() || v[0].is_empty() {
            return Err(err(
                key,
                "must be a non-empty list, e.g. [\"nginx\", \"-t\"]".into(),
            ));
        }
        // `./reload.sh` is relative to this file, like every path here; a
        // bare name (`nginx`) is looked up on PATH.
        if v[0].contains('/') {
            v[0] = resolve(&v[0]).display().to_string();
        }
        Ok(v)
    };
    let nginx = NginxConfig {
        config,
        main: n.main.as_deref().map(resolve),
        test_command: command("nginx.test_command", n.test_command, &["nginx", "-t"])?,
        reload_command: command(
            "nginx.reload_command",
            n.reload_command,
            &["nginx", "-s", "reload"],
        )?,
        // Unset (or empty): nginx runs where its pid cannot be read (a
        // container); the proof then rests on [verify] alone.
        pid_file: match n.pid_file.as_deref() {
            None | Some("") => None,
            Some(p) => Some(resolve(p)),
        },
        reload_timeout: duration("nginx.reload_timeout", n.reload_timeout.as_ref(), "10s")?,
        // --- [nginx] write and dump_command (issue 10) ---
        write: match n.write.as_deref() {
            None | Some("replace") => WriteMode::Replace,
            Some("in-place") => WriteMode::InPlace,
            Some(other) => {
                return Err(err(
                    "nginx.write",
                    format!("\"{other}\" is not one of replace, in-place"),
                ))
            }
        },
        dump_command: match n.dump_command {
            None => None,
            Some(v) if v.is_empty() => Some(v),
            Some(v) => Some(command("nginx.dump_command", Some(v), &[])?),
        },
        // --- end of [nginx] write and dump_command ---
    };

    let s = raw.switch.unwrap_or_default();
    let kind = match s.kind.as_deref() {
        Some("map") | None => SwitchKind::Map,
        Some("upstream") => SwitchKind::Upstream,
        Some("replace") => SwitchKind::Replace,
        Some("flag") => SwitchKind::Flag,
        Some(other) => {
            return Err(err(
                "switch.kind",
                format!("\"{other}\" is not one of map, upstream, replace, flag"),
            ))
        }
    };
    let flag = flag::parse(kind, s.flag_dir.as_deref(), s.flag_dir_volatile, &resolve)
        .map_err(|(key, message)| err(key, message))?;
    let switch = SwitchConfig {
        kind,
        map: s.map,
        upstream: s.upstream,
        flag,
    };
    match kind {
        SwitchKind::Map | SwitchKind::Flag if switch.map.is_none() => {
            return Err(err(
                "switch.map",
                "missing: the map's result variable, e.g. \"$backend\"".into(),
            ))
        }
        SwitchKind::Upstream | SwitchKind::Replace if switch.upstream.is_none() => {
            return Err(err(
                "switch.upstream",
                "missing: the upstream's name".into(),
            ))
        }
        _ => {}
    }

    let raw_pools = raw.pools.unwrap_or_default();
    if raw_pools.len() != 2 {
        return Err(err(
            "pools",
            format!("need exactly two pools, found {}", raw_pools.len()),
        ));
    }
    let mut pools = BTreeMap::new();
    for (name, p) in raw_pools {
        let key = |k: &str| format!("pools.{name}.{k}");
        let pool = Pool {
            target: p.target,
            servers: p.servers.unwrap_or_default(),
            health: p.health.unwrap_or_default(),
            expect: p.expect.unwrap_or_else(|| name.clone()),
            name: name.clone(),
            // deploy (config_deploy.rs)
            start: crate::config_deploy::argv(p.start).map_err(|m| err(&key("start"), m))?,
            stop: crate::config_deploy::argv(p.stop).map_err(|m| err(&key("stop"), m))?,
        };
        match kind {
            SwitchKind::Map | SwitchKind::Flag
                if pool.target.as_deref().is_none_or(str::is_empty) =>
            {
                return Err(err(
                    &key("target"),
                    "missing: the map default (flag: the selector's value) that means this pool is live".into(),
                ))
            }
            SwitchKind::Upstream | SwitchKind::Replace if pool.servers.is_empty() => {
                return Err(err(
                    &key("servers"),
                    "missing: the pool's server addresses".into(),
                ))
            }
            _ => {}
        }
        // deploy (config_deploy.rs): http(s) URLs and exec: probes
        for entry in &pool.health {
            crate::config_deploy::health_entry(entry, |u| crate::http::Url::parse(u).map(|_| ()))
                .map_err(|m| err(&key("health"), m))?;
        }
        pools.insert(name, pool);
    }
    if kind == SwitchKind::Replace {
        let sizes: Vec<usize> = pools.values().map(|p| p.servers.len()).collect();
        if sizes[0] != sizes[1] {
            return Err(err(
                "pools",
                "kind = \"replace\" swaps addresses one for one: both pools need as many servers"
                    .into(),
            ));
        }
    }

    let g = raw.gate.unwrap_or_default();
    let gate = GateConfig {
        timeout: duration("gate.timeout", g.timeout.as_ref(), "60s")?,
        interval: duration("gate.interval", g.interval.as_ref(), "1s")?,
        // deploy (config_deploy.rs)
        version_field: crate::config_deploy::version_field(g.version_field)
            .map_err(|m| err("gate.version_field", m))?,
    };
    if gate.interval.is_zero() {
        return Err(err("gate.interval", "must be more than 0".into()));
    }

    let v = raw.verify.unwrap_or_default();
    if let Some(url) = &v.url {
        crate::http::Url::parse(url).map_err(|e| err("verify.url", format!("\"{url}\": {e}")))?;
        if v.header.is_none() && v.json_field.is_none() {
            return Err(err(
                "verify.header",
                "set header or json_field: how verify tells which pool answered".into(),
            ));
        }
    }
    let consecutive = match v.consecutive {
        None => 3,
        Some(n) if (1..=1000).contains(&n) => n as u32,
        Some(n) => {
            return Err(err(
                "verify.consecutive",
                format!("{n} is not between 1 and 1000"),
            ))
        }
    };
    let verify = VerifyConfig {
        url: v.url,
        header: v.header,
        json_field: v.json_field,
        consecutive,
        timeout: duration("verify.timeout", v.timeout.as_ref(), "10s")?,
    };

    let requests = raw
        .smoke
        .unwrap_or_default()
        .requests
        .unwrap_or_default()
        .iter()
        .enumerate()
        // deploy (config_deploy.rs): the line form and the table form
        .map(|(i, r)| {
            crate::config_deploy::smoke_request(r)
                .map_err(|(k, m)| err(&format!("smoke.requests[{i}]{k}"), m))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let so = raw.soak.unwrap_or_default();
    let soak = SoakConfig {
        duration: duration("soak.duration", so.duration.as_ref(), "0s")?,
        access_log: so.access_log.as_deref().map(resolve),
        max_5xx_ratio: so.max_5xx_ratio.unwrap_or(0.01),
    };
    if !(0.0..=1.0).contains(&soak.max_5xx_ratio) {
        return Err(err("soak.max_5xx_ratio", "must be between 0 and 1".into()));
    }

    let d = raw.drain.unwrap_or_default();
    let token = match d.token_file.as_deref() {
        Some(f) => {
            let path = resolve(f);
            let t = std::fs::read_to_string(&path)
                .map_err(|e| err("drain.token_file", format!("{}: {e}", path.display())))?;
            Some(t.trim().to_string())
        }
        None => std::env::var("HEALTH_SIDECAR_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
    };
    let drain = DrainConfig {
        token,
        enabled: d.enabled.unwrap_or(true),
        old_workers_timeout: duration(
            "drain.old_workers_timeout",
            d.old_workers_timeout.as_ref(),
            "60s",
        )?,
        wait_drained: duration("drain.wait_drained", d.wait_drained.as_ref(), "60s")?,
    };

    let st = raw.state.unwrap_or_default();
    let state = StateConfig {
        journal: resolve(
            st.journal
                .as_deref()
                .unwrap_or("/var/lib/bgswitch/journal.jsonl"),
        ),
        lock: resolve(st.lock.as_deref().unwrap_or("/run/bgswitch.lock")),
    };

    // deploy (config_deploy.rs)
    let deploy = crate::config_deploy::deploy(raw.deploy, |k, v, d| {
        duration(k, v, d).map_err(|e| (e.key, e.message))
    })
    .map_err(|(k, m)| err(&k, m))?;

    Ok(Config {
        path: path.to_path_buf(),
        nginx,
        switch,
        pools,
        gate,
        verify,
        smoke: SmokeConfig { requests },
        soak,
        drain,
        state,
        deploy,
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = r#"
[nginx]
config = "sites/app.conf"
pid_file = ""
[switch]
kind = "map"
map = "$backend"
[pools.blue]
target = "app_blue"
health = ["http://127.0.0.1:9901/health"]
[pools.green]
target = "app_green"
expect = "g"
[verify]
url = "http://127.0.0.1/health"
header = "X-Pool"
[smoke]
requests = ["get /api/status 200"]
[gate]
timeout = "500ms"
"#;

    #[test]
    fn good_file_with_defaults() {
        let c = parse(GOOD, Path::new("/etc/bgswitch/bgswitch.toml")).unwrap();
        assert_eq!(c.nginx.config, Path::new("/etc/bgswitch/sites/app.conf"));
        assert_eq!(c.nginx.pid_file, None);
        assert_eq!(c.nginx.test_command, ["nginx", "-t"]);
        assert_eq!(c.gate.timeout, Duration::from_millis(500));
        assert_eq!(c.gate.interval, Duration::from_secs(1));
        assert_eq!(c.pools["blue"].expect, "blue");
        assert_eq!(c.pools["green"].expect, "g");
        assert_eq!(c.verify.consecutive, 3);
        assert_eq!(c.smoke.requests[0].method, "GET");
        assert!(c.drain.enabled);
    }

    #[test]
    fn pid_file_unset_is_no_proof_and_script_paths_are_relative_to_the_file() {
        let text = GOOD.replace("pid_file = \"\"\n", "").replace(
            "[switch]",
            "reload_command = [\"./reload.sh\", \"now\"]\ntest_command = [\"nginx\", \"-t\"]\n[switch]",
        );
        let c = parse(&text, Path::new("/etc/bgswitch/bgswitch.toml")).unwrap();
        assert_eq!(c.nginx.pid_file, None);
        assert_eq!(c.nginx.reload_command, ["/etc/bgswitch/./reload.sh", "now"]);
        assert_eq!(c.nginx.test_command, ["nginx", "-t"]);
        let c = parse(
            &GOOD.replace("pid_file = \"\"", "pid_file = \"run/nginx.pid\""),
            Path::new("/etc/bgswitch/bgswitch.toml"),
        )
        .unwrap();
        assert_eq!(
            c.nginx.pid_file.as_deref(),
            Some(Path::new("/etc/bgswitch/run/nginx.pid"))
        );
    }

    #[test]
    fn drain_token_file_is_read_and_a_missing_one_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
        let text = format!("{GOOD}\n[drain]\ntoken_file = \"token\"\n");
        let c = parse(&text, &dir.path().join("b.toml")).unwrap();
        assert_eq!(c.drain.token.as_deref(), Some("s3cret"));
        let e = parse(
            &text.replace("\"token\"", "\"nope\""),
            &dir.path().join("b.toml"),
        )
        .unwrap_err();
        assert_eq!(e.key, "drain.token_file");
    }

    fn error_of(text: &str) -> String {
        parse(text, Path::new("b.toml")).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            error_of(&GOOD.replace("timeout = \"500ms\"", "timeout = \"5x\"")),
            "b.toml: gate.timeout: invalid duration \"5x\": `5x`: unknown unit `x` (use ms, s, m or h) (write 500ms, 30s, 5m)"
        );
        assert!(error_of(&GOOD.replace("target = \"app_green\"", ""))
            .starts_with("b.toml: pools.green.target: missing"));
        assert!(error_of(&GOOD.replace("kind = \"map\"", "kind = \"flip\""))
            .starts_with("b.toml: switch.kind:"));
        assert!(error_of(&GOOD.replace("[gate]", "[gate]\nfoo = 1"))
            .starts_with("b.toml: gate.foo: unknown field `foo`"));
        // a value of the wrong type is named by its key, not a position
        assert!(
            error_of(&GOOD.replace("timeout = \"500ms\"", "timeout = 500"))
                .starts_with("b.toml: gate.timeout: invalid type: integer `500`"),
            "{}",
            error_of(&GOOD.replace("timeout = \"500ms\"", "timeout = 500"))
        );
        assert!(error_of("[nginx\n").starts_with("b.toml: line 1, column"));
        assert!(
            error_of(&GOOD.replace("\"get /api/status 200\"", "\"GET /x 2000\""))
                .starts_with("b.toml: smoke.requests[0]:")
        );
        // deploy (config_deploy.rs): the table form and the new keys
        assert!(error_of(&GOOD.replace(
            "\"get /api/status 200\"",
            "{ method = \"POST\", body = \"x\" }"
        ))
        .starts_with("b.toml: smoke.requests[0].path: missing"));
        assert!(
            error_of(&GOOD.replace("[pools.green]", "[pools.green]\nstart = []"))
                .starts_with("b.toml: pools.green.start: must be a non-empty list")
        );
        assert!(
            error_of(&format!("{GOOD}\n[deploy]\nstop_old = \"later\"\n"))
                .starts_with("b.toml: deploy.stop_old:")
        );
        assert!(error_of(&GOOD.replace(
            "health = [\"http://127.0.0.1:9901/health\"]",
            "health = [\"exec:\"]"
        ))
        .starts_with("b.toml: pools.blue.health:"));
        assert!(error_of(&GOOD.replace("config = \"sites/app.conf\"", ""))
            .starts_with("b.toml: nginx.config: missing"));
        assert!(error_of(&GOOD.replace("header = \"X-Pool\"", ""))
            .starts_with("b.toml: verify.header:"));
    }

    // [nginx] write and dump_command (issue 10)
    #[test]
    fn write_mode_and_dump_command() {
        let c = parse(GOOD, Path::new("/etc/bgswitch/bgswitch.toml")).unwrap();
        assert_eq!(c.nginx.write, WriteMode::Replace);
        assert_eq!(c.nginx.dump_command, None);
        let with =
            |extra: &str| GOOD.replace("pid_file = \"\"", &format!("pid_file = \"\"\n{extra}"));
        let c = parse(
            &with("write = \"in-place\"\ndump_command = [\"./dump.sh\"]"),
            Path::new("/etc/bgswitch/bgswitch.toml"),
        )
        .unwrap();
        assert_eq!(c.nginx.write, WriteMode::InPlace);
        assert_eq!(
            c.nginx.dump_command,
            Some(vec!["/etc/bgswitch/./dump.sh".to_string()])
        );
        let c = parse(&with("dump_command = []"), Path::new("b.toml")).unwrap();
        assert_eq!(c.nginx.dump_command, Some(vec![]));
        assert_eq!(
            error_of(&with("write = \"inplace\"")),
            "b.toml: nginx.write: \"inplace\" is not one of replace, in-place"
        );
        assert!(error_of(&with("dump_command = [\"\"]")).starts_with("b.toml: nginx.dump_command:"));
    }
}
