//! The steps that check the target pool before any traffic moves: every
//! health URL ready (a drained pool is undrained first), then the smoke
//! requests straight to its servers. A failure here changes nothing.

use std::time::Instant;

use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::requests::{self, sidecar_post, sidecar_status};
use crate::switch::undo::Cause;

/// Waits until every health URL of the target pool reports ready.
pub fn gate(run: &mut Run) -> StepResult {
    let t = Instant::now();
    let target = run.target().to_string();
    let cfg = run.cfg;
    let urls = &cfg.pools[&target].health;
    if urls.is_empty() {
        return Ok(Ended::Done(Done::new(format!(
            "pool {target} has no sidecars configured"
        ))));
    }
    let deadline = t + cfg.gate.timeout;
    let mut undrained: Vec<String> = Vec::new();
    loop {
        let statuses: Vec<(String, String)> = urls
            .iter()
            .map(|u| (u.clone(), sidecar_status(u, cfg.gate.interval)))
            .collect();
        // A pool drained by an earlier switch is brought back: it is the
        // one being made live (a rollback, a switch back).
        for (u, status) in &statuses {
            if matches!(status.as_str(), "draining" | "drained") && !undrained.contains(u) {
                let failed = match sidecar_post(cfg, u, "undrain") {
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
                undrained.push(u.clone());
            }
        }
        let ready = statuses.iter().filter(|(_, s)| s == "ready").count();
        if ready == urls.len() {
            return Ok(Ended::Done(Done::new(format!(
                "{ready}/{} sidecars of {target} ready",
                urls.len()
            ))));
        }
        if Instant::now() >= deadline {
            let not: Vec<String> = statuses
                .iter()
                .filter(|(_, s)| s != "ready")
                .map(|(u, s)| format!("{u}: {s}"))
                .collect();
            return Err(Failed::new(
                Cause::NotReady,
                format!(
                    "{ready}/{} sidecars of {target} ready after {:?}; nothing changed ({})",
                    urls.len(),
                    cfg.gate.timeout,
                    not.join("; ")
                ),
            ));
        }
        run.out.progress(&format!(
            "gate: {ready}/{} ready ({}s)",
            urls.len(),
            t.elapsed().as_secs()
        ));
        std::thread::sleep(
            cfg.gate
                .interval
                .min(deadline.saturating_duration_since(Instant::now())),
        );
    }
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
        requests::smoke_at(cfg, &base)
            .map_err(|e| Failed::new(Cause::NotReady, format!("{e}; nothing changed")))?;
    }
    Ok(Ended::Done(Done::new(format!(
        "smoke requests passed on {} server(s) of {target}",
        addresses.len()
    ))))
}
