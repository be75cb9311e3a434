//! The HTTP interface: router and handlers.
//!
//! `app()` builds the whole router so tests drive it with `oneshot`; the
//! peer address comes from axum's `ConnectInfo`, which tests insert by hand
//! to exercise the non-loopback path. GET handlers only read.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use tokio::time::Instant;

use crate::auth;
use crate::metrics::Snapshot;
use crate::procstats::ProcSample;
use crate::shared::AppState;
use crate::state::{DrainReason, Status, UndrainError};

/// The router with every endpoint; unknown paths answer 404 and known
/// paths with the wrong method 405.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/health/drain", post(drain))
        .route("/health/undrain", post(undrain))
        .fallback(not_found)
        .with_state(state)
}

/// The connection's peer address, `None` when the server was not set up
/// with connect info (treated as not loopback).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The `/health` document, in the field order of DESIGN.md. `reason`
/// (why `failing` or `drained`) and `probe.last_error` are additions.
#[derive(Debug, Serialize)]
pub struct HealthDoc {
    pub status: Status,
    pub version: Option<String>,
    pub uptime_seconds: u64,
    pub since: String,
    pub reason: Option<String>,
    pub probe: ProbeDoc,
    pub connections: ConnectionsDoc,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain: Option<DrainDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcSample>,
}

#[derive(Debug, Serialize)]
pub struct ProbeDoc {
    pub kind: &'static str,
    pub target: String,
    /// When the last successful probe ran (RFC 3339), `null` if none did.
    pub last_ok: Option<String>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ConnectionsDoc {
    pub app_port: Option<u16>,
    /// `null` when not counted (no `--app-port`, or the table was unreadable).
    pub active: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct DrainDoc {
    pub started_at: String,
    pub deadline: String,
    /// `--drain-min` ends here: not `drained` before it.
    pub min_until: String,
    pub completed_at: Option<String>,
    /// `connections_closed`, `timeout` or `no_app_port`; `null` while draining.
    pub reason: Option<DrainReason>,
}

/// Builds the `/health` document.
pub fn health_doc(state: &AppState) -> HealthDoc {
    let settings = state.settings();
    let now = Instant::now();
    state.read(|m| HealthDoc {
        status: m.status(),
        version: settings.version.clone(),
        uptime_seconds: now.saturating_duration_since(m.started()).as_secs(),
        since: rfc3339(m.wall(m.since())),
        reason: m.reason().map(str::to_string),
        probe: ProbeDoc {
            kind: settings.probe_kind,
            target: settings.probe_target.clone(),
            last_ok: m.last_ok().map(|t| rfc3339(m.wall(t))),
            consecutive_failures: m.consecutive_failures(),
            last_error: m.last_error().map(str::to_string),
        },
        connections: ConnectionsDoc {
            app_port: settings.app_port,
            active: state.connections(),
        },
        drain: m.drain().map(|d| DrainDoc {
            started_at: rfc3339(m.wall(d.started)),
            deadline: rfc3339(m.wall(d.deadline)),
            min_until: rfc3339(m.wall(d.min_until)),
            completed_at: d.completed.map(|(t, _)| rfc3339(m.wall(t))),
            reason: d.completed.map(|(_, r)| r),
        }),
        process: state.process(),
    })
}

async fn health(State(state): State<AppState>) -> Response {
    let doc = health_doc(&state);
    let code = if doc.status == Status::Ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    no_store((code, Json(doc)).into_response())
}

/// One Kubernetes-style check: name, and `Err(reason)` when it fails.
type Check = (&'static str, Result<(), String>);

fn is_verbose(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&').any(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            k == "verbose" && !matches!(v, "0" | "false")
        })
    })
}

/// Renders checks the way the Kubernetes API server does: `ok`, or with
/// `?verbose` one `[+]name ok` / `[-]name failed: reason` line per check.
fn checks_response(name: &str, checks: &[Check], verbose: bool) -> Response {
    let ok = checks.iter().all(|(_, r)| r.is_ok());
    let mut body = String::new();
    if verbose || !ok {
        for (check, r) in checks {
            match r {
                Ok(()) if verbose => body.push_str(&format!("[+]{check} ok\n")),
                Ok(()) => {}
                Err(e) => body.push_str(&format!("[-]{check} failed: {e}\n")),
            }
        }
        body.push_str(&format!(
            "{name} check {}\n",
            if ok { "passed" } else { "failed" }
        ));
    } else {
        body.push_str("ok");
    }
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    no_store(
        (
            code,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response(),
    )
}

/// Liveness: fails only when the app is `failing` or its process is gone,
/// so an orchestrator restarts a broken app but never one that is merely
/// starting or draining.
async fn livez(State(state): State<AppState>, uri: Uri) -> Response {
    let (status, reason) = state.read(|m| (m.status(), m.reason().map(str::to_string)));
    let mut checks: Vec<Check> = vec![("sidecar", Ok(()))];
    checks.push((
        "probe",
        if status == Status::Failing {
            Err(reason.unwrap_or_else(|| "failing".into()))
        } else {
            Ok(())
        },
    ));
    if let Some(p) = state.process() {
        checks.push((
            "process",
            if p.alive {
                Ok(())
            } else {
                Err(format!("pid {} is gone", p.pid))
            },
        ));
    }
    checks_response("livez", &checks, is_verbose(&uri))
}

/// Readiness: passes exactly when `/health` answers 200 (`ready`).
async fn readyz(State(state): State<AppState>, uri: Uri) -> Response {
    let (status, reason, last_error) = state.read(|m| {
        (
            m.status(),
            m.reason().map(str::to_string),
            m.last_error().map(str::to_string),
        )
    });
    let probe = match status {
        Status::Starting => Err(format!(
            "starting: {}",
            last_error.unwrap_or_else(|| "no successful probe yet".into())
        )),
        Status::Failing => Err(reason.clone().unwrap_or_else(|| "failing".into())),
        _ => Ok(()),
    };
    let drain = match status {
        Status::Draining => Err("draining".to_string()),
        Status::Drained => Err(format!(
            "drained ({})",
            reason.unwrap_or_else(|| "done".into())
        )),
        _ => Ok(()),
    };
    checks_response(
        "readyz",
        &[("probe", probe), ("drain", drain)],
        is_verbose(&uri),
    )
}

async fn metrics(State(state): State<AppState>) -> Response {
    let (status, started, consecutive_failures) =
        state.read(|m| (m.status(), m.started(), m.consecutive_failures()));
    let snap = Snapshot {
        status,
        uptime: Instant::now().saturating_duration_since(started),
        connections: state.connections(),
        consecutive_failures,
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(&snap),
    )
        .into_response()
}

fn denied(d: auth::Denied) -> Response {
    let mut r = (d.status(), Json(json!({ "error": d.message() }))).into_response();
    if d == auth::Denied::Unauthorized {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// Starts draining; 202 with the status (idempotent: `draining`, or
/// `drained` when it already completed). The body is ignored.
async fn drain(State(state): State<AppState>, Peer(peer): Peer, headers: HeaderMap) -> Response {
    if let Err(d) = auth::check(state.settings().token.as_deref(), &headers, peer) {
        return denied(d);
    }
    let status = state.request_drain();
    (StatusCode::ACCEPTED, Json(json!({ "status": status }))).into_response()
}

/// Leaves draining for the status the probe implies; 409 once the app is
/// being stopped.
async fn undrain(State(state): State<AppState>, Peer(peer): Peer, headers: HeaderMap) -> Response {
    if let Err(d) = auth::check(state.settings().token.as_deref(), &headers, peer) {
        return denied(d);
    }
    match state.update(|m| m.undrain(Instant::now())) {
        Ok(status) => (StatusCode::OK, Json(json!({ "status": status }))).into_response(),
        Err(e @ UndrainError::Stopping) => (
            StatusCode::CONFLICT,
            Json(json!({ "error": e.to_string(), "status": state.read(|m| m.status()) })),
        )
            .into_response(),
    }
}

async fn not_found(uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": format!("no such endpoint: {}", uri.path()) })),
    )
        .into_response()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC.
fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}
