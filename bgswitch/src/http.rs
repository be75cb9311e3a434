//! The HTTP(S) requests bgswitch makes (sidecars, the load balancer, the
//! pools) through `ureq` with rustls. One request per connection (no
//! pool: verify must see which worker a fresh connection reaches), every
//! request bounded by its timeout from name lookup to the last body byte,
//! no redirects followed, any status returned as a response.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// `http://HOST:PORT/PATH` or `https://HOST:PORT/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    /// A name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, String> {
        let (https, rest) = if let Some(rest) = text.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = text.strip_prefix("https://") {
            (true, rest)
        } else {
            return Err("only http:// and https:// URLs are supported".into());
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        if authority.contains('@') {
            return Err("user:password@ in a URL is not supported".into());
        }
        let default_port = if https { 443 } else { 80 };
        let (host, port) = split_host_port(authority, default_port)?;
        if host.is_empty() {
            return Err("no host".into());
        }
        Ok(Url {
            https,
            host,
            port,
            path,
        })
    }

    /// The same scheme, host and port with another path.
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

    /// `HOST:PORT` as written in a URL or a `Host:` header (an IPv6
    /// address in brackets: nginx answers 400 to `Host: ::1:8080`).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

/// `HOST:PORT`, `[V6]:PORT`, `HOST` or `[V6]` (then `default_port`).
fn split_host_port(authority: &str, default_port: u16) -> Result<(String, u16), String> {
    let port_of = |p: &str| p.parse().map_err(|_| format!("bad port \"{p}\""));
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("no \"]\" after the IPv6 address in \"{authority}\""))?;
        let port = match after {
            "" => default_port,
            _ => match after.strip_prefix(':') {
                Some(p) => port_of(p)?,
                None => return Err(format!("bad port \"{after}\"")),
            },
        };
        return Ok((host.to_string(), port));
    }
    match authority.split_once(':') {
        Some((h, p)) if !p.contains(':') => Ok((h.to_string(), port_of(p)?)),
        Some(_) => Err(format!(
            "an IPv6 address needs brackets: \"[{authority}]\" or \"[ADDRESS]:PORT\""
        )),
        None => Ok((authority.to_string(), default_port)),
    }
}

/// How URLs are reached: `connect_to`, `ca_file`, `insecure` of `[verify]`
/// or `[gate]`. The default is plain: the URL's own address, the public
/// (Mozilla) roots.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// Connect here (`HOST:PORT`) whatever the URL's host, which stays the
    /// TLS server name and the `Host` header (curl's `--connect-to`).
    pub connect_to: Option<String>,
    /// The CAs trusted for `https://` instead of the public roots (as curl's
    /// `--cacert`), read from a PEM file.
    pub ca: Option<CaFile>,
    /// Skip certificate checks (said in the output of every run).
    pub insecure: bool,
}

/// The certificates of a `ca_file`.
#[derive(Debug, Clone)]
pub struct CaFile {
    pub path: PathBuf,
    pub certs: Vec<Certificate<'static>>,
}

impl CaFile {
    /// Reads a PEM file; an error when it cannot be read, or holds no
    /// certificate.
    pub fn read(path: &Path) -> Result<CaFile, String> {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        if certs.is_empty() {
            return Err(format!(
                "{}: no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)",
                path.display()
            ));
        }
        Ok(CaFile {
            path: path.to_path_buf(),
            certs,
        })
    }
}

/// Checks a `connect_to` value: `HOST:PORT` or `[V6]:PORT`, port required.
pub fn check_connect_to(text: &str) -> Result<(), String> {
    if !text.contains(':') || text.ends_with(']') {
        return Err(format!(
            "\"{text}\": write HOST:PORT, e.g. \"127.0.0.1:443\""
        ));
    }
    let (host, port) = split_host_port(text, 0).map_err(|e| format!("\"{text}\": {e}"))?;
    if host.is_empty() || port == 0 {
        return Err(format!(
            "\"{text}\": write HOST:PORT, e.g. \"127.0.0.1:443\""
        ));
    }
    Ok(())
}

/// A client for one [`Transport`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    insecure: bool,
}

impl Default for Client {
    fn default() -> Client {
        Client::new(&Transport::default())
    }
}

impl Client {
    pub fn new(t: &Transport) -> Client {
        let mut tls = TlsConfig::builder().disable_verification(t.insecure);
        if let Some(ca) = &t.ca {
            tls = tls.root_certs(RootCerts::Specific(Arc::new(ca.certs.clone())));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .tls_config(tls.build())
            .build();
        let resolver = ConnectTo {
            to: t.connect_to.clone(),
        };
        Client {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
            insecure: t.insecure,
        }
    }

    /// Whether certificates go unchecked.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// One request on a fresh connection, all of it within `timeout`.
    /// `body`: sent as is (give its `Content-Type` in `headers`).
    pub fn request(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Response, Error> {
        let method = ureq::http::Method::from_bytes(method.as_bytes())
            .map_err(|_| Error::new(Failure::Other, format!("bad method \"{method}\"")))?;
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(url.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(body.unwrap_or_default().to_vec())
            .map_err(|e| Error::new(Failure::Other, e.to_string()))?;
        let req = self
            .agent
            .configure_request(req)
            .timeout_global(Some(timeout))
            .build();
        let mut resp = self.agent.run(req).map_err(|e| Error::of(&e, url))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .read_to_vec()
            .map_err(|e| Error::of(&e, url))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// One request with the default transport (see [`Client::request`]).
pub fn request(
    method: &str,
    url: &Url,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<Response, Error> {
    Client::default().request(method, url, headers, None, timeout)
}

/// Resolves the URL's host, or `connect_to` when set, within the
/// request's timeout (ureq's default resolver looks up on a thread of
/// its own when a timeout is set, as the system resolver has none).
#[derive(Debug)]
struct ConnectTo {
    to: Option<String>,
}

impl Resolver for ConnectTo {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(to) = &self.to else {
            return DefaultResolver::default().resolve(uri, config, timeout);
        };
        if let Ok(addr) = to.parse::<SocketAddr>() {
            let mut out = self.empty();
            out.push(addr);
            return Ok(out);
        }
        let uri: ureq::http::Uri = format!("http://{to}/")
            .parse()
            .map_err(|_| ureq::Error::HostNotFound)?;
        DefaultResolver::default().resolve(&uri, config, timeout)
    }
}

/// Why a request got no response: the reason only (callers name the URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Failure,
    /// What happened.
    pub reason: String,
    /// A general hint (` (set ca_file ...)`), shown after the reason; a
    /// caller that knows the config key says its own instead.
    pub hint: &'static str,
}

/// What kind of failure, so a caller can say which setting likely fixes
/// it (see the verify pre-flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The certificate does not verify against the CAs (issuer, signature,
    /// dates): `ca_file`, or `insecure`.
    Certificate,
    /// The certificate is not for the URL's host: the URL names a host it
    /// is for, `connect_to` says where to connect.
    CertificateName,
    /// A TLS client met a server that does not speak TLS.
    NotTls,
    /// Another TLS failure.
    Tls,
    /// No connection: refused, reset, unreachable, a name that does not
    /// resolve.
    Connect,
    Timeout,
    /// Anything else (a bad method, a broken answer).
    Other,
}

impl Failure {
    /// Whether the same request may well succeed a moment later.
    pub fn transient(self) -> bool {
        matches!(self, Failure::Connect | Failure::Timeout | Failure::Other)
    }
}

impl Error {
    fn new(kind: Failure, reason: String) -> Error {
        Error {
            kind,
            reason,
            hint: "",
        }
    }

    /// ureq's error in words a reader of bgswitch's output can act on.
    fn of(e: &ureq::Error, url: &Url) -> Error {
        // rustls' errors come straight, or inside an io::Error from the
        // handshake
        let tls = match e {
            ureq::Error::Rustls(r) => Some(r),
            ureq::Error::Io(io) => io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
            _ => None,
        };
        use rustls::CertificateError as C;
        let (kind, text, hint) = match (tls, e) {
            (Some(rustls::Error::InvalidCertificate(c)), _) => {
                let (kind, hint) = match c {
                    C::UnknownIssuer | C::BadSignature => (
                        Failure::Certificate,
                        " (set ca_file to the CA that signed it, or insecure = true)",
                    ),
                    C::NotValidForName | C::NotValidForNameContext { .. } => {
                        (Failure::CertificateName, "")
                    }
                    _ => (Failure::Certificate, ""),
                };
                let text = format!("TLS: the certificate of {} does not verify: {c}", url.host);
                (kind, text, hint)
            }
            (
                Some(
                    r @ (rustls::Error::InvalidMessage(_)
                    | rustls::Error::InappropriateMessage { .. }
                    | rustls::Error::InappropriateHandshakeMessage { .. }),
                ),
                _,
            ) => (
                Failure::NotTls,
                format!("TLS handshake failed: {r}"),
                PLAIN_HINT,
            ),
            (Some(r), _) => (Failure::Tls, format!("TLS handshake failed: {r}"), ""),
            (None, ureq::Error::Io(io))
                if url.https && io.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                (
                    Failure::NotTls,
                    "TLS: the connection closed without an answer".to_string(),
                    PLAIN_HINT,
                )
            }
            (None, ureq::Error::Timeout(t)) => (Failure::Timeout, format!("timed out ({t})"), ""),
            (None, ureq::Error::HostNotFound) => (
                Failure::Connect,
                format!("{} does not resolve", url.host),
                "",
            ),
            (None, ureq::Error::Io(io)) => (Failure::Connect, io.to_string(), ""),
            (None, other) => (Failure::Other, other.to_string(), ""),
        };
        Error {
            kind,
            reason: text,
            hint,
        }
    }
}

/// What a TLS client meeting a plain-HTTP server usually means.
const PLAIN_HINT: &str = " (does the port speak plain HTTP, not TLS?)";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.reason, self.hint)
    }
}

impl std::error::Error for Error {}

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

#[cfg(test)]
mod tests;
