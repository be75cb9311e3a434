//! Writes that keep the inode, for a file bind-mounted on its own into a
//! container (`-v ./nginx.conf:/etc/nginx/nginx.conf:ro`): the container
//! holds the inode, so a rename is never seen inside it (moby/moby#15793),
//! while a write into the same inode is.
//!
//! Such a write is not atomic: a reader or a kill in the middle sees a
//! truncated file. The pieces here make it recoverable, in this order:
//! 1. the old bytes go to a backup (written atomically, fsynced);
//! 2. an [`Intent`] record (target, backup, fingerprints of the old and new
//!    bytes) is written atomically next to the backup and fsynced;
//! 3. the target is truncated, written and fsynced ([`write_in_place`]);
//! 4. the record is removed ([`Intent::finish`]).
//!
//! A record still on disk means a write was under way when its writer
//! died; [`repair`] then puts the backup's bytes back into the same inode.
//! [`write_in_place_guarded`] does steps 1 to 4 in one call.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{parent_dir, replace_file, sync_dir};

/// Length and FNV-1a 64 hash of a file's bytes: enough to tell the old
/// bytes, the new bytes and anything else apart without storing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub len: u64,
    pub fnv1a64: u64,
}

impl Fingerprint {
    pub fn of(bytes: &[u8]) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Fingerprint {
            len: bytes.len() as u64,
            fnv1a64: h,
        }
    }
}

/// The record that an in-place write of `target` is under way: written
/// (atomically, fsynced) before the first byte of `target` changes and
/// removed once the new bytes are on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The file written (a symlink's final target, canonical).
    pub target: PathBuf,
    /// Where the old bytes are kept.
    pub backup: PathBuf,
    pub old: Fingerprint,
    pub new: Fingerprint,
    /// Where this record itself lives ([`intent_path`] of `backup`).
    #[serde(skip)]
    pub record: PathBuf,
}

/// The record's path for a backup: beside it, hidden and not ending in
/// `.conf`, so no usual include glob (`*.conf`, `*`) loads it:
/// `backups/app.conf.1700000000` -> `backups/.app.conf.1700000000.intent`.
pub fn intent_path(backup: &Path) -> PathBuf {
    let file = backup.file_name().unwrap_or_default();
    let hidden = file.as_encoded_bytes().starts_with(b".");
    let mut name = std::ffi::OsString::from(if hidden { "" } else { "." });
    name.push(file);
    name.push(".intent");
    backup.with_file_name(name)
}

impl Intent {
    /// Keeps the old bytes of `path` (through symlinks) at `backup` and
    /// writes the record that `new` is about to be written in place, both
    /// durably, before anything of `path` changes. Returns the record, with
    /// the old bytes for a caller that wants them.
    pub fn begin(path: &Path, new: &[u8], backup: &Path) -> io::Result<(Intent, Vec<u8>)> {
        let target = fs::canonicalize(path)?;
        let meta = fs::metadata(&target)?;
        let old = fs::read(&target)?;
        replace_file(backup, &old, &meta)?;
        let intent = Intent {
            target,
            backup: backup.to_path_buf(),
            old: Fingerprint::of(&old),
            new: Fingerprint::of(new),
            record: intent_path(backup),
        };
        let json = serde_json::to_vec_pretty(&intent).map_err(io::Error::other)?;
        replace_file(&intent.record, &json, &meta)?;
        Ok((intent, old))
    }

    /// Reads a record written by [`Intent::begin`].
    pub fn read(record: &Path) -> io::Result<Intent> {
        let bytes = fs::read(record)?;
        let mut intent: Intent = serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not an in-place write record: {e}", record.display()),
            )
        })?;
        intent.record = record.to_path_buf();
        Ok(intent)
    }

    /// Removes the record durably: the write it announced is complete (or
    /// was repaired). The backup stays; it is the caller's.
    pub fn finish(&self) -> io::Result<()> {
        match fs::remove_file(&self.record) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        sync_dir(&parent_dir(&self.record))
    }
}

/// Writes `bytes` into the existing file at `path` (through symlinks, to
/// the target's inode): truncate, write, fsync. Mode, owner and hard links
/// are untouched and nothing is created. Returns the path written.
///
/// Not atomic: a reader during the write, or a kill in the middle, sees a
/// truncated file. Use [`write_in_place_guarded`] (or [`Intent::begin`] /
/// [`Intent::finish`] around this) so that [`repair`] can undo a write
/// that did not finish. A file that cannot be opened for writing fails
/// before any byte changes.
pub fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let target = fs::canonicalize(path)?;
    let mut file = OpenOptions::new().write(true).open(&target)?;
    file.set_len(0)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(target)
}

/// The whole safe sequence: backup of the old bytes at `backup`, the
/// record, the in-place write, the record removed. After a kill at any
/// moment, `path` holds the complete old bytes, the complete new bytes, or
/// (record still on disk) something [`repair`] turns back into the old
/// bytes. A file that cannot be opened for writing fails before the backup
/// is made. When the write itself fails (a full disk), the old bytes are
/// put back at once; only if that fails too is the record left for
/// [`repair`].
pub fn write_in_place_guarded(path: &Path, bytes: &[u8], backup: &Path) -> io::Result<PathBuf> {
    drop(OpenOptions::new().write(true).open(path)?);
    let (intent, old) = Intent::begin(path, bytes, backup)?;
    match write_in_place(&intent.target, bytes) {
        Ok(target) => {
            intent.finish()?;
            Ok(target)
        }
        Err(e) => {
            if write_in_place(&intent.target, &old).is_ok() {
                let _ = intent.finish();
            }
            Err(e)
        }
    }
}

/// Puts `bytes` (a file's earlier version) back into `path` in place, so
/// that a kill in the middle is finished, not undone, by [`repair`]: the
/// backup at `backup` holds `bytes` and the record names them as the ones
/// to return to. (A restore that [`write_in_place_guarded`] did would be
/// repaired back to the version being undone.) A file that cannot be
/// opened for writing fails before anything is written.
pub fn restore_in_place_guarded(path: &Path, bytes: &[u8], backup: &Path) -> io::Result<PathBuf> {
    drop(OpenOptions::new().write(true).open(path)?);
    let target = fs::canonicalize(path)?;
    let meta = fs::metadata(&target)?;
    let now = fs::read(&target)?;
    replace_file(backup, bytes, &meta)?;
    let intent = Intent {
        target,
        backup: backup.to_path_buf(),
        old: Fingerprint::of(bytes),
        new: Fingerprint::of(&now),
        record: intent_path(backup),
    };
    let json = serde_json::to_vec_pretty(&intent).map_err(io::Error::other)?;
    replace_file(&intent.record, &json, &meta)?;
    let target = write_in_place(&intent.target, bytes)?;
    intent.finish()?;
    Ok(target)
}

/// What [`repair`] found in the target, and so what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// The target held its complete old bytes: only the record was removed.
    Untouched,
    /// The target held the complete new bytes but the write was never
    /// confirmed (killed before [`Intent::finish`]): the old bytes were put
    /// back, since the run that wrote them never finished its checks.
    RestoredFromNew,
    /// The target held neither (a truncated or partial write): the old
    /// bytes were put back.
    RestoredFromPartial,
}

/// Repairs the interrupted in-place write that the record at `record`
/// announces: unless the target already holds its old bytes, the backup's
/// bytes are written back into the same inode (fsynced); then the record is
/// removed. A backup that does not match the record's old fingerprint is an
/// error (`InvalidData`) and nothing is changed.
pub fn repair(record: &Path) -> io::Result<Repair> {
    let intent = Intent::read(record)?;
    let now = fs::read(&intent.target)?;
    let found = Fingerprint::of(&now);
    if found == intent.old {
        intent.finish()?;
        return Ok(Repair::Untouched);
    }
    let old = fs::read(&intent.backup)?;
    if Fingerprint::of(&old) != intent.old {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "backup {} does not hold the old bytes recorded in {}",
                intent.backup.display(),
                record.display()
            ),
        ));
    }
    write_in_place(&intent.target, &old)?;
    intent.finish()?;
    Ok(if found == intent.new {
        Repair::RestoredFromNew
    } else {
        Repair::RestoredFromPartial
    })
}

/// The records left in `dir` ([`intent_path`] names), sorted: the writes
/// that a killed run left unfinished. A missing `dir` has none.
pub fn find_intents(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".intent") {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
#[path = "in_place_tests.rs"]
mod tests;
