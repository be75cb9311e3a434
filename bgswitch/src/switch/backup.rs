//! The backups of the nginx file: kept in the state directory (never next
//! to the file, where an include glob could load them), the newest few.

use std::path::{Path, PathBuf};

use crate::config::Config;

/// Backups kept per site file in `<journal dir>/backups`.
const KEEP_BACKUPS: usize = 50;

/// Where the backups live: `<journal dir>/backups` (created), never next
/// to the nginx file, where an include glob could load them.
pub fn backup_dir(cfg: &Config) -> PathBuf {
    cfg.state
        .journal
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("backups")
}

/// A new backup path for the file `path` in `dir` (created):
/// `NAME.MILLIS`, a later stamp when that one is taken, and the older
/// backups of the file pruned to the newest [`KEEP_BACKUPS`].
pub fn new_backup_path(dir: &Path, path: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    prune_backups(dir, &name, KEEP_BACKUPS);
    let mut stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    loop {
        let backup = dir.join(format!("{name}.{stamp}"));
        if !backup.exists() {
            return Ok(backup);
        }
        stamp += 1;
    }
}

/// Removes all but the newest `keep` backups of the file called `name`
/// (`NAME.MILLIS`). Best effort.
fn prune_backups(dir: &Path, name: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.");
    let mut stamped: Vec<(u128, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let stamp = file.strip_prefix(&prefix)?.parse().ok()?;
            Some((stamp, e.path()))
        })
        .collect();
    stamped.sort();
    let excess = stamped.len().saturating_sub(keep);
    for (_, path) in stamped.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}

/// How many lines the edit changes.
pub fn changed_lines(old: &[u8], new: &[u8]) -> usize {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    similar::TextDiff::from_lines(&*old, &*new)
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Insert)
        .count()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_newest_backups_of_a_file_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for stamp in [5u32, 1, 3, 2, 4] {
            std::fs::write(dir.path().join(format!("app.conf.{stamp}")), "x").unwrap();
        }
        std::fs::write(dir.path().join("other.conf.1"), "x").unwrap();
        std::fs::write(dir.path().join("app.conf.notes"), "x").unwrap();
        prune_backups(dir.path(), "app.conf", 2);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["app.conf.4", "app.conf.5", "app.conf.notes", "other.conf.1"]
        );
    }
}
