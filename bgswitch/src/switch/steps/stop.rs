//! `deploy`'s last step: the old pool's `stop`, per `[deploy] stop_old`,
//! only once it is drained and no old nginx worker still runs (one could
//! still hold a request to it). The switch stands whatever happens here;
//! a stop that fails (or cannot run yet) is exit 8.

use serde_json::json;

use crate::commands::Vars;
use crate::config::StopOld;
use crate::nginx;
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::steps::start::{run_pool_command, stop_command, PoolCommand};
use crate::switch::undo::Cause;

/// Stops the pool traffic left.
pub fn stop(run: &mut Run) -> StepResult {
    let Some(old) = run.from.clone() else {
        return Ok(Ended::Skipped);
    };
    if run.opts.version.is_none() || run.opts.command == "rollback" {
        return Ok(Ended::Skipped);
    }
    let left_running = |why: &str| Ok(Ended::Done(Done::new(format!("{why}: {old} left running"))));
    if run.opts.no_stop {
        return left_running("--no-stop");
    }
    if run.cfg.deploy.stop_old == StopOld::Never {
        return left_running("[deploy] stop_old = \"never\"");
    }
    let Some(argv) = stop_command(run) else {
        return left_running(&format!("pools.{old}.stop not set"));
    };
    let not_stopped = |why: String| {
        Err(Failed::new(
            Cause::Stopped,
            format!("{old} NOT stopped: {why}; traffic is on {}", run.target()),
        ))
    };
    if run.drained == Some(false) {
        return not_stopped("it did not drain (see drain)".into());
    }
    // The drain waited for the old workers already; without a drain this
    // is where they are waited for.
    if let Some(gen) = &run.before {
        let left = nginx::wait_exited(gen.master, &gen.workers, run.cfg.drain.old_workers_timeout);
        if !left.is_empty() {
            return not_stopped(format!(
                "{} old nginx worker(s) still running after {:?}",
                left.len(),
                run.cfg.drain.old_workers_timeout
            ));
        }
    }
    let version = run.opts.version.clone().unwrap_or_default();
    let target = run.target().to_string();
    let vars = Vars {
        pool: &old,
        version: &version,
        from: &old,
    };
    run.stopped = Some(old.clone());
    let PoolCommand {
        argv,
        shown,
        output,
        log,
        ran,
    } = run_pool_command(run, &argv, &vars);
    let extra = json!({ "command": argv, "log": log, "command_ms": ran.took.as_millis() as u64 });
    match ran.result {
        Ok(()) => Ok(Ended::Done(
            Done::new(format!("`{shown}` stopped {old}{output}")).with(extra),
        )),
        Err(e) => Err(Failed::new(
            Cause::Stopped,
            format!(
                "`{shown}` {e}{output}; output in {}; traffic is on {target} (version {version})",
                log.display()
            ),
        )
        .with(extra)),
    }
}
