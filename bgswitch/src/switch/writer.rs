//! How the switch writes the nginx file, per `[nginx] write`; the edit and
//! every restore (an abort, a rollback) go through here, so they write
//! the same way.
//!
//! - `replace` (default): the old bytes to a backup, then the new ones by
//!   temporary file and rename (nginx-edit's `write_atomic`). The old inode
//!   is also kept as a hidden hard link beside the file for the run: a
//!   restore renames it back, so a container that holds the file
//!   bind-mounted on its own (which never sees a rename) holds the current
//!   file again, and `write = "in-place"` works on the next run.
//! - `in-place`: nginx-edit's guarded in-place write (backup, record of
//!   the write under way, same inode, record removed); a run killed in the
//!   middle is repaired by the next ([`super::steps::repair`]).

use std::fs;
use std::path::{Path, PathBuf};

use super::backup::{backup_dir, new_backup_path};
use crate::config::{Config, WriteMode};

/// Writes the nginx file for one run.
#[derive(Debug)]
pub struct Writer {
    mode: WriteMode,
    backups: PathBuf,
    /// `replace`: the inodes this run renamed away, kept as hard links.
    kept: Vec<KeptInode>,
}

impl Writer {
    pub fn new(cfg: &Config) -> Writer {
        Writer {
            mode: cfg.nginx.write,
            backups: backup_dir(cfg),
            kept: Vec::new(),
        }
    }

    /// Before anything changes: with `write = "in-place"` the file (a
    /// symlink's target) must open for writing; the error names the path
    /// and the OS error.
    pub fn check_writable(&self, path: &Path) -> Result<(), String> {
        if self.mode != WriteMode::InPlace {
            return Ok(());
        }
        match fs::OpenOptions::new().write(true).open(path) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!(
                "{}{}: cannot be opened for writing (nginx.write = \"in-place\"): {e}",
                path.display(),
                match fs::canonicalize(path) {
                    Ok(t) if t != path => format!(" (-> {})", t.display()),
                    _ => String::new(),
                }
            )),
        }
    }

    /// The edit: keeps `old` as a backup, then writes `new`. `Ok` may hold
    /// a note (a backup that could not be kept in `replace` mode, where it
    /// is best effort; in `in-place` mode it is required).
    pub fn write_new(
        &mut self,
        path: &Path,
        old: &[u8],
        new: &[u8],
    ) -> Result<Option<String>, String> {
        let writing = |e: std::io::Error| format!("writing {}: {e}", path.display());
        match self.mode {
            WriteMode::InPlace => {
                let backup = new_backup_path(&self.backups, path)?;
                nginx_edit::write::write_in_place_guarded(path, new, &backup).map_err(writing)?;
                Ok(None)
            }
            WriteMode::Replace => {
                let note = match new_backup_path(&self.backups, path) {
                    Ok(backup) => fs::write(&backup, old)
                        .err()
                        .map(|e| format!("could not keep a backup at {}: {e}", backup.display())),
                    Err(e) => Some(format!("could not keep a backup: {e}")),
                };
                self.keep_inode(path);
                nginx_edit::write::write_atomic(path, new, None).map_err(writing)?;
                Ok(note)
            }
        }
    }

    /// A restore: `bytes` back into `path`, the way the edit wrote.
    pub fn restore(&mut self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        match self.mode {
            WriteMode::InPlace => {
                // Its own backup (of the bytes it puts back) and record: a
                // kill in the middle of a restore is finished by the next run.
                let backup = new_backup_path(&self.backups, path)?;
                nginx_edit::write::restore_in_place_guarded(path, bytes, &backup)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            WriteMode::Replace => {
                if self.rename_back(path, bytes)? {
                    return Ok(());
                }
                nginx_edit::write::write_atomic(path, bytes, None)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Keeps the inode at `path` (through symlinks) as a hidden hard link
    /// beside it. Best effort: without it a restore writes a new inode.
    fn keep_inode(&mut self, path: &Path) {
        let Ok(target) = fs::canonicalize(path) else {
            return;
        };
        remove_stale_links(&target);
        let link = link_path(&target, std::process::id());
        let _ = fs::remove_file(&link);
        if fs::hard_link(&target, &link).is_ok() {
            self.kept.push(KeptInode { target, link });
        }
    }

    /// Renames the kept old inode of `path` back when it holds `bytes`;
    /// `Ok(false)` when there is none to use.
    fn rename_back(&mut self, path: &Path, bytes: &[u8]) -> Result<bool, String> {
        let Ok(target) = fs::canonicalize(path) else {
            return Ok(false);
        };
        let Some(i) = self.kept.iter().position(|k| k.target == target) else {
            return Ok(false);
        };
        if fs::read(&self.kept[i].link).ok().as_deref() != Some(bytes) {
            return Ok(false);
        }
        let kept = self.kept.remove(i);
        fs::rename(&kept.link, &kept.target).map_err(|e| e.to_string())?;
        if let Some(dir) = kept.target.parent() {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| e.to_string())?;
        }
        Ok(true)
    }
}

/// An old inode kept for the run as a hard link; removed when the run
/// ends (a killed run's links are removed by the next write).
#[derive(Debug)]
struct KeptInode {
    target: PathBuf,
    link: PathBuf,
}

impl Drop for KeptInode {
    fn drop(&mut self) {
        // After a rename back the link is gone: nothing to remove.
        if fs::symlink_metadata(&self.link).is_ok() {
            let _ = fs::remove_file(&self.link);
        }
    }
}

/// `.NAME.bgswitch-inode-PID` beside `target`: hidden and not ending in
/// `.conf`, so no usual include glob (`*.conf`, `*`) loads it.
fn link_path(target: &Path, pid: u32) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(".{name}.bgswitch-inode-{pid}"))
}

/// Removes the kept-inode links of runs that no longer run (killed).
fn remove_stale_links(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!(".{}.bgswitch-inode-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
