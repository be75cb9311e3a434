//! The journal: one line per switch that touched the nginx file, written
//! once the result is known, for `history` and `rollback`.

use std::path::Path;
use std::time::Duration;

use crate::state;
use crate::switch::context::{Done, Failed, Run};
use crate::switch::undo::Cause;
use crate::switch::Outcome;

/// Appends the run's entry. A journal that cannot be written is reported
/// and changes nothing else.
pub fn journal(run: &Run, outcome: &Outcome, file: &Path, took: Duration) -> Result<Done, Failed> {
    let entry = state::Entry {
        time: health_sidecar::timefmt::rfc3339(std::time::SystemTime::now()),
        command: if run.opts.command.is_empty() {
            "switch".into()
        } else {
            run.opts.command.clone()
        },
        from: outcome.from.clone(),
        to: outcome.to.clone(),
        result: outcome.result.to_string(),
        ms: took.as_millis() as u64,
        file: file.display().to_string(),
        detail: outcome.detail.clone(),
    };
    let journal = &run.cfg.state.journal;
    match state::append(journal, &entry) {
        Ok(()) => Ok(Done::new(journal.display().to_string())),
        Err(e) => Err(Failed::new(
            Cause::AfterSwitch,
            format!("{}: {e}", journal.display()),
        )),
    }
}
