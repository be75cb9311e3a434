//! Every endpoint and status code through the router, with `oneshot`.
//! The peer address is injected as axum's `ConnectInfo`, which is how the
//! non-loopback rules are reached without a second host.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use health_sidecar::http::app;
use health_sidecar::shared::{default_policy, AppState, Settings};
use health_sidecar::state::Status;
use serde_json::Value;
use tokio::time::Instant;
use tower::ServiceExt;

const LOOPBACK: &str = "127.0.0.1:50000";
const REMOTE: &str = "10.1.2.3:50000";

fn state(token: Option<&str>) -> AppState {
    AppState::new(
        Settings {
            probe_kind: "http",
            probe_target: "http://127.0.0.1:3000/health".into(),
            app_port: Some(3000),
            version: Some("v1.2.3".into()),
            token: token.map(str::to_string),
        },
        default_policy(),
    )
}

fn ready(s: &AppState) {
    s.update(|m| m.on_probe(Ok(()), Instant::now()));
}

fn fail(s: &AppState, n: usize) {
    for _ in 0..n {
        s.update(|m| m.on_probe(Err("HTTP status 500".into()), Instant::now()));
    }
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn send(
    router: Router,
    method: Method,
    uri: &str,
    peer: Option<&str>,
    auth: Option<&str>,
    body: &str,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let mut req = req.body(Body::from(body.to_string())).unwrap();
    if let Some(p) = peer {
        req.extensions_mut()
            .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
    }
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    Resp {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn get(s: &AppState, uri: &str) -> Resp {
    send(app(s.clone()), Method::GET, uri, Some(LOOPBACK), None, "").await
}

async fn post(s: &AppState, uri: &str, peer: Option<&str>, auth: Option<&str>) -> Resp {
    send(app(s.clone()), Method::POST, uri, peer, auth, "").await
}

#[tokio::test]
async fn health_is_503_while_starting_with_every_field() {
    let s = state(None);
    s.set_connections(Some(2));
    let r = get(&s, "/health").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    let j = r.json();
    assert_eq!(j["status"], "starting");
    assert_eq!(j["version"], "v1.2.3");
    assert!(j["uptime_seconds"].is_u64());
    let since = j["since"].as_str().unwrap();
    assert_eq!(since.len(), 24, "{since}");
    assert!(
        since.ends_with('Z') && since.as_bytes()[10] == b'T',
        "{since}"
    );
    assert_eq!(j["probe"]["kind"], "http");
    assert_eq!(j["probe"]["target"], "http://127.0.0.1:3000/health");
    assert_eq!(j["probe"]["last_ok"], Value::Null);
    assert_eq!(j["probe"]["consecutive_failures"], 0);
    assert_eq!(j["connections"]["app_port"], 3000);
    assert_eq!(j["connections"]["active"], 2);
    assert!(j.get("drain").is_none());
    assert!(j.get("process").is_none(), "no pid known: no process field");
    // field order follows DESIGN.md
    assert!(
        r.body.starts_with("{\"status\":\"starting\",\"version\""),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn health_is_200_only_when_ready() {
    let s = state(None);
    ready(&s);
    let r = get(&s, "/health").await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j["status"], "ready");
    assert!(j["probe"]["last_ok"].as_str().unwrap().ends_with('Z'));

    fail(&s, 3);
    let r = get(&s, "/health").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let j = r.json();
    assert_eq!(j["status"], "failing");
    assert_eq!(j["probe"]["consecutive_failures"], 3);
    assert!(j["reason"].as_str().unwrap().contains("HTTP status 500"));
    assert_eq!(j["probe"]["last_error"], "HTTP status 500");
}

#[tokio::test]
async fn health_reports_the_drain_and_how_it_ended() {
    let s = state(None);
    ready(&s);
    s.request_drain();
    let r = get(&s, "/health").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let j = r.json();
    assert_eq!(j["status"], "draining");
    assert!(j["drain"]["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(j["drain"]["deadline"].as_str().unwrap() > j["drain"]["started_at"].as_str().unwrap());
    assert_eq!(j["drain"]["reason"], Value::Null);
    s.update(|m| m.on_connections(Some(0), Instant::now()));
    let j = get(&s, "/health").await.json();
    assert_eq!(j["status"], "drained");
    assert_eq!(j["drain"]["reason"], "connections_closed");
    assert!(j["drain"]["completed_at"].is_string());
}

#[tokio::test]
async fn health_shows_process_stats_when_a_pid_is_known() {
    let s = state(None);
    let mut sampler = health_sidecar::procstats::ProcSampler::new(std::process::id());
    s.set_process(Some(sampler.sample()));
    let j = get(&s, "/health").await.json();
    assert_eq!(j["process"]["pid"], std::process::id());
    assert!(j["process"]["rss_bytes"].as_u64().unwrap() > 0);
    assert!(j["process"]["cpu_percent"].is_number());
}

#[tokio::test]
async fn readyz_and_livez() {
    let s = state(None);
    // starting: not ready, but alive
    let r = get(&s, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("[-]probe failed: starting"), "{}", r.body);
    let r = get(&s, "/livez").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));

    ready(&s);
    let r = get(&s, "/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    let r = get(&s, "/readyz?verbose").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "[+]probe ok\n[+]drain ok\nreadyz check passed\n");
    let r = get(&s, "/livez?verbose=1").await;
    assert_eq!(r.body, "[+]sidecar ok\n[+]probe ok\nlivez check passed\n");
    let r = get(&s, "/readyz?verbose=0").await;
    assert_eq!(r.body, "ok");

    fail(&s, 3);
    let r = get(&s, "/livez").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.body.contains("[-]probe failed: probe failed 3 times"),
        "{}",
        r.body
    );
    let r = get(&s, "/readyz?verbose").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("[+]drain ok"), "{}", r.body);

    // draining: alive (never restart a draining app), not ready
    ready(&s);
    s.request_drain();
    let r = get(&s, "/livez").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get(&s, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("[-]drain failed: draining"), "{}", r.body);
}

#[tokio::test]
async fn livez_fails_when_the_app_process_is_gone() {
    let s = state(None);
    let mut gone = health_sidecar::procstats::ProcSampler::new(u32::MAX - 7);
    s.set_process(Some(gone.sample()));
    let r = get(&s, "/livez?verbose").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("[-]process failed"), "{}", r.body);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let s = state(None);
    ready(&s);
    s.set_connections(Some(5));
    let r = get(&s, "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(r
        .body
        .contains("health_sidecar_status{state=\"ready\"} 1\n"));
    assert!(r
        .body
        .contains("health_sidecar_status{state=\"starting\"} 0\n"));
    assert!(r.body.contains("health_sidecar_app_connections 5\n"));
    assert!(r
        .body
        .contains("# TYPE health_sidecar_probe_duration_seconds histogram\n"));
}

#[tokio::test]
async fn drain_from_loopback_is_accepted_and_idempotent() {
    let s = state(None);
    ready(&s);
    let r = post(&s, "/health/drain", Some(LOOPBACK), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body, r#"{"status":"draining"}"#);
    let first = get(&s, "/health").await.json()["drain"]["deadline"].clone();
    let r = post(&s, "/health/drain", Some("[::1]:4000"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body, r#"{"status":"draining"}"#);
    assert_eq!(
        get(&s, "/health").await.json()["drain"]["deadline"],
        first,
        "deadline kept"
    );
    s.update(|m| m.on_connections(Some(0), Instant::now()));
    let r = post(&s, "/health/drain", Some(LOOPBACK), None).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::ACCEPTED, r#"{"status":"drained"}"#)
    );
}

#[tokio::test]
async fn post_without_token_is_loopback_only() {
    let s = state(None);
    ready(&s);
    for peer in [
        Some(REMOTE),
        Some("[2001:db8::1]:1"),
        Some("[::ffff:10.0.0.1]:1"),
        None,
    ] {
        let r = post(&s, "/health/drain", peer, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{peer:?}");
        assert!(r.json()["error"].as_str().unwrap().contains("loopback"));
        let r = post(&s, "/health/undrain", peer, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{peer:?}");
    }
    assert_eq!(
        s.read(|m| m.status()),
        Status::Ready,
        "refused requests change nothing"
    );
    let r = post(&s, "/health/drain", Some("[::ffff:127.0.0.1]:1"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn post_with_token_needs_the_bearer_token() {
    let s = state(Some("t0ken"));
    ready(&s);
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer t0ke"),
        Some("Bearer t0ken0"),
        Some("Basic t0ken"),
        Some("t0ken"),
    ] {
        // a token is required even from loopback
        let r = post(&s, "/health/drain", Some(LOOPBACK), auth).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
        let r = post(&s, "/health/undrain", Some(REMOTE), auth).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    assert_eq!(s.read(|m| m.status()), Status::Ready);
    // with the token, from anywhere
    let r = post(&s, "/health/drain", Some(REMOTE), Some("Bearer t0ken")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(s.read(|m| m.status()), Status::Draining);
    let r = post(&s, "/health/undrain", None, Some("bearer t0ken")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, r#"{"status":"ready"}"#)
    );
}

#[tokio::test]
async fn undrain_returns_to_the_probe_status_and_409_once_stopping() {
    let s = state(None);
    ready(&s);
    let r = post(&s, "/health/undrain", Some(LOOPBACK), None).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, r#"{"status":"ready"}"#),
        "no-op when not draining"
    );
    post(&s, "/health/drain", Some(LOOPBACK), None).await;
    fail(&s, 1);
    let r = post(&s, "/health/undrain", Some(LOOPBACK), None).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, r#"{"status":"failing"}"#)
    );
    ready(&s);
    post(&s, "/health/drain", Some(LOOPBACK), None).await;
    s.update(|m| m.mark_stopping());
    let r = post(&s, "/health/undrain", Some(LOOPBACK), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["status"], "draining");
    assert_eq!(s.read(|m| m.status()), Status::Draining);
}

#[tokio::test]
async fn request_bodies_are_ignored() {
    let s = state(None);
    ready(&s);
    let body = "x".repeat(100_000);
    let r = send(
        app(s.clone()),
        Method::POST,
        "/health/drain",
        Some(LOOPBACK),
        None,
        &body,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn wrong_methods_and_paths() {
    let s = state(None);
    ready(&s);
    let r = send(
        app(s.clone()),
        Method::GET,
        "/health/drain",
        Some(LOOPBACK),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = send(
        app(s.clone()),
        Method::POST,
        "/health",
        Some(LOOPBACK),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = send(
        app(s.clone()),
        Method::DELETE,
        "/health/undrain",
        Some(LOOPBACK),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = get(&s, "/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].as_str().unwrap().contains("/nope"));
    assert_eq!(s.read(|m| m.status()), Status::Ready);
}

#[tokio::test]
async fn get_never_changes_state() {
    let s = state(None);
    ready(&s);
    for uri in [
        "/health",
        "/livez",
        "/readyz?verbose",
        "/metrics",
        "/health/drain",
        "/health/undrain",
        "/health?drain=1",
    ] {
        let _ = get(&s, uri).await;
    }
    assert_eq!(s.read(|m| m.status()), Status::Ready);
    assert!(get(&s, "/metrics")
        .await
        .body
        .contains("health_sidecar_drain_requests_total 0\n"));
}
