//! The flag directory: checked before a switch (it exists, bgswitch can
//! write it, it survives a reboot), and the flag files created and removed
//! atomically (a temporary file renamed into place, the directory fsynced),
//! so nginx's per-request `-f` test sees the old flag or the new, never a
//! half-written one, and a crash keeps what was renamed.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Temporary files bgswitch writes in the flag directory start with this:
/// a run killed mid-write leaves one, the next run removes it.
pub const TEMP_PREFIX: &str = ".bgswitch-";

/// File systems a reboot empties.
const VOLATILE: &[&str] = &["tmpfs", "ramfs"];

/// Checks `dir` before a switch. `volatile_ok`: the user said a tmpfs
/// directory is meant (`[switch] flag_dir_volatile = true`).
pub fn check(dir: &Path, volatile_ok: bool) -> Result<(), String> {
    let key = "switch.flag_dir";
    let meta = fs::metadata(dir).map_err(|e| format!("{key} {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{key} {}: not a directory", dir.display()));
    }
    // Being root does not make a read-only mount writable: try it.
    let probe = dir.join(format!("{TEMP_PREFIX}probe.{}", std::process::id()));
    File::create(&probe).map_err(|e| format!("{key} {}: not writable: {e}", dir.display()))?;
    let _ = fs::remove_file(&probe);
    if !volatile_ok {
        if let Some(fs_type) = fs_type(dir).filter(|t| VOLATILE.contains(&t.as_str())) {
            return Err(format!(
                "{key} {} is on {fs_type}: a reboot empties it and nginx falls back to the selector's default pool without a word; put the flags on a disk (/var/lib/bgswitch/...) or set [switch] flag_dir_volatile = true if that is meant",
                dir.display()
            ));
        }
    }
    Ok(())
}

/// The type of the file system `dir` is on, from /proc/self/mountinfo
/// (the mount with the longest mount point that holds it).
pub fn fs_type(dir: &Path) -> Option<String> {
    let dir = fs::canonicalize(dir).ok()?;
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(mount), Some(sep)) = (fields.get(4), fields.iter().position(|f| *f == "-"))
        else {
            continue;
        };
        let mount = unescape(mount);
        let Some(fs_type) = fields.get(sep + 1) else {
            continue;
        };
        if dir.starts_with(&mount) && best.as_ref().is_none_or(|(n, _)| mount.len() >= *n) {
            best = Some((mount.len(), fs_type.to_string()));
        }
    }
    best.map(|(_, t)| t)
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let n = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(n);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Names in `dir` that are neither one of `known` (the selector's flag
/// files) nor bgswitch's own temporary files: reported, never deleted.
pub fn unknown(dir: &Path, known: &[&str]) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !known.contains(&n.as_str()) && !n.starts_with(TEMP_PREFIX))
        .collect();
    out.sort();
    out
}

/// Removes bgswitch's temporary files left by a run that was killed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

/// Creates (`present`) or removes the flag file `path`, atomically, and
/// fsyncs its directory. `note` is the file's content (who wrote it).
pub fn put(path: &Path, present: bool, note: &str) -> Result<(), String> {
    let dir = path
        .parent()
        .ok_or_else(|| format!("{}: no directory", path.display()))?;
    let shown = |e: std::io::Error| format!("{}: {e}", path.display());
    if present {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let tmp: PathBuf = dir.join(format!(
            "{TEMP_PREFIX}{}.{}.tmp",
            name.unwrap_or_default(),
            std::process::id()
        ));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(shown)?;
        f.write_all(note.as_bytes()).map_err(shown)?;
        f.sync_all().map_err(shown)?;
        drop(f);
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(shown(e));
        }
    } else {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(shown(e)),
        }
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("fsync {}: {e}", dir.display()))
}
