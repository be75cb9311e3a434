//! The running nginx: its test and reload commands, and the proof that a
//! reload took effect. `nginx -s reload` exits 0 even when the master then
//! keeps the old configuration (a `listen` port taken, say); the master
//! only starts new worker processes when it loaded the new one, so the
//! proof is a new set of workers under the master named by the pid file.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::NginxConfig;

/// A command that failed, with what it printed.
#[derive(Debug, Clone)]
pub struct CommandFailure {
    pub command: String,
    pub status: String,
    pub output: String,
}

impl std::fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` {}", self.command, self.status)?;
        let out = self.output.trim();
        if !out.is_empty() {
            write!(f, ": {out}")?;
        }
        Ok(())
    }
}

/// Most of a command's output kept for its error message.
const OUTPUT_KEPT: u64 = 16 * 1024;

/// Runs `argv`, bounded by `timeout`; returns its combined output.
///
/// The output goes to an unlinked temporary file, not a pipe: a wrapper
/// script that leaves a process behind holding its stdout, or a command
/// that prints more than a pipe holds, cannot stall the switch.
pub fn run_command(argv: &[String], timeout: Duration) -> Result<String, CommandFailure> {
    let command = argv.join(" ");
    let fail = |status: String, output: String| CommandFailure {
        command: command.clone(),
        status,
        output,
    };
    let mut out = unlinked_file().map_err(|e| {
        fail(
            format!("could not create a file for its output: {e}"),
            String::new(),
        )
    })?;
    let stdout = out
        .try_clone()
        .map_err(|e| fail(format!("could not start: {e}"), String::new()))?;
    let stderr = out
        .try_clone()
        .map_err(|e| fail(format!("could not start: {e}"), String::new()))?;
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| fail(format!("could not start: {e}"), String::new()))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(
                    format!("did not finish within {timeout:?}"),
                    String::new(),
                ));
            }
            Err(e) => return Err(fail(format!("wait failed: {e}"), String::new())),
        }
    }
    let status = child
        .wait()
        .map_err(|e| fail(format!("wait failed: {e}"), String::new()))?;
    let text = read_tail(&mut out);
    if status.success() {
        Ok(text)
    } else {
        Err(fail(format!("failed ({status})"), text))
    }
}

/// A new file in the temporary directory, already removed from it (it
/// lives as long as its handles).
pub(crate) fn unlinked_file() -> std::io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        ".bgswitch-output-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

/// The last [`OUTPUT_KEPT`] bytes written to `file`.
fn read_tail(file: &mut std::fs::File) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::new();
    if file
        .seek(SeekFrom::Start(len.saturating_sub(OUTPUT_KEPT)))
        .is_ok()
    {
        let _ = file.take(OUTPUT_KEPT).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod command_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn output_exit_status_and_bounds() {
        let t = Duration::from_secs(10);
        assert_eq!(
            run_command(&sh("echo out; echo err >&2"), t).unwrap(),
            "out\nerr\n"
        );
        let e = run_command(&sh("echo broken; exit 3"), t).unwrap_err();
        assert!(e.to_string().contains("broken"), "{e}");
        assert!(e.status.contains("exit status: 3"), "{}", e.status);
        // more output than a pipe holds, then an exit: no deadlock
        let big = run_command(
            &sh("head -c 1000000 /dev/zero | tr '\\0' x; echo; echo end"),
            t,
        )
        .unwrap();
        assert!(big.ends_with("end\n") && big.len() as u64 <= OUTPUT_KEPT);
        // a process left behind holding stdout does not hold the switch
        let started = Instant::now();
        run_command(&sh("sleep 5 & echo started"), t).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
        let e = run_command(&sh("sleep 5"), Duration::from_millis(200)).unwrap_err();
        assert!(e.status.contains("did not finish"), "{e}");
    }
}

/// The nginx being switched.
#[derive(Debug, Clone)]
pub struct Nginx {
    config: NginxConfig,
}

/// The master and its workers at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub master: u32,
    pub workers: Vec<u32>,
}

impl Nginx {
    pub fn new(config: NginxConfig) -> Self {
        Nginx { config }
    }

    /// Runs the test command (`nginx -t`).
    pub fn test(&self) -> Result<String, CommandFailure> {
        run_command(&self.config.test_command, Duration::from_secs(60))
    }

    /// Runs the reload command (`nginx -s reload`).
    pub fn reload(&self) -> Result<String, CommandFailure> {
        run_command(&self.config.reload_command, Duration::from_secs(60))
    }

    /// Whether a pid file is configured (else reloads cannot be proven
    /// from the process table and verify alone decides).
    pub fn can_prove(&self) -> bool {
        self.config.pid_file.is_some()
    }

    /// The master named by the pid file and its current children.
    pub fn generation(&self) -> Result<Option<Generation>, String> {
        let Some(pid_file) = &self.config.pid_file else {
            return Ok(None);
        };
        let master = read_pid(pid_file)?;
        let workers = children_of(master).map_err(|e| format!("reading /proc: {e}"))?;
        Ok(Some(Generation { master, workers }))
    }

    /// Waits until the master has workers that were not in `before`: the
    /// proof that it loaded a new configuration.
    pub fn wait_new_generation(&self, before: &Generation) -> Result<Generation, String> {
        let deadline = Instant::now() + self.config.reload_timeout;
        loop {
            let now = self.generation()?.ok_or("no pid file")?;
            if now.master != before.master {
                return Err(format!(
                    "the master changed (pid {} -> {}): nginx was restarted, not reloaded",
                    before.master, now.master
                ));
            }
            if now.workers.iter().any(|w| !before.workers.contains(w)) {
                return Ok(now);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no new worker processes under master {} within {:?}: nginx kept its old configuration (see its error log)",
                    before.master, self.config.reload_timeout
                ));
            }
            // nginx usually forks its new workers within milliseconds.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Waits until none of `pids` is a child of `master` any more (old workers
/// exit once their in-flight requests are done). Returns those still there.
pub fn wait_exited(master: u32, pids: &[u32], timeout: Duration) -> Vec<u32> {
    let deadline = Instant::now() + timeout;
    loop {
        let alive: Vec<u32> = match children_of(master) {
            Ok(children) => pids
                .iter()
                .copied()
                .filter(|p| children.contains(p))
                .collect(),
            Err(_) => Vec::new(),
        };
        if alive.is_empty() || Instant::now() >= deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pid in nginx's pid file; errors name the file and the key that set it.
fn read_pid(path: &Path) -> Result<u32, String> {
    let at = format!("nginx.pid_file {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{at}: {e}"))?;
    let pid: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("{at}: not a pid: {:?}", text.trim()))?;
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(format!("{at}: no process {pid} (is nginx running?)"));
    }
    Ok(pid)
}

/// Live (not zombie) children of `parent`, from `/proc/*/stat`.
pub fn children_of(parent: u32) -> std::io::Result<Vec<u32>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next().unwrap_or("");
        let ppid: u32 = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        if ppid == parent && state != "Z" {
            out.push(pid);
        }
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_report_status_and_output() {
        let ok = run_command(
            &["sh".into(), "-c".into(), "echo hi".into()],
            Duration::from_secs(5),
        );
        assert_eq!(ok.ok().as_deref(), Some("hi\n"));
        let e = run_command(
            &["sh".into(), "-c".into(), "echo bad >&2; exit 3".into()],
            Duration::from_secs(5),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("`sh -c echo bad >&2; exit 3` failed (exit status: 3): bad")
        );
        let slow = run_command(&["sleep".into(), "5".into()], Duration::from_millis(100));
        assert!(slow.is_err());
    }

    #[test]
    fn children_are_found() {
        let mut child = Command::new("sleep").arg("5").spawn().expect("spawn sleep");
        let me = std::process::id();
        let kids = children_of(me).expect("read /proc");
        assert!(kids.contains(&child.id()));
        let _ = child.kill();
        let _ = child.wait();
        assert!(!children_of(me).expect("read /proc").contains(&child.id()));
    }
}
