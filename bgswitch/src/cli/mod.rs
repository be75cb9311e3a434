//! The `bgswitch` command line: `status`, `switch`, `deploy`, `rollback`,
//! `history`, `init`, `demo`. `main` returns the exit code; each command says what it did.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
mod history;
mod rollback;
mod status;

use crate::config;
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
        #[command(flatten)]
        run: RunArgs,
        /// Do not drain the old pool.
        #[arg(long)]
        no_drain: bool,
    },
    /// The whole job: start VERSION in the idle pool, gate (with the
    /// version), switch, verify, soak, drain, stop the old pool.
    Deploy {
        /// The version to start (`{version}`, `BGSWITCH_VERSION`).
        version: String,
        #[command(flatten)]
        run: RunArgs,
        /// Leave the old pool running (no `stop`).
        #[arg(long)]
        no_stop: bool,
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

/// The journal's entries for `history` and `rollback`, which need it:
/// one that cannot be read is said, naming it, and is exit 2.
fn journal(cfg: &config::Config) -> Result<Vec<crate::state::Entry>, u8> {
    crate::state::read(&cfg.state.journal).map_err(|e| {
        eprintln!("error: {}: {e}", cfg.state.journal.display());
        exit::CONFIG
    })
}

/// The flags `switch` and `deploy` share.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The pool to make live (default: the one that is not live).
    #[arg(long)]
    to: Option<String>,
    /// Print the plan and the config diff (deploy: and the commands it
    /// would run); change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Watch errors this long after the switch (overrides [soak] duration).
    #[arg(long, value_parser = humantime::parse_duration)]
    soak: Option<Duration>,
    #[arg(long)]
    json: bool,
}

impl RunArgs {
    /// Runs `command` (`switch`, `deploy`) with these flags and `extra`'s
    /// own; returns the exit code.
    fn run(self, cfg: &config::Config, command: &str, extra: SwitchOptions) -> u8 {
        let opts = SwitchOptions {
            to: self.to,
            dry_run: self.dry_run,
            soak: self.soak,
            command: command.into(),
            ..extra
        };
        switch::run(cfg, &opts, &mut Reporter::new(self.json)).code
    }
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
        Command::Status { json } => status::run(&cfg, json),
        Command::Switch { run, no_drain } => run.run(
            &cfg,
            "switch",
            SwitchOptions {
                no_drain,
                ..SwitchOptions::default()
            },
        ),
        Command::Deploy {
            version,
            run,
            no_stop,
        } => run.run(
            &cfg,
            "deploy",
            SwitchOptions {
                no_stop,
                version: Some(version),
                ..SwitchOptions::default()
            },
        ),
        Command::Rollback { json } => rollback::run(&cfg, json),
        Command::History { json } => history::run(&cfg, json),
        Command::Demo { .. }
        | Command::Init(_)
        | Command::LabApp { .. }
        | Command::LabUp { .. } => exit::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn switch_and_deploy_share_their_flags() {
        let parse = |a: &[&str]| Cli::try_parse_from(a).map(|c| c.command);
        let Ok(Command::Switch { run, no_drain }) = parse(&[
            "bgswitch",
            "switch",
            "--to",
            "green",
            "--dry-run",
            "--soak",
            "5s",
            "--json",
            "--no-drain",
        ]) else {
            panic!("switch does not parse")
        };
        assert!(no_drain && run.dry_run && run.json);
        assert_eq!(
            (run.to.as_deref(), run.soak),
            (Some("green"), Some(Duration::from_secs(5)))
        );
        let Ok(Command::Deploy {
            version,
            run,
            no_stop,
        }) = parse(&["bgswitch", "deploy", "v2", "--to", "blue", "--no-stop"])
        else {
            panic!("deploy does not parse")
        };
        assert_eq!((version.as_str(), run.to.as_deref()), ("v2", Some("blue")));
        assert!(no_stop && !run.dry_run && !run.json && run.soak.is_none());
        assert!(parse(&["bgswitch", "switch", "--no-stop"]).is_err());
        assert!(parse(&["bgswitch", "deploy", "v2", "--no-drain"]).is_err());
    }
}
