//! The user's commands that `deploy` runs: a pool's `start` and `stop`
//! (argv, no shell, from the config file's directory, `{pool}` and
//! `{version}` replaced, `BGSWITCH_*` in the environment, output to the
//! run's log) and `exec:` health probes (`sh -c`). Every command is
//! bounded: on timeout its whole process group is killed, so a start
//! script's children go with it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;

/// What a command is run for: the pool it acts on, the version, and the
/// pool traffic leaves (`BGSWITCH_POOL`, `BGSWITCH_VERSION`,
/// `BGSWITCH_FROM`; `{pool}` and `{version}` in the arguments).
#[derive(Debug, Clone)]
pub struct Vars<'a> {
    pub pool: &'a str,
    pub version: &'a str,
    pub from: &'a str,
}

/// `argv` with `{pool}` and `{version}` replaced in every argument. Each
/// argument stays one argument, whatever the version holds.
pub fn substitute(argv: &[String], vars: &Vars) -> Vec<String> {
    argv.iter()
        .map(|a| {
            a.replace("{pool}", vars.pool)
                .replace("{version}", vars.version)
        })
        .collect()
}

/// The program `argv[0]` names: a path (relative to `dir`, the config
/// file's directory) or a name on `PATH`; it must exist and be executable.
pub fn resolve_program(program: &str, dir: &Path) -> Result<PathBuf, String> {
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = if Path::new(program).is_absolute() {
            PathBuf::from(program)
        } else {
            dir.join(program)
        };
        return match p.metadata() {
            Err(e) => Err(format!("{}: {e}", p.display())),
            Ok(_) if !executable(&p) => Err(format!("{}: not an executable file", p.display())),
            Ok(_) => Ok(p),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| executable(p))
        .ok_or_else(|| format!("{program}: not found on PATH"))
}

/// How a bounded command ended.
#[derive(Debug, Clone)]
pub struct Ran {
    /// `Ok` on exit 0; else why (`exit status: 3`, `timed out after 1s:
    /// killed`, `could not start: ...`).
    pub result: Result<(), String>,
    /// The end of its output, shortened for a step's detail.
    pub tail: String,
    pub took: Duration,
}

/// Runs a pool's `start` or `stop`: `argv` already substituted, from
/// `dir`, output appended to `log`, bounded by `timeout`.
pub fn run_logged(argv: &[String], dir: &Path, vars: &Vars, timeout: Duration, log: &Path) -> Ran {
    let started = Instant::now();
    let fail = |e: String| Ran {
        result: Err(e),
        tail: String::new(),
        took: started.elapsed(),
    };
    let program = match resolve_program(&argv[0], dir) {
        Ok(p) => p,
        Err(e) => return fail(format!("could not start: {e}")),
    };
    let mut file = match open_log(log) {
        Ok(f) => f,
        Err(e) => return fail(format!("run log {}: {e}", log.display())),
    };
    let _ = writeln!(
        file,
        "$ {}    # pool={} version={} from={}",
        shell_words(argv),
        vars.pool,
        vars.version,
        vars.from
    );
    let offset = file.stream_position().unwrap_or(0);
    let (out, err) = match (file.try_clone(), file.try_clone()) {
        (Ok(o), Ok(e)) => (o, e),
        (Err(e), _) | (_, Err(e)) => return fail(format!("run log {}: {e}", log.display())),
    };
    let mut cmd = Command::new(&program);
    cmd.args(&argv[1..])
        .current_dir(dir)
        .env("BGSWITCH_POOL", vars.pool)
        .env("BGSWITCH_VERSION", vars.version)
        .env("BGSWITCH_FROM", vars.from)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let (result, took) = bounded(cmd, timeout);
    let result = result.and_then(exit_ok);
    if let Err(e) = &result {
        let _ = writeln!(file, "# {e}");
    }
    Ran {
        result,
        tail: tail_from(log, offset),
        took,
    }
}

/// Runs `sh -c COMMAND` (an `exec:` probe), bounded by `timeout`; its
/// output is dropped. `Ok` on exit 0.
pub fn run_probe(command: &str, timeout: Duration) -> Result<(), String> {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    bounded(cmd, timeout).0.and_then(exit_ok)
}

fn exit_ok(status: ExitStatus) -> Result<(), String> {
    if status.success() {
        Ok(())
    } else {
        Err(status.to_string())
    }
}

/// Spawns `cmd` as the leader of a new process group and waits at most
/// `timeout`; on timeout kills the whole group.
fn bounded(mut cmd: Command, timeout: Duration) -> (Result<ExitStatus, String>, Duration) {
    let started = Instant::now();
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (Err(format!("could not start: {e}")), started.elapsed()),
    };
    let deadline = started + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Ok(status), started.elapsed()),
            Ok(None) if Instant::now() < deadline => {
                let pause = if started.elapsed() < Duration::from_millis(100) {
                    Duration::from_millis(2)
                } else {
                    Duration::from_millis(20)
                };
                std::thread::sleep(pause);
            }
            Ok(None) => {
                kill_group(&mut child);
                return (
                    Err(format!(
                        "did not finish within {}: killed",
                        humantime::format_duration(timeout)
                    )),
                    started.elapsed(),
                );
            }
            Err(e) => return (Err(format!("wait failed: {e}")), started.elapsed()),
        }
    }
}

/// Kills the process group `child` leads (its children too), then reaps
/// it. `kill(1)` does the signalling: unsafe code is denied here.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

fn open_log(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
}

/// What the command wrote after `offset`: its last lines, at most about
/// 300 characters, on one line.
fn tail_from(path: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        if f.seek(SeekFrom::Start(offset)).is_ok() {
            let mut bytes = Vec::new();
            let _ = f.take(64 * 1024).read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    shorten(&text)
}

/// The last lines of `text` joined with ` | `, cut to about 300 chars.
pub fn shorten(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("# "))
        .collect();
    let joined = lines[lines.len().saturating_sub(3)..].join(" | ");
    let chars: Vec<char> = joined.chars().collect();
    if chars.len() > 300 {
        format!(
            "...{}",
            chars[chars.len() - 300..].iter().collect::<String>()
        )
    } else {
        joined
    }
}

/// argv as a user would type it (for the log and the dry run).
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%{}".contains(&b))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vars() -> Vars<'static> {
        Vars {
            pool: "green",
            version: "v 2 \"q\"",
            from: "blue",
        }
    }

    fn sv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn substitution_keeps_one_argument_each() {
        let v = substitute(&sv(&["./start", "app-{pool}", "--tag={version}"]), &vars());
        assert_eq!(v, ["./start", "app-green", "--tag=v 2 \"q\""]);
        assert_eq!(shell_words(&v), "./start app-green '--tag=v 2 \"q\"'");
    }

    #[test]
    fn programs_resolve_relative_to_the_dir_or_on_path() {
        let dir = tempfile::tempdir().unwrap();
        assert!(resolve_program("sh", dir.path()).is_ok());
        assert!(resolve_program("no-such-program-here", dir.path())
            .unwrap_err()
            .contains("not found on PATH"));
        std::fs::write(dir.path().join("s.sh"), "#!/bin/sh\n").unwrap();
        assert!(resolve_program("./s.sh", dir.path())
            .unwrap_err()
            .contains("not an executable"));
        std::fs::set_permissions(dir.path().join("s.sh"), PermissionsExt::from_mode(0o755))
            .unwrap();
        assert_eq!(
            resolve_program("./s.sh", dir.path()).unwrap(),
            dir.path().join("./s.sh")
        );
    }

    #[test]
    fn logged_commands_get_env_dir_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("runs/r.log");
        let script = sv(&[
            "sh",
            "-c",
            "echo \"$BGSWITCH_POOL|$BGSWITCH_VERSION|$BGSWITCH_FROM|$1|$(pwd)\"",
            "x",
            "{version}",
        ]);
        let argv = substitute(&script, &vars());
        let ran = run_logged(&argv, dir.path(), &vars(), Duration::from_secs(10), &log);
        assert!(ran.result.is_ok(), "{ran:?}");
        let pwd = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            ran.tail,
            format!("green|v 2 \"q\"|blue|v 2 \"q\"|{}", pwd.display())
        );
        let failed = run_logged(
            &sv(&["sh", "-c", "echo broken >&2; exit 3"]),
            dir.path(),
            &vars(),
            Duration::from_secs(10),
            &log,
        );
        assert_eq!(failed.result.unwrap_err(), "exit status: 3");
        assert_eq!(failed.tail, "broken");
        // a timeout kills the group: the script's child too
        let pid_file = dir.path().join("child.pid");
        let t = Instant::now();
        let slow = run_logged(
            &sv(&["sh", "-c", "sleep 30 & echo $! > child.pid; wait"]),
            dir.path(),
            &vars(),
            Duration::from_millis(300),
            &log,
        );
        assert!(slow.result.unwrap_err().contains("killed"));
        assert!(t.elapsed() < Duration::from_secs(20));
        let pid = std::fs::read_to_string(pid_file).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
        assert!(
            stat.is_err() || stat.unwrap().contains(") Z"),
            "the start script's child survived"
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("$ sh -c"), "{text}");
        assert!(text.contains("# exit status: 3"), "{text}");
    }

    #[test]
    fn probes_are_bounded() {
        assert!(run_probe("exit 0", Duration::from_secs(5)).is_ok());
        assert!(run_probe("exit 1", Duration::from_secs(5)).is_err());
        assert!(run_probe("sleep 10", Duration::from_millis(200))
            .unwrap_err()
            .contains("killed"));
    }
}
