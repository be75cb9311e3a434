//! The drain: once nginx's old workers have exited (their in-flight
//! requests done), the old pool's sidecars are told to drain. The switch
//! stands whatever happens here.

use std::time::{Duration, Instant};

use crate::nginx;
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::requests::{sidecar_post, sidecar_status};
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
    match drain_pool(run, &old_pool) {
        (true, detail) => Ok(Ended::Done(Done::new(detail))),
        (false, detail) => Err(Failed::new(Cause::AfterSwitch, detail)),
    }
}

/// Waits for the old workers, then drains the old pool's sidecars.
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
            notes.push(format!(
                "{} old worker(s) still running after {:?}: draining anyway",
                left.len(),
                cfg.drain.old_workers_timeout
            ));
        }
    } else {
        notes.push("no pid_file: cannot wait for the old workers".into());
    }
    let urls = &cfg.pools[old_pool].health;
    for u in urls {
        match sidecar_post(cfg, u, "drain") {
            Ok((202 | 200, _)) => {}
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
    let wait = cfg.drain.wait_drained;
    if !wait.is_zero() && !urls.is_empty() {
        let deadline = Instant::now() + wait;
        loop {
            let pending: Vec<&str> = urls
                .iter()
                .filter(|u| sidecar_status(u, Duration::from_secs(1)) != "drained")
                .map(String::as_str)
                .collect();
            if pending.is_empty() {
                notes.push(format!("{} sidecar(s) of {old_pool} drained", urls.len()));
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
                "drain: {} sidecar(s) still draining",
                pending.len()
            ));
            std::thread::sleep(Duration::from_millis(100));
        }
    } else if !urls.is_empty() {
        notes.push(format!(
            "drain requested from {} sidecar(s) of {old_pool}",
            urls.len()
        ));
    }
    (ok, notes.join("; "))
}
