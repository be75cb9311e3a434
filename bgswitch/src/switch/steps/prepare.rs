//! The steps before anything changes: take the lock, read which pool is
//! live and which is the target, see whether the load balancer already
//! agrees, and plan the edit (a dry run ends there).

use std::time::Duration;

use serde_json::json;

use crate::config::SwitchKind;
use crate::pools::NginxFiles;
use crate::state::{Lock, LockError};
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::dry_run;
use crate::switch::undo::Cause;

/// Concurrent runs fail fast (exit 6). A dry run takes no lock.
pub fn lock(run: &mut Run) -> StepResult {
    if run.opts.dry_run {
        return Ok(Ended::Skipped);
    }
    match Lock::try_acquire(&run.cfg.state.lock) {
        Ok(l) => {
            let detail = l.path.display().to_string();
            run.lock = Some(l);
            Ok(Ended::Done(Done::new(detail)))
        }
        Err(e @ LockError::Held(_)) => Err(Failed::new(Cause::Locked, e.to_string())),
        Err(e) => Err(Failed::new(Cause::Config, e.to_string())),
    }
}

/// Reads the nginx files, the live pool, and the target (`--to` or the
/// other pool); everything that would fail later fails here.
pub fn read(run: &mut Run) -> StepResult {
    let config = |e: String| Failed::new(Cause::Config, e);
    let files = load(run).map_err(config)?;
    for note in &files.notes {
        run.out.note(note);
    }
    let live = files.live(run.cfg).map_err(|e| config(e.to_string()))?;
    run.from = live.clone();
    let cfg = run.cfg;
    let target = match (&run.opts.to, &live) {
        (Some(to), _) if !cfg.pools.contains_key(to) => {
            let names: Vec<&str> = cfg.pools.keys().map(String::as_str).collect();
            return Err(config(format!(
                "--to {to}: no such pool (pools: {})",
                names.join(", ")
            )));
        }
        (Some(to), _) => to.clone(),
        (None, Some(live)) => cfg
            .pools
            .keys()
            .find(|k| *k != live)
            .cloned()
            .unwrap_or_default(),
        (None, None) => {
            return Err(config(format!(
                "{} matches no pool (or both): say which pool to make live with --to",
                files.path().display()
            )))
        }
    };
    run.to = Some(target.clone());
    let detail = format!(
        "{}: live pool {}",
        files.path().display(),
        live.as_deref().unwrap_or("(none)")
    );
    run.files = Some(files);
    Ok(Ended::Done(
        Done::new(detail).with(json!({ "live": live, "target": target })),
    ))
}

fn load(run: &mut Run) -> Result<NginxFiles, String> {
    let files = NginxFiles::load(run.cfg).map_err(|e| e.to_string())?;
    files.validate(run.cfg).map_err(|e| e.to_string())?;
    if let (SwitchKind::Flag, Ok(flags)) = (run.cfg.switch.kind, files.flag(run.cfg)) {
        let unknown = flags.unknown_files();
        if !unknown.is_empty() {
            run.out.note(&format!(
                "{} holds file(s) bgswitch did not write and the selector does not test: {} (left alone)",
                flags.dir.display(),
                unknown.join(", ")
            ));
        }
        for note in crate::flag::keepalive_notes(&files.set, run.cfg) {
            run.out.note(&note);
        }
    }
    if !run.opts.dry_run && run.cfg.switch.kind != SwitchKind::Flag {
        // A pid file that cannot be read would make the proof impossible:
        // say so before anything changes.
        run.nginx.generation()?;
        // In-place: a file that cannot be opened for writing fails here.
        run.writer.check_writable(&files.path())?;
    }
    // A soak that cannot read its log would fail after the switch.
    let soak = run.opts.soak.unwrap_or(run.cfg.soak.duration);
    if let (false, Some(log)) = (soak.is_zero(), &run.cfg.soak.access_log) {
        std::fs::File::open(log).map_err(|e| format!("soak.access_log {}: {e}", log.display()))?;
    }
    Ok(files)
}

/// When the file already names the target, the load balancer must agree
/// (then: `unchanged`). A run killed between its write and its reload
/// leaves a file nginx has not loaded: then this run finishes that switch.
pub fn already_live(run: &mut Run) -> StepResult {
    let target = run.target().to_string();
    if run.from.as_deref() != Some(target.as_str()) {
        return Ok(Ended::Skipped);
    }
    let unchanged = Ended::Finish {
        done: None,
        detail: format!("{target} is already live"),
    };
    if run.opts.dry_run || run.cfg.verify.url.is_none() {
        return Ok(unchanged);
    }
    let expect = run.cfg.pools[&target].expect.clone();
    let quick = run.cfg.verify.timeout.min(Duration::from_secs(2));
    match run.verify_within(&expect, quick) {
        Ok(_) => Ok(unchanged),
        Err(e) => {
            let path = run.files()?.path();
            let finishing = match run.cfg.switch.kind {
                SwitchKind::Flag => "verifying again (the flags are read on every request)",
                _ => "finishing an interrupted switch (nginx -t, reload, verify)",
            };
            run.out.note(&format!(
                "{} says {target} is live, but {e}: {finishing}",
                path.display()
            ));
            run.repair = true;
            run.from = run.cfg.pools.keys().find(|k| **k != target).cloned();
            Ok(Ended::Skipped)
        }
    }
}

/// Plans the edit now, so a dry run and a bad pool fail before anything
/// changes. Reported (as `edit`) only when it fails.
pub fn plan(run: &mut Run) -> StepResult {
    let files = run.files()?;
    let planned = if run.repair {
        files.doc().as_bytes().to_vec()
    } else {
        files
            .plan(run.cfg, run.from.as_deref(), run.target())
            .map_err(|e| Failed::new(Cause::Config, e.to_string()))?
            .as_bytes()
            .to_vec()
    };
    if run.opts.dry_run {
        let old = files.doc().as_bytes().to_vec();
        let path = files.path();
        let edit = dry_run::edit(run, &path, &old, &planned);
        dry_run::print(run, edit);
        return Ok(Ended::Finish {
            done: None,
            detail: "dry run: nothing changed".into(),
        });
    }
    run.planned = Some(planned);
    Ok(Ended::Skipped)
}
