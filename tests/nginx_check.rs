//! `nginx-edit check` against `nginx -t`: the same verdict, and for the
//! errors the checker models, the same message on the same line.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use e2e::{nginx_test_file, require_nginx, Verdict};
use nginx_edit::check::{check_set, debian, CheckOptions, Modules};
use nginx_edit::includes::{ConfigSet, LoadError, LoadOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The first error `nginx-edit check` finds, as a verdict.
fn ours(path: &Path) -> Verdict {
    let options = LoadOptions {
        tolerate_cycles: true,
        keep_partial: true,
        ..LoadOptions::default()
    };
    let set = match ConfigSet::load_with(path, &options) {
        Ok(set) => set,
        Err(LoadError::Parse { error, .. }) => {
            return Verdict::Error {
                message: error.message(),
                line: error.line,
            }
        }
        Err(LoadError::Cycle { line, .. }) => {
            return Verdict::Error {
                message: "include cycle".into(),
                line,
            }
        }
        Err(e) => panic!("{e}"),
    };
    let cycle = set
        .cycles
        .first()
        .map(|c| (c.line, "include cycle".to_string()));
    match check_set(&set, &CheckOptions::default())
        .into_iter()
        .find(|f| f.severity == "error")
        .map(|f| (f.line, f.message))
        .or(cycle)
    {
        None => Verdict::Ok,
        Some((line, message)) => Verdict::Error { message, line },
    }
}

/// nginx's messages the checker models (the rest depend on the machine:
/// users, files, modules on disk, or on handler semantics not modelled).
fn modelled(message: &str) -> bool {
    [
        "unexpected",
        "unknown directive",
        "directive is not allowed here",
        "is not terminated by",
        "has no opening",
        "invalid number of arguments",
        "it must be \"on\" or \"off\"",
        "no servers are inside upstream",
        "map parameter",
        "no \"events\" section",
        "too long parameter",
        "is outside location",
        "cannot be inside the",
        "can be on the server level only",
        "invalid location modifier",
        "duplicate upstream",
        "unknown log format",
        "directive is duplicate",
        "directive invalid value",
        "directive invalid number",
        "invalid condition",
        "in condition",
        "host not found in upstream",
        "may not have port",
        "no servers in upstream",
        "no port in upstream",
        // enum and bitmask slots, error_page, *_store_access, keepalive
        "invalid value \"",
        "must be between 300 and 599",
        "a duplicate default server for",
        "a duplicate listen ",
        "duplicate listen options for",
        "invalid backlog",
        "invalid fastopen",
        "invalid rcvbuf",
        "invalid sndbuf",
        "invalid ipv6only flags",
        "invalid so_keepalive value",
        // listen and upstream server parameters (other handlers word
        // theirs the same: the corpus has none of those)
        "invalid parameter \"",
        "balancing method does not support parameter",
        "duplicate location",
        "invalid return code",
        "cannot have URI part",
        "invalid URL prefix",
        // post-configuration: merge and init functions
        "no \"ssl_certificate\" is defined",
        "no \"ssl_certificate_key\" is defined",
        "no ssl_client_certificate for ssl_verify_client",
        "\"ssl_ocsp\" is incompatible",
        "no \"listen\" is defined for server",
        "no handler for server",
        "unknown mail protocol for server",
        "no \"auth_http\" is defined for server",
        "zero size shared memory zone",
        "is already declared for a different use",
        // geo blocks and resolver (a name server's name needs DNS)
        "invalid range \"",
        "invalid network \"",
        "invalid number of the geo parameters",
        "the \"ranges\" directive must be the first",
        "no name servers defined",
        // handlers that read their own arguments
        "invalid log level \"",
        "duplicate log level \"",
        "invalid burst value",
        "invalid delay value",
        "must have \"zone\" parameter",
        "invalid session cache \"",
        "is too small",
        "invalid time value \"",
        "invalid status \"",
        "\"open_file_cache\" parameter",
        "must have the \"max\" parameter",
        "value must be between",
        "cannot be used inside the named location",
        "empty replacement",
        "invalid event type",
        "duplicate \"log_format\" name",
        "unknown log format escaping",
        "invalid variable name",
        "percent total is greater than 100%",
        "invalid percent value",
        "invalid method \"",
        "invalid code \"",
        "_ssl_trusted_certificate for ",
        "the closing bracket in \"",
        "invalid zone size \"",
        "invalid rate \"",
        "invalid variable name",
        "_ssl_certificate_key\" is defined for certificate",
    ]
    .iter()
    .any(|m| message.contains(m))
        || (message.starts_with("unknown \"") && message.ends_with("\" variable"))
        || (message.contains("_cache\" zone \"") && message.ends_with("is unknown"))
        || (message.contains(" in resolver \"")
            && (!message.starts_with("host not found") || message.contains('=')))
        // A host name in `listen` needs DNS (`host not found in ...`).
        || (message.ends_with("of the \"listen\" directive") && !message.starts_with("host not found"))
}

/// Compares verdicts; `no "events" section` has no line in nginx's output.
fn same(theirs: &Verdict, mine: &Verdict) -> bool {
    match (theirs, mine) {
        (
            Verdict::Error {
                message: a,
                line: 0,
            },
            Verdict::Error { message: b, .. },
        ) => a == b,
        _ => theirs == mine,
    }
}

#[test]
fn check_fixtures_match_nginx() {
    let Some(nginx) = require_nginx() else { return };
    let dir = root().join("fixtures/check");
    // `*.conf` only: the subfolders hold the files they include.
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort();
    assert!(files.len() >= 15);
    for f in files {
        let prefix = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(prefix.path().join("logs")).unwrap();
        let theirs = nginx_test_file(&nginx, prefix.path(), &f);
        let mine = ours(&f);
        assert!(
            same(&theirs, &mine),
            "{}:\n nginx: {theirs:?}\n ours:  {mine:?}",
            f.display()
        );
    }
}

#[test]
fn corpus_main_configs_get_nginx_verdict() {
    let Some(nginx) = require_nginx() else { return };
    let corpus = root().join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("../shared/corpus is not here; nothing to check");
        return;
    }
    let mut mains = Vec::new();
    collect_mains(&corpus, &mut mains);
    mains.sort();
    let (mut compared, mut environment) = (0, 0);
    for f in mains {
        let theirs = nginx_test_file(&nginx, f.parent().unwrap(), &f);
        let mine = ours(&f);
        match &theirs {
            Verdict::Error { message, .. } if !modelled(message) => {
                environment += 1;
                continue;
            }
            _ => {}
        }
        assert!(
            same(&theirs, &mine),
            "{}:\n nginx: {theirs:?}\n ours:  {mine:?}",
            f.display()
        );
        compared += 1;
    }
    eprintln!("{compared} configs compared, {environment} stopped by machine-specific or unmodelled checks");
    assert!(compared >= 40, "only {compared} compared");
}

/// Files with a top-level `events` or `http` block: whole nginx configs.
fn collect_mains(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_mains(&p, out);
        } else if p.extension().is_some_and(|x| x == "conf") {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            if text
                .lines()
                .any(|l| l.starts_with("events") || l.starts_with("http"))
            {
                out.push(p);
            }
        }
    }
}

/// Every variable of the checker's table that it accepts, the real nginx
/// accepts; every one it calls unknown (other releases, modules Debian
/// builds as dynamic), nginx rejects with the same message.
#[test]
fn builtin_variables_are_the_ones_nginx_knows() {
    let Some(nginx) = require_nginx() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let conf = dir.path().join("nginx.conf");
    let config = |names: &[&str]| {
        let sets: String = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("            set $probe{i} ${n};\n"))
            .collect();
        format!(
            "events {{}}\nhttp {{\n    server {{\n        listen 127.0.0.1:18099;\n        location / {{\n{sets}        }}\n    }}\n}}\n"
        )
    };
    let names: Vec<&str> = nginx_edit::check::builtin_http_variables().collect();
    assert!(names.len() > 150, "{} variables", names.len());
    std::fs::write(&conf, config(&names)).unwrap();
    let unknown: Vec<String> = match ours(&conf) {
        Verdict::Ok => Vec::new(),
        Verdict::Error { .. } => {
            let set = ConfigSet::load(&conf, None).unwrap();
            check_set(&set, &CheckOptions::default())
                .into_iter()
                .map(|f| {
                    let name = f.message.strip_prefix("unknown \"").unwrap();
                    name.strip_suffix("\" variable").unwrap().to_string()
                })
                .collect()
        }
    };
    assert!(unknown.iter().any(|n| n == "geoip_city"), "{unknown:?}");
    let known: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !unknown.iter().any(|u| u == n))
        .collect();
    std::fs::write(&conf, config(&known)).unwrap();
    assert_eq!(nginx_test_file(&nginx, dir.path(), &conf), Verdict::Ok);
    for name in &unknown {
        std::fs::write(&conf, config(&[name])).unwrap();
        assert_eq!(
            nginx_test_file(&nginx, dir.path(), &conf),
            Verdict::Error {
                message: format!("unknown \"{name}\" variable"),
                line: 0
            },
            "${name}"
        );
    }
}

/// `--modules debian` models one package version: the installed one, so
/// a security update that backports a directive fails this test until the
/// model knows it. Each backport the model has, the package accepts.
#[test]
fn debian_model_is_the_installed_package() {
    let Some(nginx) = require_nginx() else { return };
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "nginx"])
        .output();
    let version = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ if ci => panic!("dpkg-query -W nginx failed: Debian's nginx package is required in CI"),
        _ => {
            eprintln!("no Debian nginx package here: skipping");
            return;
        }
    };
    assert_eq!(
        version,
        debian::PACKAGE_VERSION,
        "nginx-edit's Debian model is for {}, the installed package is {version}: \
         read its changelog for backported directives and update check/debian.rs",
        debian::PACKAGE_VERSION
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let conf = dir.path().join("nginx.conf");
    for b in debian::BACKPORTS {
        std::fs::write(
            &conf,
            format!("events {{}}\nhttp {{\n    {}\n}}\n", b.example),
        )
        .unwrap();
        assert_eq!(
            nginx_test_file(&nginx, dir.path(), &conf),
            Verdict::Ok,
            "{}",
            b.example
        );
        assert_eq!(ours(&conf), Verdict::Ok, "{}", b.example);
        // upstream 1.22.1 (every module, no backports) does not have it
        let set = ConfigSet::load(&conf, None).unwrap();
        let upstream = CheckOptions {
            modules: Modules::All,
            ..CheckOptions::default()
        };
        let first = check_set(&set, &upstream)
            .into_iter()
            .next()
            .map(|f| f.message);
        assert_eq!(first, Some(format!("unknown directive \"{}\"", b.name)));
    }
}
