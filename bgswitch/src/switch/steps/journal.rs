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
    // Each pool's version as far as the journal knows: the last entry's,
    // the old pool's as it reported it, the target's if it switched.
    let mut versions = state::read(&run.cfg.state.journal)
        .map(|e| state::known_versions(&e))
        .unwrap_or_default();
    if let (Some(from), Some(v)) = (&outcome.from, &run.from_version) {
        versions.insert(from.clone(), v.clone());
    }
    if let (Some(to), Some(v), "switched") = (&outcome.to, &run.opts.version, outcome.result) {
        versions.insert(to.clone(), v.clone());
    }
    let entry = state::Entry {
        version: run.opts.version.clone(),
        versions,
        stopped: run.stopped.clone(),
        time: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
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
