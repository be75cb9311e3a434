//! The proof through the load balancer: the target answers N times in a
//! row, nginx's old workers no longer accept connections (so every new
//! request reaches the target), and the smoke requests pass through it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::listeners;
use crate::nginx::{self, Generation};
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::requests::{self, pool_answering};
use crate::switch::undo::Cause;

/// Verifies the target through the load balancer, then waits (within the
/// same `[verify] timeout`) until no old worker holds a listening socket.
pub fn verify(run: &mut Run) -> StepResult {
    let t = Instant::now();
    let timeout = run.cfg.verify.timeout;
    let expect = run.cfg.pools[run.target()].expect.clone();
    let fail = |e: String| Failed::new(Cause::Verify, e);
    let (answered, handover_ms) = run.verify_within(&expect, timeout).map_err(fail)?;
    let (accepting, mut extra) = if run.record.reloaded() {
        let before = run.before.clone();
        run.old_workers_stop_accepting(before, t + timeout)
            .map_err(fail)?
    } else {
        // A flag switch: the same workers serve, and their next request
        // reads the new flag.
        ("no reload: no old workers".to_string(), json!({}))
    };
    extra["handover_ms"] = json!(handover_ms);
    let version = version_through_lb(run).map_err(fail)?;
    Ok(Ended::Done(
        Done::new(format!("{answered}; {accepting}{version}")).with(extra),
    ))
}

/// `deploy` with `[gate] version_field`: when the verify URL answers JSON
/// with that field, it must be the version deployed.
fn version_through_lb(run: &mut Run) -> Result<String, String> {
    let (Some(want), Some(field)) = (&run.opts.version, &run.cfg.gate.version_field) else {
        return Ok(String::new());
    };
    let Some(url) = requests::verify_url(run.cfg)? else {
        return Ok(String::new());
    };
    match requests::version_through(&url, &run.cfg.verify, field)? {
        Some(v) if v == *want => Ok(format!("; {url} reports {field} \"{v}\"")),
        Some(v) => Err(format!(
            "{url} reports {field} \"{v}\" through the load balancer, expected \"{want}\""
        )),
        None => {
            run.out.note(&format!(
                "{url} answers no JSON \"{field}\": the version is not checked through the load balancer"
            ));
            Ok(String::new())
        }
    }
}

/// The smoke requests again, through the load balancer.
pub fn smoke_lb(run: &mut Run) -> StepResult {
    if run.cfg.smoke.requests.is_empty() {
        return Ok(Ended::Skipped);
    }
    let fail = |e: String| Failed::new(Cause::Verify, e);
    if let Some(base) = requests::verify_url(run.cfg).map_err(fail)? {
        requests::smoke_at(run.cfg, &run.cfg.verify.client, &base).map_err(fail)?;
    }
    Ok(Ended::Done(Done::new(
        "smoke requests passed through the load balancer",
    )))
}

impl Run<'_> {
    /// `consecutive` answers in a row from the pool that must answer,
    /// within `timeout`. Also returns how long other answers kept coming
    /// (nginx's handover: its master lets the old workers accept for
    /// 100 ms after starting the new ones), in ms.
    pub fn verify_within(
        &mut self,
        expect: &str,
        timeout: Duration,
    ) -> Result<(String, u64), String> {
        let v = &self.cfg.verify;
        let Some(url) = requests::verify_url(self.cfg)? else {
            return Ok(("no [verify] url configured".into(), 0));
        };
        let started = Instant::now();
        let deadline = started + timeout;
        let mut handover = Duration::ZERO;
        let mut streak = 0;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match pool_answering(&url, v) {
                Ok(answer) => {
                    if answer.pool.as_deref() == Some(expect) && answer.status < 500 {
                        streak += 1;
                        if streak >= v.consecutive {
                            return Ok((
                                format!("{url} answered from {expect} {streak} times in a row"),
                                handover.as_millis() as u64,
                            ));
                        }
                        continue;
                    }
                    streak = 0;
                    handover = started.elapsed();
                    last = format!(
                        "status {}, pool {:?}",
                        answer.status,
                        answer.pool.unwrap_or_default()
                    );
                }
                Err(e) => {
                    streak = 0;
                    last = e;
                }
            }
            self.out
                .progress(&format!("verify: waiting for {expect} ({last})"));
            // Old workers accept until they see the master's quit signal
            // (about 100 ms): poll tightly through that handover, then back
            // off, not to churn connections through a load balancer under
            // load while a wrong pool keeps answering.
            let pause = if started.elapsed() < Duration::from_millis(300) {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(25)
            };
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        }
        Err(format!(
            "{url} did not answer from {expect} {} times in a row within {timeout:?} (last: {last})",
            v.consecutive
        ))
    }

    /// Waits until none of the workers from `before` a reload (the
    /// switch's, or the undo's) holds a listening socket (see
    /// [`crate::listeners`]): from then on every new connection reaches a
    /// new worker. Without a pid file, or when `/proc`
    /// does not let this user see the workers' sockets, says that the
    /// handover is judged by verify alone.
    pub(crate) fn old_workers_stop_accepting(
        &mut self,
        before: Option<Generation>,
        deadline: Instant,
    ) -> Result<(String, Value), String> {
        let Some(Generation { master, workers }) = before else {
            return Ok((
                "no pid_file: the handover is judged by verify alone".into(),
                json!({}),
            ));
        };
        let started = Instant::now();
        loop {
            let alive: Vec<u32> = match nginx::children_of(master) {
                Ok(children) => workers
                    .iter()
                    .copied()
                    .filter(|w| children.contains(w))
                    .collect(),
                Err(e) => {
                    return Ok((
                        format!("cannot read /proc ({e}): the handover is judged by verify alone"),
                        json!({}),
                    ))
                }
            };
            let listening = match listeners::still_listening(master, &alive) {
                Ok(l) => l,
                Err(e) => {
                    return Ok((
                        format!("cannot see the old workers' sockets ({e}): the handover is judged by verify alone"),
                        json!({}),
                    ))
                }
            };
            let waited = started.elapsed();
            if listening.is_empty() {
                return Ok((
                    format!(
                        "{} old worker(s) no longer accept connections (waited {} ms)",
                        workers.len(),
                        waited.as_millis()
                    ),
                    json!({ "old_workers_listening": 0, "old_workers_ms": waited.as_millis() as u64 }),
                ));
            }
            if Instant::now() >= deadline {
                let pids: Vec<String> = listening.iter().map(u32::to_string).collect();
                return Err(format!(
                    "old nginx worker(s) {} still hold listening sockets after {} ms: new connections may still reach the old pool",
                    pids.join(", "),
                    waited.as_millis()
                ));
            }
            self.out.progress(&format!(
                "verify: {} old worker(s) still accept connections",
                listening.len()
            ));
            std::thread::sleep(
                Duration::from_millis(2).min(deadline.saturating_duration_since(Instant::now())),
            );
        }
    }
}
