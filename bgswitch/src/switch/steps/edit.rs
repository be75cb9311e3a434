//! The edit: the planned bytes written (the old ones recorded for the
//! undo), then the nginx test command, then the check that the nginx it
//! tests sees the bytes written ([`super::sees`]).

use std::time::Instant;

use serde_json::json;

use crate::switch::backup::changed_lines;
use crate::switch::context::{Done, Ended, Failed, Run, StepResult};
use crate::switch::undo::{Cause, Change};

/// Writes the edit and runs `nginx -t`. The write is recorded before the
/// test runs, so a failed test puts the exact old bytes back.
pub fn edit(run: &mut Run) -> StepResult {
    let files = run.files()?;
    let path = files.path();
    let old = files.doc().as_bytes().to_vec();
    let new = run.planned.clone().unwrap_or_else(|| old.clone());
    if run.repair {
        // The file already holds the target's version.
        run.record.push(Change::Adopted {
            path: path.clone(),
            old: old.clone(),
            target: run.target().to_string(),
        });
    } else {
        let note = run
            .writer
            .write_new(&path, &old, &new)
            .map_err(|e| Failed::new(Cause::Config, e))?;
        run.record.push(Change::Wrote {
            path: path.clone(),
            old: old.clone(),
        });
        if let Some(note) = note {
            run.out.note(&note);
        }
    }
    let test_started = Instant::now();
    let tested = run.nginx.test();
    let test_ms = test_started.elapsed().as_millis() as u64;
    if let Err(e) = tested {
        return Err(Failed::new(Cause::NginxTest, e.to_string()).with(json!({ "file": path })));
    }
    // The dump (`nginx -T`) is nginx's time too: reported apart, as
    // `test_ms` is, so benchmarks can tell bgswitch's own work.
    let dump_started = Instant::now();
    let sees = super::sees::check(run, &path, &old, &new)
        .map_err(|f| f.with(json!({ "file": path, "test_ms": test_ms })))?;
    let dump_ms = dump_started.elapsed().as_millis() as u64;
    let changed = changed_lines(&old, &new);
    Ok(Ended::Done(
        Done::new(format!(
            "{}: {changed} line(s) changed, test passed: `{}`; {}",
            path.display(),
            run.cfg.nginx.test_command.join(" "),
            sees.detail
        ))
        .with(json!({
            "file": path,
            "lines_changed": changed,
            "test_ms": test_ms,
            "dump_ms": dump_ms,
            "write": run.cfg.nginx.write.name(),
            "nginx_sees": sees.seen,
        })),
    ))
}
