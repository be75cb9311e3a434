//! The steps that check the target pool before any traffic moves: every
//! health URL ready (a drained pool is undrained first), then the smoke
//! requests straight to its servers. A failure here changes nothing.

use std::time::Instant;

use crate::health::{self, Health};
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::requests::{self, sidecar_post};
use crate::switch::undo::Cause;

/// Waits until every health entry of the target pool is ready (2xx, or
/// an `exec:` probe exiting 0) and, in a deploy with `[gate]
/// version_field`, every health URL reports the version being deployed.
pub fn gate(run: &mut Run) -> StepResult {
    let t = Instant::now();
    let target = run.target().to_string();
    let cfg = run.cfg;
    let urls = &cfg.pools[&target].health;
    if urls.is_empty() {
        return Ok(Ended::Done(Done::new(format!(
            "pool {target} has no health URLs configured"
        ))));
    }
    let field = cfg.gate.version_field.as_deref();
    let want = run.opts.version.as_deref().filter(|_| field.is_some());
    let deadline = t + cfg.gate.timeout;
    let mut undrained: Vec<String> = Vec::new();
    loop {
        let healths: Vec<Health> = urls
            .iter()
            .map(|u| health::probe(&cfg.gate.client, u, cfg.gate.interval, field))
            .collect();
        // A pool drained by an earlier switch is brought back: it is the
        // one being made live (a rollback, a switch back).
        for h in &healths {
            let Some(status) = h.status.as_deref() else {
                continue;
            };
            if matches!(status, "draining" | "drained") && !undrained.contains(&h.entry) {
                let failed = match sidecar_post(cfg, &h.entry, "undrain") {
                    Ok((200, url)) => {
                        run.out.note(&format!("{url}: was {status}, undrained"));
                        None
                    }
                    Ok((409, url)) => Some(format!(
                        "{url} answered 409: its app was stopped, the pool cannot serve again; nothing changed"
                    )),
                    Ok((code, url)) => Some(format!(
                        "{url} answered {code} (is [drain] token set?); nothing changed"
                    )),
                    Err(e) => Some(format!("{e}; nothing changed")),
                };
                if let Some(msg) = failed {
                    return Err(Failed::new(Cause::NotReady, msg));
                }
                undrained.push(h.entry.clone());
            }
        }
        let ready = healths.iter().filter(|h| h.ready).count();
        let wrong: Vec<String> = match (want, field) {
            (Some(want), Some(field)) => healths
                .iter()
                .filter(|h| h.ready && !h.is_exec() && h.version.as_deref() != Some(want))
                .map(|h| version_problem(h, field, want))
                .collect(),
            _ => Vec::new(),
        };
        let n = urls.len();
        if ready == n && wrong.is_empty() {
            let answers: Vec<String> = healths.iter().map(Health::describe).collect();
            let version = want
                .map(|v| format!(", reporting version {v}"))
                .unwrap_or_default();
            return Ok(Ended::Done(Done::new(format!(
                "{ready}/{n} health URLs of {target} ready{version}: {}",
                dedup(answers).join(", ")
            ))));
        }
        if Instant::now() >= deadline {
            let mut problems: Vec<String> = healths
                .iter()
                .filter(|h| !h.ready)
                .map(|h| format!("{}: {}", h.entry, h.describe()))
                .collect();
            problems.extend(wrong);
            let head = if ready < n {
                format!(
                    "{ready}/{n} health URLs of {target} ready after {:?}",
                    cfg.gate.timeout
                )
            } else {
                format!(
                    "{target} is ready but not on version {} after {:?}",
                    want.unwrap_or_default(),
                    cfg.gate.timeout
                )
            };
            return Err(Failed::new(
                Cause::NotReady,
                format!("{head}; nothing changed ({})", problems.join("; ")),
            ));
        }
        run.out.progress(&format!(
            "gate: {ready}/{n} ready ({}s)",
            t.elapsed().as_secs()
        ));
        std::thread::sleep(
            cfg.gate
                .interval
                .min(deadline.saturating_duration_since(Instant::now())),
        );
    }
}

/// Why a ready health URL does not pass the version check.
fn version_problem(h: &Health, field: &str, want: &str) -> String {
    match &h.version {
        None => format!(
            "{} answers {} without \"{field}\" ([gate] version_field): cannot tell which version runs",
            h.entry,
            h.describe()
        ),
        Some(v) => format!(
            "{} reports {field} \"{v}\", expected \"{want}\": start did not bring up {want}",
            h.entry
        ),
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|x| {
        let new = !seen.contains(x);
        if new {
            seen.push(x.clone());
        }
        new
    });
    v
}

/// The smoke requests, straight to each server of the target pool.
pub fn smoke(run: &mut Run) -> StepResult {
    let cfg = run.cfg;
    if cfg.smoke.requests.is_empty() {
        return Ok(Ended::Skipped);
    }
    let target = run.target().to_string();
    let addresses = run.files()?.pool_addresses(cfg, &target);
    if addresses.is_empty() {
        run.out.note(&format!(
            "smoke: no addresses known for pool {target}; checked through the load balancer only"
        ));
        return Ok(Ended::Skipped);
    }
    for a in &addresses {
        // A unix socket (or an address HTTP cannot reach) is smoked
        // through the load balancer only.
        let Some(base) = requests::server_url(a) else {
            run.out.note(&format!(
                "smoke: {a} is not reachable over TCP; checked through the load balancer only"
            ));
            continue;
        };
        // straight to an address: plain HTTP, no TLS keys
        requests::smoke_at(cfg, &crate::http::Client::default(), &base)
            .map_err(|e| Failed::new(Cause::NotReady, format!("{e}; nothing changed")))?;
    }
    Ok(Ended::Done(Done::new(format!(
        "smoke requests passed on {} server(s) of {target}",
        addresses.len()
    ))))
}
