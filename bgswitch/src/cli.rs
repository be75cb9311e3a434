//! The `bgswitch` command line: `status`, `switch`, `deploy`, `rollback`,
//! `history`, `init`, `demo`. `main` returns the exit code; each command says what it did.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::{self, Config};
use crate::pools::NginxFiles;
use crate::report::Reporter;
use crate::switch::{self, exit, SwitchOptions};

#[derive(Debug, Parser)]
#[command(
    name = "bgswitch",
    version,
    about = "Verified blue-green switches for plain nginx",
    after_help = "Exit codes: 0 switched or nothing to do, 1 target pool not ready (nothing changed), \
                  2 configuration or usage error, 3 nginx -t failed (old bytes restored), \
                  4 reload did not take or verify failed (rolled back), 5 soak breach (rolled back), \
                  6 another run holds the lock, 7 a rollback failed (the message says what state nginx is in), \
                  8 deploy switched but the old pool's stop failed (traffic is on the new version). \
                  deploy: a start that fails or times out is exit 1 (nothing switched)."
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = "bgswitch.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Which pool is live, and the health of each pool.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Make a pool live: gate, edit, test, reload, prove, verify, drain.
    Switch {
        /// The pool to make live (default: the one that is not).
        #[arg(long)]
        to: Option<String>,
        /// Print the plan and the config diff; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not drain the old pool.
        #[arg(long)]
        no_drain: bool,
        /// Watch errors this long after the switch (overrides [soak] duration).
        #[arg(long, value_parser = humantime::parse_duration)]
        soak: Option<Duration>,
        #[arg(long)]
        json: bool,
    },
    /// The whole job: start VERSION in the idle pool, gate (with the
    /// version), switch, verify, soak, drain, stop the old pool.
    Deploy {
        /// The version to start (`{version}`, `BGSWITCH_VERSION`).
        version: String,
        /// The pool to deploy to (default: the one that is not live).
        #[arg(long)]
        to: Option<String>,
        /// Print the plan, the commands it would run and the config diff;
        /// change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Leave the old pool running (no `stop`).
        #[arg(long)]
        no_stop: bool,
        /// Watch errors this long after the switch (overrides [soak] duration).
        #[arg(long, value_parser = humantime::parse_duration)]
        soak: Option<Duration>,
        #[arg(long)]
        json: bool,
    },
    /// Switch back to the pool that was live before the last switch
    /// (starting it again first when deploy stopped it).
    Rollback {
        #[arg(long)]
        json: bool,
    },
    /// The journal of switches.
    History {
        #[arg(long)]
        json: bool,
    },
    /// Write a commented bgswitch.toml for the switch an nginx file uses.
    Init(crate::init::InitArgs),
    /// Run a real nginx and two pools on loopback and switch them under load.
    Demo {
        /// Switches to run (blue to green and back counts two).
        #[arg(long, default_value_t = 2)]
        switches: u32,
        /// Run the same traffic through a map switch (reload) and a flag
        /// switch (no reload) and show side by side what each client saw.
        #[arg(long)]
        compare: bool,
    },
    /// Start a lab (nginx, two pools, sidecars) on loopback, print its
    /// bgswitch.toml path, and keep it until stdin closes (benchmarks).
    #[command(hide = true)]
    LabUp {
        /// The lab's switch kind: map, upstream, replace or flag.
        #[arg(long, default_value = "map")]
        kind: String,
    },
    /// The lab's app (used by `demo` and the tests).
    #[command(hide = true)]
    LabApp {
        #[arg(long)]
        listen: String,
        #[arg(long)]
        pool: String,
        /// The version it reports (JSON `version`, header `X-Version`).
        #[arg(long, default_value = "dev")]
        version: String,
        /// `sidecar` (any path answers 200), `bare` (`/health`: 200, no
        /// body), `healthy` (`/health`: 503 `{"status":"starting"}` for
        /// `--starting`, then 200 `{"status":"healthy"}`; `POST
        /// /health/drain`).
        #[arg(long, default_value = "sidecar")]
        health: String,
        #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
        starting: Duration,
    },
}

/// Parses the arguments and runs; returns the exit code.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::CONFIG
            } else {
                exit::OK
            };
        }
    };
    run(cli)
}

pub fn run(cli: Cli) -> u8 {
    match &cli.command {
        Command::Demo { switches, compare } => return crate::demo::run(*switches, *compare),
        Command::Init(args) => return crate::init::run(args),
        Command::LabUp { kind } => return crate::demo::lab_up(kind),
        Command::LabApp {
            listen,
            pool,
            version,
            health,
            starting,
        } => {
            let app = crate::lab::app::App {
                pool: pool.clone(),
                version: version.clone(),
                health: health.clone(),
                starting: *starting,
            };
            return match crate::lab::app::serve(listen, app) {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("lab-app: {listen}: {e}");
                    exit::CONFIG
                }
            };
        }
        // Checked before the config is read: nothing runs.
        Command::Deploy { version, .. } if version.trim().is_empty() => {
            eprintln!("error: VERSION is empty: say which version to deploy");
            return exit::CONFIG;
        }
        _ => {}
    }
    let cfg = match config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    match cli.command {
        Command::Status { json } => status(&cfg, json),
        Command::Switch {
            to,
            dry_run,
            no_drain,
            soak,
            json,
        } => {
            let opts = SwitchOptions {
                to,
                dry_run,
                no_drain,
                soak,
                command: "switch".into(),
                ..SwitchOptions::default()
            };
            switch::run(&cfg, &opts, &mut Reporter::new(json)).code
        }
        Command::Deploy {
            version,
            to,
            dry_run,
            no_stop,
            soak,
            json,
        } => {
            let opts = SwitchOptions {
                to,
                dry_run,
                soak,
                no_stop,
                version: Some(version),
                command: "deploy".into(),
                ..SwitchOptions::default()
            };
            switch::run(&cfg, &opts, &mut Reporter::new(json)).code
        }
        Command::Rollback { json } => rollback(&cfg, json),
        Command::History { json } => history(&cfg, json),
        Command::Demo { .. }
        | Command::Init(_)
        | Command::LabApp { .. }
        | Command::LabUp { .. } => exit::OK,
    }
}

fn status(cfg: &Config, as_json: bool) -> u8 {
    // said on every run that skips certificate checks (JSON mode keeps
    // stdout one object)
    for note in cfg.insecure_notes() {
        if as_json {
            eprintln!("note: {note}");
        } else {
            println!("note: {note}");
        }
    }
    let files = match NginxFiles::load(cfg) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let live = match files.live(cfg) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let deployed = crate::state::read(&cfg.state.journal)
        .map(|e| crate::state::known_versions(&e))
        .unwrap_or_default();
    let field = cfg.gate.version_field.as_deref();
    let mut pools = serde_json::Map::new();
    for (name, pool) in &cfg.pools {
        let healths: Vec<_> = pool
            .health
            .iter()
            .map(|u| crate::health::probe(&cfg.gate.client, u, Duration::from_secs(2), field))
            .collect();
        let health: Vec<_> = healths
            .iter()
            .map(|h| {
                json!({
                    "url": h.entry,
                    "status": h.shown_status(),
                    "ready": h.ready,
                    "http": h.http,
                    "version": h.version,
                })
            })
            .collect();
        pools.insert(
            name.clone(),
            json!({
                "servers": files.pool_addresses(cfg, name),
                "health": health,
                "ready": !healths.is_empty() && healths.iter().all(|h| h.ready),
                "version": crate::health::pool_version(&healths),
                "deployed_version": deployed.get(name),
            }),
        );
    }
    let serving = serving_pool(cfg);
    let doc = json!({ "live": live, "serving": serving, "file": files.path(), "pools": pools });
    let mut out = std::io::stdout().lock();
    if as_json {
        let _ = writeln!(out, "{doc}");
    } else {
        let _ = writeln!(
            out,
            "live: {}  ({})",
            live.as_deref().unwrap_or("(none)"),
            files.path().display()
        );
        if let Some(s) = &serving {
            let _ = writeln!(out, "serving through the load balancer: {s}");
        }
        for (name, p) in &pools {
            let mark = if live.as_deref() == Some(name.as_str()) {
                "*"
            } else {
                " "
            };
            let servers: Vec<String> = p["servers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let version = |k: &str| p[k].as_str().unwrap_or("-").to_string();
            let _ = writeln!(
                out,
                "{mark} {name}: servers {}  version {} (last deployed: {})",
                servers.join(", "),
                version("version"),
                version("deployed_version")
            );
            for h in p["health"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "    {}  {}{}",
                    h["url"].as_str().unwrap_or(""),
                    h["status"].as_str().unwrap_or(""),
                    if h["ready"].as_bool() == Some(true) && h["status"] != "ready" {
                        " (ready)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    exit::OK
}

/// Which pool answers through `[verify] url` now (by its `expect`), if
/// one is configured and answers.
fn serving_pool(cfg: &Config) -> Option<String> {
    let url = crate::http::Url::parse(cfg.verify.url.as_deref()?).ok()?;
    let r = cfg
        .verify
        .client
        .request("GET", &url, &[], None, Duration::from_secs(2))
        .ok()?;
    let seen = match (&cfg.verify.header, &cfg.verify.json_field) {
        (Some(h), _) => r.header(h).map(str::to_string),
        (None, Some(f)) => r.json_field(f),
        (None, None) => None,
    }?;
    Some(
        cfg.pools
            .values()
            .find(|p| p.expect == seen)
            .map_or(seen, |p| p.name.clone()),
    )
}

fn rollback(cfg: &Config, as_json: bool) -> u8 {
    let entries = match crate::state::read(&cfg.state.journal) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {}: {e}", cfg.state.journal.display());
            return exit::CONFIG;
        }
    };
    let Some(last) = entries.iter().rev().find(|e| e.result == "switched") else {
        eprintln!(
            "error: {}: no switch to roll back",
            cfg.state.journal.display()
        );
        return exit::CONFIG;
    };
    let Some(previous) = last.from.clone() else {
        eprintln!("error: the last switch had no previous pool to go back to");
        return exit::CONFIG;
    };
    // A deploy that stopped the old pool: start it again with the version
    // the journal recorded for it, then gate (on that version) and switch.
    let version = match &last.stopped {
        Some(stopped) if *stopped == previous => match last.versions.get(&previous) {
            Some(v) => Some(v.clone()),
            None => {
                eprintln!(
                    "error: {}: the last deploy stopped {previous}, but the journal has no version for it: start it by hand (pools.{previous}.start), then run rollback again",
                    cfg.state.journal.display()
                );
                return exit::CONFIG;
            }
        },
        _ => None,
    };
    let opts = SwitchOptions {
        to: Some(previous),
        command: "rollback".into(),
        no_stop: true,
        version,
        ..SwitchOptions::default()
    };
    let outcome = switch::run(cfg, &opts, &mut Reporter::new(as_json));
    match outcome.result {
        // A rollback whose own steps failed and were undone leaves the
        // new pool live: the rollback failed.
        "rolled_back" | "failed" => exit::ROLLBACK_FAILED,
        _ => outcome.code,
    }
}

fn history(cfg: &Config, as_json: bool) -> u8 {
    let entries = match crate::state::read(&cfg.state.journal) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {}: {e}", cfg.state.journal.display());
            return exit::CONFIG;
        }
    };
    let mut out = std::io::stdout().lock();
    for e in entries {
        if as_json {
            let _ = writeln!(out, "{}", serde_json::to_string(&e).unwrap_or_default());
        } else {
            let version = e
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let stopped = e
                .stopped
                .as_deref()
                .map(|p| format!("  stopped {p}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}  {:<8}{version} {} -> {}  {}  {} ms  {}{stopped}",
                e.time,
                e.command,
                e.from.as_deref().unwrap_or("-"),
                e.to.as_deref().unwrap_or("-"),
                e.result,
                e.ms,
                e.file
            );
        }
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
