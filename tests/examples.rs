//! Every `examples/` folder: it has the files its README walks through,
//! its nginx files pass `nginx-edit check --no-resolve` (the names of the
//! deploy network are not known here), and its `bgswitch.toml` carries a
//! `deploy` (`start`/`stop` per pool, `[deploy]`) and names nginx files
//! that are there. Loading it with bgswitch and `deploy --dry-run` is a
//! later test, once the parser knows those keys.
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
