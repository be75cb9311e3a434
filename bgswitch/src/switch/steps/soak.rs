//! The soak: for a while after the switch, the access log's 5xx ratio and
//! the target's health decide whether it stays.

use std::time::{Duration, Instant};

use crate::soak::LogTail;
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::undo::Cause;

/// Watches the access log's 5xx ratio and the target's health URLs for
/// `--soak` (or `[soak] duration`); nothing to do when that is zero.
pub fn soak(run: &mut Run) -> StepResult {
    let duration = run.opts.soak.unwrap_or(run.cfg.soak.duration);
    if duration.is_zero() {
        return Ok(Ended::Skipped);
    }
    let target = run.target().to_string();
    watch(run, &target, duration).map_err(|e| Failed::new(Cause::Soak, e))?;
    Ok(Ended::Done(Done::new("no breach")))
}

fn watch(run: &mut Run, target: &str, duration: Duration) -> Result<(), String> {
    let cfg = run.cfg;
    let mut log = match &cfg.soak.access_log {
        Some(p) => {
            Some(LogTail::open(p).map_err(|e| format!("soak.access_log {}: {e}", p.display()))?)
        }
        None => None,
    };
    let max = cfg.soak.max_5xx_ratio;
    let breach = |errors: u64, total: u64| {
        let ratio = if total == 0 {
            0.0
        } else {
            errors as f64 / total as f64
        };
        (ratio > max).then(|| format!("5xx ratio {ratio:.3} over {total} requests exceeds {max}"))
    };
    let deadline = Instant::now() + duration;
    let (mut total, mut errors) = (0u64, 0u64);
    loop {
        if let Some(tail) = log.as_mut() {
            let (t, e) = tail
                .read_statuses()
                .map_err(|e| format!("reading the access log: {e}"))?;
            total += t;
            errors += e;
            if let (true, Some(b)) = (total >= 20, breach(errors, total)) {
                return Err(b);
            }
        }
        for url in &cfg.pools[target].health {
            let h = crate::health::probe(&cfg.gate.client, url, Duration::from_secs(1), None);
            if !h.ready {
                return Err(format!("{url}: {}", h.describe()));
            }
        }
        if Instant::now() >= deadline {
            return match (total > 0, breach(errors, total)) {
                (true, Some(b)) => Err(b),
                _ => Ok(()),
            };
        }
        run.out
            .progress(&format!("soak: {total} requests, {errors} 5xx"));
        std::thread::sleep(
            Duration::from_millis(250).min(deadline.saturating_duration_since(Instant::now())),
        );
    }
}
