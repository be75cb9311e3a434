//! Every `examples/` folder: it has the files its README walks through,
//! its nginx files pass `nginx-edit check --no-resolve` (the names of the
//! deploy network are not known here), and its `bgswitch.toml` carries a
//! `deploy` (`start`/`stop` per pool, `[deploy]`) and names nginx files
//! that are there; bgswitch loads it (every key known), and `deploy v2
//! --dry-run` on a scratch copy plans the one change it should, runs none
//! of the example's (docker) commands and changes nothing.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One example: its folder and how each nginx file is checked (the file,
/// extra `check` flags, and files the check reaches through includes).
struct Example {
    dir: &'static str,
    checks: &'static [Check],
}

struct Check {
    file: &'static str,
    flags: &'static [&'static str],
    includes: &'static [&'static str],
}

const EXAMPLES: &[Example] = &[
    Example {
        dir: "000-host-nginx-tls",
        checks: &[Check {
            file: "nginx/sites-enabled/my-mcp.conf",
            flags: &[],
            includes: &["nginx/sites-available/my-mcp.conf"],
        }],
    },
    Example {
        dir: "001-container-upstream-include",
        checks: &[
            Check {
                // The include names the container's path.
                file: "nginx/proxy.conf",
                flags: &["--include-root", "/etc/nginx/conf.d={dir}/nginx"],
                includes: &["nginx/upstream_target.conf"],
            },
            Check {
                file: "nginx/upstream_target.conf",
                flags: &["--context", "http"],
                includes: &[],
            },
        ],
    },
    Example {
        dir: "002-replace-bind-mounted-nginx-conf",
        checks: &[Check {
            file: "nginx.conf",
            flags: &[],
            includes: &[],
        }],
    },
    Example {
        dir: "004-map-color-header",
        checks: &[Check {
            file: "nginx/sites-enabled/app",
            flags: &["--context", "http"],
            includes: &[],
        }],
    },
];

const SIDECAR_BUILD: &str = "docker build -f health-sidecar/Dockerfile -t health-sidecar .";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .canonicalize()
        .unwrap()
}

/// The workspace's `nginx-edit` binary, built if needed.
fn nginx_edit() -> PathBuf {
    static BUILD: std::sync::Once = std::sync::Once::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .args(["build", "-q", "-p", "nginx-edit", "--bin", "nginx-edit"]);
        if profile_dir.ends_with("release") {
            cmd.arg("--release");
        }
        assert!(cmd.status().unwrap().success(), "cargo build -p nginx-edit");
    });
    profile_dir.join("nginx-edit")
}

fn check(dir: &Path, c: &Check) -> Output {
    let flags: Vec<String> = c
        .flags
        .iter()
        .map(|f| f.replace("{dir}", dir.to_str().unwrap()))
        .collect();
    Command::new(nginx_edit())
        .args(["check", "--no-resolve"])
        .args(&flags)
        .arg(dir.join(c.file))
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Files under `dir` that nginx reads: everything below an `nginx/`
/// folder, and any `*.conf`.
fn nginx_files(dir: &Path, under_nginx: bool, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            nginx_files(&path, under_nginx || name == "nginx", out);
        } else if under_nginx || name.ends_with(".conf") {
            out.push(path);
        }
    }
}

#[test]
fn every_example_folder_is_listed_here_and_in_the_index() {
    let mut found: Vec<String> = fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let listed: Vec<&str> = EXAMPLES.iter().map(|e| e.dir).collect();
    assert_eq!(found, listed);
    let index = fs::read_to_string(root().join("README.md")).unwrap();
    for dir in listed {
        assert!(index.contains(&format!("({dir}/)")), "README.md: {dir}");
    }
    assert!(index.contains(SIDECAR_BUILD));
}

#[test]
fn every_example_has_its_files() {
    for ex in EXAMPLES {
        let dir = root().join(ex.dir);
        for f in ["docker-compose.yml", "bgswitch.toml", "README.md"] {
            assert!(dir.join(f).is_file(), "{}/{f} is missing", ex.dir);
        }
        for c in ex.checks {
            assert!(dir.join(c.file).is_file(), "{}/{}", ex.dir, c.file);
        }
        // A compose file that runs the sidecar image says how to build it.
        let compose = fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
        if compose.contains("image: health-sidecar") {
            let readme = fs::read_to_string(dir.join("README.md")).unwrap();
            assert!(readme.contains(SIDECAR_BUILD), "{}/README.md", ex.dir);
        }
    }
}

#[test]
fn every_nginx_file_passes_check_no_resolve() {
    for ex in EXAMPLES {
        let dir = root().join(ex.dir);
        let mut covered = Vec::new();
        for c in ex.checks {
            let o = check(&dir, c);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}/{}:\n{}",
                ex.dir,
                c.file,
                text(&o)
            );
            covered.push(dir.join(c.file).canonicalize().unwrap());
            covered.extend(
                c.includes
                    .iter()
                    .map(|f| dir.join(f).canonicalize().unwrap()),
            );
        }
        let mut files = Vec::new();
        nginx_files(&dir, false, &mut files);
        for f in files {
            let real = f.canonicalize().unwrap();
            assert!(
                covered.contains(&real),
                "{} is not checked: add it to EXAMPLES in tests/examples.rs",
                f.display()
            );
        }
    }
}

#[test]
fn a_broken_copy_of_an_example_fails_the_same_check() {
    // The check above can fail: the same command on a copy with one `;`
    // missing (in the included file) exits 1 naming the place.
    let src = root().join("001-container-upstream-include");
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("nginx")).unwrap();
    for f in ["proxy.conf", "upstream_target.conf"] {
        fs::copy(src.join("nginx").join(f), tmp.path().join("nginx").join(f)).unwrap();
    }
    let up = tmp.path().join("nginx/upstream_target.conf");
    let broken = fs::read_to_string(&up)
        .unwrap()
        .replacen("keepalive 32;", "keepalive 32", 1);
    fs::write(&up, broken).unwrap();
    let o = check(tmp.path(), &EXAMPLES[1].checks[0]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("upstream_target.conf:"), "{}", text(&o));
}

#[test]
fn every_bgswitch_toml_has_a_deploy_for_each_pool() {
    for ex in EXAMPLES {
        let dir = root().join(ex.dir);
        let name = format!("{}/bgswitch.toml", ex.dir);
        let cfg: toml::Table = fs::read_to_string(dir.join("bgswitch.toml"))
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let nginx = cfg["nginx"].as_table().unwrap();
        let config = nginx["config"].as_str().unwrap();
        assert!(dir.join(config).is_file(), "{name}: nginx.config {config}");
        let pools = cfg["pools"].as_table().unwrap();
        assert_eq!(pools.len(), 2, "{name}: two pools");
        for (pool, p) in pools {
            for key in ["start", "stop"] {
                let argv = p.get(key).and_then(|v| v.as_array());
                assert!(
                    argv.is_some_and(|a| !a.is_empty() && a.iter().all(|s| s.is_str())),
                    "{name}: pools.{pool}.{key} is a list of strings"
                );
                // A `./script` the config runs is there and executable.
                let first = argv.unwrap()[0].as_str().unwrap();
                if first.starts_with("./") {
                    let meta = fs::metadata(dir.join(first)).unwrap();
                    assert!(
                        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0,
                        "{name}: {first} is executable"
                    );
                }
            }
        }
        let deploy = cfg["deploy"].as_table().unwrap();
        assert!(deploy["start_timeout"].is_str(), "{name}");
        let stop_old = deploy["stop_old"].as_str().unwrap();
        assert!(["after_drain", "never"].contains(&stop_old), "{name}");
        // A file bind-mounted on its own needs the in-place write.
        let compose = fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
        let mounted = compose.contains(&format!("./{config}:"));
        assert_eq!(
            nginx.get("write").and_then(|v| v.as_str()) == Some("in-place"),
            mounted,
            "{name}: write = \"in-place\" exactly when {config} is bind-mounted"
        );
    }
}

/// What a deploy of `v2` to the idle pool changes in each example's nginx
/// file: the lines removed and the lines added (whitespace squeezed).
const DEPLOY_DIFFS: &[(&str, &[&str], &[&str])] = &[
    (
        "000-host-nginx-tls",
        &[
            "server 127.0.0.1:3001; # blue",
            "# server 127.0.0.1:3002; # green",
        ],
        &[
            "# server 127.0.0.1:3001; # blue",
            "server 127.0.0.1:3002; # green",
        ],
    ),
    (
        "001-container-upstream-include",
        &["server host.docker.internal:8001;"],
        &["server host.docker.internal:8002;"],
    ),
    (
        "002-replace-bind-mounted-nginx-conf",
        &["server blue:8000;"],
        &["server green:8000;"],
    ),
    (
        "004-map-color-header",
        &["default app_blue;"],
        &["default app_green;"],
    ),
];

/// Every file under `dir` (symlinks as links) with its bytes.
fn snapshot(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let to = fs::read_link(&path).unwrap();
            out.push((path, to.into_os_string().into_encoded_bytes()));
        } else if meta.is_dir() {
            snapshot(&path, out);
        } else {
            out.push((path.clone(), fs::read(&path).unwrap()));
        }
    }
}

fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_bgswitch_toml_loads_and_plans_a_deploy_dry_run() {
    use bgswitch::report::Reporter;
    use bgswitch::switch::{run, SwitchOptions};
    let listed: Vec<&str> = DEPLOY_DIFFS.iter().map(|d| d.0).collect();
    assert_eq!(listed, EXAMPLES.iter().map(|e| e.dir).collect::<Vec<_>>());
    for (name, removed, added) in DEPLOY_DIFFS {
        // In place: every key is known, paths are the example's.
        let src = root().join(name);
        let cfg = bgswitch::config::load(&src.join("bgswitch.toml"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(cfg.nginx.config.starts_with(&src), "{name}");
        assert!(cfg
            .pools
            .values()
            .all(|p| p.start.is_some() && p.stop.is_some()));

        // A scratch copy (links kept), the same config read from there.
        let tmp = tempfile::tempdir().unwrap();
        let scratch = tmp.path().join(name);
        let cp = Command::new("cp")
            .arg("-a")
            .arg(&src)
            .arg(&scratch)
            .status();
        assert!(cp.unwrap().success());
        let mut cfg = bgswitch::config::load(&scratch.join("bgswitch.toml")).unwrap();
        // Adapted, offline: the soak's access log must be readable (the
        // read step opens it): a relative one is created empty in the
        // copy, an absolute one (/var/log/nginx) is pointed into it. The
        // state (journal, backups) is pointed into it too: the defaults
        // are under /var/lib/bgswitch.
        if let Some(log) = cfg.soak.access_log.clone() {
            let log = if log.starts_with(&scratch) {
                log
            } else {
                scratch.join("access.log")
            };
            fs::create_dir_all(log.parent().unwrap()).unwrap();
            fs::write(&log, "").unwrap();
            cfg.soak.access_log = Some(log);
        }
        cfg.state.journal = scratch.join("state/journal.jsonl");
        cfg.state.lock = scratch.join("state/bgswitch.lock");
        let mut before = Vec::new();
        snapshot(&scratch, &mut before);

        let opts = SwitchOptions {
            dry_run: true,
            version: Some("v2".into()),
            command: "deploy".into(),
            ..SwitchOptions::default()
        };
        let mut out = Reporter::silent();
        let outcome = run(&cfg, &opts, &mut out);
        let events: Vec<String> = out.events.iter().map(|e| e.to_string()).collect();
        let shown = events.join("\n");
        assert_eq!(
            (outcome.result, outcome.code),
            ("unchanged", 0),
            "{name}:\n{shown}"
        );
        let notes: Vec<&str> = out
            .events
            .iter()
            .filter_map(|e| e["note"].as_str())
            .collect();
        // The plan names the start of the idle pool with v2 ...
        let idle = outcome.to.clone().unwrap();
        assert!(
            outcome.from.is_some() && outcome.from != outcome.to,
            "{name}:\n{shown}"
        );
        assert!(
            notes.iter().any(|n| n.starts_with("start: `")
                && n.contains("v2")
                && n.contains(idle.as_str())),
            "{name}:\n{shown}"
        );
        // ... and the diff is the expected one, nothing else.
        let diff = notes
            .iter()
            .find(|n| n.starts_with("--- a/"))
            .unwrap_or_else(|| panic!("{name}: no diff:\n{shown}"));
        let lines = |mark: char| -> Vec<String> {
            diff.lines()
                .filter(|l| l.starts_with(mark) && !l.starts_with("---") && !l.starts_with("+++"))
                .map(|l| squeeze(&l[1..]))
                .collect()
        };
        assert_eq!(lines('-'), *removed, "{name}:\n{diff}");
        assert_eq!(lines('+'), *added, "{name}:\n{diff}");
        // Nothing ran, nothing changed: no file written, no state made.
        let mut after = Vec::new();
        snapshot(&scratch, &mut after);
        assert!(
            before == after,
            "{name}: the dry run changed the scratch copy"
        );
        assert!(!scratch.join("state").exists(), "{name}");
    }
}
