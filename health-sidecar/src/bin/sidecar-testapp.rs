//! A tiny HTTP app for the integration tests and the footprint script: the
//! "real child process" the sidecar probes, counts and supervises. Not part
//! of the product.
//!
//! `GET /health` answers 200, or 500 while `--fail-file` exists;
//! `GET /slow?ms=N` answers after N ms; `GET /held` answers once
//! `--release-file` exists; anything else answers `hello`. The files let a
//! test decide when something happens instead of guessing how long the
//! machine takes.
//! Connections are kept alive unless the client asks to close.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

#[derive(Debug, Parser)]
#[command(args_override_self = true)]
struct Args {
    /// Port to listen on, on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// Wait this long before listening ("start late").
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0")]
    start_delay: Duration,
    /// Listen only once this file exists ("start when told").
    #[arg(long)]
    listen_file: Option<PathBuf>,
    /// `GET /held` answers only once this file exists.
    #[arg(long)]
    release_file: Option<PathBuf>,
    /// While this file exists, /health answers 500 ("fail").
    #[arg(long)]
    fail_file: Option<PathBuf>,
    /// Every response waits this long ("slow").
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0")]
    slow: Duration,
    /// Append the name of each signal received to this file.
    #[arg(long)]
    signal_log: Option<PathBuf>,
    /// What SIGTERM does: `exit` (status --term-exit-code), `ignore`, or
    /// `die` (the default action: killed by the signal).
    #[arg(long, default_value = "exit")]
    on_term: String,
    #[arg(long, default_value_t = 0)]
    term_exit_code: i32,
    /// Exit by itself after this long, with --exit-code.
    #[arg(long, value_parser = humantime::parse_duration)]
    exit_after: Option<Duration>,
    #[arg(long, default_value_t = 0)]
    exit_code: i32,
}

fn log_signal(path: &Option<PathBuf>, name: &str) {
    eprintln!("testapp: got {name}");
    if let Some(p) = path {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let _ = writeln!(f, "{name}");
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = if args.on_term == "die" {
        None
    } else {
        Some(signal(SignalKind::terminate())?)
    };
    tokio::time::sleep(args.start_delay).await;
    if let Some(p) = &args.listen_file {
        wait_for(p).await;
    }
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    eprintln!("testapp: listening on 127.0.0.1:{}", args.port);
    let exit_after = async {
        match args.exit_after {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(exit_after);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let files = Files { fail: args.fail_file.clone(), release: args.release_file.clone() };
                    let slow = args.slow;
                    tokio::spawn(async move { let _ = serve(stream, files, slow).await; });
                }
            }
            _ = int.recv() => { log_signal(&args.signal_log, "SIGINT"); std::process::exit(130) }
            _ = hup.recv() => log_signal(&args.signal_log, "SIGHUP"),
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {
                log_signal(&args.signal_log, "SIGTERM");
                if args.on_term != "ignore" {
                    std::process::exit(args.term_exit_code);
                }
            }
            _ = &mut exit_after => std::process::exit(args.exit_code),
        }
    }
}

/// Polls for `path` to exist.
async fn wait_for(path: &std::path::Path) {
    while !path.exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The files that steer the answers.
struct Files {
    fail: Option<PathBuf>,
    release: Option<PathBuf>,
}

async fn serve(mut stream: TcpStream, files: Files, slow: Duration) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 || buf.len() > 65536 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        buf.drain(..head_end);
        let target = head.split(' ').nth(1).unwrap_or("/").to_string();
        let close = head.to_ascii_lowercase().contains("connection: close");
        tokio::time::sleep(slow).await;
        let (code, body) = if target == "/health" {
            if files.fail.as_ref().is_some_and(|p| p.exists()) {
                ("500 Internal Server Error", "failing".to_string())
            } else {
                ("200 OK", "ok".to_string())
            }
        } else if target == "/held" {
            match &files.release {
                Some(p) => {
                    wait_for(p).await;
                    ("200 OK", "released".to_string())
                }
                None => ("404 Not Found", "no --release-file".to_string()),
            }
        } else if let Some(ms) = target.strip_prefix("/slow?ms=") {
            let ms: u64 = ms.parse().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ("200 OK", format!("slept {ms}ms"))
        } else {
            ("200 OK", "hello".to_string())
        };
        let resp = format!(
            "HTTP/1.1 {code}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n{}\r\n{body}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        stream.write_all(resp.as_bytes()).await?;
        if close {
            return Ok(());
        }
    }
}
