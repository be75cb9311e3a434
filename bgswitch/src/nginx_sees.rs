//! Does the nginx that `test_command` tests see the bytes just written?
//!
//! A file bind-mounted on its own into a container (`-v
//! ./app.conf:/etc/nginx/conf.d/app.conf`) keeps the inode it was mounted
//! with: a rename on the host is never seen inside (moby/moby#15793), so
//! `nginx -t` passes on the old bytes and the reload loads them. The proof
//! is nginx's own dump of what it reads (`nginx -T`, run the way
//! `test_command` runs, e.g. through `docker exec`), searched for the
//! edited file. nginx may know the file under another path than the host
//! (`/etc/nginx/conf.d/app.conf` for `./nginx/app.conf`), so the search
//! is by content: the whole file, else the edited lines with their
//! neighbours.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The most of a dump read: a whole nginx configuration is far smaller.
const DUMP_LIMIT: u64 = 64 * 1024 * 1024;

/// Lines kept on each side of the edited lines when the whole file is
/// not found: enough to tell `default app_green;` of the map from a
/// `green app_green;` line beside it.
const CONTEXT_LINES: usize = 2;

/// One `# configuration file PATH:` section of an `nginx -T` dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section<'a> {
    /// The path as nginx knows it.
    pub path: String,
    pub body: &'a [u8],
}

/// What the dump showed of the edited file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The new bytes (or the edited lines as written), at this path.
    New { at: String },
    /// The old bytes (or the old lines) where the new ones should be.
    Old { at: String },
    /// Neither: nothing to conclude (another copy of the file, a template).
    NotFound,
}

/// The sections of a dump. nginx writes each file as
/// `# configuration file PATH:\n`, its bytes, and a line feed.
pub fn sections(dump: &[u8]) -> Vec<Section<'_>> {
    const HEAD: &[u8] = b"# configuration file ";
    // Start offsets of every header line.
    let mut heads = Vec::new();
    let mut at = 0;
    while at < dump.len() {
        let end = dump[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(dump.len(), |i| at + i);
        let line = &dump[at..end];
        if line.starts_with(HEAD) && line.ends_with(b":") {
            heads.push((at, end));
        }
        at = end + 1;
    }
    let mut out = Vec::new();
    for (i, &(start, end)) in heads.iter().enumerate() {
        let path = &dump[start + HEAD.len()..end - 1];
        let body_start = (end + 1).min(dump.len());
        let body_end = heads.get(i + 1).map_or(dump.len(), |&(s, _)| s);
        let mut body = &dump[body_start..body_end.max(body_start)];
        // the line feed nginx adds after each file
        if let Some(b) = body.strip_suffix(b"\n") {
            body = b;
        }
        out.push(Section {
            path: String::from_utf8_lossy(path).into_owned(),
            body,
        });
    }
    out
}

/// Looks for the file written at `host_path` (old bytes `old`, new bytes
/// `new`) in `dump`. The section nginx names with the host path is asked
/// first, then one with the same file name, then the others.
pub fn find(dump: &[u8], host_path: &Path, old: &[u8], new: &[u8]) -> Seen {
    let mut secs = sections(dump);
    let host = host_path.to_string_lossy();
    let name = host_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    secs.sort_by_key(|s| {
        if s.path == host {
            0
        } else if !name.is_empty() && Path::new(&s.path).file_name() == Some(name.as_ref()) {
            1
        } else {
            2
        }
    });
    let crlf: Vec<Vec<u8>> = secs.iter().map(|s| without_cr(s.body)).collect();
    for (s, plain) in secs.iter().zip(&crlf) {
        // A terminal (`docker compose exec` without -T) turns LF into CRLF.
        if s.body == new || (plain.as_slice() == without_cr(new).as_slice()) {
            return Seen::New { at: s.path.clone() };
        }
    }
    if old != new {
        for (s, plain) in secs.iter().zip(&crlf) {
            if s.body == old || (plain.as_slice() == without_cr(old).as_slice()) {
                return Seen::Old { at: s.path.clone() };
            }
        }
    }
    let Some((old_win, new_win)) = edited_region(old, new) else {
        return Seen::NotFound;
    };
    let (old_win, new_win) = (without_cr(old_win), without_cr(new_win));
    for (s, plain) in secs.iter().zip(&crlf) {
        let has_new = contains(plain, &new_win);
        let has_old = contains(plain, &old_win);
        match (has_new, has_old) {
            (true, false) => return Seen::New { at: s.path.clone() },
            (false, true) => return Seen::Old { at: s.path.clone() },
            _ => {}
        }
    }
    Seen::NotFound
}

/// The lines that differ between `old` and `new`, with [`CONTEXT_LINES`]
/// around them, in each; `None` when they do not differ.
pub fn edited_region<'a>(old: &'a [u8], new: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
    if old == new {
        return None;
    }
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    // Widen to whole lines, then by the context lines; the prefix and the
    // suffix are the same bytes in both.
    let start = back_lines(old, prefix, CONTEXT_LINES + 1);
    let old_end = forward_lines(old, old.len() - suffix, CONTEXT_LINES + 1);
    let new_end = forward_lines(new, new.len() - suffix, CONTEXT_LINES + 1);
    Some((&old[start..old_end], &new[start..new_end]))
}

/// The start of the line `lines - 1` lines before the one holding `at`.
fn back_lines(bytes: &[u8], at: usize, lines: usize) -> usize {
    let mut pos = at;
    for _ in 0..lines {
        match bytes[..pos].iter().rposition(|&b| b == b'\n') {
            Some(i) => pos = i,
            None => return 0,
        }
    }
    pos + 1
}

/// The end (after its line feed) of the line `lines - 1` lines after the
/// one holding `at`.
fn forward_lines(bytes: &[u8], at: usize, lines: usize) -> usize {
    let mut pos = at;
    for _ in 0..lines {
        match bytes[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => pos += i + 1,
            None => return bytes.len(),
        }
    }
    pos
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn without_cr(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// The dump command made from a test command: its last nginx flag group
/// with `t` (`-t`, `-qt`) gets `T` instead (`docker exec proxy nginx -t`
/// -> `... nginx -T`; the last, so `docker exec -t` keeps its own `-t`).
/// `None` when there is none (a wrapper script): say so and set
/// `[nginx] dump_command`.
pub fn dump_from_test(test: &[String]) -> Option<Vec<String>> {
    // nginx's flags that take no value and may be grouped (`-qt`).
    let groupable = |a: &str| {
        a.len() > 1
            && a.starts_with('-')
            && a[1..].chars().all(|c| "?hvVtTq".contains(c))
            && a.contains('t')
    };
    let i = test.iter().rposition(|a| groupable(a))?;
    let mut argv = test.to_vec();
    argv[i] = argv[i].replace('t', "T");
    Some(argv)
}

/// Runs the dump command, bounded by `timeout`; its standard output whole
/// (up to [`DUMP_LIMIT`]). Output goes to unlinked files, as for every
/// command bgswitch runs (a wrapper that leaves a process behind cannot
/// stall it).
pub fn run_dump(argv: &[String], timeout: Duration) -> Result<Vec<u8>, String> {
    use std::io::{Read, Seek, SeekFrom};
    let shown = argv.join(" ");
    let fail = |e: String| format!("`{shown}` {e}");
    let (mut out, mut err) = (
        crate::nginx::unlinked_file().map_err(|e| fail(e.to_string()))?,
        crate::nginx::unlinked_file().map_err(|e| fail(e.to_string()))?,
    );
    let program = argv.first().ok_or_else(|| fail("is empty".into()))?;
    let mut child = Command::new(program)
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| fail(e.to_string()))?)
        .stderr(err.try_clone().map_err(|e| fail(e.to_string()))?)
        .spawn()
        .map_err(|e| fail(format!("could not start: {e}")))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("did not finish within {timeout:?}")));
            }
            Err(e) => return Err(fail(format!("wait failed: {e}"))),
        }
    };
    let read = |f: &mut std::fs::File| {
        let mut bytes = Vec::new();
        let _ = f.seek(SeekFrom::Start(0));
        let _ = f.take(DUMP_LIMIT).read_to_end(&mut bytes);
        bytes
    };
    if !status.success() {
        let text = String::from_utf8_lossy(&read(&mut err)).trim().to_string();
        let tail: String = text.lines().rev().take(3).collect::<Vec<_>>().join("; ");
        return Err(fail(format!("failed ({status}): {tail}")));
    }
    Ok(read(&mut out))
}

#[cfg(test)]
#[path = "nginx_sees_tests.rs"]
mod tests;
