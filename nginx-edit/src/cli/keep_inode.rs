//! `--in-place --keep-inode`: the edited files are written into their own
//! inodes (for a file bind-mounted on its own into a container) through
//! [`crate::write::write_in_place_guarded`], and a write that a killed run
//! left half done is repaired from its backup by the next run.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::includes::ConfigSet;
use crate::write::{backup_path, intent_path, repair, write_in_place_guarded, Repair};

use super::{Exit, Failure};

/// Suffix of the hidden backup used without `--backup` (removed after a
/// good write): `.app.conf.nginx-edit-backup` beside the file a symlink
/// leads to. The leading dot keeps it out of nginx's include globs.
const HIDDEN_BACKUP: &str = ".nginx-edit-backup";

/// Where the old bytes of `path` go, and whether they stay afterwards.
fn backup_for(path: &Path, suffix: Option<&str>) -> io::Result<(PathBuf, bool)> {
    match suffix {
        Some(suffix) => Ok((backup_path(path, suffix)?, true)),
        None => {
            let plain = backup_path(path, HIDDEN_BACKUP)?;
            let mut name = std::ffi::OsString::from(".");
            name.push(plain.file_name().unwrap_or_default());
            Ok((plain.with_file_name(name), false))
        }
    }
}

/// Before FILE is read: if a record says an in-place write of it was cut
/// short, put its old bytes back first (and say so on stderr), so the edit
/// starts from a whole file.
pub fn repair_before_load(file: &Path, suffix: Option<&str>) -> Result<(), Failure> {
    // A file that is not there is reported by the load that follows.
    let Ok((backup, keep)) = backup_for(file, suffix) else {
        return Ok(());
    };
    let record = intent_path(&backup);
    if !record.exists() {
        return Ok(());
    }
    let how = repair_one(file, &record)?;
    if !keep {
        let _ = std::fs::remove_file(&backup);
    }
    let _ = writeln!(
        io::stderr(),
        "nginx-edit: {}: an interrupted in-place write was found ({}); {how}",
        file.display(),
        record.display()
    );
    Ok(())
}

fn repair_one(file: &Path, record: &Path) -> Result<&'static str, Failure> {
    match repair(record) {
        Ok(Repair::Untouched) => Ok("the file still held its old bytes"),
        Ok(Repair::RestoredFromNew | Repair::RestoredFromPartial) => {
            Ok("its old bytes were put back from the backup")
        }
        Err(e) => Err(Failure::new(
            Exit::Usage,
            format!(
                "error: cannot repair the interrupted in-place write of {} ({}): {e}",
                file.display(),
                record.display()
            ),
        )),
    }
}

/// Writes every changed file of `set` into its own inode. Every file is
/// first opened for writing and checked for a left-over record, so a file
/// that cannot be written (read-only mount, permissions) fails with exit 2
/// before any file, backup or record changes.
pub fn write_all(set: &ConfigSet, suffix: Option<&str>) -> Result<(), Failure> {
    let mut plan = Vec::new();
    for f in set.changed() {
        let cannot = |e: io::Error| {
            Failure::new(
                Exit::Usage,
                format!("error: cannot write {}: {e}", f.path.display()),
            )
        };
        OpenOptions::new()
            .write(true)
            .open(&f.path)
            .map_err(cannot)?;
        let (backup, keep) = backup_for(&f.path, suffix).map_err(cannot)?;
        let record = intent_path(&backup);
        if record.exists() {
            // An included file whose last write was cut short: what was
            // read from it may be half a file, so repair and stop.
            let how = repair_one(&f.path, &record)?;
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "error: {}: an interrupted in-place write was found ({}); {how}; nothing else was changed, run the command again",
                    f.path.display(),
                    record.display()
                ),
            ));
        }
        plan.push((f, backup, keep));
    }
    for (f, backup, keep) in plan {
        write_in_place_guarded(&f.path, f.doc().as_bytes(), &backup).map_err(|e| {
            Failure::new(
                Exit::Usage,
                format!("error: cannot write {}: {e}", f.path.display()),
            )
        })?;
        if !keep {
            let _ = std::fs::remove_file(&backup);
        }
    }
    Ok(())
}
