//! A tiny app for the lab's pools (`bgswitch lab-app`): answers every
//! request with its pool name in an `X-Pool` header and a JSON body,
//! keeps connections alive, and can answer slowly (`/slow?ms=3000`), so
//! in-flight requests across a switch can be tested.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Serves forever on `listen` as pool `pool`.
pub fn serve(listen: &str, pool: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let pool = pool.to_string();
        std::thread::spawn(move || {
            let _ = handle(stream, &pool);
        });
    }
    Ok(())
}

fn handle(stream: TcpStream, pool: &str) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut close = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if h.to_ascii_lowercase().starts_with("connection:")
                && h.to_ascii_lowercase().contains("close")
            {
                close = true;
            }
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        if let Some(ms) = path
            .strip_prefix("/slow?ms=")
            .and_then(|v| v.parse::<u64>().ok())
        {
            std::thread::sleep(Duration::from_millis(ms.min(60_000)));
        }
        let body = format!(
            "{{\"pool\":\"{pool}\",\"status\":\"ok\",\"path\":{}}}",
            serde_json::json!(path)
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pool: {pool}\r\nContent-Length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        out.write_all(response.as_bytes())?;
        if close {
            return Ok(());
        }
    }
}
