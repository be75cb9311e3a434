//! Every HTTP request a switch sends, one function per kind: a sidecar's
//! status, a sidecar action (drain, undrain), the pool the load balancer
//! answers from, and smoke requests. Only this module calls `crate::http`.

use std::time::Duration;

use crate::config::{Config, VerifyConfig};
use crate::http::{self, Url};

/// A sidecar's `status` field, or a short reason it has none (what the
/// health of a URL shows; see [`crate::health`]).
pub fn sidecar_status(url: &str, timeout: Duration) -> String {
    crate::health::probe(url, timeout, None).shown_status()
}

/// GET a health URL: its answer, or why there is none.
pub fn health_get(url: &str, timeout: Duration) -> Result<http::Response, String> {
    let u = Url::parse(url)?;
    http::request("GET", &u, &[], timeout.max(Duration::from_millis(200)))
        .map_err(|e| e.to_string())
}

/// POSTs to a sidecar's `/health/ACTION` (`drain`, `undrain`) with the
/// configured token: the status code and the URL, or why no answer.
pub fn sidecar_post(cfg: &Config, health_url: &str, action: &str) -> Result<(u16, String), String> {
    let health = Url::parse(health_url).map_err(|e| format!("{health_url}: {e}"))?;
    let url = health.with_path(&format!("{}/{action}", health.path.trim_end_matches('/')));
    let auth = cfg.drain.token.as_ref().map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    match http::request("POST", &url, &headers, Duration::from_secs(5)) {
        Ok(r) => Ok((r.status, url.to_string())),
        Err(e) => Err(format!("{url}: {e}")),
    }
}

/// `[verify] url`, parsed; `None` when not configured.
pub fn verify_url(cfg: &Config) -> Result<Option<Url>, String> {
    cfg.verify
        .url
        .as_deref()
        .map(|u| Url::parse(u).map_err(|e| format!("verify.url: {e}")))
        .transpose()
}

/// What the load balancer answered at `url`.
#[derive(Debug)]
pub struct PoolAnswer {
    pub status: u16,
    /// The pool named by `[verify] header` or `json_field`.
    pub pool: Option<String>,
}

/// One request through the load balancer: which pool answers.
pub fn pool_answering(url: &Url, v: &VerifyConfig) -> Result<PoolAnswer, String> {
    let resp = http::request("GET", url, &[], Duration::from_secs(2)).map_err(|e| e.to_string())?;
    let pool = match (&v.header, &v.json_field) {
        (Some(h), _) => resp.header(h).map(str::to_string),
        (None, Some(f)) => resp.json_field(f),
        (None, None) => None,
    };
    Ok(PoolAnswer {
        status: resp.status,
        pool,
    })
}

/// The base URL of a pool's server address (`127.0.0.1:3000`); `None`
/// for a unix socket or an address HTTP cannot reach.
pub fn server_url(address: &str) -> Option<Url> {
    match Url::from_address(address) {
        Ok(base) if !address.starts_with("unix:") => Some(base),
        _ => None,
    }
}

/// The `[smoke]` requests against `base`: each answers its status, all
/// of its `repeat` sends but at most `max_failure_ratio` of them.
pub fn smoke_at(cfg: &Config, base: &Url) -> Result<(), String> {
    for r in &cfg.smoke.requests {
        let url = base.with_path(&r.path);
        let headers: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut failed = 0u32;
        let mut first = None;
        for _ in 0..r.repeat {
            let why = match send(
                &r.method,
                &url,
                &headers,
                r.body.as_deref(),
                Duration::from_secs(5),
            ) {
                Ok(resp) if resp.status == r.status => continue,
                Ok(resp) => format!("answered {}, expected {}", resp.status, r.status),
                Err(e) => e,
            };
            failed += 1;
            first.get_or_insert(why);
        }
        let ratio = f64::from(failed) / f64::from(r.repeat);
        if let (true, Some(why)) = (ratio > r.max_failure_ratio, first) {
            return Err(if r.repeat == 1 {
                format!("smoke: {} {url} {why}", r.method)
            } else {
                format!(
                    "smoke: {} {url}: {failed}/{} failed ({:.1}% > {:.1}% allowed); first: {why}",
                    r.method,
                    r.repeat,
                    ratio * 100.0,
                    r.max_failure_ratio * 100.0
                )
            });
        }
    }
    Ok(())
}

/// The one request with a body (smoke requests): `crate::http` sends
/// none, so this writes HTTP/1.1 itself on a fresh connection
/// (`Connection: close`) and reads the answer to its end. Without a body
/// it is `crate::http::request`. (To be replaced by the new client's body
/// parameter.)
pub fn send(
    method: &str,
    url: &Url,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout: Duration,
) -> Result<http::Response, String> {
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    let Some(body) = body else {
        return http::request(method, url, headers, timeout).map_err(|e| e.to_string());
    };
    let io = |e: std::io::Error| e.to_string();
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| format!("{} does not resolve", url.host))?;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let host = if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let mut req = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
        url.path
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer has no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        let (mut out, mut rest) = (Vec::new(), body.as_slice());
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = std::str::from_utf8(&rest[..eol])
                .ok()
                .and_then(|s| {
                    usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok()
                })
                .unwrap_or(0);
            let start = eol + 2;
            if size == 0 || start + size > rest.len() {
                break;
            }
            out.extend_from_slice(&rest[start..start + size]);
            rest = &rest[(start + size + 2).min(rest.len())..];
        }
        body = out;
    }
    Ok(http::Response {
        status,
        headers,
        body,
    })
}

/// The version field of what the load balancer answers at `url`, if it
/// answers JSON with that field.
pub fn version_through(url: &Url, field: &str) -> Result<Option<String>, String> {
    let r = http::request("GET", url, &[], Duration::from_secs(2)).map_err(|e| e.to_string())?;
    Ok(r.json_field(field))
}
