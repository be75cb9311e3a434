//! The `bgswitch` command line: `status`, `switch`, `rollback`, `history`,
//! `demo`. `main` returns the exit code; each command says what it did.

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
                  6 another run holds the lock, 7 a rollback failed (the message says what state nginx is in)."
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
    /// Switch back to the pool that was live before the last switch.
    Rollback {
        #[arg(long)]
        json: bool,
    },
    /// The journal of switches.
    History {
        #[arg(long)]
        json: bool,
    },
    /// Run a real nginx and two pools on loopback and switch them under load.
    Demo {
        /// Switches to run (blue to green and back counts two).
        #[arg(long, default_value_t = 2)]
        switches: u32,
    },
    /// Start a lab (nginx, two pools, sidecars) on loopback, print its
    /// bgswitch.toml path, and keep it until stdin closes (benchmarks).
    #[command(hide = true)]
    LabUp,
    /// The lab's app (used by `demo` and the tests).
    #[command(hide = true)]
    LabApp {
        #[arg(long)]
        listen: String,
        #[arg(long)]
        pool: String,
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
        Command::Demo { switches } => return crate::demo::run(*switches),
        Command::LabUp => return crate::demo::lab_up(),
        Command::LabApp { listen, pool } => {
            return match crate::lab::app::serve(listen, pool) {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("lab-app: {listen}: {e}");
                    exit::CONFIG
                }
            }
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
            };
            switch::run(&cfg, &opts, &mut Reporter::new(json)).code
        }
        Command::Rollback { json } => rollback(&cfg, json),
        Command::History { json } => history(&cfg, json),
        Command::Demo { .. } | Command::LabApp { .. } | Command::LabUp => exit::OK,
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
    let mut pools = serde_json::Map::new();
    for (name, pool) in &cfg.pools {
        let health: Vec<_> = pool
            .health
            .iter()
            .map(|u| json!({ "url": u, "status": switch::sidecar_status(&cfg.gate.client, u, Duration::from_secs(2)) }))
            .collect();
        pools.insert(
            name.clone(),
            json!({ "servers": files.pool_addresses(cfg, name), "health": health }),
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
            let _ = writeln!(out, "{mark} {name}: servers {}", servers.join(", "));
            for h in p["health"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "    {}  {}",
                    h["url"].as_str().unwrap_or(""),
                    h["status"].as_str().unwrap_or("")
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
    let opts = SwitchOptions {
        to: Some(previous),
        command: "rollback".into(),
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
            let _ = writeln!(
                out,
                "{}  {:<8} {} -> {}  {}  {} ms  {}",
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
