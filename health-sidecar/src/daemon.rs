//! Wiring: parse flags, bind, start the app, spawn the loops, wait for the
//! end. Everything here is glue; the behaviour lives in the modules.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Config, TOKEN_ENV};
use crate::conns::ConnCounter;
use crate::monitor::{housekeeping_loop, probe_loop};
use crate::procstats::ProcSampler;
use crate::shared::{AppState, Settings};
use crate::state::Policy;
use crate::supervise::{self, Signals, StopPolicy};
use crate::worker::Worker;

/// Exit code for usage errors (clap uses the same).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the `--listen` address cannot be bound.
pub const EXIT_BIND: u8 = 3;
/// Exit code when the app command exists but cannot be started.
pub const EXIT_CANNOT_EXEC: u8 = 126;
/// Exit code when the app command is not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// The whole program, from raw arguments to an exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "drain") {
        return ExitCode::from(crate::client::main(args[2..].to_vec()));
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE));
        }
    };
    let config = match cli.into_config(std::env::var(TOKEN_ENV).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("health-sidecar: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // One thread: the sidecar's work is a probe a second and a few
    // requests, and every extra worker thread costs RSS.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Host-name lookups for the probe; kernel reads have their own thread.
        .max_blocking_threads(2)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("health-sidecar: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    ExitCode::from(runtime.block_on(run(config)))
}

async fn run(config: Config) -> u8 {
    // Handlers first, so a SIGTERM that arrives during startup is handled
    // (drain, then stop) rather than killing us with the app orphaned.
    let signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("health-sidecar: cannot install signal handlers: {e}");
            return 1;
        }
    };
    let listener = match bind(config.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "health-sidecar: could not bind --listen {}: {e}",
                config.listen
            );
            return EXIT_BIND;
        }
    };
    let state = AppState::new(
        Settings {
            probe_kind: config.probe.kind(),
            probe_target: config.probe.target(),
            app_port: config.app_port,
            version: config.version.clone(),
            token: config.token.clone(),
        },
        Policy {
            failure_threshold: config.failure_threshold,
            success_threshold: config.success_threshold,
            startup_timeout: config.startup_timeout,
            drain_min: config.drain_min,
            drain_timeout: config.drain_timeout,
            counting: config.app_port.is_some(),
        },
    );

    let child = if config.command.is_empty() {
        None
    } else {
        match supervise::spawn(&config.command) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("health-sidecar: could not start {}: {e}", config.command[0]);
                return if e.kind() == std::io::ErrorKind::NotFound {
                    EXIT_NOT_FOUND
                } else {
                    EXIT_CANNOT_EXEC
                };
            }
        }
    };
    let app_pid = child.as_ref().map(|(_, pid)| pid.pid()).or(config.app_pid);

    let bound = listener.local_addr().unwrap_or(config.listen);
    eprintln!(
        "health-sidecar: listening on {bound}, probing {}{}",
        config.probe.target(),
        app_pid
            .map(|p| format!(", app pid {p}"))
            .unwrap_or_default()
    );

    tokio::spawn(serve(listener, state.clone()));
    let probe = Arc::new(config.probe.clone());
    let timeout = config.probe_timeout;
    tokio::spawn(probe_loop(
        state.clone(),
        config.probe_interval,
        move || {
            let probe = probe.clone();
            async move { probe.run(timeout).await }
        },
    ));
    let counter = config.app_port.map(ConnCounter::new);
    if let Some(c) = &counter {
        eprintln!(
            "health-sidecar: counting connections on port {} via {}",
            c.port(),
            c.source()
        );
    }
    let counter = counter.map(|c| Arc::new(Mutex::new(c)));
    let sampler = app_pid.map(|pid| {
        // A first reading now, so `/health` has `process` from the start.
        let mut s = ProcSampler::new(pid);
        state.set_process(Some(s.sample()));
        Arc::new(Mutex::new(s))
    });
    let worker = match Worker::start("hs-kernel-reads") {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!("health-sidecar: cannot start the worker thread ({e}); no connection counts");
            None
        }
    };
    let w2 = worker.clone();
    tokio::spawn(housekeeping_loop(
        state.clone(),
        config.probe_interval.min(Duration::from_secs(1)),
        move || {
            offload(worker.clone(), counter.clone(), |c: &mut ConnCounter| {
                c.count()
            })
        },
        move || offload(w2.clone(), sampler.clone(), ProcSampler::sample),
    ));
    tokio::spawn(supervise::reaper_loop(Duration::from_secs(1)));

    match child {
        Some((child, pid)) => {
            let stop = StopPolicy {
                stop_timeout: config.stop_timeout,
            };
            supervise::supervise(state, child, pid.pid(), signals, stop).await
        }
        None => supervise::standalone(state, signals).await,
    }
}

/// Runs a blocking read of the kernel's tables on the worker thread, so the
/// one runtime thread keeps answering requests meanwhile. `None` when there
/// is nothing to run (or no worker).
async fn offload<T, R>(
    worker: Option<Worker>,
    target: Option<Arc<Mutex<T>>>,
    f: fn(&mut T) -> R,
) -> Option<R>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let (worker, target) = (worker?, target?);
    worker
        .run(move || {
            let mut guard = target.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
}

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(l)
}

async fn serve(listener: tokio::net::TcpListener, state: AppState) {
    let app = crate::http::app(state).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("health-sidecar: HTTP server stopped: {e}");
    }
}
