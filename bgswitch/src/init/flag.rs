//! `init --kind flag` on a map or upstream setup: the flag selector that
//! replaces the edit-and-reload switch, and the one reviewed edit and
//! reload that installs it (DESIGN.md, "Live switch: no reload").

use nginx_edit::includes::ConfigSet;

use super::detect::{Candidate, Kind, PoolGuess, Servers};
use super::servers::proxying_servers;

/// The flag candidate for `base`, and the steps that install its selector.
pub fn plan(set: &ConfigSet, base: &Candidate) -> (Candidate, Vec<String>) {
    let file = set.files[base.file].path.display().to_string();
    let var = match base.kind {
        Kind::Map | Kind::Flag => base.name.clone(),
        Kind::Upstream | Kind::Replace => free_variable(set),
    };
    // Each pool gets an upstream of its own: a map's targets already are;
    // one shared upstream is split in two.
    let targets: Vec<String> = base
        .pools
        .iter()
        .map(|p| match (&base.kind, &p.target) {
            (Kind::Map | Kind::Flag, Some(t)) => t.clone(),
            (Kind::Map | Kind::Flag, None) => "FILL-IN-UPSTREAM".into(),
            _ => format!("{}_{}", base.name, p.name),
        })
        .collect();
    let app = match base.kind {
        Kind::Map | Kind::Flag => common_stem(&targets[0], &targets[1])
            .unwrap_or_else(|| var.trim_start_matches('$').to_string()),
        Kind::Upstream | Kind::Replace => base.name.clone(),
    };
    let dir = format!("/var/lib/bgswitch/{app}");
    let [a, b] = &base.pools;
    let pools = [
        PoolGuess {
            target: Some(targets[0].clone()),
            ..a.clone()
        },
        PoolGuess {
            target: Some(targets[1].clone()),
            ..b.clone()
        },
    ];

    let mut steps = vec![
        format!("{file} has no flag selector yet. Install it once: one reviewed edit, one reload."),
        String::new(),
    ];
    let mut n = 1;
    match base.kind {
        Kind::Map | Kind::Flag => {
            steps.push(format!(
                "{n}. Delete map {} ({file}:{}): the selector below sets {} instead",
                base.name, base.line, base.name
            ));
            steps.push("   (a request header or cookie no longer picks the pool).".into());
        }
        Kind::Upstream | Kind::Replace => {
            steps.push(format!(
                "{n}. Replace upstream {} ({file}:{}) with one upstream per pool",
                base.name, base.line
            ));
            steps.push("   (keep its other lines, keepalive ..., in both):".into());
            for (p, t) in pools.iter().zip(&targets) {
                let servers: Vec<String> = p
                    .servers
                    .iter()
                    .map(|s| {
                        if p.servers_from == Servers::Placeholder {
                            format!("server {s};  # FILL IN")
                        } else {
                            format!("server {s};")
                        }
                    })
                    .collect();
                steps.push(format!("       upstream {t} {{ {} }}", servers.join(" ")));
            }
        }
    }
    n += 1;
    let servers = proxying_servers(set, |t| t == base.name);
    let at: Vec<String> = servers
        .iter()
        .map(|s| format!("{}:{}", set.files[s.file].path.display(), s.line))
        .collect();
    let at = if at.is_empty() {
        "none found in this file: the server blocks that proxy to the pools".to_string()
    } else {
        at.join(", ")
    };
    steps.push(format!(
        "{n}. In each server that proxies to the pools ({at}), at the top of the block:"
    ));
    steps.push(format!("       set {var} {};", targets[0]));
    steps.push(format!(
        "       if (-f {dir}/{}) {{ set {var} {}; }}",
        pools[1].name, targets[1]
    ));
    if matches!(base.kind, Kind::Upstream | Kind::Replace) {
        let lines: Vec<String> = servers
            .iter()
            .flat_map(|s| {
                s.proxy_lines
                    .iter()
                    .map(move |l| format!("{}:{l}", set.files[s.file].path.display()))
            })
            .collect();
        steps.push(format!(
            "   and proxy to the variable ({}): proxy_pass http://{var};",
            if lines.is_empty() {
                "every proxy_pass to it".to_string()
            } else {
                lines.join(", ")
            }
        ));
        steps.push(format!(
            "   (instead of http://{}; keep any path after it)",
            base.name
        ));
    }
    n += 1;
    steps.push(format!(
        "{n}. mkdir -p {dir}   (not on tmpfs: it must survive a reboot)"
    ));
    if pools[1].live {
        steps.push(format!(
            "   touch {dir}/{}   ({} is live now: the flag keeps it live)",
            pools[1].name, pools[1].name
        ));
    }
    if has_open_file_cache(set) {
        steps.push(
            "   open_file_cache is on: add `open_file_cache off;` to those servers, or nginx caches the flag test."
                .into(),
        );
    }
    n += 1;
    steps.push(format!(
        "{n}. In each pool's upstream that has `keepalive N;`, add `keepalive_timeout 5s;`"
    ));
    steps.push(
        "   (nothing reloads, so nginx keeps idle connections to the old pool until they time out: 60s by default; the old pool counts as drained once they close)"
            .into(),
    );
    n += 1;
    steps.push(format!(
        "{n}. nginx -t && nginx -s reload   (once: later switches move the flag, no reload)"
    ));

    let cand = Candidate {
        kind: Kind::Flag,
        file: base.file,
        line: base.line,
        name: var,
        pools,
        flag_dir: Some(dir),
        selects: targets,
    };
    (cand, steps)
}

/// `$backend`, unless a map already sets it.
fn free_variable(set: &ConfigSet) -> String {
    let taken = |v: &str| {
        set.files
            .iter()
            .any(|f| f.doc().maps().iter().any(|m| m.variable() == v))
    };
    ["$backend", "$bgswitch_backend"]
        .into_iter()
        .find(|v| !taken(v))
        .unwrap_or("$bgswitch_pool")
        .to_string()
}

/// `app_blue`, `app_green` -> `app`.
fn common_stem(a: &str, b: &str) -> Option<String> {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let stem = a.get(..n)?.trim_end_matches(['_', '-', '.']);
    let ok = !stem.is_empty()
        && stem
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    ok.then(|| stem.to_string())
}

fn has_open_file_cache(set: &ConfigSet) -> bool {
    set.files.iter().any(|f| {
        f.doc()
            .walk()
            .any(|d| d.is("open_file_cache") && d.arg(0).is_some_and(|a| a.text() != "off"))
    })
}

#[cfg(test)]
mod tests {
    use super::common_stem;

    #[test]
    fn stems() {
        assert_eq!(common_stem("app_blue", "app_green").as_deref(), Some("app"));
        assert_eq!(common_stem("blue", "green"), None);
    }
}
