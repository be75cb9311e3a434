//! A small blocking HTTP/1.1 client: `health-sidecar drain` and bgswitch
//! (sidecars, the load balancer, the pools, the demo's load generator,
//! which needs keep-alive) share it. Plain `http://` only (sidecars and a
//! loopback or private LB address); every call, name lookups included, is
//! bounded by a timeout.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// `http://HOST:PORT/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = text
            .strip_prefix("http://")
            .ok_or_else(|| "only http:// URLs are supported".to_string())?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let port_of = |p: &str| p.parse().map_err(|_| format!("bad port \"{p}\""));
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            // `[::1]:8080` or `[::1]`
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| format!("no \"]\" after the IPv6 address in \"{authority}\""))?;
            match after {
                "" => (host, 80),
                _ => match after.strip_prefix(':') {
                    Some(p) => (host, port_of(p)?),
                    None => return Err(format!("bad port \"{after}\"")),
                },
            }
        } else {
            match authority.split_once(':') {
                Some((h, p)) if !p.contains(':') => (h, port_of(p)?),
                Some(_) => {
                    return Err(format!(
                        "an IPv6 address needs brackets: \"[{authority}]\" or \"[ADDRESS]:PORT\""
                    ))
                }
                None => (authority, 80),
            }
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        Ok(Url {
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// The same host and port with another path.
    pub fn with_path(&self, path: &str) -> Url {
        Url {
            path: path.to_string(),
            ..self.clone()
        }
    }

    /// Base URL of an address as written in nginx (`10.0.1.10:3000`).
    pub fn from_address(address: &str) -> Result<Url, String> {
        Url::parse(&format!("http://{address}/"))
    }

    /// The addresses the host stands for: an IP address as it is, a name
    /// resolved within `timeout` (the system resolver has no timeout of
    /// its own, so it runs on a thread of its own).
    fn socket_addrs(&self, timeout: Duration) -> io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = self.host.parse::<std::net::IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        let (host, port) = (self.host.clone(), self.port);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send((host.as_str(), port).to_socket_addrs().map(Vec::from_iter));
        });
        let addrs = rx.recv_timeout(timeout).map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("resolving {} took over {timeout:?}", self.host),
            )
        })??;
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not resolve", self.host),
            ));
        }
        Ok(addrs)
    }

    /// `Host:` header value: an IPv6 address in brackets.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "http://[{}]:{}{}", self.host, self.port, self.path)
        } else {
            write!(f, "http://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

/// A response, body read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A top-level field of a JSON body, as text.
    pub fn json_field(&self, field: &str) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        match v.get(field)? {
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// One request on a fresh connection (`Connection: close`).
pub fn request(
    method: &str,
    url: &Url,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> io::Result<Response> {
    let mut conn = Connection::open(url, timeout)?;
    conn.send(method, url, headers, false)
}

/// A connection that may carry several requests (keep-alive).
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<TcpStream>,
    /// Whether a response has been read on it (a reused connection).
    pub reused: bool,
}

impl Connection {
    /// Connects to the first of the URL's addresses that answers (a name
    /// such as `localhost` may stand for `::1` and `127.0.0.1`), all within
    /// `timeout`.
    pub fn open(url: &Url, timeout: Duration) -> io::Result<Connection> {
        let deadline = std::time::Instant::now() + timeout;
        let addrs = url.socket_addrs(timeout)?;
        let mut last = None;
        let mut stream = None;
        for addr in addrs {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = stream.ok_or_else(|| {
            last.unwrap_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))
        })?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream),
            reused: false,
        })
    }

    /// Sends a request and reads the whole response. With `keep_alive`
    /// false the request asks the server to close the connection.
    pub fn send(
        &mut self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        keep_alive: bool,
    ) -> io::Result<Response> {
        let mut req = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\n",
            url.path,
            url.authority()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !keep_alive {
            req.push_str("Connection: close\r\n");
        }
        if method == "POST" || method == "PUT" {
            req.push_str("Content-Length: 0\r\n");
        }
        req.push_str("\r\n");
        self.reader
            .get_mut()
            .write_all(req.as_bytes())
            .map_err(|e| match e.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                    no_response(e.to_string())
                }
                _ => e,
            })?;
        let response = self.read_response(method == "HEAD")?;
        self.reused = true;
        Ok(response)
    }

    fn read_response(&mut self, head: bool) -> io::Result<Response> {
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
        if head || status == 204 || status == 304 || (100..200).contains(&status) {
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

/// The connection closed before any byte of the response: the request
/// was not processed, so an idempotent one may be retried (RFC 9112 9.3.1).
#[derive(Debug)]
pub struct NoResponse(pub String);

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

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:9901/health").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 9901, "/health")
        );
        let u = Url::parse("http://lb.example").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        let u = Url::parse("http://[::1]:8080/x?y=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 8080, "/x?y=1")
        );
        assert_eq!(u.to_string(), "http://[::1]:8080/x?y=1");
        assert!(Url::parse("https://x/").is_err());
        assert!(Url::parse("http://x:port/").is_err());
        let u = Url::parse("http://[::1]/health").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 80));
        assert_eq!(u.authority(), "[::1]:80");
        assert!(Url::parse("http://::1:80/").is_err());
        assert!(Url::parse("http://[::1:80/").is_err());
        assert!(Url::parse("http://[::1]x/").is_err());
    }

    /// nginx answers 400 to `Host: ::1:port`; the request must bracket it,
    /// and a name that stands for `::1` and `127.0.0.1` must reach a
    /// server on either.
    #[test]
    fn ipv6_and_names_with_several_addresses() {
        use std::net::TcpListener;
        let serve = |listener: TcpListener| {
            std::thread::spawn(move || {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).unwrap();
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
                head
            })
        };
        let t = Duration::from_secs(5);
        if let Ok(v6) = TcpListener::bind("[::1]:0") {
            let port = v6.local_addr().unwrap().port();
            let server = serve(v6);
            let url = Url::parse(&format!("http://[::1]:{port}/x")).unwrap();
            assert_eq!(request("GET", &url, &[], t).unwrap().status, 204);
            let head = server.join().unwrap();
            assert!(head.contains(&format!("Host: [::1]:{port}\r\n")), "{head}");
        }
        let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        let server = serve(v4);
        let url = Url::parse(&format!("http://localhost:{port}/")).unwrap();
        assert_eq!(request("GET", &url, &[], t).unwrap().status, 204);
        server.join().unwrap();
    }

    #[test]
    fn reads_content_length_chunked_and_close_delimited() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let replies = [
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pool: blue\r\n\r\nhi",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\n7\r\na\":\"b\"}\r\n0\r\n\r\n",
                "HTTP/1.1 503 Busy\r\n\r\nclosed",
            ];
            for r in replies {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).unwrap();
                s.write_all(r.as_bytes()).unwrap();
            }
        });
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let t = Duration::from_secs(5);
        let r = request("GET", &url, &[], t).unwrap();
        assert_eq!(
            (r.status, r.header("x-pool"), r.body.as_slice()),
            (200, Some("blue"), &b"hi"[..])
        );
        let r = request("GET", &url, &[], t).unwrap();
        assert_eq!(r.json_field("a").as_deref(), Some("b"));
        let r = request("GET", &url, &[], t).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (503, &b"closed"[..]));
        server.join().unwrap();
    }
}
