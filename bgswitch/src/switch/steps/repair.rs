//! At the start of a run, under the lock and before the live pool is read:
//! an in-place write that a killed run left unfinished (its record still
//! in `<journal dir>/backups`) is undone from its backup, so the file is
//! whole again before anything reads it.

use nginx_edit::write::{find_intents, repair as repair_one, Intent, Repair};

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
        let intent = Intent::read(record).map_err(|e| Failed::new(Cause::Config, e.to_string()))?;
        let target = intent.target.display();
        if run.opts.dry_run {
            run.out.note(&format!(
                "{target}: a run was killed while writing it in place ({}); the next switch puts back its old bytes from {}",
                record.display(),
                intent.backup.display()
            ));
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
