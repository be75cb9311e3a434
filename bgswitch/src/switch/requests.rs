//! Every HTTP request a switch sends, one function per kind: a sidecar's
//! status, a sidecar action (drain, undrain), the pool the load balancer
//! answers from, and smoke requests. Only this module calls `crate::http`.

use std::time::Duration;

use crate::config::{Config, VerifyConfig};
use crate::http::{self, Url};

/// A sidecar's `status` field, or a short reason it has none.
pub fn sidecar_status(url: &str, timeout: Duration) -> String {
    let Ok(u) = Url::parse(url) else {
        return "bad url".into();
    };
    match http::request("GET", &u, &[], timeout.max(Duration::from_millis(200))) {
        Ok(r) => r
            .json_field("status")
            .unwrap_or_else(|| format!("HTTP {} without a status", r.status)),
        Err(e) => format!("unreachable ({e})"),
    }
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

/// The `[smoke]` requests against `base`: each answers its status.
pub fn smoke_at(cfg: &Config, base: &Url) -> Result<(), String> {
    for r in &cfg.smoke.requests {
        let url = base.with_path(&r.path);
        match http::request(&r.method, &url, &[], Duration::from_secs(5)) {
            Ok(resp) if resp.status == r.status => {}
            Ok(resp) => {
                return Err(format!(
                    "smoke: {} {url} answered {}, expected {}",
                    r.method, resp.status, r.status
                ))
            }
            Err(e) => return Err(format!("smoke: {} {url}: {e}", r.method)),
        }
    }
    Ok(())
}
