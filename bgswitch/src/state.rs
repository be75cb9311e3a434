//! The lock that keeps two switches apart, and the journal of switches
//! (`history`, `rollback`). Neither decides which pool is live: the nginx
//! config does.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// An exclusive lock held for the life of the value.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub path: PathBuf,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another bgswitch run holds {0}")]
    Held(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
}

impl Lock {
    /// Takes the lock at `path` without waiting.
    pub fn try_acquire(path: &Path) -> Result<Lock, LockError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| LockError::Io(dir.to_path_buf(), e))?;
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| LockError::Io(path.to_path_buf(), e))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock {
                _file: file,
                path: path.to_path_buf(),
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Held(path.to_path_buf())),
            Err(std::fs::TryLockError::Error(e)) => Err(LockError::Io(path.to_path_buf(), e)),
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// RFC 3339 time the run ended.
    pub time: String,
    /// `switch` or `rollback`.
    pub command: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `switched`, `rolled_back`, `failed` ...
    pub result: String,
    pub ms: u64,
    /// The nginx file edited.
    pub file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// `deploy`: the version deployed to `to` (`rollback`: the version
    /// its `start` brought back). Absent in entries older than deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Each pool's version after this run, as far as the journal knows:
    /// carried over from the entry before, with `to` set to `version`
    /// when the run switched.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub versions: BTreeMap<String, String>,
    /// The pool whose `stop` this run ran (a later `rollback` to it runs
    /// its `start` first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The version the journal last deployed to each pool (from the newest
/// entry that says).
pub fn known_versions(entries: &[Entry]) -> BTreeMap<String, String> {
    entries
        .iter()
        .rev()
        .find(|e| !e.versions.is_empty())
        .map(|e| e.versions.clone())
        .unwrap_or_default()
}

/// Appends an entry (one JSON line, fsynced).
pub fn append(journal: &Path, entry: &Entry) -> io::Result<()> {
    if let Some(dir) = journal.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(journal)?;
    let mut line = serde_json::to_string(entry).map_err(io::Error::other)?;
    line.push('\n');
    // A torn last line (a crash mid-write) must not swallow this entry.
    if torn_end(&mut f)? {
        line.insert(0, '\n');
    }
    f.write_all(line.as_bytes())?;
    f.sync_all()
}

/// Whether the file's last byte is not a newline (and it is not empty).
fn torn_end(f: &mut File) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if f.metadata()?.len() == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Every entry, oldest first; a missing journal is empty. Lines that do
/// not parse (a torn last line after a crash) are skipped.
pub fn read(journal: &Path) -> io::Result<Vec<Entry>> {
    let f = match File::open(journal) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for line in io::BufReader::new(f).lines() {
        if let Ok(entry) = serde_json::from_str(&line?) {
            out.push(entry);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn second_lock_fails_fast_and_first_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/bgswitch.lock");
        let first = Lock::try_acquire(&path).unwrap();
        assert!(matches!(Lock::try_acquire(&path), Err(LockError::Held(_))));
        drop(first);
        assert!(Lock::try_acquire(&path).is_ok());
    }

    #[test]
    fn journal_round_trip_skips_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j/journal.jsonl");
        assert!(read(&path).unwrap().is_empty());
        let e = Entry {
            time: "2026-01-01T00:00:00Z".into(),
            command: "switch".into(),
            from: Some("blue".into()),
            to: Some("green".into()),
            result: "switched".into(),
            ms: 12,
            file: "/etc/nginx/app.conf".into(),
            detail: String::new(),
            version: None,
            versions: BTreeMap::new(),
            stopped: None,
        };
        append(&path, &e).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"time\": \"torn")
            .unwrap();
        assert_eq!(read(&path).unwrap(), vec![e.clone()]);
        // an entry written before deploy existed has no version fields;
        // a deploy's entry carries them and a reader without them skips them
        let old = r#"{"time":"t","command":"switch","from":"blue","to":"green","result":"switched","ms":1,"file":"f"}"#;
        let parsed: Entry = serde_json::from_str(old).unwrap();
        assert_eq!(parsed.version, None);
        assert!(parsed.versions.is_empty());
        assert_eq!(serde_json::to_string(&parsed).unwrap(), old);
        let mut d = e;
        d.command = "deploy".into();
        d.version = Some("v2".into());
        d.versions = [
            ("blue".to_string(), "v1".to_string()),
            ("green".into(), "v2".into()),
        ]
        .into();
        d.stopped = Some("blue".into());
        append(&path, &d).unwrap();
        let all = read(&path).unwrap();
        assert_eq!(all.last(), Some(&d));
        assert_eq!(known_versions(&all)["green"], "v2");
    }
}
