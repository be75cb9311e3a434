//! Reading an nginx access log as it grows, for the soak step: how many
//! requests, how many answered 5xx.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// The new lines of a log since it was opened.
#[derive(Debug)]
pub struct LogTail {
    file: File,
    partial: Vec<u8>,
}

impl LogTail {
    /// Opens `path` at its current end.
    pub fn open(path: &Path) -> io::Result<LogTail> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::End(0))?;
        Ok(LogTail {
            file,
            partial: Vec::new(),
        })
    }

    /// Counts the complete lines added since the last call: (requests,
    /// 5xx answers).
    pub fn read_statuses(&mut self) -> io::Result<(u64, u64)> {
        let mut buf = Vec::new();
        self.file.read_to_end(&mut buf)?;
        self.partial.extend_from_slice(&buf);
        let Some(last_lf) = self.partial.iter().rposition(|&c| c == b'\n') else {
            return Ok((0, 0));
        };
        let complete: Vec<u8> = self.partial.drain(..=last_lf).collect();
        let (mut total, mut errors) = (0, 0);
        for line in complete.split(|&c| c == b'\n') {
            if let Some(status) = status_of(&String::from_utf8_lossy(line)) {
                total += 1;
                if status >= 500 {
                    errors += 1;
                }
            }
        }
        Ok((total, errors))
    }
}

/// The status of a `combined`-style line: the first field after the
/// quoted request; else the first three-digit field from 100 to 599.
pub fn status_of(line: &str) -> Option<u16> {
    let after_request = line.splitn(3, '"').nth(2);
    let from_combined = after_request
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s));
    from_combined.or_else(|| {
        line.split_whitespace()
            .filter(|f| f.len() == 3)
            .filter_map(|f| f.parse::<u16>().ok())
            .find(|s| (100..600).contains(s))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    #[test]
    fn statuses_from_combined_lines() {
        let line =
            r#"127.0.0.1 - - [23/Nov/2026:04:00:00 +0000] "GET /a HTTP/1.1" 502 157 "-" "curl/8""#;
        assert_eq!(status_of(line), Some(502));
        assert_eq!(status_of("garbage"), None);
    }

    #[test]
    fn tail_counts_only_new_complete_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        std::fs::write(&path, "x \"GET / HTTP/1.1\" 500 1\n").unwrap();
        let mut tail = LogTail::open(&path).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"a \"GET / HTTP/1.1\" 200 1\nb \"GET / HTTP/1.1\" 503 1\nc \"GET / HT")
            .unwrap();
        assert_eq!(tail.read_statuses().unwrap(), (2, 1));
        f.write_all(b"TP/1.1\" 200 1\n").unwrap();
        assert_eq!(tail.read_statuses().unwrap(), (1, 0));
    }
}
