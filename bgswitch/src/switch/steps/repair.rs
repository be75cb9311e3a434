//! At the start of a run, under the lock and before the live pool is read:
//! an in-place write that a killed run left unfinished (its record still
//! in `<journal dir>/backups`) is undone from its backup, so the file is
//! whole again before anything reads it.

use std::path::Path;

use nginx_edit::write::{find_intents, repair as repair_one, Intent, Repair};

use crate::config::Config;
use crate::switch::backup::backup_dir;
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::undo::Cause;

/// Repairs every interrupted in-place write; reported only when there was
/// one. A dry run changes nothing: it says what the next run will repair.
pub fn repair(run: &mut Run) -> StepResult {
    let dir = backup_dir(run.cfg);
    let records = find_intents(&dir)
        .map_err(|e| Failed::new(Cause::Config, format!("{}: {e}", dir.display())))?;
    if records.is_empty() {
        return Ok(Ended::Skipped);
    }
    let mut done = Vec::new();
    for record in &records {
        let intent = read_intent(record).map_err(|e| Failed::new(Cause::Config, e))?;
        let target = intent.target.display();
        if run.opts.dry_run {
            run.out.note(&pending_note(record, &intent));
            continue;
        }
        let what = repair_one(record).map_err(|e| {
            Failed::new(
                Cause::Config,
                format!(
                    "{target}: cannot repair the interrupted in-place write recorded in {}: {e}; nothing was changed (compare the file with {})",
                    record.display(),
                    intent.backup.display()
                ),
            )
        })?;
        done.push(match what {
            Repair::Untouched => format!(
                "{target}: a run was killed before its in-place write began; the file holds its old bytes"
            ),
            Repair::RestoredFromNew => format!(
                "{target}: a run was killed right after its in-place write, before checking it; the old bytes are back from {}",
                intent.backup.display()
            ),
            Repair::RestoredFromPartial => format!(
                "{target}: a run was killed in the middle of its in-place write; the old bytes are back from {}",
                intent.backup.display()
            ),
        });
    }
    if done.is_empty() {
        return Ok(Ended::Skipped);
    }
    Ok(Ended::Done(Done::new(done.join("; "))))
}

/// What a record of an unfinished in-place write means, said before
/// anything repairs it (a dry run, `status`).
fn pending_note(record: &Path, intent: &Intent) -> String {
    format!(
        "{}: a run was killed while writing it in place ({}); the next switch, deploy or rollback first puts back its old bytes from {} (its `repair` step)",
        intent.target.display(),
        record.display(),
        intent.backup.display()
    )
}

/// For `status`, which changes nothing: a note for each in-place write
/// left unfinished, and for a record or directory that cannot be read.
pub fn pending(cfg: &Config) -> Vec<String> {
    let dir = backup_dir(cfg);
    match find_intents(&dir) {
        Ok(records) => records
            .iter()
            .map(|r| match read_intent(r) {
                Ok(intent) => pending_note(r, &intent),
                Err(e) => format!(
                    "a record of an unfinished in-place write cannot be read: {e}; the next switch stops at its `repair` step"
                ),
            })
            .collect(),
        Err(e) => vec![format!(
            "{}: cannot look for unfinished in-place writes: {e}",
            dir.display()
        )],
    }
}

/// The record, or why it cannot be read, naming it (the library names it
/// only when the bytes are not a record).
fn read_intent(record: &Path) -> Result<Intent, String> {
    Intent::read(record).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => e.to_string(),
        _ => format!("{}: {e}", record.display()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_record_that_cannot_be_read_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join(".app.conf.1.intent");
        std::fs::create_dir(&record).unwrap();
        let e = read_intent(&record).unwrap_err();
        assert!(e.starts_with(&format!("{}: ", record.display())), "{e}");
        std::fs::remove_dir(&record).unwrap();
        std::fs::write(&record, "not json").unwrap();
        let e = read_intent(&record).unwrap_err();
        assert_eq!(e.matches(&*record.display().to_string()).count(), 1, "{e}");
    }
}
