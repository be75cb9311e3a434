//! Shared harness for the end-to-end tests: find the real nginx, run
//! `nginx -t` on a config in a temporary prefix, read its verdict.
//!
//! Tests that need nginx call [`require_nginx`]: when nginx is missing it
//! panics under `CI=true` (a missing nginx is a failure in CI) and lets the
//! test return early elsewhere, saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod check;
pub mod deploy;
pub mod lab;
pub mod mutate;

/// The nginx binary: `$NGINX`, then `PATH`, then `/usr/sbin/nginx`.
pub fn nginx_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NGINX") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// The nginx binary, or `None` (with a note on stderr) outside CI.
///
/// # Panics
/// When nginx is missing and `CI` is `true`.
pub fn require_nginx() -> Option<PathBuf> {
    match nginx_binary() {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("nginx is required for this test in CI (apt-get install -y nginx)")
        }
        None => {
            eprintln!("nginx not found: skipping (set CI=true to make this a failure)");
            None
        }
    }
}

/// What `nginx -t` said of a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// The first `[emerg]` (or `[crit]`, `[alert]`) message, without its location, and the line.
    Error {
        message: String,
        line: usize,
    },
}

/// Runs `nginx -t` on `conf` written as `nginx.conf` in a fresh prefix.
///
/// # Panics
/// When nginx cannot be run at all.
pub fn nginx_test(nginx: &Path, conf: &[u8]) -> Verdict {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("nginx.conf");
    std::fs::create_dir_all(dir.path().join("logs")).expect("logs directory");
    std::fs::write(&path, conf).expect("write config");
    nginx_test_file(nginx, dir.path(), &path)
}

/// Runs `nginx -t` on an existing file with `prefix` as nginx's prefix.
///
/// # Panics
/// When nginx cannot be run at all.
pub fn nginx_test_file(nginx: &Path, prefix: &Path, conf: &Path) -> Verdict {
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-q")
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(conf)
        .args(["-e", "stderr"])
        .output()
        .expect("run nginx -t");
    if out.status.success() {
        return Verdict::Ok;
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let start = ["[emerg]", "[crit]", "[alert]"]
        .iter()
        // a shared memory zone nginx cannot set up is `[crit]`
        .find_map(|level| lines.iter().position(|l| l.contains(level)));
    // A handler can refuse without a word (`modern_browser x;`): nginx
    // says only that the test failed.
    let Some(start) = start else {
        assert!(stderr.contains("test failed"), "nginx -t failed: {stderr}");
        return Verdict::Error {
            message: String::new(),
            line: 0,
        };
    };
    // A message can span lines (a quote left open takes the newlines into
    // an argument): the record runs to the next `nginx: ` line.
    let more = lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("nginx: "))
        .count();
    parse_emerg(&lines[start..=start + more].join("\n"))
}

/// `nginx: [emerg] unexpected "}" in /tmp/x/nginx.conf:3` into its parts.
fn parse_emerg(line: &str) -> Verdict {
    let text = ["[emerg] ", "[crit] ", "[alert] "]
        .iter()
        .find_map(|m| line.split_once(m))
        .map_or(line, |(_, t)| t);
    // the file log format puts `PID#TID: ` before the message
    let text = match text.split_once(": ") {
        Some((pid, rest))
            if pid.contains('#') && pid.chars().all(|c| c.is_ascii_digit() || c == '#') =>
        {
            rest
        }
        _ => text,
    };
    // `MESSAGE in FILE:LINE`; some messages have no location at all.
    let located = text.rsplit_once(" in ").and_then(|(message, location)| {
        let (_, n) = location.rsplit_once(':')?;
        Some((message, n.trim().parse().ok()?))
    });
    match located {
        Some((message, line)) => Verdict::Error {
            message: message.to_string(),
            line,
        },
        None => Verdict::Error {
            message: text.trim().to_string(),
            line: 0,
        },
    }
}

/// What a lab runs: the real nginx and the workspace's binaries; `None`
/// when nginx is missing outside CI ([`require_nginx`]).
pub fn lab_binaries() -> Option<bgswitch::lab::LabBinaries> {
    let nginx = require_nginx()?;
    let (bgswitch, sidecar) = workspace_binaries();
    Some(bgswitch::lab::LabBinaries {
        nginx,
        sidecar,
        bgswitch,
    })
}

/// The workspace's `bgswitch` and `health-sidecar` binaries, built if
/// needed (the test binary lives in `target/<profile>/deps`).
///
/// # Panics
/// When they cannot be built.
pub fn workspace_binaries() -> (PathBuf, PathBuf) {
    static BUILD: std::sync::Once = std::sync::Once::new();
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .args(["build", "-q", "-p", "bgswitch", "-p", "health-sidecar"]);
        if profile_dir.ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(
            status.success(),
            "cargo build -p bgswitch -p health-sidecar failed"
        );
    });
    (
        profile_dir.join("bgswitch"),
        profile_dir.join("health-sidecar"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emerg_lines_are_split() {
        assert_eq!(
            parse_emerg("nginx: [emerg] unexpected \"}\" in /tmp/a b/nginx.conf:3"),
            Verdict::Error {
                message: "unexpected \"}\"".into(),
                line: 3
            }
        );
        assert_eq!(
            parse_emerg(
                "2026/11/23 03:48:41 [emerg] 5651#5651: unknown directive \"x\" in /t/n.conf:12"
            ),
            Verdict::Error {
                message: "unknown directive \"x\"".into(),
                line: 12
            }
        );
    }
}
