//! The drain: once nginx's old workers have exited (their in-flight
//! requests done), the old pool's health URLs that take a drain (a
//! health-sidecar, or an app with its own `POST /health/drain`: those
//! that answer JSON with a `status`) are told to drain. The switch stands
//! whatever happens here.

use std::time::{Duration, Instant};

use crate::health::{self, Health};
use crate::nginx;
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::requests::sidecar_post;
use crate::switch::undo::Cause;

/// Drains the pool traffic left (in a finished interrupted switch, the
/// file already named the target: the old pool is the other one).
pub fn drain(run: &mut Run) -> StepResult {
    if !run.cfg.drain.enabled || run.opts.no_drain {
        return Ok(Ended::Skipped);
    }
    let Some(old_pool) = run.from.clone() else {
        return Ok(Ended::Skipped);
    };
    let (ok, detail) = drain_pool(run, &old_pool);
    run.drained = Some(ok);
    if ok {
        Ok(Ended::Done(Done::new(detail)))
    } else {
        Err(Failed::new(Cause::AfterSwitch, detail))
    }
}

/// Whether a drained entry is done: `drained`, or (an app that exits
/// once drained, seed 004) no longer answering.
fn done_draining(h: &Health) -> bool {
    h.status.as_deref() == Some("drained") || (h.http.is_none() && h.error.is_some())
}

/// Waits for the old workers, then drains the old pool's health URLs
/// that take a drain.
fn drain_pool(run: &mut Run, old_pool: &str) -> (bool, String) {
    let cfg = run.cfg;
    let mut notes = Vec::new();
    let mut ok = true;
    if !run.record.reloaded() {
        // A flag switch: the verify step saw nginx send every request to
        // the target; the old pool's idle upstream keep-alive connections
        // close after the upstream's keepalive_timeout.
        notes.push("no reload: no old workers to wait for".into());
    } else if let Some(gen) = &run.before {
        let left = nginx::wait_exited(gen.master, &gen.workers, cfg.drain.old_workers_timeout);
        if left.is_empty() {
            notes.push(format!("{} old worker(s) exited", gen.workers.len()));
        } else {
            ok = false;
            notes.push(format!(
                "{} old worker(s) still running after {:?}: draining anyway",
                left.len(),
                cfg.drain.old_workers_timeout
            ));
        }
    } else {
        notes.push("no pid_file: cannot wait for the old workers".into());
    }
    let mut urls: Vec<String> = Vec::new();
    let mut skipped = 0;
    for u in &cfg.pools[old_pool].health {
        let h = health::probe(&cfg.gate.client, u, Duration::from_secs(2), None);
        if !h.takes_drain() {
            skipped += 1;
            continue;
        }
        match sidecar_post(cfg, u, "drain") {
            Ok((202 | 200, _)) => urls.push(u.clone()),
            Ok((status, url)) => {
                ok = false;
                notes.push(format!("{url} answered {status}"));
            }
            Err(e) => {
                ok = false;
                notes.push(e);
            }
        }
    }
    if skipped > 0 {
        notes.push(format!(
            "{skipped} health URL(s) of {old_pool} take no drain (no JSON status)"
        ));
    }
    let wait = cfg.drain.wait_drained;
    if !wait.is_zero() && !urls.is_empty() {
        let deadline = Instant::now() + wait;
        loop {
            let pending: Vec<&str> = urls
                .iter()
                .filter(|u| {
                    !done_draining(&health::probe(
                        &cfg.gate.client,
                        u,
                        Duration::from_secs(1),
                        None,
                    ))
                })
                .map(String::as_str)
                .collect();
            if pending.is_empty() {
                notes.push(format!(
                    "{} health URL(s) of {old_pool} drained",
                    urls.len()
                ));
                break;
            }
            if Instant::now() >= deadline {
                ok = false;
                notes.push(format!(
                    "not drained within {wait:?}: {}",
                    pending.join(", ")
                ));
                break;
            }
            run.out.progress(&format!(
                "drain: {} health URL(s) still draining",
                pending.len()
            ));
            std::thread::sleep(Duration::from_millis(100));
        }
    } else if !urls.is_empty() {
        notes.push(format!(
            "drain requested from {} health URL(s) of {old_pool}",
            urls.len()
        ));
    }
    (ok, notes.join("; "))
}
