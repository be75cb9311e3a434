//! `bgswitch init NGINX_FILE`: read an nginx config, find the seed style
//! of its switch, and write a commented `bgswitch.toml` for it, so a team
//! adopts bgswitch from the config they have instead of from a blank page.
//!
//! Exit codes: 0 written, 2 usage or I/O error (or `-o` names a file that
//! exists: never overwritten), 4 no switch found (the message says what
//! was looked for).

mod detect;
mod flag;
mod render;
pub(crate) mod servers;
mod site;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use nginx_edit::includes::{ConfigSet, LoadOptions};

pub use detect::Kind;

use crate::switch::exit;

/// No switch in the file.
pub const NOT_FOUND: u8 = 4;

/// `bgswitch init` arguments.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Exit codes: 0 written, 2 usage or I/O error (or -o names a file that exists: \
                  never overwritten), 4 no switch found (the message says what was looked for)."
)]
pub struct InitArgs {
    /// The switch kind to write (default: the one the file uses). `flag` on
    /// a map or upstream setup prints the selector that installs it.
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// The nginx file that holds the switch (its includes are followed).
    pub nginx_file: PathBuf,
    /// Write the configuration here instead of stdout (never over a file).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

/// Why init wrote nothing: the exit code and the message.
#[derive(Debug)]
pub struct InitError {
    pub code: u8,
    pub message: String,
}

/// What init produced.
#[derive(Debug)]
pub struct Generated {
    pub toml: String,
    /// For stderr: what was found, what was chosen, what to fill in.
    pub notes: Vec<String>,
    /// `--kind flag` on a setup without a selector: how to install it.
    pub steps: Vec<String>,
}

/// Runs `init`; returns the exit code.
pub fn run(args: &InitArgs) -> u8 {
    if let Some(out) = &args.output {
        if out.symlink_metadata().is_ok() {
            eprintln!(
                "error: {}: exists; init never overwrites a file (remove it or pick another -o)",
                out.display()
            );
            return exit::CONFIG;
        }
    }
    let out_dir = args.output.as_deref().map(|o| match o.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    });
    let g = match generate(&args.nginx_file, args.kind, out_dir.as_deref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {}", e.message);
            return e.code;
        }
    };
    for n in &g.notes {
        eprintln!("init: {n}");
    }
    match &args.output {
        Some(path) => {
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .and_then(|mut f| f.write_all(g.toml.as_bytes()));
            if let Err(e) = written {
                eprintln!("error: {}: {e}", path.display());
                return exit::CONFIG;
            }
            eprintln!("init: wrote {}", path.display());
            let mut stdout = std::io::stdout().lock();
            for s in &g.steps {
                let _ = writeln!(stdout, "{s}");
            }
        }
        None => {
            // A closed pipe (`| head`) is not an error of ours.
            let _ = std::io::stdout().lock().write_all(g.toml.as_bytes());
        }
    }
    exit::OK
}

/// Reads `nginx_file` and builds the configuration. `out_dir` is where
/// the toml will live (paths in it are relative to it); `None`: stdout,
/// paths absolute.
pub fn generate(
    nginx_file: &Path,
    kind: Option<Kind>,
    out_dir: Option<&Path>,
) -> Result<Generated, InitError> {
    let options = LoadOptions {
        tolerate_parse_errors: true,
        tolerate_cycles: true,
        ..LoadOptions::default()
    };
    let set = ConfigSet::load_with(nginx_file, &options).map_err(|e| InitError {
        code: exit::CONFIG,
        message: e.to_string(),
    })?;
    let mut notes = Vec::new();
    for (path, e) in &set.unparsable {
        notes.push(format!(
            "{}:{}:{}: {} (not read)",
            path.display(),
            e.line,
            e.column,
            e.message()
        ));
    }

    let mut steps = Vec::new();
    let (chosen, others) = match kind {
        Some(Kind::Flag) => {
            let flags = detect::candidates(&set, Some(Kind::Flag));
            if flags.is_empty() {
                let all = detect::candidates(&set, None);
                let base = all
                    .first()
                    .ok_or_else(|| not_found(&set, nginx_file, kind))?;
                let (cand, s) = flag::plan(&set, base);
                notes.push(format!(
                    "no flag selector in the file: kind flag for the {}; the steps that install the selector are {}",
                    base.describe(&set),
                    if out_dir.is_some() {
                        "on stdout and at the top of the file"
                    } else {
                        "at the top of the output"
                    }
                ));
                steps = s;
                (cand, all[1..].to_vec())
            } else {
                (flags[0].clone(), flags[1..].to_vec())
            }
        }
        _ => {
            let all = detect::candidates(&set, kind);
            let first = all
                .first()
                .cloned()
                .ok_or_else(|| not_found(&set, nginx_file, kind))?;
            (first, all[1..].to_vec())
        }
    };
    let others: Vec<String> = others
        .iter()
        .map(|c| format!("{} (kind {})", c.describe(&set), c.kind.as_str()))
        .collect();
    if steps.is_empty() {
        notes.insert(
            0,
            format!(
                "found the {} (kind {})",
                chosen.describe(&set),
                chosen.kind.as_str()
            ),
        );
    }
    if !others.is_empty() {
        notes.push(format!(
            "used the first; also found: {} (listed in the file; --kind picks another kind)",
            others.join("; ")
        ));
    }
    for p in &chosen.pools {
        match p.servers_from {
            detect::Servers::Placeholder if matches!(chosen.kind, Kind::Replace | Kind::Upstream) => {
                notes.push(format!(
                    "pools.{}.servers: the file has only the live pool's address; FILL IN {}'s address in the output (it says FILL-IN)",
                    p.name, p.name
                ))
            }
            detect::Servers::Guessed => notes.push(format!(
                "pools.{}.servers: {} is guessed from the other pool's address; check it",
                p.name,
                p.servers.join(", ")
            )),
            _ => {}
        }
        if matches!(chosen.kind, Kind::Map | Kind::Flag) && p.target.is_none() {
            notes.push(format!(
                "pools.{}.target: the map names no second upstream; FILL IN the one that means {} is live",
                p.name, p.name
            ));
        }
    }

    let file_path = &set.files[chosen.file].path;
    let config = path_for(file_path, out_dir);
    let main = (chosen.file != 0).then(|| path_for(nginx_file, out_dir));
    let front = servers::proxying_servers(&set, |t| {
        t == chosen.name || chosen.selects.iter().any(|s| s == t)
    })
    .first()
    .map(|s| (s.file, s.line));
    let verify = site::verify_guess(&set, front);
    let first_arg = |name: &str| {
        set.files.iter().find_map(|f| {
            f.doc()
                .walk()
                .filter(|d| d.is(name))
                .filter_map(|d| d.arg(0).map(|a| a.text()))
                .find(|v| v != "off" && !v.starts_with("syslog:"))
        })
    };
    let at = if steps.is_empty() {
        chosen.describe(&set)
    } else {
        format!(
            "flag selector {} (not installed yet: see the steps below)",
            chosen.name
        )
    };
    let preface = if steps.is_empty() {
        Vec::new()
    } else {
        let mut p = vec![String::new()];
        p.extend(steps.iter().cloned());
        p
    };
    let inputs = render::Inputs {
        cand: &chosen,
        config,
        main,
        source: nginx_file.display().to_string(),
        at,
        pid_file: first_arg("pid"),
        access_log: first_arg("access_log"),
        verify,
        others,
        preface,
    };
    Ok(Generated {
        toml: render::toml(&inputs),
        notes,
        steps,
    })
}

/// Exit 4: what was looked for, and why it may not be in this file.
fn not_found(set: &ConfigSet, file: &Path, kind: Option<Kind>) -> InitError {
    let kinds = match kind {
        Some(Kind::Flag) => vec![Kind::Flag, Kind::Map, Kind::Upstream, Kind::Replace],
        Some(k) => vec![k],
        None => vec![Kind::Map, Kind::Upstream, Kind::Replace, Kind::Flag],
    };
    let mut m = format!("{}: no switch found; looked for:", file.display());
    for k in kinds {
        m.push_str(&format!("\n  - {}", k.looked_for()));
    }
    for u in &set.unresolved {
        m.push_str(&format!(
            "\n{}:{}:{}: include {} did not resolve ({}): if the switch is there, run init on that file",
            u.from.display(),
            u.line,
            u.column,
            u.path.display(),
            u.reason
        ));
    }
    let missing: Vec<String> = servers::proxying_servers(set, |t| !t.starts_with('$'))
        .iter()
        .flat_map(|s| {
            let doc = set.files[s.file].doc();
            s.proxy_lines
                .iter()
                .filter_map(|&l| {
                    doc.walk()
                        .find(|d| d.is("proxy_pass") && d.line() == l)
                        .and_then(|d| d.arg(0))
                        .and_then(|a| servers::proxy_target(&a.text()))
                })
                .collect::<Vec<_>>()
        })
        .filter(|t| {
            !set.files
                .iter()
                .any(|f| f.doc().upstreams().iter().any(|u| u.name() == *t))
        })
        .collect();
    if let Some(t) = missing.first() {
        m.push_str(&format!(
            "\nproxy_pass names upstream {t}, which is not in the files read: run init on the file that defines it"
        ));
    }
    InitError {
        code: NOT_FOUND,
        message: m,
    }
}

/// `file` as `[nginx] config` should name it: relative to `out_dir` when
/// they share more than the root, else absolute. The file's own name is
/// kept (a `sites-enabled` symlink stays the path bgswitch writes through).
fn path_for(file: &Path, out_dir: Option<&Path>) -> String {
    let abs = absolute(file);
    let Some(dir) = out_dir else {
        return abs.display().to_string();
    };
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let a: Vec<Component<'_>> = abs.components().collect();
    let d: Vec<Component<'_>> = dir.components().collect();
    let common = a.iter().zip(&d).take_while(|(x, y)| x == y).count();
    if common <= 1 {
        return abs.display().to_string();
    }
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &a[common..] {
        rel.push(c.as_os_str());
    }
    rel.display().to_string()
}

/// The file's directory canonicalized, its name kept.
fn absolute(file: &Path) -> PathBuf {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(parent), file.file_name()) {
        (Ok(p), Some(name)) => p.join(name),
        _ => file.to_path_buf(),
    }
}
