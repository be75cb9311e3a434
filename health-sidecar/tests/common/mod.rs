//! Helpers for tests that run the real binaries on 127.0.0.1: the sidecar,
//! the test app it supervises, a minimal HTTP/1.1 client, and bounded
//! waiting. Every wait has a deadline; none asserts on speed.
#![allow(clippy::unwrap_used, dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const SIDECAR: &str = env!("CARGO_BIN_EXE_health-sidecar");
pub const TESTAPP: &str = env!("CARGO_BIN_EXE_sidecar-testapp");

/// Longest any single wait in these tests may take before it fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The port helper of bgswitch's lab: one source file for both.
#[path = "../../../bgswitch/src/lab/ports.rs"]
mod ports;

/// A free loopback port outside the ephemeral range (see [`ports`]).
pub fn free_port() -> u16 {
    ports::free_loopback_port().unwrap()
}

/// Polls `cond` every 25 ms until it holds; panics naming `what` after
/// [`PATIENCE`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A response: status code, headers (lowercased names), body.
#[derive(Debug)]
pub struct Response {
    pub code: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends raw bytes and reads the response until the server closes (or
/// [`PATIENCE`] passes: a loaded machine may be slow to answer).
pub fn raw(port: u16, request: &[u8]) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(PATIENCE))?;
    s.write_all(request)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(Response {
        code,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
    })
}

pub fn request(port: u16, method: &str, path: &str, extra_headers: &str) -> Response {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n{extra_headers}\r\n"
    );
    raw(port, req.as_bytes()).unwrap_or_else(|e| panic!("{method} {path} on {port}: {e}"))
}

pub fn get(port: u16, path: &str) -> Response {
    request(port, "GET", path, "")
}

pub fn post(port: u16, path: &str) -> Response {
    request(port, "POST", path, "")
}

pub fn health(port: u16) -> serde_json::Value {
    get(port, "/health").json()
}

pub fn status(port: u16) -> String {
    health(port)["status"].as_str().unwrap_or("?").to_string()
}

pub fn wait_status(port: u16, want: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(r) = raw(
            port,
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ) {
            if let Ok(j) = serde_json::from_str::<serde_json::Value>(&r.body) {
                if j["status"] == want {
                    return j;
                }
                last = j;
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for status {want}; last /health: {last}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

/// A process's start time (`/proc/PID/stat` field 22), which tells it from
/// a later process with the same pid.
pub fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split_ascii_whitespace().nth(19).map(str::to_string)
}

pub fn alive(pid: u32) -> bool {
    // a zombie still has a /proc entry; look at its state
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, r)| !r.starts_with('Z')))
        .unwrap_or(false)
}

/// A running sidecar. Dropping it kills the sidecar and its app, so a
/// failed test leaves nothing behind.
pub struct Sidecar {
    pub child: Child,
    pub port: u16,
    pub stderr: PathBuf,
    _dir: tempfile::TempDir,
    /// The app's pid and its start time, so the drop kills that process
    /// and never another that got the pid later (pid_max can be 32768).
    app: Option<(u32, String)>,
}

impl Sidecar {
    /// Starts `health-sidecar --listen 127.0.0.1:PORT ARGS...` and waits
    /// until it answers HTTP.
    pub fn start(args: &[&str]) -> Sidecar {
        Self::start_with_env(args, &[])
    }

    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Sidecar {
        let mut s = Self::spawn_with_env(args, env);
        let port = s.port;
        let deadline = Instant::now() + PATIENCE;
        // a /health that parses: HTTP works, and it names the app's pid
        let pid = loop {
            let answer = raw(port, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
                .ok()
                .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok());
            if let Some(j) = answer {
                break j["process"]["pid"].as_u64().map(|p| p as u32);
            }
            if let Some(st) = s.child.try_wait().unwrap() {
                panic!(
                    "the sidecar exited ({st}) before answering:\n{}",
                    s.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the sidecar did not answer within {PATIENCE:?}:\n{}",
                s.stderr()
            );
            std::thread::sleep(Duration::from_millis(25));
        };
        s.app = pid.and_then(|p| start_time(p).map(|t| (p, t)));
        s
    }

    /// Starts the sidecar without waiting for it to answer (for a sidecar
    /// that may be gone before it would).
    pub fn spawn(args: &[&str]) -> Sidecar {
        Self::spawn_with_env(args, &[])
    }

    fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> Sidecar {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("stderr");
        let mut cmd = Command::new(SIDECAR);
        cmd.args(["--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .env_remove("HEALTH_SIDECAR_TOKEN")
            .env_remove("APP_VERSION")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        Sidecar {
            child,
            port,
            stderr,
            _dir: dir,
            app: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn app_pid(&mut self) -> u32 {
        if self.app.is_none() {
            let port = self.port;
            let mut pid = None;
            wait_until("the app's pid in /health", || {
                pid = health(port)["process"]["pid"].as_u64().map(|p| p as u32);
                pid.is_some()
            });
            self.app = pid.and_then(|p| start_time(p).map(|t| (p, t)));
        }
        self.app.as_ref().map(|a| a.0).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for the sidecar to exit, with a deadline.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "sidecar did not exit; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((pid, started)) = &self.app {
            if start_time(*pid).as_ref() == Some(started) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// The test app's command line, with a safety exit so nothing outlives a
/// crashed test for long.
pub fn testapp(port: u16, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        TESTAPP.to_string(),
        "--port".into(),
        port.to_string(),
        "--exit-after".into(),
        "120s".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Builds sidecar arguments probing the test app on `app_port` and
/// supervising it, plus `extra` sidecar flags.
pub fn supervising(app_port: u16, sidecar_flags: &[&str], app_flags: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "--probe".into(),
        format!("http://127.0.0.1:{app_port}/health"),
        "--app-port".into(),
        app_port.to_string(),
        "--probe-interval".into(),
        "100ms".into(),
    ];
    v.extend(sidecar_flags.iter().map(|s| s.to_string()));
    v.push("--".into());
    v.extend(testapp(app_port, app_flags));
    v
}

pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Opens a connection to the app and completes one request on it, so the
/// app has certainly accepted it; the connection stays open until dropped.
pub fn hold_connection(app_port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", app_port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    s
}
