//! `kind = "flag"`: the switch mechanism with no reload. The plan names
//! the flag file to create or remove (a dry run prints it and ends); the
//! `flag` step moves it atomically and records the move for the undo.
//! nginx sees it on its next request: no `nginx -t`, no reload, no worker
//! closes a keep-alive connection.

use serde_json::json;

use crate::flag::{dir, note, FlagMove};
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::dry_run;
use crate::switch::undo::{Cause, Change};

/// The flag moves that make the target live; a dry run prints them (and
/// the rest of the plan) and ends. Reported (as `flag`) only when it fails.
pub fn plan(run: &mut Run) -> StepResult {
    let moves = moves(run)?;
    if run.opts.dry_run {
        print_plan(run, &moves);
        return Ok(Ended::Finish {
            done: None,
            detail: "dry run: nothing changed".into(),
        });
    }
    Ok(Ended::Skipped)
}

fn moves(run: &Run) -> Result<Vec<FlagMove>, Failed> {
    let cfg = run.cfg;
    let flags = run
        .files()?
        .flag(cfg)
        .map_err(|e| Failed::new(Cause::Config, e.to_string()))?;
    Ok(if run.repair {
        Vec::new()
    } else {
        flags.plan(cfg, run.target())
    })
}

/// Creates or removes the flag file(s), each recorded once it is in place
/// (before its directory's fsync, so a failed fsync puts it back).
pub fn flag(run: &mut Run) -> StepResult {
    let cfg = run.cfg;
    let target = run.target().to_string();
    let flags = run
        .files()?
        .flag(cfg)
        .map_err(|e| Failed::new(Cause::Config, e.to_string()))?;
    let stale = dir::remove_stale_temps(&flags.dir);
    if stale > 0 {
        run.out.note(&format!(
            "removed {stale} temporary file(s) of an earlier bgswitch run from {}",
            flags.dir.display()
        ));
    }
    if run.repair {
        let path = flags.dir.clone();
        run.record.push(Change::FlagAdopted {
            path: path.clone(),
            target: target.clone(),
        });
        return Ok(Ended::Done(Done::new(format!(
            "the flags in {} already select {target}: nothing to move",
            path.display()
        ))));
    }
    let moves = flags.plan(cfg, &target);
    let mut done = Vec::new();
    for m in &moves {
        let text = note(&target);
        // The rename is what nginx sees; record it as soon as it may have
        // happened, so an undo runs even when the fsync after it fails.
        let result = dir::put(&m.path, m.create, &text);
        let in_place = m.path.is_file() == m.create;
        if in_place {
            run.record.push(Change::FlagMoved {
                path: m.path.clone(),
                created: m.create,
            });
        }
        if let Err(e) = result {
            return Err(Failed::new(Cause::Config, format!("{m}: {e}")));
        }
        done.push(m.to_string());
    }
    let live = flags.live(cfg);
    if live.as_deref() != Some(target.as_str()) {
        return Err(Failed::new(
            Cause::Verify,
            format!(
                "after {}, the selector ({}) yields {} instead of {target}",
                done.join(", "),
                flags.selector.at(),
                live.as_deref().unwrap_or("no pool")
            ),
        ));
    }
    let detail = if done.is_empty() {
        format!("the flags already select {target}")
    } else {
        format!(
            "{}: nginx selects {target} on its next request, no reload",
            done.join(", ")
        )
    };
    Ok(Ended::Done(Done::new(detail).with(json!({
        "flags": moves.iter().map(|m| json!({"path": m.path, "created": m.create})).collect::<Vec<_>>(),
    }))))
}

/// `--dry-run`: the flag change it would make, in the shared plan.
fn print_plan(run: &mut Run, moves: &[FlagMove]) {
    let target = run.target().to_string();
    let mut lines = Vec::new();
    if moves.is_empty() {
        lines.push(format!("flag: the flags already select {target}"));
    }
    for m in moves {
        lines.push(format!("flag: {m} (no nginx -t, no reload)"));
    }
    dry_run::print(
        run,
        dry_run::Mechanism {
            lines,
            diff: None,
            drain_after: "once nginx stops sending it requests",
        },
    );
}
