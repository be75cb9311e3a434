//! `bgswitch init` as a user runs it: the binary, `-o` and stdout, the
//! refusal to overwrite, and exit 4 on a file with no switch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

const NGINX: &str = "\
upstream app_blue { server 127.0.0.1:3001; }
upstream app_green { server 127.0.0.1:3002; }
map $http_x_deploy_color $backend {
    default app_blue;
    green app_green;
}
server {
    listen 8080;
    location / { proxy_pass http://$backend; }
}
";

fn bgswitch(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bgswitch"))
        .args(args)
        .output()
        .expect("run bgswitch")
}

#[test]
fn init_writes_a_config_that_loads_and_never_overwrites_it() {
    let d = tempfile::tempdir().unwrap();
    let nginx = d.path().join("app.conf");
    std::fs::write(&nginx, NGINX).unwrap();
    let out = d.path().join("bgswitch.toml");

    let o = bgswitch(&[
        "init".as_ref(),
        nginx.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let cfg = bgswitch::config::load(&out).unwrap();
    assert_eq!(cfg.nginx.config, d.path().join("app.conf"));
    assert_eq!(cfg.pools["green"].target.as_deref(), Some("app_green"));
    let written = std::fs::read(&out).unwrap();

    // `status` reads the live pool from the nginx file with that config.
    let s = bgswitch(&[
        "-c".as_ref(),
        out.as_os_str(),
        "status".as_ref(),
        "--json".as_ref(),
    ]);
    let status: serde_json::Value = serde_json::from_slice(&s.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&s.stderr)));
    assert_eq!(status["live"], "blue");

    let again = bgswitch(&[
        "init".as_ref(),
        nginx.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("bgswitch.toml") && err.contains("exists"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), written);
}

#[test]
fn init_to_stdout_and_exit_4_without_a_switch() {
    let d = tempfile::tempdir().unwrap();
    let nginx = d.path().join("app.conf");
    std::fs::write(&nginx, NGINX).unwrap();
    let o = bgswitch(&["init".as_ref(), nginx.as_os_str()]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    // Printed to stdout the path is absolute: the file may be saved anywhere.
    let cfg = bgswitch::config::parse(&text, std::path::Path::new("/elsewhere/b.toml")).unwrap();
    assert_eq!(cfg.nginx.config, nginx.canonicalize().unwrap());
    assert!(text.contains("kind = \"map\""), "{text}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("map $backend"));

    let plain = d.path().join("static.conf");
    std::fs::write(&plain, "server { listen 80; root /srv/www; }\n").unwrap();
    let o = bgswitch(&["init".as_ref(), plain.as_os_str()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("static.conf: no switch found"), "{err}");
    assert!(err.contains("flag selector"), "{err}");
}
