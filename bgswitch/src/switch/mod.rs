//! The switch as a list of steps: lock, read (with the verify URL's
//! pre-flight), repair (an interrupted in-place write), gate, smoke, the
//! kind's mechanism (edit + nginx test + the check that nginx sees the
//! bytes, reload + proof; or, for `kind = "flag"`, the flag move),
//! verify, smoke-lb, soak, drain, journal; and `deploy` as another list
//! over the same runner: start before the gate (which then checks the
//! version too), stop after the drain.
//!
//! Each step is one function (in [`steps`]) that returns what it did or
//! why it failed and records the changes it makes; [`run_steps`] alone
//! reports steps; [`undo::decide`] alone decides what a failure undoes and
//! which exit code follows.

mod backup;
mod context;
mod dry_run;
pub(crate) mod requests;
mod steps;
pub mod undo;
mod writer;

pub use steps::repair::pending as pending_repairs;

use std::time::{Duration, Instant};

use serde_json::json;

use context::{Done, Ended, Failed, Run, StepResult};
use undo::Decision;

use crate::config::{Config, SwitchKind};
use crate::report::Reporter;

pub use requests::sidecar_status;

/// What the command asked for.
#[derive(Debug, Clone, Default)]
pub struct SwitchOptions {
    /// Target pool; default: the pool that is not live.
    pub to: Option<String>,
    pub dry_run: bool,
    pub no_drain: bool,
    /// Overrides `[soak] duration`.
    pub soak: Option<Duration>,
    /// Recorded in the journal: `switch`, `rollback` or `deploy`.
    pub command: String,
    /// `deploy VERSION` (or a `rollback` that starts the old pool again
    /// with the version the journal recorded): run the target's `start`
    /// with it, and gate and verify on it.
    pub version: Option<String>,
    /// `--no-stop`: leave the old pool running.
    pub no_stop: bool,
}

/// How a run ended: the result word of the last line and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: &'static str,
    pub code: u8,
    pub from: Option<String>,
    pub to: Option<String>,
    pub detail: String,
}

/// Exit codes of `switch` and `rollback` (DESIGN.md).
pub mod exit {
    pub const OK: u8 = 0;
    pub const GATE: u8 = 1;
    pub const CONFIG: u8 = 2;
    pub const NGINX_TEST: u8 = 3;
    pub const RELOAD_OR_VERIFY: u8 = 4;
    pub const SOAK: u8 = 5;
    pub const LOCKED: u8 = 6;
    pub const ROLLBACK_FAILED: u8 = 7;
    /// `deploy`: switched, but the old pool's `stop` failed.
    pub const STOP_FAILED: u8 = 8;
}

/// A step: its reported name and the function that does it.
pub(crate) type Step = (&'static str, fn(&mut Run<'_>) -> StepResult);

/// Before anything changes, for `switch`, `rollback` and `deploy` alike.
/// A name may repeat: the verify URL's pre-flight belongs to `read`.
const PREPARE: &[Step] = &[
    ("lock", steps::prepare::lock),
    ("read", steps::preflight::preflight),
    ("repair", steps::repair::repair),
    ("read", steps::prepare::read),
];

/// The target is ready.
const GATE: &[Step] = &[("gate", steps::gate::gate), ("smoke", steps::gate::smoke)];

/// After traffic moved: the proof, the soak, the drain.
const AFTER: &[Step] = &[
    ("verify", steps::verify::verify),
    ("smoke-lb", steps::verify::smoke_lb),
    ("soak", steps::soak::soak),
    ("drain", steps::drain::drain),
];

/// How the switch kind plans its change before the gate: the edit (`plan`
/// fails as `edit`; it is reported only when it fails) or the flag moves.
/// A dry run ends here.
pub(crate) fn plan_step(kind: SwitchKind) -> Step {
    match kind {
        SwitchKind::Flag => ("flag", steps::flag::plan),
        _ => ("edit", steps::prepare::plan),
    }
}

/// The switch mechanism: what moves traffic to the target. An edit of the
/// nginx file, its test and a reload; or, for `kind = "flag"`, one flag
/// file created or removed, nothing reloaded.
pub(crate) fn mechanism(kind: SwitchKind) -> &'static [Step] {
    match kind {
        SwitchKind::Flag => &[("flag", steps::flag::flag)],
        _ => &[
            ("edit", steps::edit::edit),
            ("reload", steps::reload::reload),
        ],
    }
}

/// The switch, in order: prepare, already live?, plan, gate, the
/// mechanism, after.
fn switch_steps(kind: SwitchKind) -> Vec<Step> {
    let mut steps = PREPARE.to_vec();
    steps.push(("read", steps::prepare::already_live));
    steps.push(plan_step(kind));
    steps.extend_from_slice(GATE);
    steps.extend_from_slice(mechanism(kind));
    steps.extend_from_slice(AFTER);
    steps
}

/// `deploy`: the switch with the target's `start` before the gate and the
/// old pool's `stop` after the drain. `start`'s check (no live target, the
/// commands can run) fails before anything runs; it is reported only when
/// it fails. It takes the place of `already_live`: a deploy never runs
/// against the live pool.
fn deploy_steps(kind: SwitchKind) -> Vec<Step> {
    let mut steps = PREPARE.to_vec();
    steps.push(("start", steps::start::check));
    steps.push(plan_step(kind));
    steps.push(("start", steps::start::start));
    steps.extend_from_slice(GATE);
    steps.extend_from_slice(mechanism(kind));
    steps.extend_from_slice(AFTER);
    steps.push(("stop", steps::stop::stop));
    steps
}

/// Runs a switch (or a rollback, which is a switch to the previous pool).
pub fn run(cfg: &Config, opts: &SwitchOptions, out: &mut Reporter) -> Outcome {
    let started = Instant::now();
    // said on every run that skips certificate checks
    for note in cfg.insecure_notes() {
        out.note(&note);
    }
    let mut run = Run::new(cfg, opts, out);
    let steps = if opts.version.is_some() {
        deploy_steps(cfg.switch.kind)
    } else {
        switch_steps(cfg.switch.kind)
    };
    let outcome = run_steps(&mut run, &steps);
    let took = started.elapsed();
    // The journal records every run that touched the nginx file (or a flag
    // file) and got
    // past its test (an aborted switch changed nothing), and every deploy
    // that ran a `start` (the pool it started changed).
    let file = run.record.file().map(ToOwned::to_owned);
    let journaled = match outcome.result {
        "switched" | "rolled_back" | "failed" => file.is_some(),
        _ => run.record.started().is_some(),
    };
    if journaled {
        let t = Instant::now();
        let file = file.unwrap_or_default();
        let journaled = steps::journal::journal(&run, &outcome, &file, took);
        report(&mut run, "journal", t, &journaled);
    }
    run.out.result(
        outcome.result,
        outcome.from.as_deref(),
        outcome.to.as_deref(),
        took,
        &outcome.detail,
    );
    outcome
}

/// Runs `steps` in order, reports each as it ends, and on a failure
/// carries out what [`undo::decide`] says.
fn run_steps(run: &mut Run, steps: &[Step]) -> Outcome {
    // A failed step the switch survives (a stop: exit 8) sets the code.
    let (mut kept_code, mut kept_detail) = (exit::OK, String::new());
    for &(name, step) in steps {
        let t = Instant::now();
        let failed = match step(run) {
            Ok(Ended::Done(done)) => {
                report(run, name, t, &Ok(done));
                continue;
            }
            Ok(Ended::Skipped) => continue,
            Ok(Ended::Finish { done, detail }) => {
                if let Some(done) = done {
                    report(run, name, t, &Ok(done));
                }
                return run.outcome("unchanged", exit::OK, detail);
            }
            Err(failed) => failed,
        };
        match undo::decide(failed.cause, &run.record, run.from.as_deref()) {
            Decision::Keep { code } => {
                if code > kept_code {
                    kept_code = code;
                    kept_detail = format!("{name} failed: {}", failed.detail);
                }
                report(run, name, t, &Err(failed));
            }
            Decision::Abort { code, undo } => {
                // Said in the failed step's own detail: nothing switched,
                // unless the undo itself failed (exit 7).
                let (restored, code, result) = match undo::restore(&undo, run) {
                    Ok(lines) => (lines, code, "aborted"),
                    Err(lines) => (lines, exit::ROLLBACK_FAILED, "failed"),
                };
                let mut failed = failed;
                for r in restored {
                    failed.detail = format!("{}; {r}", failed.detail);
                }
                let detail = failed.detail.clone();
                report(run, name, t, &Err(failed));
                return run.outcome(result, code, detail);
            }
            Decision::RollBack { code, undo } => {
                let detail = failed.detail.clone();
                report(run, name, t, &Err(failed));
                let t = Instant::now();
                return match undo::walk_back(&undo, run) {
                    Ok(done) => {
                        report(run, "rollback", t, &Ok(Done::new(done)));
                        run.outcome("rolled_back", code, detail)
                    }
                    Err(e) => {
                        run.out.step("rollback", false, t.elapsed(), &e, json!({}));
                        run.outcome("failed", exit::ROLLBACK_FAILED, e)
                    }
                };
            }
            Decision::CannotRollBack { code, message } => {
                report(run, name, t, &Err(failed));
                run.out
                    .step("rollback", false, Duration::ZERO, &message, json!({}));
                return run.outcome("failed", code, message);
            }
        }
    }
    run.outcome("switched", kept_code, kept_detail)
}

/// The one place a step is reported: a line, a JSON event, the end of
/// its progress line.
fn report(run: &mut Run, name: &str, started: Instant, result: &Result<Done, Failed>) {
    let took = started.elapsed();
    match result {
        Ok(d) => run.out.step(name, true, took, &d.detail, d.extra.clone()),
        Err(f) => run.out.step(name, false, took, &f.detail, f.extra.clone()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn names(steps: &[Step]) -> Vec<&'static str> {
        steps.iter().map(|(n, _)| *n).collect()
    }

    /// `deploy` is `switch` with `start` before the gate and `stop` after
    /// the drain, nothing else: a step added to one list (repair, the
    /// pre-flight) cannot be missing from the other.
    #[test]
    fn deploy_is_the_switch_plus_start_and_stop() {
        for kind in [SwitchKind::Map, SwitchKind::Flag] {
            let switch = names(&switch_steps(kind));
            let deploy = names(&deploy_steps(kind));
            let mut want = switch.clone();
            let plan = want.iter().position(|n| *n == plan_step(kind).0).unwrap();
            // already_live (a `read`) gives way to start's check
            want.remove(plan - 1);
            want.insert(plan - 1, "start");
            let gate = want.iter().position(|n| *n == "gate").unwrap();
            want.insert(gate, "start");
            want.push("stop");
            assert_eq!(deploy, want, "{kind:?}");
            assert!(deploy.contains(&"repair") && deploy[1] == "read");
        }
    }
}
