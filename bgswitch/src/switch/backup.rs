//! Writing the nginx file: the old bytes kept first in the state
//! directory (never next to the file, where an include glob could load
//! them), then the new bytes atomically.

use std::path::{Path, PathBuf};

use crate::config::Config;

/// Backups kept per site file in `<journal dir>/backups`.
const KEEP_BACKUPS: usize = 50;

/// Keeps `old` as a backup of `path` (best effort: a failure is returned
/// as a note), then writes `new` atomically. The backup comes first: a
/// run killed right after the edit still left one.
pub fn write_with_backup(
    cfg: &Config,
    path: &Path,
    old: &[u8],
    new: &[u8],
) -> Result<Option<String>, String> {
    let backup_dir = cfg
        .state
        .journal
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("backups");
    std::fs::create_dir_all(&backup_dir).map_err(|e| format!("{}: {e}", backup_dir.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let backup = backup_dir.join(format!("{name}.{stamp}"));
    let note = std::fs::write(&backup, old)
        .err()
        .map(|e| format!("could not keep a backup at {}: {e}", backup.display()));
    prune_backups(&backup_dir, &name, KEEP_BACKUPS);
    write(path, new).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(note)
}

/// Writes `bytes` to `path` atomically (a symlink stays a link).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    nginx_edit::write::write_atomic(path, bytes, None)
        .map(|_| ())
        .map_err(|e| e.to_string())
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
