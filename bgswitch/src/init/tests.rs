//! `init` on nginx files in each seed style's shape (written here, not
//! copied from the seeds), on `--kind`, and on files with no switch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use super::*;
use crate::config::{self, SwitchKind};

/// Writes `files` (name, text) into a fresh directory.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

/// init on `name` in `d`, the toml to live in `d` too.
fn init(d: &Path, name: &str, kind: Option<Kind>) -> Result<Generated, InitError> {
    generate(&d.join(name), kind, Some(d))
}

/// The generated text is TOML, and the config parser of this build takes it.
fn loads(d: &Path, g: &Generated) -> config::Config {
    toml::from_str::<toml::Value>(&g.toml).expect("valid TOML");
    config::parse(&g.toml, &d.join("bgswitch.toml"))
        .unwrap_or_else(|e| panic!("{e}\n---\n{}", g.toml))
}

const MAP: &str = "\
upstream app_blue {
server 10.0.1.10:3000 max_fails=3 fail_timeout=10s;
server 10.0.1.11:3000 max_fails=3 fail_timeout=10s;
}
upstream app_green {
server 10.0.2.10:3000 max_fails=3 fail_timeout=10s;
server 10.0.2.11:3000 max_fails=3 fail_timeout=10s;
}
# Default: blue is active
map $http_x_deploy_color $backend {
default app_blue;
blue app_blue;
green app_green;
}
server {
listen 80;
listen 443 ssl;
location / {
proxy_pass http://$backend;
}
location /health {
proxy_pass http://$backend/health;
}
}
";

#[test]
fn map_whose_default_names_an_upstream() {
    let d = dir_with(&[("sites-enabled/app", MAP)]);
    let g = init(d.path(), "sites-enabled/app", None).unwrap();
    let cfg = loads(d.path(), &g);
    assert_eq!(cfg.switch.kind, SwitchKind::Map);
    assert_eq!(cfg.switch.map.as_deref(), Some("$backend"));
    assert_eq!(cfg.pools["blue"].target.as_deref(), Some("app_blue"));
    assert_eq!(cfg.pools["green"].target.as_deref(), Some("app_green"));
    assert_eq!(cfg.nginx.config, d.path().join("sites-enabled/app"));
    assert!(
        g.toml.contains("config = \"sites-enabled/app\""),
        "{}",
        g.toml
    );
    // First listen is plain port 80, no server_name, a /health location.
    assert_eq!(cfg.verify.url.as_deref(), Some("http://127.0.0.1/health"));
    assert!(g.toml.contains("10.0.2.10:3000, 10.0.2.11:3000"));
    assert!(g.toml.contains("(live now)"));
    assert!(g.notes[0].contains("map $backend"), "{:?}", g.notes);
}

#[test]
fn map_with_only_a_default_finds_the_sibling_upstream() {
    let text = "upstream web_blue { server 127.0.0.1:3001; }\n\
                upstream web_green { server 127.0.0.1:3002; }\n\
                map $cookie_pool $pool { default web_green; }\n\
                server { listen 8080; location / { proxy_pass http://$pool; } }\n";
    let d = dir_with(&[("lb.conf", text)]);
    let g = init(d.path(), "lb.conf", None).unwrap();
    let cfg = loads(d.path(), &g);
    assert_eq!(cfg.pools["green"].target.as_deref(), Some("web_green"));
    assert_eq!(cfg.pools["blue"].target.as_deref(), Some("web_blue"));
    assert_eq!(cfg.verify.url.as_deref(), Some("http://127.0.0.1:8080/"));
}

#[test]
fn upstream_with_a_commented_out_server_named_by_its_comments() {
    // Green first in the file: the names come from the lines' comments,
    // not from the order.
    let text = "upstream my_backend {\n    server 127.0.0.1:3002;        # green (active)\n    # server 127.0.0.1:3001;      # blue (commented out)\n}\n\
                server {\n    listen 443 ssl http2;\n    server_name your-app.io;\n    location / {\n        proxy_pass http://my_backend;\n    }\n}\n";
    let d = dir_with(&[("my.conf", text)]);
    let g = init(d.path(), "my.conf", None).unwrap();
    let cfg = loads(d.path(), &g);
    assert_eq!(cfg.switch.kind, SwitchKind::Upstream);
    assert_eq!(cfg.switch.upstream.as_deref(), Some("my_backend"));
    assert_eq!(cfg.pools["blue"].servers, ["127.0.0.1:3001"]);
    assert_eq!(cfg.pools["green"].servers, ["127.0.0.1:3002"]);
    assert!(
        g.toml.contains("url = \"https://your-app.io/\""),
        "{}",
        g.toml
    );
    assert!(
        g.toml.contains("connect_to = \"127.0.0.1:443\""),
        "{}",
        g.toml
    );
    // Until this build takes https URLs, they are written commented out.
    let expected = super::render::HTTPS_KNOWN.then_some("https://your-app.io/");
    assert_eq!(cfg.verify.url.as_deref(), expected);
}

#[test]
fn upstream_with_a_down_server_in_source_order() {
    let text = "upstream app {\n  server 10.0.0.1:80;\n  server 10.0.0.2:80 down;\n}\n";
    let d = dir_with(&[("app.conf", text)]);
    let cfg = loads(d.path(), &init(d.path(), "app.conf", None).unwrap());
    assert_eq!(cfg.switch.kind, SwitchKind::Upstream);
    assert_eq!(cfg.pools["blue"].servers, ["10.0.0.1:80"]);
    assert_eq!(cfg.pools["green"].servers, ["10.0.0.2:80"]);
}

#[test]
fn one_server_upstream_gets_a_placeholder_for_the_other_pool() {
    // The included upstream file of a container setup, read alone.
    let text = "upstream live_backend {\nserver host.docker.internal:8001;\nkeepalive 32;\n}\n";
    let d = dir_with(&[("upstream_target.conf", text)]);
    let g = init(d.path(), "upstream_target.conf", None).unwrap();
    let cfg = loads(d.path(), &g);
    assert_eq!(cfg.switch.kind, SwitchKind::Replace);
    assert_eq!(cfg.pools["blue"].servers, ["host.docker.internal:8001"]);
    assert_eq!(cfg.pools["green"].servers, ["FILL-IN-HOST:PORT"]);
    assert!(g.toml.contains("EDIT: FILL IN green's address"));
    assert!(
        g.notes.iter().any(|n| n.contains("FILL IN")),
        "{:?}",
        g.notes
    );
}

#[test]
fn one_server_upstream_with_a_colour_guesses_the_other_address() {
    let text = "http {\nupstream active_model {\nserver blue:8000;\n}\nserver {\nlisten 80;\nlocation / {\nproxy_pass http://active_model;\n}\n}\n}\n";
    let d = dir_with(&[("nginx.conf", text)]);
    let g = init(d.path(), "nginx.conf", None).unwrap();
    let cfg = loads(d.path(), &g);
    assert_eq!(cfg.pools["blue"].servers, ["blue:8000"]);
    assert_eq!(cfg.pools["green"].servers, ["green:8000"]);
    assert!(
        g.notes.iter().any(|n| n.contains("guessed")),
        "{:?}",
        g.notes
    );
}

const FLAG: &str = "\
upstream app_blue { server 127.0.0.1:3001; }
upstream app_green { server 127.0.0.1:3002; }
server {
    listen 127.0.0.1:8080;
    server_name app.example.com;
    set $backend app_blue;
    if (-f /srv/flags/app/green) { set $backend app_green; }
    location / { proxy_pass http://$backend; }
}
";

#[test]
fn flag_selector() {
    let d = dir_with(&[("app.conf", FLAG)]);
    let g = init(d.path(), "app.conf", None).unwrap();
    // The config parser of this build does not know kind = "flag" yet:
    // the text must be TOML and say the right things.
    let v: toml::Value = toml::from_str(&g.toml).unwrap();
    assert_eq!(v["switch"]["kind"].as_str(), Some("flag"));
    assert_eq!(v["switch"]["map"].as_str(), Some("$backend"));
    assert_eq!(v["switch"]["flag_dir"].as_str(), Some("/srv/flags/app"));
    assert_eq!(v["pools"]["blue"]["target"].as_str(), Some("app_blue"));
    assert_eq!(v["pools"]["green"]["target"].as_str(), Some("app_green"));
    assert_eq!(
        v["verify"]["url"].as_str(),
        Some("http://app.example.com:8080/")
    );
    assert!(g.steps.is_empty());
}

#[test]
fn kind_flag_on_a_map_prints_the_selector_and_its_install() {
    let d = dir_with(&[("app.conf", MAP)]);
    let g = init(d.path(), "app.conf", Some(Kind::Flag)).unwrap();
    let steps = g.steps.join("\n");
    assert!(steps.contains("set $backend app_blue;"), "{steps}");
    assert!(
        steps.contains("if (-f /var/lib/bgswitch/app/green) { set $backend app_green; }"),
        "{steps}"
    );
    assert!(steps.contains("Delete map $backend"), "{steps}");
    assert!(steps.contains("nginx -t && nginx -s reload"), "{steps}");
    assert!(g.toml.contains("#        set $backend app_blue;"));
    let v: toml::Value = toml::from_str(&g.toml).unwrap();
    assert_eq!(v["switch"]["kind"].as_str(), Some("flag"));
    assert_eq!(
        v["switch"]["flag_dir"].as_str(),
        Some("/var/lib/bgswitch/app")
    );
}

#[test]
fn kind_flag_on_an_upstream_splits_it_per_pool() {
    let text = "upstream api {\n  server 127.0.0.1:3001;\n  # server 127.0.0.1:3002;\n}\nserver { listen 80; location /v1/ { proxy_pass http://api/v1/; } }\n";
    let d = dir_with(&[("api.conf", text)]);
    let g = init(d.path(), "api.conf", Some(Kind::Flag)).unwrap();
    let steps = g.steps.join("\n");
    assert!(
        steps.contains("upstream api_blue { server 127.0.0.1:3001; }"),
        "{steps}"
    );
    assert!(
        steps.contains("upstream api_green { server 127.0.0.1:3002; }"),
        "{steps}"
    );
    assert!(steps.contains("proxy_pass http://$backend;"), "{steps}");
    assert!(steps.contains("api.conf:5"), "{steps}");
    let v: toml::Value = toml::from_str(&g.toml).unwrap();
    assert_eq!(v["pools"]["green"]["target"].as_str(), Some("api_green"));
}

#[test]
fn kind_forces_a_choice_and_others_are_listed() {
    let text =
        format!("{MAP}upstream admin {{\n server 10.9.0.1:80;\n # server 10.9.0.2:80;\n}}\n");
    let d = dir_with(&[("both.conf", &text)]);
    let auto = init(d.path(), "both.conf", None).unwrap();
    assert_eq!(loads(d.path(), &auto).switch.kind, SwitchKind::Map);
    assert!(auto.toml.contains("#   upstream admin"), "{}", auto.toml);
    assert!(auto.notes.iter().any(|n| n.contains("also found")));
    // app_blue / app_green are the map's pools, not switches of their own.
    assert!(!auto.toml.contains("upstream app_blue ("), "{}", auto.toml);

    let forced = init(d.path(), "both.conf", Some(Kind::Upstream)).unwrap();
    let cfg = loads(d.path(), &forced);
    assert_eq!(cfg.switch.kind, SwitchKind::Upstream);
    assert_eq!(cfg.switch.upstream.as_deref(), Some("admin"));

    let e = init(d.path(), "both.conf", Some(Kind::Replace)).unwrap_err();
    assert_eq!(e.code, NOT_FOUND);
    assert!(e.message.contains("exactly one server"), "{}", e.message);
    assert!(!e.message.contains("map"), "{}", e.message);
}

#[test]
fn no_switch_is_exit_4_saying_what_was_looked_for() {
    let text = "events {}\nhttp {\n  include /nowhere/upstreams.conf;\n  server { listen 80; location / { proxy_pass http://live_backend; } }\n}\n";
    let d = dir_with(&[("nginx.conf", text)]);
    let e = init(d.path(), "nginx.conf", None).unwrap_err();
    assert_eq!(e.code, NOT_FOUND);
    for k in [Kind::Map, Kind::Upstream, Kind::Replace, Kind::Flag] {
        assert!(e.message.contains(k.looked_for()), "{}", e.message);
    }
    assert!(
        e.message.contains("/nowhere/upstreams.conf"),
        "{}",
        e.message
    );
    assert!(e.message.contains("upstream live_backend"), "{}", e.message);
}

#[test]
fn a_switch_in_an_included_file_is_the_config_and_the_file_named_is_main() {
    let main = "events {}\nhttp {\n  include conf.d/*.conf;\n  server { listen 80; location / { proxy_pass http://live; } }\n}\n";
    let inc = "upstream live {\n  server 127.0.0.1:8001;\n  server 127.0.0.1:8002 down;\n}\n";
    let d = dir_with(&[("nginx.conf", main), ("conf.d/up.conf", inc)]);
    let g = init(d.path(), "nginx.conf", None).unwrap();
    let cfg = loads(d.path(), &g);
    assert_eq!(cfg.nginx.config, d.path().join("conf.d/up.conf"));
    assert_eq!(cfg.nginx.main, Some(d.path().join("nginx.conf")));
}

#[test]
fn a_file_that_does_not_parse_is_exit_2_with_its_position() {
    let d = dir_with(&[("bad.conf", "upstream a {\n  server 1.2.3.4:80\n")]);
    let e = init(d.path(), "bad.conf", None).unwrap_err();
    assert_eq!(e.code, exit::CONFIG);
    assert!(e.message.contains("bad.conf:"), "{}", e.message);
}

#[test]
fn output_over_an_existing_file_is_refused_and_it_is_unchanged() {
    let d = dir_with(&[("app.conf", MAP), ("bgswitch.toml", "keep me\n")]);
    let args = InitArgs {
        kind: None,
        nginx_file: d.path().join("app.conf"),
        output: Some(d.path().join("bgswitch.toml")),
    };
    assert_eq!(run(&args), exit::CONFIG);
    assert_eq!(
        std::fs::read_to_string(d.path().join("bgswitch.toml")).unwrap(),
        "keep me\n"
    );
}

#[test]
fn paths_relative_to_the_output_directory() {
    let d = dir_with(&[("etc/app.conf", MAP)]);
    let out = d.path().join("deploy");
    std::fs::create_dir(&out).unwrap();
    let g = generate(&d.path().join("etc/app.conf"), None, Some(&out)).unwrap();
    assert!(
        g.toml.contains("config = \"../etc/app.conf\""),
        "{}",
        g.toml
    );
    let cfg = config::parse(&g.toml, &out.join("bgswitch.toml")).unwrap();
    assert!(cfg.nginx.config.ends_with("deploy/../etc/app.conf"));
}
