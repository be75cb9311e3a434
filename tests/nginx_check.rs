//! `nginx-edit check` against `nginx -t`: the same verdict, and for the
//! errors the checker models, the same message on the same line.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use e2e::check::{collect_mains, modelled, ours, ours_at, same};
use e2e::{nginx_test_file, require_nginx, Verdict};
use nginx_edit::check::{check_set, debian, CheckOptions, Modules};
use nginx_edit::includes::ConfigSet;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
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
        let mine = ours_at(&f, prefix.path());
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
        let mine = ours_at(&f, f.parent().unwrap());
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

/// `NGINX_EDIT_REAL_CONFIGS=PATH[:PATH...]`: configs gathered outside the
/// repo (each `DIR/**/nginx.conf` of a folder, or each line of a file, a
/// whole config run with its folder as nginx's prefix) through `nginx -t`
/// and the checker; without it, nothing.
/// Prints each disagreement and fails when there is one.
#[test]
fn real_configs_get_nginx_verdict() {
    let Some(dirs) = std::env::var_os("NGINX_EDIT_REAL_CONFIGS") else {
        return;
    };
    let Some(nginx) = require_nginx() else { return };
    let mut mains = Vec::new();
    for path in std::env::split_paths(&dirs) {
        if path.is_dir() {
            collect_named(&path, &mut mains);
        } else {
            let list = std::fs::read_to_string(&path).unwrap();
            mains.extend(list.lines().filter(|l| !l.is_empty()).map(PathBuf::from));
        }
    }
    mains.sort();
    let (mut agree, mut environment, mut wrong) = (0, 0, Vec::new());
    for f in &mains {
        let theirs = nginx_test_file(&nginx, f.parent().unwrap(), f);
        let mine = ours_at(f, f.parent().unwrap());
        if same(&theirs, &mine) {
            agree += 1;
            eprintln!("agree: {}: {theirs:?}", f.display());
        } else if matches!(&theirs, Verdict::Error { message, .. } if !modelled(message)) {
            environment += 1;
            eprintln!("machine: {}: {theirs:?} / ours {mine:?}", f.display());
        } else {
            wrong.push(format!(
                "{}:\n  nginx: {theirs:?}\n  ours:  {mine:?}",
                f.display()
            ));
        }
    }
    for w in &wrong {
        eprintln!("DISAGREE {w}");
    }
    eprintln!(
        "{} configs, {agree} agree, {environment} machine-dependent, {} disagree",
        mains.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{} disagreements", wrong.len());
}

/// Every `nginx.conf` under `dir`.
fn collect_named(dir: &Path, out: &mut Vec<PathBuf>) {
    for p in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = p.path();
        if p.is_dir() {
            collect_named(&p, out);
        } else if p.file_name().is_some_and(|n| n == "nginx.conf") {
            out.push(p);
        }
    }
}
