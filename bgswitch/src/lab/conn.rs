//! The load generator's own HTTP/1.1 client: keep-alive connections, and
//! telling apart a reused connection that closed before any response byte
//! (RFC 9112 9.3.1: the request was not processed, an idempotent one may
//! be retried) from other failures. A general client hides both, so the
//! lab keeps this one; it speaks plain HTTP to loopback only.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::http::{Response, Url};

/// A connection that may carry several requests.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<TcpStream>,
    /// Whether a response has been read on it (a reused connection).
    pub reused: bool,
}

impl Connection {
    pub fn open(url: &Url, timeout: Duration) -> io::Result<Connection> {
        let addr = (url.host.as_str(), url.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream),
            reused: false,
        })
    }

    /// Sends a keep-alive GET and reads the whole response.
    pub fn get(&mut self, url: &Url) -> io::Result<Response> {
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
            url.path,
            url.authority()
        );
        self.reader
            .get_mut()
            .write_all(req.as_bytes())
            .map_err(|e| match e.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                    no_response(e.to_string())
                }
                _ => e,
            })?;
        let response = self.read_response()?;
        self.reused = true;
        Ok(response)
    }

    fn read_response(&mut self) -> io::Result<Response> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => {
                return Err(no_response(
                    "connection closed before any response byte".into(),
                ))
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                return Err(no_response(format!("{e} before any response byte")))
            }
            Err(e) => return Err(e),
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if self.reader.read_line(&mut h)? == 0 {
                return Err(bad("connection closed inside the headers".into()));
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_ascii_lowercase())
        };
        let mut body = Vec::new();
        if status == 204 || status == 304 || (100..200).contains(&status) {
        } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size)?;
                let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("bad chunk size".into()))?;
                if size == 0 {
                    let mut trailer = String::new();
                    while self.reader.read_line(&mut trailer)? > 2 {
                        trailer.clear();
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                let mut crlf = [0u8; 2];
                self.reader.read_exact(&mut crlf)?;
            }
        } else if let Some(len) = find("content-length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| bad("bad content-length".into()))?;
            body.resize(len, 0);
            self.reader.read_exact(&mut body)?;
        } else {
            self.reader.read_to_end(&mut body)?;
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// The connection closed before any byte of the response.
#[derive(Debug)]
struct NoResponse(String);

impl std::fmt::Display for NoResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoResponse {}

fn no_response(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, NoResponse(message))
}

/// Whether `e` says the connection closed before any response byte.
pub fn is_no_response(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<NoResponse>())
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::net::TcpListener;

    /// Two answers on one connection, then a close before any byte of the
    /// third: that one is told apart as "no response".
    #[test]
    fn keep_alive_and_a_close_before_any_response_byte() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            for reply in [
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pool: blue\r\n\r\nhi",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
            ] {
                let mut line = String::new();
                while r.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                s.write_all(reply.as_bytes()).unwrap();
            }
            let mut line = String::new();
            while r.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
        });
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let mut c = Connection::open(&url, Duration::from_secs(5)).unwrap();
        let r = c.get(&url).unwrap();
        assert_eq!((r.status, r.header("x-pool")), (200, Some("blue")));
        assert!(c.reused);
        assert_eq!(c.get(&url).unwrap().body, b"x");
        let e = c.get(&url).unwrap_err();
        assert!(is_no_response(&e), "{e}");
        server.join().unwrap();
    }
}
