//! The app probe: `http://HOST:PORT/PATH`, `tcp://HOST:PORT` or `exec:COMMAND`.
//!
//! Every probe is bounded by a timeout: an app that does not answer is a
//! failed probe, never a stuck sidecar. The HTTP probe is a few lines of
//! HTTP/1.1 over a `TcpStream` because a full client would cost more memory
//! than the rest of the daemon.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to probe, as given to `--probe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeSpec {
    /// Ready on a 2xx or 3xx status.
    Http {
        host: String,
        port: u16,
        path: String,
    },
    /// Ready when a TCP connection is accepted.
    Tcp { host: String, port: u16 },
    /// Ready when `sh -c COMMAND` exits 0.
    Exec { command: String },
}

/// Why a `--probe` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeSpecError {
    #[error("`{0}`: expected http://HOST:PORT/PATH, tcp://HOST:PORT or exec:COMMAND")]
    Scheme(String),
    #[error("`{0}`: https is not supported; probe the app's plain HTTP port, or use exec:")]
    Https(String),
    #[error("`{0}`: missing host")]
    Host(String),
    #[error("`{0}`: bad or missing port (1-65535)")]
    Port(String),
    #[error("exec: needs a command, e.g. exec:/app/healthcheck")]
    EmptyCommand,
}

impl ProbeSpec {
    /// Parses a `--probe` value. Used as clap's value parser, so errors end
    /// up as `invalid value '...' for '--probe <PROBE>': ...`.
    pub fn parse(s: &str) -> Result<Self, ProbeSpecError> {
        if let Some(cmd) = s.strip_prefix("exec:") {
            if cmd.trim().is_empty() {
                return Err(ProbeSpecError::EmptyCommand);
            }
            return Ok(ProbeSpec::Exec {
                command: cmd.to_string(),
            });
        }
        if s.starts_with("https://") {
            return Err(ProbeSpecError::Https(s.to_string()));
        }
        if let Some(rest) = s.strip_prefix("http://") {
            let (authority, path) = match rest.find(['/', '?']) {
                Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
                Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
                None => (rest, "/".to_string()),
            };
            let (host, port) = split_host_port(s, authority, Some(80))?;
            return Ok(ProbeSpec::Http { host, port, path });
        }
        if let Some(rest) = s.strip_prefix("tcp://") {
            let authority = rest.trim_end_matches('/');
            let (host, port) = split_host_port(s, authority, None)?;
            return Ok(ProbeSpec::Tcp { host, port });
        }
        Err(ProbeSpecError::Scheme(s.to_string()))
    }

    /// `http`, `tcp` or `exec`, as reported in `/health`'s `probe.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeSpec::Http { .. } => "http",
            ProbeSpec::Tcp { .. } => "tcp",
            ProbeSpec::Exec { .. } => "exec",
        }
    }

    /// The probe target in the spelling the user gave.
    pub fn target(&self) -> String {
        match self {
            ProbeSpec::Http { host, port, path } => {
                format!("http://{}:{port}{path}", bracket(host))
            }
            ProbeSpec::Tcp { host, port } => format!("tcp://{}:{port}", bracket(host)),
            ProbeSpec::Exec { command } => format!("exec:{command}"),
        }
    }

    /// Runs the probe once, bounded by `timeout`. `Err` carries a short
    /// human reason that `/health` shows as `probe.last_error`.
    pub async fn run(&self, timeout: Duration) -> Result<(), String> {
        let network = match self {
            // The exec probe bounds itself: on timeout it must also kill the
            // command's process group, which a dropped future cannot do.
            ProbeSpec::Exec { command } => return exec_probe(command, timeout).await,
            ProbeSpec::Http { host, port, path } => {
                tokio::time::timeout(timeout, http_probe(host, *port, path)).await
            }
            ProbeSpec::Tcp { host, port } => {
                tokio::time::timeout(timeout, async { connect(host, *port).await.map(drop) }).await
            }
        };
        network.unwrap_or_else(|_| {
            Err(format!(
                "timed out after {}",
                humantime::format_duration(timeout)
            ))
        })
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn split_host_port(
    whole: &str,
    authority: &str,
    default_port: Option<u16>,
) -> Result<(String, u16), ProbeSpecError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| ProbeSpecError::Host(whole.to_string()))?;
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(ProbeSpecError::Port(whole.to_string())),
        };
        (&rest[..end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(ProbeSpecError::Host(whole.to_string()));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| ProbeSpecError::Port(whole.to_string()))?,
        None => default_port.ok_or_else(|| ProbeSpecError::Port(whole.to_string()))?,
    };
    Ok((host.to_string(), port))
}

/// Connects without a DNS round trip (and its blocking thread) when the host
/// is an IP literal, which it is in almost every sidecar deployment.
async fn connect(host: &str, port: u16) -> Result<TcpStream, String> {
    let result = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => TcpStream::connect(SocketAddr::new(ip, port)).await,
        Err(_) => TcpStream::connect((host, port)).await,
    };
    result.map_err(|e| format!("connect {}:{port}: {e}", bracket(host)))
}

/// Most of a response the HTTP probe reads before it stops listening.
const HTTP_READ_LIMIT: usize = 64 * 1024;

/// How long the HTTP probe keeps reading after the status line arrived.
const BODY_GRACE: Duration = Duration::from_millis(250);

async fn http_probe(host: &str, port: u16, path: &str) -> Result<(), String> {
    let mut stream = connect(host, port).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}:{port}\r\nUser-Agent: health-sidecar\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        bracket(host)
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send request: {e}"))?;
    let mut buf = Vec::with_capacity(1024);
    let mut status: Option<u16> = None;
    let mut chunk = [0u8; 4096];
    // Read the whole (small) response so the app sees an orderly close rather
    // than a reset; stop at EOF, at the declared length, or at the limit.
    // Once the status is known, the rest gets only a short grace period: an
    // app that keeps the connection open must not turn a 200 into a timeout.
    let mut rest_deadline: Option<tokio::time::Instant> = None;
    loop {
        let read = stream.read(&mut chunk);
        let n = match rest_deadline {
            None => read.await,
            Some(d) => match tokio::time::timeout_at(d, read).await {
                Ok(r) => r,
                Err(_) => break,
            },
        };
        let n = match n {
            Ok(n) => n,
            Err(_) if status.is_some() => break,
            Err(e) => return Err(format!("read response: {e}")),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if status.is_none() {
            if let Some(end) = find(&buf, b"\r\n") {
                status = Some(parse_status_line(&buf[..end])?);
                rest_deadline = Some(tokio::time::Instant::now() + BODY_GRACE);
            }
        }
        if status.is_some_and(|code| response_complete(code, &buf)) || buf.len() >= HTTP_READ_LIMIT
        {
            break;
        }
    }
    let code = match status {
        Some(code) => code,
        None if buf.is_empty() => return Err("connection closed without a response".into()),
        None => parse_status_line(&buf)?,
    };
    if (200..400).contains(&code) {
        Ok(())
    } else {
        Err(format!("HTTP status {code}"))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_status_line(line: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split(' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP response: {:.60}", text.trim_end()));
    }
    code.parse::<u16>()
        .ok()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| format!("bad status line: {:.60}", text.trim_end()))
}

/// True when the headers are in and the body declared by `Content-Length`
/// (or a chunked terminator) has arrived; 1xx, 204 and 304 have no body.
fn response_complete(code: u16, buf: &[u8]) -> bool {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return false;
    };
    if code < 200 || code == 204 || code == 304 {
        return true;
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let body = buf.len() - (head_end + 4);
    for line in head.split("\r\n") {
        if let Some(v) = line.strip_prefix("content-length:") {
            return v.trim().parse::<usize>().is_ok_and(|len| body >= len);
        }
        if line.starts_with("transfer-encoding:") && line.contains("chunked") {
            return buf.ends_with(b"0\r\n\r\n");
        }
    }
    false
}

async fn exec_probe(command: &str, timeout: Duration) -> Result<(), String> {
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("spawn /bin/sh: {e}"))?;
    let pid = child.id();
    let _guard = pid.map(crate::supervise::OwnPid::register);
    let mut stderr = child.stderr.take();
    let mut said = Vec::new();
    let waited = tokio::time::timeout(timeout, async {
        let mut chunk = [0u8; 256];
        let mut eof = stderr.is_none();
        let wait = child.wait();
        tokio::pin!(wait);
        loop {
            tokio::select! {
                status = &mut wait => break status,
                n = read_some(&mut stderr, &mut chunk), if !eof => match n {
                    0 => eof = true,
                    n if said.len() < EXEC_STDERR_LIMIT => said.extend_from_slice(&chunk[..n]),
                    _ => {}
                },
            }
        }
    })
    .await;
    // Whatever the command left running in its process group goes with it
    // (safe after the shell was reaped: a pid is not reused while it still
    // names a group with members).
    if let Some(pid) = pid {
        crate::sys::kill_group(pid, libc::SIGKILL);
    }
    match waited {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => {
            // Give what is still in the pipe a moment (a background child of
            // the command may hold it open, so never wait for EOF).
            let mut chunk = [0u8; 256];
            while said.len() < EXEC_STDERR_LIMIT {
                match tokio::time::timeout(
                    Duration::from_millis(20),
                    read_some(&mut stderr, &mut chunk),
                )
                .await
                {
                    Ok(n) if n > 0 => said.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&said);
            let first = text.lines().map(str::trim).find(|l| !l.is_empty());
            Err(match first {
                Some(line) => format!("command {}: {:.200}", describe_status(status), line),
                None => format!("command {}", describe_status(status)),
            })
        }
        Ok(Err(e)) => Err(format!("wait for command: {e}")),
        Err(_) => Err(format!(
            "command timed out after {}",
            humantime::format_duration(timeout)
        )),
    }
}

/// Most of an exec probe's stderr kept for `probe.last_error`.
const EXEC_STDERR_LIMIT: usize = 1024;

/// Reads what is available; 0 at EOF, on error, or when there is no pipe.
async fn read_some(pipe: &mut Option<tokio::process::ChildStderr>, buf: &mut [u8]) -> usize {
    match pipe {
        Some(p) => p.read(buf).await.unwrap_or(0),
        None => 0,
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "ended".to_string(),
    }
}

#[cfg(test)]
mod tests;
