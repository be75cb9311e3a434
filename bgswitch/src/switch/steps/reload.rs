//! The reload and its proof: `nginx -s reload` exits 0 even when the
//! master keeps its old configuration, so the proof is new worker
//! processes under the master named by the pid file (without one, verify
//! alone decides).

use crate::nginx::Generation;
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::undo::{Cause, Change};

/// Reloads nginx and proves it took. Records the reload when nginx took
/// the new bytes, or may have (it took late, or there is no pid file to
/// tell): then an undo reloads the old bytes.
pub fn reload(run: &mut Run) -> StepResult {
    let before = run
        .nginx
        .generation()
        .map_err(|e| Failed::new(Cause::Reload, e))?;
    if let Err(e) = run.reload_and_prove(before.as_ref()) {
        let took_late = match (&before, run.nginx.generation()) {
            (Some(b), Ok(Some(now))) => now.workers.iter().any(|w| !b.workers.contains(w)),
            (None, _) => true,
            _ => false,
        };
        if took_late {
            run.record.push(Change::Reloaded);
        }
        return Err(Failed::new(Cause::Reload, e));
    }
    run.record.push(Change::Reloaded);
    let proof = match &before {
        Some(_) => "new worker processes started",
        None => "no pid_file: the reload is proven by [verify] alone",
    };
    run.before = before;
    Ok(Ended::Done(Done::new(proof)))
}

impl Run<'_> {
    /// Reloads and waits for workers that were not in `before` (no proof
    /// without a pid file).
    pub fn reload_and_prove(&self, before: Option<&Generation>) -> Result<(), String> {
        self.nginx.reload().map_err(|e| e.to_string())?;
        if let Some(before) = before {
            self.nginx.wait_new_generation(before)?;
        }
        Ok(())
    }
}
