//! A tiny app for the lab's pools (`bgswitch lab-app`): answers every
//! request with its pool name in an `X-Pool` header, its version in
//! `X-Version`, and a JSON body with both; keeps connections alive, and
//! can answer slowly (`/slow?ms=3000`), so in-flight requests across a
//! switch can be tested.
//!
//! Its `/health` plays the apps of the seeds (`--health`): `sidecar`
//! (a sidecar in front probes it: any path answers 200), `bare` (200 and
//! no body, seed 000's `r.ok`), `healthy` (503 `{"status":"starting"}`
//! for `--starting`, then 200 `{"status":"healthy","version":...}`, and
//! seed 004's `POST /health/drain`: then `draining`, and `drained` once
//! no other connection is open). State changes are printed on stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the app is.
#[derive(Debug, Clone)]
pub struct App {
    pub pool: String,
    pub version: String,
    /// `sidecar`, `bare` or `healthy`.
    pub health: String,
    /// `healthy`: answer 503 this long after starting.
    pub starting: Duration,
}

#[derive(Debug)]
struct State {
    app: App,
    born: Instant,
    open: AtomicUsize,
    draining: AtomicBool,
    drained_said: AtomicBool,
}

/// Serves forever on `listen`.
pub fn serve(listen: &str, app: App) -> std::io::Result<()> {
    if !["sidecar", "bare", "healthy"].contains(&app.health.as_str()) {
        return Err(std::io::Error::other(format!(
            "--health {}: one of sidecar, bare, healthy",
            app.health
        )));
    }
    let listener = TcpListener::bind(listen)?;
    say(&format!(
        "{} {} listening on {listen} (pid {})",
        app.pool,
        app.version,
        std::process::id()
    ));
    let state = Arc::new(State {
        app,
        born: Instant::now(),
        open: AtomicUsize::new(0),
        draining: AtomicBool::new(false),
        drained_said: AtomicBool::new(false),
    });
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let state = state.clone();
        std::thread::spawn(move || {
            state.open.fetch_add(1, Ordering::SeqCst);
            let _ = handle(stream, &state);
            state.open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn handle(stream: TcpStream, st: &State) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut close = false;
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if h.starts_with("connection:") && h.contains("close") {
                close = true;
            }
            if let Some(v) = h.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body_in = vec![0u8; length.min(1 << 20)];
        reader.read_exact(&mut body_in)?;
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        if let Some(ms) = path
            .strip_prefix("/slow?ms=")
            .and_then(|v| v.parse::<u64>().ok())
        {
            std::thread::sleep(Duration::from_millis(ms.min(60_000)));
        }
        let (status, body) = answer(st, &method, &path);
        let a = &st.app;
        let reason = if status < 400 {
            "OK"
        } else {
            "Service Unavailable"
        };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nX-Pool: {}\r\nX-Version: {}\r\nContent-Length: {}\r\n{}\r\n{body}",
            a.pool,
            a.version.replace(['\r', '\n'], " "),
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        out.write_all(response.as_bytes())?;
        if close {
            return Ok(());
        }
    }
}

/// The status and body for a request.
fn answer(st: &State, method: &str, path: &str) -> (u16, String) {
    let a = &st.app;
    let json = |status: &str| {
        serde_json::json!({ "pool": a.pool, "version": a.version, "status": status, "path": path })
            .to_string()
    };
    match (a.health.as_str(), method, path) {
        ("bare", "GET", "/health") => (200, String::new()),
        ("healthy", "POST", "/health/drain") => {
            if !st.draining.swap(true, Ordering::SeqCst) {
                say(&format!("{} {} draining", a.pool, a.version));
            }
            (200, json("draining"))
        }
        ("healthy", "GET", "/health") => {
            if st.born.elapsed() < a.starting {
                return (503, json("starting"));
            }
            if !st.draining.load(Ordering::SeqCst) {
                return (200, json("healthy"));
            }
            // This probe's own connection is the only one left.
            if st.open.load(Ordering::SeqCst) <= 1 {
                if !st.drained_said.swap(true, Ordering::SeqCst) {
                    say(&format!("{} {} drained", a.pool, a.version));
                }
                (503, json("drained"))
            } else {
                (503, json("draining"))
            }
        }
        _ => (200, json("ok")),
    }
}
