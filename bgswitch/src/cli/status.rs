//! `bgswitch status`: which pool nginx has live, which one answers through
//! the load balancer, and each pool's health and versions. Reads only.

use std::io::Write;
use std::time::Duration;

use serde_json::json;

use crate::config::Config;
use crate::pools::NginxFiles;
use crate::switch::exit;

/// Prints the live pool, what answers through the load balancer, and each
/// pool's servers, health and versions.
pub fn run(cfg: &Config, as_json: bool) -> u8 {
    // said on every run that skips certificate checks (JSON mode keeps
    // stdout one object)
    for note in cfg.insecure_notes() {
        if as_json {
            eprintln!("note: {note}");
        } else {
            println!("note: {note}");
        }
    }
    // An unfinished in-place write may be why the file does not parse:
    // said even when nothing else can be.
    let repairs = crate::switch::pending_repairs(cfg);
    let failed = |e: &dyn std::fmt::Display| {
        eprintln!("error: {e}");
        for note in &repairs {
            eprintln!("note: {note}");
        }
        exit::CONFIG
    };
    let files = match NginxFiles::load(cfg) {
        Ok(f) => f,
        Err(e) => return failed(&e),
    };
    let live = match files.live(cfg) {
        Ok(l) => l,
        Err(e) => return failed(&e),
    };
    // What status cannot see or what the next run will do first: said in
    // the text and in JSON `notes`, never dropped.
    let mut notes = files.notes.clone();
    notes.extend(repairs.iter().cloned());
    let deployed = match crate::state::read(&cfg.state.journal) {
        Ok(entries) => crate::state::known_versions(&entries),
        Err(e) => {
            notes.push(format!(
                "{}: the journal cannot be read ({e}): the pools' deployed_version is unknown",
                cfg.state.journal.display()
            ));
            Default::default()
        }
    };
    let field = cfg.gate.version_field.as_deref();
    let mut pools = serde_json::Map::new();
    for (name, pool) in &cfg.pools {
        let healths: Vec<_> = pool
            .health
            .iter()
            .map(|u| crate::health::probe(&cfg.gate.client, u, Duration::from_secs(2), field))
            .collect();
        let health: Vec<_> = healths
            .iter()
            .map(|h| {
                json!({
                    "url": h.entry,
                    "status": h.shown_status(),
                    "ready": h.ready,
                    "http": h.http,
                    "version": h.version,
                })
            })
            .collect();
        pools.insert(
            name.clone(),
            json!({
                "servers": files.pool_addresses(cfg, name),
                "health": health,
                "ready": !healths.is_empty() && healths.iter().all(|h| h.ready),
                "version": crate::health::pool_version(&healths),
                "deployed_version": deployed.get(name),
            }),
        );
    }
    let serving = serving_pool(cfg);
    let mut doc = json!({ "live": live, "serving": serving, "file": files.path(), "pools": pools });
    if !notes.is_empty() {
        doc["notes"] = json!(notes);
    }
    let mut out = std::io::stdout().lock();
    if as_json {
        let _ = writeln!(out, "{doc}");
    } else {
        let _ = writeln!(
            out,
            "live: {}  ({})",
            live.as_deref().unwrap_or("(none)"),
            files.path().display()
        );
        if let Some(s) = &serving {
            let _ = writeln!(out, "serving through the load balancer: {s}");
        }
        for note in &notes {
            let _ = writeln!(out, "note: {note}");
        }
        for (name, p) in &pools {
            let mark = if live.as_deref() == Some(name.as_str()) {
                "*"
            } else {
                " "
            };
            let servers: Vec<String> = p["servers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let version = |k: &str| p[k].as_str().unwrap_or("-").to_string();
            let _ = writeln!(
                out,
                "{mark} {name}: servers {}  version {} (last deployed: {})",
                servers.join(", "),
                version("version"),
                version("deployed_version")
            );
            for h in p["health"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "    {}  {}{}",
                    h["url"].as_str().unwrap_or(""),
                    h["status"].as_str().unwrap_or(""),
                    if h["ready"].as_bool() == Some(true) && h["status"] != "ready" {
                        " (ready)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    exit::OK
}

/// Which pool answers through `[verify] url` now (by its `expect`), if
/// one is configured and answers.
fn serving_pool(cfg: &Config) -> Option<String> {
    let url = crate::http::Url::parse(cfg.verify.url.as_deref()?).ok()?;
    let r = cfg
        .verify
        .client
        .request("GET", &url, &[], None, Duration::from_secs(2))
        .ok()?;
    let seen = match (&cfg.verify.header, &cfg.verify.json_field) {
        (Some(h), _) => r.header(h).map(str::to_string),
        (None, Some(f)) => r.json_field(f),
        (None, None) => None,
    }?;
    Some(
        cfg.pools
            .values()
            .find(|p| p.expect == seen)
            .map_or(seen, |p| p.name.clone()),
    )
}
