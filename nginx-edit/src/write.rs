//! Atomic file replacement, the way a deploy step must write an nginx
//! config: a temporary file in the target's own directory, fsync, rename,
//! fsync of the directory. A reader (nginx, `nginx -t`, a crash) sees the
//! whole old file or the whole new one, never a mix.
//!
//! A symlink (`sites-enabled/app.conf -> ../sites-available/app.conf`) is
//! written through: the link's target is replaced and the link stays a
//! link, where `sed -i` would have replaced the link by a plain file.
//!
//! A rename gives the file a new inode, which a file bind-mounted on its
//! own into a container never sees (moby/moby#15793). [`in_place`] writes
//! into the same inode instead, made safe by a backup and a record of the
//! write under way.

pub mod in_place;

pub use in_place::{
    find_intents, intent_path, repair, restore_in_place_guarded, write_in_place,
    write_in_place_guarded, Fingerprint, Intent, Repair,
};

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Replaces the contents of `path` (or of the file its symlinks lead to)
/// with `bytes`, keeping the file's mode and owner. When `backup` is given,
/// the old contents are first written, the same way, to that path.
/// Returns the path of the file actually written.
pub fn write_atomic(path: &Path, bytes: &[u8], backup: Option<&Path>) -> io::Result<PathBuf> {
    let target = fs::canonicalize(path)?;
    let meta = fs::metadata(&target)?;
    if let Some(backup) = backup {
        let old = fs::read(&target)?;
        replace_file(backup, &old, &meta)?;
    }
    replace_file(&target, bytes, &meta)?;
    Ok(target)
}

/// The backup path for `path` with `suffix`: next to the file the link
/// leads to, so a backup never lands in a `sites-enabled/*` glob that
/// nginx includes.
pub fn backup_path(path: &Path, suffix: &str) -> io::Result<PathBuf> {
    let target = fs::canonicalize(path)?;
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    Ok(target.with_file_name(name))
}

/// Writes `bytes` to `target` by temporary file and rename, with `meta`'s
/// mode and owner (the file `target` replaces, or the one it backs up).
fn replace_file(target: &Path, bytes: &[u8], meta: &fs::Metadata) -> io::Result<()> {
    let dir = parent_dir(target);
    remove_stale_temps(&dir, target);
    let (tmp, mut file) = create_temp(&dir, target, meta.mode() & 0o7777)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        let own = file.metadata()?;
        if own.uid() != meta.uid() || own.gid() != meta.gid() {
            std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()))?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, target)?;
        // The rename is durable once the directory entry is.
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The directory `path` sits in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes a rename, create or unlink in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes temporary files for `target` left by writers that were killed
/// (`kill -9` between create and rename): `.NAME.nginx-edit-PID-N.tmp`
/// whose PID no longer runs. Best effort.
fn remove_stale_temps(dir: &Path, target: &Path) {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{name}.nginx-edit-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn create_temp(dir: &Path, target: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // A leading dot and no `.conf` ending keep the temporary file out
        // of the usual include globs (`*.conf`, `*`).
        let tmp = dir.join(format!(".{name}.nginx-edit-{}-{n}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode | 0o600)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writes_through_symlink_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        fs::write(&real, b"old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink("real.conf", &link).unwrap();
        let backup = backup_path(&link, ".bak").unwrap();
        let written = write_atomic(&link, b"new", Some(&backup)).unwrap();
        assert_eq!(written, fs::canonicalize(&real).unwrap());
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&link).unwrap(), b"new");
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o640);
        assert_eq!(fs::read(dir.path().join("real.conf.bak")).unwrap(), b"old");
        // no temporary file left behind
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn temporary_files_of_killed_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("app.conf");
        fs::write(&real, b"old").unwrap();
        // a pid above pid_max (2^22) never runs; our own is kept
        let dead = dir.path().join(".app.conf.nginx-edit-4194305-0.tmp");
        let live = dir
            .path()
            .join(format!(".app.conf.nginx-edit-{}-9.tmp", std::process::id()));
        let other = dir.path().join(".other.conf.nginx-edit-4194305-0.tmp");
        for p in [&dead, &other] {
            fs::write(p, b"half").unwrap();
        }
        fs::write(&live, b"half").unwrap();
        write_atomic(&real, b"new", None).unwrap();
        assert!(!dead.exists());
        assert!(other.exists(), "another file's temporaries are not ours");
        assert!(live.exists(), "a running writer's temporary is kept");
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn keeps_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("owned.conf");
        fs::write(&path, b"old").unwrap();
        // As root, hand the file to `nobody` first, as /etc/nginx files
        // often belong to another user than the one deploying.
        let nobody = 65534;
        let want = if std::os::unix::fs::chown(&path, Some(nobody), Some(nobody)).is_ok() {
            (nobody, nobody)
        } else {
            let m = fs::metadata(&path).unwrap();
            (m.uid(), m.gid())
        };
        write_atomic(&path, b"new", None).unwrap();
        let m = fs::metadata(&path).unwrap();
        assert_eq!((m.uid(), m.gid()), want);
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn missing_file_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(&dir.path().join("nope.conf"), b"x", None).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
