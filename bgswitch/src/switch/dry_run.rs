//! `--dry-run`: the plan and the config diff, nothing changed. One plan
//! for every switch kind and command: the kind gives only the lines of its
//! mechanism (edit + reload, or the flag moves) and, for an edit, the diff;
//! `deploy`'s start and stop lines come from here whatever the kind.

use std::path::Path;

use super::backup::changed_lines;
use super::context::Run;

/// What the switch kind would change: its plan lines, and when it edits a
/// file, the unified diff to print after the plan.
pub struct Mechanism {
    pub lines: Vec<String>,
    pub diff: Option<String>,
    /// When the old pool's drain starts, in the kind's words.
    pub drain_after: &'static str,
}

/// The edit + reload mechanism: the file, its test, the reload and its
/// proof, and the diff of the edit.
pub fn edit(run: &Run, path: &Path, old: &[u8], new: &[u8]) -> Mechanism {
    let cfg = run.cfg;
    Mechanism {
        lines: vec![
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
        ],
        diff: Some(unified_diff(path, old, new)),
        drain_after: "after the old workers exit",
    }
}

/// Prints what the run would do, in step order, then the diff (if any).
pub fn print(run: &mut Run, mechanism: Mechanism) {
    let cfg = run.cfg;
    let target = run.target().to_string();
    let health = cfg.pools[&target].health.len();
    let from = run.from.clone().unwrap_or_default();
    let version = run.opts.version.clone();
    let shown = |argv: &[String], pool: &str| {
        let vars = crate::commands::Vars {
            pool,
            version: version.as_deref().unwrap_or_default(),
            from: &from,
        };
        crate::commands::shell_words(&crate::commands::substitute(argv, &vars))
    };
    let dir = super::steps::start::config_dir(cfg);
    let mut plan = Vec::new();
    if let (Some(v), Some(start)) = (&version, &cfg.pools[&target].start) {
        plan.push(format!(
            "start: `{}` in {} (BGSWITCH_POOL={target} BGSWITCH_VERSION={v} BGSWITCH_FROM={from}; at most {:?})",
            shown(start, &target),
            dir.display(),
            cfg.deploy.start_timeout
        ));
    }
    let version_check = match (&version, &cfg.gate.version_field) {
        (Some(v), Some(f)) => format!(" and report {f} \"{v}\""),
        _ => String::new(),
    };
    plan.push(format!(
        "gate: {health} health URL(s) of {target} must be ready{version_check} (timeout {:?})",
        cfg.gate.timeout
    ));
    plan.extend(mechanism.lines);
    if let Some(url) = &cfg.verify.url {
        plan.push(format!(
            "verify: {url} answers from {} {} times in a row",
            cfg.pools[&target].expect, cfg.verify.consecutive
        ));
    }
    if let (Some(old_pool), true) = (&run.from, cfg.drain.enabled && !run.opts.no_drain) {
        plan.push(format!(
            "drain: the health URLs of {old_pool} that take a drain, {}",
            mechanism.drain_after
        ));
    }
    if version.is_some() && run.opts.command != "rollback" {
        if let Some(old_pool) = &run.from {
            plan.push(match super::steps::start::stop_command(run) {
                Some(stop) => format!(
                    "stop: `{}` once {old_pool} is drained and no old nginx worker runs",
                    shown(&stop, old_pool)
                ),
                None => format!("stop: none ({old_pool} left running)"),
            });
        }
    }
    for p in &plan {
        run.out.note(p);
    }
    if let Some(diff) = mechanism.diff {
        if run.out.events.is_empty() || !diff.is_empty() {
            run.out.note(&diff);
        }
    }
}

/// The diff of an edit, headed `a/PATH` and `b/PATH` as git heads its
/// own (an absolute path gives `a/etc/...`, not `a//etc/...`).
fn unified_diff(path: &Path, old: &[u8], new: &[u8]) -> String {
    let shown = path.display().to_string();
    let shown = shown.trim_start_matches('/');
    similar::TextDiff::from_lines(
        &*String::from_utf8_lossy(old),
        &*String::from_utf8_lossy(new),
    )
    .unified_diff()
    .header(&format!("a/{shown}"), &format!("b/{shown}"))
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_header_of_an_absolute_path_has_one_slash() {
        let d = unified_diff(
            Path::new("/etc/nginx/app.conf"),
            b"default app_blue;\n",
            b"default app_green;\n",
        );
        assert!(
            d.starts_with("--- a/etc/nginx/app.conf\n+++ b/etc/nginx/app.conf\n"),
            "{d}"
        );
    }

    #[test]
    fn diff_header_of_a_relative_path_is_as_written() {
        let d = unified_diff(Path::new("site/app.conf"), b"a\n", b"b\n");
        assert!(d.starts_with("--- a/site/app.conf\n"), "{d}");
    }
}
