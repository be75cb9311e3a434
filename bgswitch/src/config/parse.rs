//! From the file as written ([`super::raw`]) to the typed [`Config`], one
//! function per section; defaults are applied here.

use std::collections::BTreeMap;
use std::path::Path;

use super::raw::*;
use super::values::{line_col, Ctx};
use super::*;
use super::{deploy, flag};

/// Parses the text of a configuration file found at `path`.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let cx = Ctx::new(path);
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
    let de =
        toml::Deserializer::parse(text).map_err(|e| cx.err(&at(&e), e.message().to_string()))?;
    let raw: RawFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let key = if key.is_empty() || key == "." {
            at(&inner)
        } else {
            key
        };
        cx.err(&key, inner.message().to_string())
    })?;

    let nginx = nginx(&cx, raw.nginx.unwrap_or_default())?;
    let switch = switch(&cx, raw.switch.unwrap_or_default())?;
    let pools = pools(&cx, switch.kind, raw.pools.unwrap_or_default())?;
    let requests = raw
        .smoke
        .unwrap_or_default()
        .requests
        .unwrap_or_default()
        .iter()
        .enumerate()
        // the line form and the table form
        .map(|(i, r)| {
            deploy::smoke_request(r).map_err(|(k, m)| cx.err(&format!("smoke.requests[{i}]{k}"), m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Config {
        path: path.to_path_buf(),
        nginx,
        switch,
        pools,
        gate: gate(&cx, raw.gate.unwrap_or_default())?,
        verify: verify(&cx, raw.verify.unwrap_or_default())?,
        smoke: SmokeConfig { requests },
        soak: soak(&cx, raw.soak.unwrap_or_default())?,
        drain: drain(&cx, raw.drain.unwrap_or_default())?,
        state: state(&cx, raw.state.unwrap_or_default()),
        deploy: deploy::deploy(raw.deploy, |k, v, d| {
            cx.duration(k, v, d).map_err(|e| (e.key, e.message))
        })
        .map_err(|(k, m)| cx.err(&k, m))?,
    })
}

fn nginx(cx: &Ctx, n: RawNginx) -> Result<NginxConfig, ConfigError> {
    let config = n.config.as_deref().map(|p| cx.resolve(p)).ok_or_else(|| {
        cx.err(
            "nginx.config",
            "missing: the nginx file that holds the switch".into(),
        )
    })?;
    Ok(NginxConfig {
        config,
        main: n.main.as_deref().map(|p| cx.resolve(p)),
        test_command: cx.command("nginx.test_command", n.test_command, &["nginx", "-t"])?,
        reload_command: cx.command(
            "nginx.reload_command",
            n.reload_command,
            &["nginx", "-s", "reload"],
        )?,
        // Unset (or empty): nginx runs where its pid cannot be read (a
        // container); the proof then rests on [verify] alone.
        pid_file: match n.pid_file.as_deref() {
            None | Some("") => None,
            Some(p) => Some(cx.resolve(p)),
        },
        reload_timeout: cx.duration("nginx.reload_timeout", n.reload_timeout.as_ref(), "10s")?,
        // [nginx] write and dump_command (issue 10: nginx in a container)
        write: match n.write.as_deref() {
            None | Some("replace") => WriteMode::Replace,
            Some("in-place") => WriteMode::InPlace,
            Some(other) => {
                return Err(cx.err(
                    "nginx.write",
                    format!("\"{other}\" is not one of replace, in-place"),
                ))
            }
        },
        dump_command: match n.dump_command {
            None => None,
            Some(v) if v.is_empty() => Some(v),
            Some(v) => Some(cx.command("nginx.dump_command", Some(v), &[])?),
        },
    })
}

fn switch(cx: &Ctx, s: RawSwitch) -> Result<SwitchConfig, ConfigError> {
    let kind = match s.kind.as_deref() {
        Some("map") | None => SwitchKind::Map,
        Some("upstream") => SwitchKind::Upstream,
        Some("replace") => SwitchKind::Replace,
        Some("flag") => SwitchKind::Flag,
        Some(other) => {
            return Err(cx.err(
                "switch.kind",
                format!("\"{other}\" is not one of map, upstream, replace, flag"),
            ))
        }
    };
    let flag = flag::parse(kind, s.flag_dir.as_deref(), s.flag_dir_volatile, &|p| {
        cx.resolve(p)
    })
    .map_err(|(key, message)| cx.err(key, message))?;
    match kind {
        SwitchKind::Map | SwitchKind::Flag if s.map.is_none() => Err(cx.err(
            "switch.map",
            "missing: the map's result variable, e.g. \"$backend\"".into(),
        )),
        SwitchKind::Upstream | SwitchKind::Replace if s.upstream.is_none() => {
            Err(cx.err("switch.upstream", "missing: the upstream's name".into()))
        }
        _ => Ok(SwitchConfig {
            kind,
            map: s.map,
            upstream: s.upstream,
            flag,
        }),
    }
}

fn pools(
    cx: &Ctx,
    kind: SwitchKind,
    raw: BTreeMap<String, RawPool>,
) -> Result<BTreeMap<String, Pool>, ConfigError> {
    if raw.len() != 2 {
        return Err(cx.err(
            "pools",
            format!("need exactly two pools, found {}", raw.len()),
        ));
    }
    let mut pools = BTreeMap::new();
    for (name, p) in raw {
        let key = |k: &str| format!("pools.{name}.{k}");
        let pool = Pool {
            target: p.target,
            servers: p.servers.unwrap_or_default(),
            health: p.health.unwrap_or_default(),
            expect: p.expect.unwrap_or_else(|| name.clone()),
            name: name.clone(),
            // deploy (config/deploy.rs)
            start: deploy::argv(p.start).map_err(|m| cx.err(&key("start"), m))?,
            stop: deploy::argv(p.stop).map_err(|m| cx.err(&key("stop"), m))?,
        };
        match kind {
            SwitchKind::Map | SwitchKind::Flag
                if pool.target.as_deref().is_none_or(str::is_empty) =>
            {
                return Err(cx.err(
                    &key("target"),
                    "missing: the map default (flag: the selector's value) that means this pool is live".into(),
                ))
            }
            SwitchKind::Upstream | SwitchKind::Replace if pool.servers.is_empty() => {
                return Err(cx.err(
                    &key("servers"),
                    "missing: the pool's server addresses".into(),
                ))
            }
            _ => {}
        }
        // http(s) URLs and exec: probes
        for entry in &pool.health {
            deploy::health_entry(entry, |u| http::Url::parse(u).map(|_| ()))
                .map_err(|m| cx.err(&key("health"), m))?;
        }
        pools.insert(name, pool);
    }
    if kind == SwitchKind::Replace {
        let sizes: Vec<usize> = pools.values().map(|p| p.servers.len()).collect();
        if sizes[0] != sizes[1] {
            return Err(cx.err(
                "pools",
                "kind = \"replace\" swaps addresses one for one: both pools need as many servers"
                    .into(),
            ));
        }
    }
    Ok(pools)
}

fn gate(cx: &Ctx, g: RawGate) -> Result<GateConfig, ConfigError> {
    let transport = cx.transport("gate", g.connect_to, g.ca_file, g.insecure)?;
    let gate = GateConfig {
        timeout: cx.duration("gate.timeout", g.timeout.as_ref(), "60s")?,
        interval: cx.duration("gate.interval", g.interval.as_ref(), "1s")?,
        version_field: deploy::version_field(g.version_field)
            .map_err(|m| cx.err("gate.version_field", m))?,
        client: http::Client::new(&transport),
        transport,
    };
    if gate.interval.is_zero() {
        return Err(cx.err("gate.interval", "must be more than 0".into()));
    }
    Ok(gate)
}

fn verify(cx: &Ctx, v: RawVerify) -> Result<VerifyConfig, ConfigError> {
    if let Some(url) = &v.url {
        cx.url("verify.url", url)?;
        if v.header.is_none() && v.json_field.is_none() {
            return Err(cx.err(
                "verify.header",
                "set header or json_field: how verify tells which pool answered".into(),
            ));
        }
    }
    let consecutive = match v.consecutive {
        None => 3,
        Some(n) if (1..=1000).contains(&n) => n as u32,
        Some(n) => {
            return Err(cx.err(
                "verify.consecutive",
                format!("{n} is not between 1 and 1000"),
            ))
        }
    };
    let transport = cx.transport("verify", v.connect_to, v.ca_file, v.insecure)?;
    Ok(VerifyConfig {
        url: v.url,
        header: v.header,
        json_field: v.json_field,
        consecutive,
        timeout: cx.duration("verify.timeout", v.timeout.as_ref(), "10s")?,
        client: http::Client::new(&transport),
        transport,
    })
}

fn soak(cx: &Ctx, so: RawSoak) -> Result<SoakConfig, ConfigError> {
    let soak = SoakConfig {
        duration: cx.duration("soak.duration", so.duration.as_ref(), "0s")?,
        access_log: so.access_log.as_deref().map(|p| cx.resolve(p)),
        max_5xx_ratio: so.max_5xx_ratio.unwrap_or(0.01),
    };
    if !(0.0..=1.0).contains(&soak.max_5xx_ratio) {
        return Err(cx.err("soak.max_5xx_ratio", "must be between 0 and 1".into()));
    }
    Ok(soak)
}

fn drain(cx: &Ctx, d: RawDrain) -> Result<DrainConfig, ConfigError> {
    let token = match d.token_file.as_deref() {
        Some(f) => {
            let path = cx.resolve(f);
            let t = std::fs::read_to_string(&path)
                .map_err(|e| cx.err("drain.token_file", format!("{}: {e}", path.display())))?;
            Some(t.trim().to_string())
        }
        None => std::env::var("HEALTH_SIDECAR_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
    };
    Ok(DrainConfig {
        token,
        enabled: d.enabled.unwrap_or(true),
        old_workers_timeout: cx.duration(
            "drain.old_workers_timeout",
            d.old_workers_timeout.as_ref(),
            "60s",
        )?,
        wait_drained: cx.duration("drain.wait_drained", d.wait_drained.as_ref(), "60s")?,
    })
}

fn state(cx: &Ctx, st: RawState) -> StateConfig {
    StateConfig {
        journal: cx.resolve(
            st.journal
                .as_deref()
                .unwrap_or("/var/lib/bgswitch/journal.jsonl"),
        ),
        lock: cx.resolve(st.lock.as_deref().unwrap_or("/run/bgswitch.lock")),
    }
}
