//! Traffic through the load balancer while switches happen, counting every
//! answer by pool and every failure. Three kinds of client, as DESIGN.md's
//! "zero downtime" defines it:
//! - a new connection per request;
//! - keep-alive connections that retry an idempotent request once when a
//!   reused connection closes before any response byte (RFC 9112 9.3.1;
//!   nginx closes idle keep-alive connections of its old workers on reload);
//! - keep-alive connections that never retry (wrk, many HTTP libraries):
//!   every closed reused connection is a failure (DESIGN.md: zero for
//!   `kind = "flag"`, which reloads nothing);
//! - slow requests (several seconds) in flight across the switch.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::conn::{self, Connection};
use crate::http::{self, Url};

/// How much traffic.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The load balancer (`http://127.0.0.1:8080/`).
    pub url: String,
    pub fresh_clients: usize,
    pub keepalive_clients: usize,
    /// Keep-alive clients that never retry.
    pub keepalive_noretry_clients: usize,
    pub slow_clients: usize,
    pub slow_ms: u64,
    /// Pause between two requests of one client.
    pub pause: Duration,
}

/// What the clients saw.
#[derive(Debug, Clone, Default)]
pub struct LoadStats {
    /// Answers per pool (the `X-Pool` header).
    pub per_pool: BTreeMap<String, u64>,
    pub total: u64,
    pub failed: u64,
    /// Keep-alive requests retried once after a closed reused connection.
    pub retried: u64,
    /// Slow requests completed.
    pub slow_done: u64,
    /// The first failures, described.
    pub failures: Vec<String>,
    /// Requests and failures per client kind (`fresh`, `keepalive`,
    /// `keepalive-noretry`, `slow`).
    pub per_kind: BTreeMap<&'static str, KindStats>,
}

/// What one kind of client saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindStats {
    pub total: u64,
    pub failed: u64,
}

impl LoadStats {
    fn ok(&mut self, kind: Kind, pool: Option<&str>) {
        self.per_kind.entry(kind.name()).or_default().total += 1;
        self.total += 1;
        *self
            .per_pool
            .entry(pool.unwrap_or("?").to_string())
            .or_default() += 1;
    }

    fn fail(&mut self, kind: Kind, what: String) {
        let k = self.per_kind.entry(kind.name()).or_default();
        k.total += 1;
        k.failed += 1;
        self.total += 1;
        self.failed += 1;
        if self.failures.len() < 20 {
            self.failures.push(what);
        }
    }
}

/// Running clients; `stop` returns their counts.
#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<LoadStats>>,
    handles: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(opts: &LoadOptions) -> Result<Load, String> {
        let url = Url::parse(&opts.url)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(LoadStats::default()));
        let mut handles = Vec::new();
        let kinds = [
            (opts.fresh_clients, Kind::Fresh),
            (opts.keepalive_clients, Kind::KeepAlive),
            (opts.keepalive_noretry_clients, Kind::KeepAliveNoRetry),
            (opts.slow_clients, Kind::Slow(opts.slow_ms)),
        ];
        for (n, kind) in kinds {
            for _ in 0..n {
                let (url, stop, stats, pause) =
                    (url.clone(), stop.clone(), stats.clone(), opts.pause);
                handles.push(std::thread::spawn(move || {
                    client(kind, &url, &stop, &stats, pause)
                }));
            }
        }
        Ok(Load {
            stop,
            stats,
            handles,
        })
    }

    /// The counts so far.
    pub fn snapshot(&self) -> LoadStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops the clients (slow requests in flight are finished first).
    pub fn stop(self) -> LoadStats {
        self.stop.store(true, Ordering::SeqCst);
        for h in self.handles {
            let _ = h.join();
        }
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Fresh,
    KeepAlive,
    KeepAliveNoRetry,
    Slow(u64),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Fresh => "fresh",
            Kind::KeepAlive => "keepalive",
            Kind::KeepAliveNoRetry => "keepalive-noretry",
            Kind::Slow(_) => "slow",
        }
    }
}

fn record(stats: &Mutex<LoadStats>, f: impl FnOnce(&mut LoadStats)) {
    if let Ok(mut s) = stats.lock() {
        f(&mut s);
    }
}

fn client(kind: Kind, url: &Url, stop: &AtomicBool, stats: &Mutex<LoadStats>, pause: Duration) {
    let timeout = Duration::from_secs(30);
    let mut conn: Option<Connection> = None;
    while !stop.load(Ordering::SeqCst) {
        let result = match kind {
            Kind::Fresh => http::request("GET", url, &[], timeout)
                .map(|r| (r, false))
                .map_err(io::Error::other),
            Kind::Slow(ms) => http::request(
                "GET",
                &url.with_path(&format!("/slow?ms={ms}")),
                &[],
                timeout,
            )
            .map(|r| (r, false))
            .map_err(io::Error::other),
            Kind::KeepAlive => keepalive_get(&mut conn, url, timeout, true),
            Kind::KeepAliveNoRetry => keepalive_get(&mut conn, url, timeout, false),
        };
        match result {
            Ok((r, retried)) if r.status == 200 => record(stats, |s| {
                s.ok(kind, r.header("x-pool"));
                if retried {
                    s.retried += 1;
                }
                if matches!(kind, Kind::Slow(_)) {
                    s.slow_done += 1;
                }
            }),
            Ok((r, _)) => record(stats, |s| {
                s.fail(kind, format!("{kind:?}: status {}", r.status))
            }),
            Err(e) => {
                conn = None;
                record(stats, |s| s.fail(kind, format!("{kind:?}: {e}")));
            }
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// A GET on a kept-alive connection; with `retry`, retried once on a
/// fresh connection when a reused one closed before any response byte
/// arrived.
fn keepalive_get(
    conn: &mut Option<Connection>,
    url: &Url,
    timeout: Duration,
    retry: bool,
) -> io::Result<(http::Response, bool)> {
    if conn.is_none() {
        *conn = Some(Connection::open(url, timeout)?);
    }
    let Some(c) = conn.as_mut() else {
        return Err(io::Error::other("no connection"));
    };
    let reused = c.reused;
    match c.get(url) {
        Ok(r) => {
            if r.header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"))
            {
                *conn = None;
            }
            Ok((r, false))
        }
        Err(e) if retry && reused && conn::is_no_response(&e) => {
            let mut fresh = Connection::open(url, timeout)?;
            let r = fresh.get(url)?;
            *conn = Some(fresh);
            Ok((r, true))
        }
        Err(e) => Err(e),
    }
}
