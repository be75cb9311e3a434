//! `--dry-run`: the plan and the config diff, nothing changed.

use std::path::Path;

use super::backup::changed_lines;
use super::context::Run;

/// Prints what the switch would do and the diff of the edit.
pub fn print(run: &mut Run, path: &Path, old: &[u8], new: &[u8]) {
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
    plan.extend([
        format!(
            "gate: {health} health URL(s) of {target} must be ready{version_check} (timeout {:?})",
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
    ]);
    if let Some(url) = &cfg.verify.url {
        plan.push(format!(
            "verify: {url} answers from {} {} times in a row",
            cfg.pools[&target].expect, cfg.verify.consecutive
        ));
    }
    if let (Some(old_pool), true) = (&run.from, cfg.drain.enabled && !run.opts.no_drain) {
        plan.push(format!(
            "drain: the health URLs of {old_pool} that take a drain, after the old workers exit"
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
    let diff = unified_diff(path, old, new);
    if run.out.events.is_empty() || !diff.is_empty() {
        run.out.note(&diff);
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
