//! `deploy`'s first steps: check that the commands can run (before
//! anything runs), then the target pool's `start` with VERSION. A start
//! that fails or times out changes nothing else: exit 1, and the pool is
//! left as `start` left it.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::commands::{self, Vars};
use crate::config::{Config, StopOld};
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::requests::{self, PoolAnswer};
use crate::switch::undo::{Cause, Change};

/// The config file's directory: where `start` and `stop` run.
pub fn config_dir(cfg: &Config) -> PathBuf {
    match cfg.path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Before anything runs: a VERSION, a target that is not live, a `start`
/// for it and programs that exist for `start` and (when it will run) the
/// old pool's `stop`. Any of these is exit 2 naming the key. Also notes
/// the version the old pool runs, for the journal.
pub fn check(run: &mut Run) -> StepResult {
    let cfg = run.cfg;
    let config = |m: String| Failed::new(Cause::Config, m);
    let version = run.opts.version.clone().unwrap_or_default();
    if version.trim().is_empty() {
        return Err(config(
            "VERSION is empty: say which version to deploy".into(),
        ));
    }
    let target = run.target().to_string();
    if run.from.as_deref() == Some(target.as_str()) {
        let other = cfg
            .pools
            .keys()
            .find(|k| **k != target)
            .cloned()
            .unwrap_or_default();
        return Err(config(format!(
            "pool {target} is live: deploy starts the new version in the idle pool ({other}), not under live traffic"
        )));
    }
    let from = run.from.clone().unwrap_or_default();
    interrupted_switch(run, &target, &from).map_err(config)?;
    let vars = Vars {
        pool: &target,
        version: &version,
        from: &from,
    };
    let dir = config_dir(cfg);
    let Some(start) = &cfg.pools[&target].start else {
        return Err(config(format!(
            "pools.{target}.start: missing: deploy needs the command that starts {target} with the new version, e.g. start = [\"docker\", \"compose\", \"up\", \"-d\", \"--force-recreate\", \"app-{{pool}}\"]"
        )));
    };
    program_runs(start, &vars, &dir, &format!("pools.{target}.start")).map_err(config)?;
    if let Some(stop) = stop_command(run) {
        let vars = Vars {
            pool: &from,
            ..vars.clone()
        };
        program_runs(&stop, &vars, &dir, &format!("pools.{from}.stop")).map_err(config)?;
    }
    // Only for the journal, which a dry run does not write (and an `exec:`
    // probe would run a command).
    if let (Some(field), false, false) =
        (&cfg.gate.version_field, from.is_empty(), run.opts.dry_run)
    {
        let healths: Vec<_> = cfg.pools[&from]
            .health
            .iter()
            .map(|u| crate::health::probe(&cfg.gate.client, u, cfg.gate.interval, Some(field)))
            .collect();
        run.from_version = crate::health::pool_version(&healths);
    }
    Ok(Ended::Skipped)
}

/// A switch killed between its write and its reload leaves a file that
/// names a pool nginx does not serve yet: "the idle pool" of the file is
/// then the one under traffic, and its `start` would restart it. One
/// request through `[verify] url` tells (a dry run sends none).
fn interrupted_switch(run: &Run, target: &str, from: &str) -> Result<(), String> {
    let cfg = run.cfg;
    if run.opts.dry_run || from.is_empty() {
        return Ok(());
    }
    let Some(url) = requests::verify_url(cfg)? else {
        return Ok(());
    };
    let expect = &cfg.pools[target].expect;
    match requests::pool_answering(&url, &cfg.verify) {
        Ok(PoolAnswer {
            pool: Some(seen), ..
        }) if seen == *expect => Err(format!(
            "{url} answers from {target} ({seen}), but {} makes {from} live: a run was interrupted between its write and its reload; nothing started. Finish it with `bgswitch switch --to {from}` (or go back with `--to {target}`), then deploy",
            run.files().map(|f| f.path().display().to_string()).unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

/// The old pool's `stop`, when this run will run it.
pub fn stop_command(run: &Run) -> Option<Vec<String>> {
    let from = run.from.as_deref()?;
    if run.opts.no_stop || run.cfg.deploy.stop_old == StopOld::Never {
        return None;
    }
    run.cfg.pools[from].stop.clone()
}

fn program_runs(argv: &[String], vars: &Vars, dir: &Path, key: &str) -> Result<(), String> {
    let argv = commands::substitute(argv, vars);
    commands::resolve_program(&argv[0], dir)
        .map(|_| ())
        .map_err(|e| format!("{key}: {e}"))
}

/// Runs the target pool's `start` with VERSION, bounded by `[deploy]
/// start_timeout`; its output goes to the run's log.
pub fn start(run: &mut Run) -> StepResult {
    let Some(version) = run.opts.version.clone() else {
        return Ok(Ended::Skipped);
    };
    let cfg = run.cfg;
    let target = run.target().to_string();
    let from = run.from.clone().unwrap_or_default();
    let Some(start) = cfg.pools[&target].start.clone() else {
        return Err(Failed::new(
            Cause::Config,
            format!("pools.{target}.start: missing"),
        ));
    };
    let vars = Vars {
        pool: &target,
        version: &version,
        from: &from,
    };
    // Recorded before it runs: a start that fails may have started
    // something, and the undo must say the pool was left so.
    run.record.push(Change::Started {
        pool: target.clone(),
    });
    let PoolCommand {
        argv,
        shown,
        output,
        log,
        ran,
    } = run_pool_command(run, &start, &vars);
    let extra = json!({
        "command": argv,
        "log": log,
        "version": version,
        "command_ms": ran.took.as_millis() as u64,
    });
    match ran.result {
        Ok(()) => Ok(Ended::Done(
            Done::new(format!(
                "`{shown}` started {target} with version {version}{output}; output in {}",
                log.display()
            ))
            .with(extra),
        )),
        Err(e) => Err(Failed::new(
            Cause::Start,
            format!(
                "`{shown}` {e}{output}; output in {}; nothing switched",
                log.display()
            ),
        )
        .with(extra)),
    }
}

/// A pool's `start` or `stop` as it ran: the argv (substituted), how it
/// is shown, the end of its output for the detail, and the run's log.
pub struct PoolCommand {
    pub argv: Vec<String>,
    pub shown: String,
    /// ` (TAIL)`, or empty when it printed nothing.
    pub output: String,
    pub log: PathBuf,
    pub ran: commands::Ran,
}

/// Runs `argv` for a pool from the config file's directory, bounded by
/// `[deploy] start_timeout`, its output appended to the run's log.
pub fn run_pool_command(run: &mut Run, argv: &[String], vars: &Vars) -> PoolCommand {
    let argv = commands::substitute(argv, vars);
    let log = run.log_path();
    let ran = commands::run_logged(
        &argv,
        &config_dir(run.cfg),
        vars,
        run.cfg.deploy.start_timeout,
        &log,
    );
    let output = if ran.tail.is_empty() {
        String::new()
    } else {
        format!(" ({})", ran.tail)
    };
    PoolCommand {
        shown: commands::shell_words(&argv),
        argv,
        output,
        log,
        ran,
    }
}

impl Run<'_> {
    /// The run's log: `runs/TIME-COMMAND.log` beside the journal.
    pub fn log_path(&mut self) -> PathBuf {
        if let Some(p) = &self.log {
            return p.clone();
        }
        let stamp = humantime::format_rfc3339_millis(std::time::SystemTime::now())
            .to_string()
            .replace(':', "");
        let dir = match self.cfg.state.journal.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let command = if self.opts.command.is_empty() {
            "deploy"
        } else {
            self.opts.command.as_str()
        };
        let p = dir
            .join("runs")
            .join(format!("{stamp}-{command}-{}.log", std::process::id()));
        self.log = Some(p.clone());
        p
    }
}
