//! The `nginx-edit` command as users run it: outputs, exit codes, and the
//! promise that a failed command leaves every file as it was.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nginx-edit"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn seed(name: &str) -> String {
    fs::read_to_string(format!(
        "{}/../fixtures/seed/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A temporary directory holding a copy of a seed fixture.
fn workdir(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, seed(name)).unwrap();
    (dir, path)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn edit_prints_to_stdout_and_leaves_the_file() {
    let (_d, path) = workdir("map-default.conf");
    let o = run(&["map", "set-default", s(&path), "$backend", "app_green"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected = seed("map-default.conf").replace(
        "    default app_blue;\n    blue",
        "    default app_green;\n    blue",
    );
    assert_eq!(stdout(&o), expected);
    assert_eq!(fs::read_to_string(&path).unwrap(), seed("map-default.conf"));
}

#[test]
fn in_place_writes_through_symlink_keeps_mode_and_backup() {
    let dir = tempfile::tempdir().unwrap();
    let avail = dir.path().join("sites-available");
    let enabled = dir.path().join("sites-enabled");
    fs::create_dir_all(&avail).unwrap();
    fs::create_dir_all(&enabled).unwrap();
    let real = avail.join("app.conf");
    fs::write(&real, seed("upstream-commented.conf")).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = enabled.join("app.conf");
    std::os::unix::fs::symlink("../sites-available/app.conf", &link).unwrap();

    let o = run(&[
        "upstream",
        "only",
        s(&link),
        "app",
        "127.0.0.1:3002",
        "--in-place",
        "--backup",
        ".bak",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = fs::read_to_string(&real).unwrap();
    assert!(text.contains("\n    # server 127.0.0.1:3001 max_fails=3"));
    assert!(text.contains("\n    server 127.0.0.1:3002 max_fails=3"));
    assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o640);
    // the backup sits beside the real file, not in sites-enabled
    assert_eq!(
        fs::read_to_string(avail.join("app.conf.bak")).unwrap(),
        seed("upstream-commented.conf")
    );
    assert_eq!(fs::read_dir(&enabled).unwrap().count(), 1);
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let (_d, path) = workdir("upstream-down.conf");
    let o = run(&[
        "upstream",
        "only",
        s(&path),
        "app",
        "api-green:3000",
        "--diff",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let name = s(&path).trim_start_matches('/');
    assert!(
        out.starts_with(&format!("--- a/{name}\n+++ b/{name}\n")),
        "{out}"
    );
    assert!(
        out.contains("\n-\tserver api-green:3000 weight=5 down;\n"),
        "{out}"
    );
    assert!(
        out.contains("\n+\tserver api-green:3000 weight=5;\n"),
        "{out}"
    );
    assert!(
        out.contains("\n+\tserver api-blue:3000 weight=5 down;\n"),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        seed("upstream-down.conf")
    );
}

#[test]
fn check_flag_exits_1_only_when_the_edit_would_change() {
    let (_d, path) = workdir("map-default.conf");
    let o = run(&[
        "map",
        "set-default",
        s(&path),
        "backend",
        "app_green",
        "--check",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&[
        "map",
        "set-default",
        s(&path),
        "backend",
        "app_blue",
        "--check",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(fs::read_to_string(&path).unwrap(), seed("map-default.conf"));
}

#[test]
fn parse_error_exits_3_with_location_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.conf");
    let text = "upstream app {\n    server a:1\n}\n";
    fs::write(&path, text).unwrap();
    let o = run(&["upstream", "enable", s(&path), "app", "a:1", "--in-place"]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("{}:3:1: error: unexpected \"}}\"\n", s(&path))),
        "{err}"
    );
    assert!(err.contains("3 | }\n  | ^"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn missing_things_exit_4_and_change_nothing() {
    let (_d, path) = workdir("upstream-down.conf");
    for args in [
        vec!["upstream", "enable", s(&path), "nope", "a:1", "--in-place"],
        vec![
            "upstream",
            "disable",
            s(&path),
            "app",
            "9.9.9.9:1",
            "--in-place",
        ],
        vec![
            "upstream",
            "replace",
            s(&path),
            "app",
            "9.9.9.9:1",
            "1.1.1.1:1",
            "--in-place",
        ],
        vec!["map", "set-default", s(&path), "$nope", "x", "--in-place"],
        vec!["map", "get-default", s(&path), "$nope"],
        vec!["upstream", "list", s(&path), "nope"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    }
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        seed("upstream-down.conf")
    );
}

#[test]
fn unreadable_file_and_bad_usage_exit_2() {
    let o = run(&["upstream", "list", "/nonexistent/x.conf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/x.conf"), "{}", stderr(&o));
    let o = run(&["upstream", "frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "map",
        "set-default",
        "x.conf",
        "$a",
        "b",
        "--diff",
        "--check",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn last_server_is_refused_unless_forced() {
    let (_d, path) = workdir("upstream-replace.conf");
    let o = run(&[
        "upstream",
        "disable",
        s(&path),
        "app",
        "10.0.1.10:3000",
        "--in-place",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        seed("upstream-replace.conf")
    );
    let o = run(&[
        "upstream",
        "disable",
        s(&path),
        "app",
        "10.0.1.10:3000",
        "--force",
        "--in-place",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fs::read_to_string(&path)
        .unwrap()
        .contains("server 10.0.1.10:3000 down;"));
}

#[test]
fn replace_and_get_default() {
    let (_d, path) = workdir("upstream-replace.conf");
    let o = run(&[
        "upstream",
        "replace",
        s(&path),
        "app",
        "10.0.1.10:3000",
        "10.0.2.10:3000",
        "--in-place",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        seed("upstream-replace.conf").replace("10.0.1.10:3000", "10.0.2.10:3000")
    );
    let (_d, path) = workdir("crlf.conf");
    let o = run(&["map", "get-default", s(&path), "backend"]);
    assert_eq!(stdout(&o), "app_blue\n");
}

#[test]
fn follow_includes_edits_only_the_file_that_holds_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("conf.d")).unwrap();
    let main = "events {}\nhttp {\n    include conf.d/*.conf;\n}\n";
    fs::write(d.join("nginx.conf"), main).unwrap();
    fs::write(d.join("conf.d/app.conf"), seed("map-default.conf")).unwrap();
    let o = run(&[
        "map",
        "set-default",
        s(&d.join("nginx.conf")),
        "$backend",
        "app_green",
        "--follow-includes",
        "--in-place",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(d.join("nginx.conf")).unwrap(), main);
    assert!(fs::read_to_string(d.join("conf.d/app.conf"))
        .unwrap()
        .contains("    default app_green;\n    blue"));
    // without --follow-includes the map is not in nginx.conf
    let o = run(&["map", "get-default", s(&d.join("nginx.conf")), "$backend"]);
    assert_eq!(o.status.code(), Some(4));
}

#[test]
fn list_text_and_json() {
    let (_d, path) = workdir("upstream-commented.conf");
    let o = run(&["upstream", "list", s(&path)]);
    assert_eq!(
        stdout(&o),
        "app 127.0.0.1:3001 enabled max_fails=3 fail_timeout=5s\n\
         app 127.0.0.1:3002 commented max_fails=3 fail_timeout=5s\n"
    );
    let o = run(&["upstream", "list", s(&path), "app", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["upstream"], "app");
    assert_eq!(v[0]["servers"][1]["state"], "commented");
    assert_eq!(v[0]["servers"][1]["line"], 4);
}

#[test]
fn parse_json_and_closed_stdout() {
    let (_d, path) = workdir("upstream-down.conf");
    let o = run(&["parse", s(&path)]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["config"][0]["directive"], "upstream");
    assert_eq!(v["config"][0]["block"][1]["args"][2], "down");
    // a reader that goes away is not an error
    let mut child = bin()
        .args(["parse", s(&path)])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn check_exit_codes_formats_and_include_root() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("nginx/conf.d")).unwrap();
    // Absolute includes as on the server, mapped onto the repository folder.
    fs::write(
        d.join("nginx/nginx.conf"),
        "events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n    include /etc/nginx/missing.types;\n}\n",
    )
    .unwrap();
    fs::write(
        d.join("nginx/conf.d/app.conf"),
        "server {\n    listen 80;\n}\n",
    )
    .unwrap();
    let main = d.join("nginx/nginx.conf");
    let root = format!("/etc/nginx={}", s(&d.join("nginx")));

    // clean: an include that does not resolve is only a warning
    let o = run(&["check", "--include-root", &root, s(&main)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("warning: include \"") && stdout(&o).contains("missing.types"),
        "{}",
        stdout(&o)
    );

    // a mistake in the included file, found through the mapped include
    fs::write(
        d.join("nginx/conf.d/app.conf"),
        "server {\n    listen 80;\n    prox_pass x;\n}\n",
    )
    .unwrap();
    let o = run(&["check", "--include-root", &root, s(&main)]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let app = s(&d.join("nginx/conf.d/app.conf")).to_string();
    assert!(
        out.contains(&format!(
            "{app}:3:16: error: unknown directive \"prox_pass\"\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("3 |     prox_pass x;\n  |                ^"),
        "{out}"
    );
    // without the mapping the include does not resolve, so nothing is found
    let o = run(&["check", s(&main)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // JSON diagnostics
    let o = run(&[
        "check",
        "--format",
        "json",
        "--include-root",
        &root,
        s(&main),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(errors[0]["message"], "unknown directive \"prox_pass\"");

    // a syntax error is a problem found (1); an unreadable file is exit 2
    fs::write(d.join("bad.conf"), "events {}\nhttp {\n").unwrap();
    let o = run(&["check", s(&d.join("bad.conf"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("error: unexpected end of file, expecting \"}\""),
        "{}",
        stdout(&o)
    );
    let o = run(&["check", s(&d.join("nope.conf"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.conf"), "{}", stderr(&o));
    let o = run(&["check", "--include-root", "relative=x", s(&main)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--include-root"), "{}", stderr(&o));
}

/// A relative cache path named twice is printed joined to nginx's prefix,
/// as nginx prints it: Debian's `/usr/share/nginx/` unless `--nginx-prefix`
/// says otherwise (nginx's `-p`).
#[test]
fn check_prints_relative_paths_under_nginx_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    fs::write(
        &conf,
        "events {}\nhttp {\n    proxy_cache_path cache keys_zone=a:1m;\n    proxy_cache_path cache keys_zone=b:1m;\n}\n",
    )
    .unwrap();
    let o = run(&["check", "--no-resolve", s(&conf)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("error: the same path name \"/usr/share/nginx/cache\" used in "),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "check",
        "--no-resolve",
        "--nginx-prefix",
        "/srv/ngx",
        s(&conf),
    ]);
    assert!(
        stdout(&o).contains("the same path name \"/srv/ngx/cache\" used in "),
        "{}",
        stdout(&o)
    );
}
