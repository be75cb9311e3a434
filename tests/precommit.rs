//! The pre-commit hook, installed and run by the real `pre-commit` tool
//! (`pre-commit try-repo` on this repository): a broken config fails naming
//! the error, a good one passes.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn pre_commit() -> Option<String> {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("pre-commit".into());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("pre-commit is required in CI (python3 -m pip install pre-commit)");
    }
    eprintln!("pre-commit not found: skipping (set CI=true to make this a failure)");
    None
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .current_dir(dir)
        .args(args)
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

#[test]
fn hook_fails_on_a_broken_config_and_passes_a_good_one() {
    let Some(pc) = pre_commit() else { return };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    std::fs::create_dir_all(d.join("nginx/conf.d")).unwrap();
    std::fs::write(
        d.join("nginx/nginx.conf"),
        "events {}\nhttp {\n    include conf.d/*.conf;\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("nginx/conf.d/good.conf"),
        // `app-blue` is a name only the deploy network knows: the hook
        // does not look it up.
        "upstream app {\n    server app-blue:3000;\n}\nserver {\n    listen 80;\n    location / { proxy_pass http://app; }\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("nginx/conf.d/bad.conf"),
        "server {\n    listen 80;\n    location / {\n        proxy_pass http://127.0.0.1:3000\n    }\n}\n",
    )
    .unwrap();
    git(d, &["add", "."]);
    let run = |file: &str| {
        Command::new(&pc)
            .current_dir(d)
            .args([
                "try-repo",
                repo.to_str().unwrap(),
                "nginx-edit-check",
                "--files",
                file,
            ])
            .output()
            .unwrap()
    };
    let good = run("nginx/conf.d/good.conf");
    let out = String::from_utf8_lossy(&good.stdout);
    assert!(
        good.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(out.contains("Passed"), "{out}");
    let bad = run("nginx/conf.d/bad.conf");
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(
        bad.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(
        out.contains("nginx/conf.d/bad.conf:5:5: error: unexpected \"}\""),
        "{out}"
    );
}
