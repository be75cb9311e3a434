//! Every HTTP request a switch sends, one function per kind: a sidecar's
//! status, a sidecar action (drain, undrain), the pool the load balancer
//! answers from, and smoke requests. Only this module calls `crate::http`.
//! Requests to the health URLs go through `[gate]`'s client, those to the
//! load balancer through `[verify]`'s, those straight to a pool's server
//! address through the default one (plain HTTP to an address).

use std::time::Duration;

use crate::config::{Config, VerifyConfig};
use crate::http::{self, Url};

/// A sidecar's `status` field, or a short reason it has none (what the
/// health of a URL shows; see [`crate::health`]).
pub fn sidecar_status(client: &http::Client, url: &str, timeout: Duration) -> String {
    crate::health::probe(client, url, timeout, None).shown_status()
}

/// GET a health URL: its answer, or why there is none.
pub fn health_get(
    client: &http::Client,
    url: &str,
    timeout: Duration,
) -> Result<http::Response, String> {
    let u = Url::parse(url)?;
    client
        .request(
            "GET",
            &u,
            &[],
            None,
            timeout.max(Duration::from_millis(200)),
        )
        .map_err(|e| e.to_string())
}

/// POSTs to a sidecar's `/health/ACTION` (`drain`, `undrain`) with the
/// configured token: the status code and the URL, or why no answer.
pub fn sidecar_post(cfg: &Config, health_url: &str, action: &str) -> Result<(u16, String), String> {
    let health = Url::parse(health_url).map_err(|e| format!("{health_url}: {e}"))?;
    let url = health.with_path(&format!("{}/{action}", health.path.trim_end_matches('/')));
    let auth = cfg.drain.token.as_ref().map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let client = &cfg.gate.client;
    match client.request("POST", &url, &headers, None, Duration::from_secs(5)) {
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
    let resp = v
        .client
        .request("GET", url, &[], None, Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
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

/// Any HTTP answer from `url` through the verify client (its status), in
/// up to three tries when the failure may pass (a refused connection
/// while nginx restarts, a timeout); a TLS failure is not tried again.
pub fn any_answer(url: &Url, v: &VerifyConfig) -> Result<u16, http::Error> {
    let timeout = v.timeout.min(Duration::from_secs(2));
    let mut tries = 0;
    loop {
        tries += 1;
        match v.client.request("GET", url, &[], None, timeout) {
            Ok(r) => return Ok(r.status),
            Err(e) if tries >= 3 || !e.kind.transient() => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
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
pub fn smoke_at(cfg: &Config, client: &http::Client, base: &Url) -> Result<(), String> {
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
            let body = r.body.as_deref().map(str::as_bytes);
            let why = match client.request(&r.method, &url, &headers, body, Duration::from_secs(5))
            {
                Ok(resp) if resp.status == r.status => continue,
                Ok(resp) => format!("answered {}, expected {}", resp.status, r.status),
                Err(e) => e.to_string(),
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

/// The version field of what the load balancer answers at `url`, if it
/// answers JSON with that field.
pub fn version_through(url: &Url, v: &VerifyConfig, field: &str) -> Result<Option<String>, String> {
    let r = v
        .client
        .request("GET", url, &[], None, Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
    Ok(r.json_field(field))
}
