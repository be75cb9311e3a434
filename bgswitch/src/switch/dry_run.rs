//! `--dry-run`: the plan and the config diff, nothing changed.

use std::path::Path;

use super::backup::changed_lines;
use super::context::Run;

/// Prints what the switch would do and the diff of the edit.
pub fn print(run: &mut Run, path: &Path, old: &[u8], new: &[u8]) {
    let cfg = run.cfg;
    let target = run.target().to_string();
    let health = cfg.pools[&target].health.len();
    let mut plan = vec![
        format!(
            "gate: {health} sidecar(s) of {target} must report ready (timeout {:?})",
            cfg.gate.timeout
        ),
        format!(
            "edit: {} ({} line(s)), then `{}`",
            path.display(),
            changed_lines(old, new),
            cfg.nginx.test_command.join(" ")
        ),
        format!(
            "reload: `{}`, proven by {}",
            cfg.nginx.reload_command.join(" "),
            if run.nginx.can_prove() {
                "new worker processes"
            } else {
                "[verify] alone"
            }
        ),
    ];
    if let Some(url) = &cfg.verify.url {
        plan.push(format!(
            "verify: {url} answers from {} {} times in a row",
            cfg.pools[&target].expect, cfg.verify.consecutive
        ));
    }
    if let (Some(old_pool), true) = (&run.from, cfg.drain.enabled && !run.opts.no_drain) {
        plan.push(format!(
            "drain: {} sidecar(s) of {old_pool} after the old workers exit",
            cfg.pools[old_pool].health.len()
        ));
    }
    for p in &plan {
        run.out.note(p);
    }
    let diff = similar::TextDiff::from_lines(
        &*String::from_utf8_lossy(old),
        &*String::from_utf8_lossy(new),
    )
    .unified_diff()
    .header(
        &format!("a/{}", path.display()),
        &format!("b/{}", path.display()),
    )
    .to_string();
    if run.out.events.is_empty() || !diff.is_empty() {
        run.out.note(&diff);
    }
}
