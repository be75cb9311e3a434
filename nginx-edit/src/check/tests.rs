//! The checker's rules on small configs (no nginx needed; the comparison
//! with the real `nginx -t` is `tests/nginx_check.rs`).

#![allow(clippy::unwrap_used)]
use super::*;
use crate::includes::ConfigSet;

fn findings_with(src: &str, options: &CheckOptions) -> Vec<(usize, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, src).unwrap();
    let set = ConfigSet::load(&path, None).unwrap();
    check_set(&set, options)
        .into_iter()
        .map(|f| (f.line, f.message))
        .collect()
}

/// Findings without host lookups (the tests of lookups say so).
fn findings(src: &str) -> Vec<(usize, String)> {
    let offline = CheckOptions {
        resolve: false,
        ..CheckOptions::default()
    };
    findings_with(src, &offline)
}

fn findings_resolving(src: &str) -> Vec<(usize, String)> {
    findings_with(src, &CheckOptions::default())
}

fn one(line: usize, message: &str) -> Vec<(usize, String)> {
    vec![(line, message.to_string())]
}

#[test]
fn clean_config_has_no_findings() {
    assert_eq!(
        findings("events {}\nhttp {\n  upstream a { server 127.0.0.1:1; }\n  server { listen 80; location / { proxy_pass http://a; } }\n}\n"),
        vec![]
    );
}

#[test]
fn handler_errors_in_nginx_words_at_the_terminator_line() {
    assert_eq!(
        findings("events {}\nhttp {\n  prox_pass x;\n}\n"),
        one(3, "unknown directive \"prox_pass\"")
    );
    assert_eq!(
        findings("events {}\nhttp {\n  proxy_pass\n    x;\n}\n"),
        one(4, "\"proxy_pass\" directive is not allowed here")
    );
    assert_eq!(
        findings("events {}\nhttp {\n  sendfile yes;\n}\n"),
        one(
            3,
            "invalid value \"yes\" in \"sendfile\" directive, it must be \"on\" or \"off\""
        )
    );
    assert_eq!(
        findings("events {}\nhttp {\n  server { listen; }\n}\n"),
        one(3, "invalid number of arguments in \"listen\" directive")
    );
    assert_eq!(
        findings("events {}\nhttp {\n  server;\n}\n"),
        one(3, "directive \"server\" has no opening \"{\"")
    );
}

#[test]
fn enum_and_bitmask_values_after_the_duplicate_check() {
    let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
    assert_eq!(
        findings(&http("server_tokens bogus;")),
        one(3, "invalid value \"bogus\"")
    );
    assert_eq!(
        findings(&http("ssl_protocols TLSv1.2\n  TLSv1.4;")),
        one(4, "invalid value \"TLSv1.4\"")
    );
    assert_eq!(
        findings(&http("server_tokens off;\nserver_tokens bogus;")),
        one(4, "\"server_tokens\" directive is duplicate")
    );
    assert_eq!(
        findings(&http("proxy_next_upstream error timeout HTTP_502;\ngzip_proxied any;\nproxy_http_version 1.1;")),
        vec![]
    );
}

#[test]
fn handler_values_of_return_error_page_and_keepalive() {
    let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
    assert_eq!(
        findings(&http("server { location / { return /x; } }")),
        one(3, "invalid return code \"/x\"")
    );
    assert_eq!(
        findings(&http("server { error_page 200 /x; }")),
        one(3, "value \"200\" must be between 300 and 599")
    );
    assert_eq!(
        findings(&http("upstream a { server 127.0.0.1:1; keepalive 0; }")),
        one(3, "invalid value \"0\" in \"keepalive\" directive")
    );
}

#[test]
fn listen_addresses_across_servers() {
    let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
    assert_eq!(
        findings(&http(
            "server { listen 80 default_server; }\nserver { listen *:80 default; }"
        )),
        one(4, "a duplicate default server for 0.0.0.0:80")
    );
    assert_eq!(
        findings(&http("server { listen 8080; listen 80 spdy; }")),
        one(3, "invalid parameter \"spdy\"")
    );
    assert_eq!(
        findings(&http("server { listen 127.0.0.1:http; }")),
        one(
            3,
            "invalid port in \"127.0.0.1:http\" of the \"listen\" directive"
        )
    );
    // Host names need DNS; another http block starts afresh.
    assert_eq!(
        findings(&http(
            "server { listen localhost:80; listen localhost:80; }"
        )),
        vec![]
    );
    let newer = CheckOptions {
        nginx_version: crate::directives::nginx_version(1, 25, 1),
        ..CheckOptions::default()
    };
    assert_eq!(
        findings_with(&http("server { listen 443 quic; }"), &newer),
        vec![]
    );
}

#[test]
fn upstream_servers_and_proxy_pass_urls() {
    let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
    assert_eq!(
        findings(&http("upstream a { ip_hash; server 127.0.0.1:1 backup; }")),
        one(3, "balancing method does not support parameter \"backup\"")
    );
    assert_eq!(
        findings(&http(
            "upstream a { server 127.0.0.1:1 backup; least_conn; server 127.0.0.1:2 backup; server 127.0.0.1:3; }"
        )),
        vec![]
    );
    assert_eq!(
        findings(&http("server { location ~ x { proxy_pass http://a/; } }")),
        one(
            3,
            "\"proxy_pass\" cannot have URI part in location given by regular expression, \
             or inside named location, or inside \"if\" statement, or inside \
             \"limit_except\" block"
        )
    );
    assert_eq!(
        findings(&http("server { location /x/ { proxy_pass http://a/y/; } location ~ y { proxy_pass http://$host/y; } }")),
        vec![]
    );
    assert_eq!(
        findings(&http("server { location / { proxy_pass a:1; } }")),
        one(3, "invalid URL prefix")
    );
}

#[test]
fn duplicate_locations_after_the_http_block_before_variables() {
    let conf =
        "events {}\nhttp {\n server {\n  location /a { set $x $nope; }\n  location /a { }\n }\n}\n";
    assert_eq!(
        findings(conf),
        vec![
            (5, "duplicate location \"/a\"".to_string()),
            (4, "unknown \"nope\" variable".to_string())
        ]
    );
    // A snippet of locations shares one parent.
    assert_eq!(
        findings("location = /x { }\nlocation /x { }\nlocation = /x { }\n"),
        one(3, "duplicate location \"/x\"")
    );
}

#[test]
fn upstream_map_and_events() {
    assert_eq!(
        findings("events {}\nhttp {\n  upstream a {\n  # server x;\n  }\n}\n"),
        one(5, "no servers are inside upstream")
    );
    assert_eq!(
        findings("events {}\nhttp {\n map $uri $b {\n default 1;\n default 2;\n }\n}\n"),
        one(5, "duplicate default map parameter")
    );
    assert_eq!(
        findings("events {}\nhttp {\n map $uri $b {\n a b c;\n }\n}\n"),
        one(4, "invalid number of the map parameters")
    );
    assert_eq!(
        findings("http {}\n"),
        one(1, "no \"events\" section in configuration")
    );
}

#[test]
fn location_nesting_upstreams_and_log_formats() {
    let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
    assert_eq!(
        findings(&http("server {\n location /a {\n  location /b { }\n }\n}")),
        one(5, "location \"/b\" is outside location \"/a\"")
    );
    assert_eq!(
        findings(&http(
            "server {\n location = /a {\n  location /a/b { }\n }\n}"
        )),
        one(
            5,
            "location \"/a/b\" cannot be inside the exact location \"/a\""
        )
    );
    assert_eq!(
        findings(&http("server {\n location /a {\n  location @x { }\n }\n}")),
        one(5, "named location \"@x\" can be on the server level only")
    );
    assert_eq!(
        findings(&http(
            "server {\n location /a {\n  location ~ \\.php$ { }\n  location /a/b { }\n }\n}"
        )),
        vec![]
    );
    assert_eq!(
        findings(&http("server { location foo /a { } }")),
        one(3, "invalid location modifier \"foo\"")
    );
    assert_eq!(
        findings(&http(
            "upstream a { server x:1; }\nupstream A { server x:2; }"
        )),
        one(4, "duplicate upstream \"A\"")
    );
    assert_eq!(
        findings(&http("access_log /x main;\nlog_format main $remote_addr;\naccess_log /y main;\naccess_log /z combined;")),
        one(3, "unknown log format \"main\"")
    );
}

#[test]
fn upstream_names_and_host_lookups_as_nginx_t() {
    let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
    // a name no upstream block has is looked up once the block is read
    assert_eq!(
        findings_resolving(&http(
            "server {\n location / { proxy_pass http://nope.invalid; }\n}"
        )),
        one(4, "host not found in upstream \"nope.invalid\"")
    );
    // a block defined after it is found, in any case
    assert_eq!(
        findings_resolving(&http("server { location / { proxy_pass http://App; } }\nupstream app { server 127.0.0.1:1; }")),
        vec![]
    );
    // a port on a name that is an upstream block, in either order
    assert_eq!(
        findings_resolving(&http("upstream app { server 127.0.0.1:1; }\nserver { location / {\n proxy_pass http://app:80; } }")),
        one(5, "upstream \"app\" may not have port 80")
    );
    assert_eq!(
        findings_resolving(&http("server { location / {\n proxy_pass http://app:8080; } }\nupstream app { server 127.0.0.1:1; }")),
        one(4, "upstream \"app\" may not have port 8080")
    );
    // the other *_pass: an address without a default port
    assert_eq!(
        findings(&http("server { location / {\n fastcgi_pass php; } }")),
        one(4, "no port in upstream \"php\"")
    );
    assert_eq!(
        findings(&http("server { location / { grpc_pass grpc://app; uwsgi_pass unix:/x.sock; } }\nupstream app { server 127.0.0.1:1; }")),
        vec![]
    );
    assert_eq!(
        findings(&http("server { location / { fastcgi_pass http://x:1; } }")),
        one(3, "invalid host in upstream \"http://x:1\"")
    );
    // only backup servers: found when the upstreams are set up
    assert_eq!(
        findings(&http("upstream a {\n server 127.0.0.1:1 backup;\n}\nupstream b { server 127.0.0.1:2; server 127.0.0.1:3 backup; }")),
        one(3, "no servers in upstream \"a\"")
    );
    // an upstream server's name is looked up as it is read
    assert_eq!(
        findings_resolving(&http(
            "upstream app {\n server localhost:1;\n server nope.invalid:2;\n}"
        )),
        one(5, "host not found in upstream \"nope.invalid:2\"")
    );
    let offline = CheckOptions {
        resolve: false,
        ..CheckOptions::default()
    };
    assert_eq!(
        findings_with(&http("upstream a { server nope.invalid; }\nserver { location / { proxy_pass http://nope2.invalid; } }"), &offline),
        vec![]
    );
    // a snippet's upstreams may be in the config that includes it
    assert_eq!(
        findings("location / { proxy_pass http://backend.invalid; }\n"),
        vec![]
    );
}

#[test]
fn a_snippet_may_use_formats_of_the_main_config() {
    assert_eq!(findings("server {\n  access_log /x main;\n}\n"), vec![]);
}

#[test]
fn events_may_sit_in_an_include_that_does_not_resolve() {
    assert_eq!(
        findings("include /nonexistent/events.conf;\nhttp {}\n"),
        vec![]
    );
}

#[test]
fn stream_needs_load_module_on_debian() {
    let conf = "events {}\nstream {\n  server { listen 1234; proxy_pass 127.0.0.1:1; }\n}\n";
    assert_eq!(findings(conf), one(2, "unknown directive \"stream\""));
    let loaded = format!("load_module modules/ngx_stream_module.so;\n{conf}");
    assert_eq!(findings(&loaded), vec![]);
    let all = CheckOptions {
        modules: Modules::All,
        ..CheckOptions::default()
    };
    assert_eq!(findings_with(conf, &all), vec![]);
}

#[test]
fn snippets_get_their_context_guessed() {
    assert_eq!(
        findings("server { listen 80; location / { return 204; } }\n"),
        vec![]
    );
    assert_eq!(findings("location / { proxy_pass http://a; }\n"), vec![]);
    assert_eq!(findings("proxy_set_header Host $host;\n"), vec![]);
    // a third-party directive does not make the rest main-level
    assert_eq!(
        findings("gzip on;\nbrotli on;\n"),
        one(2, "unknown directive \"brotli\"")
    );
    // nothing fits: the context most of the file fits
    assert_eq!(
        findings("upstream u { server 127.0.0.1:1; }\nmap $a $b { }\nlocation / { }\n"),
        one(3, "\"location\" directive is not allowed here")
    );
    // main-only directives make a main config, as nginx -t reads it
    assert_eq!(
        findings("worker_processes 1;\ngzip on;\nlocation / { }\n").first(),
        one(2, "\"gzip\" directive is not allowed here").first()
    );
    // a snippet's `proxy_pass` to a name with a port is looked up (no
    // upstream block can take it); without one it may be the includer's
    assert_eq!(
        findings_resolving("location / {\n  proxy_pass http://no-such-host.invalid:3000;\n}\n"),
        one(2, "host not found in upstream \"no-such-host.invalid\"")
    );
    assert_eq!(
        findings_resolving("location / {\n  proxy_pass http://no-such-host.invalid;\n}\n"),
        vec![]
    );
    // a main config that lost its `http {` stays one
    assert_eq!(
        findings("events {}\nserver { }\nserver { }\n").first(),
        one(2, "\"server\" directive is not allowed here").first()
    );
}

#[test]
fn lua_is_unknown_unless_loaded_or_allowed() {
    let conf = "events {}\nhttp {\n server { location / { content_by_lua_block { ngx.say(\"}\") } } }\n}\n";
    assert_eq!(
        findings(conf),
        one(3, "unknown directive \"content_by_lua_block\"")
    );
    let allowed = CheckOptions {
        allow_unknown: true,
        ..CheckOptions::default()
    };
    assert_eq!(findings_with(conf, &allowed), vec![]);
    let loaded = format!("load_module modules/ngx_http_lua_module.so;\n{conf}");
    assert_eq!(findings(&loaded), vec![]);
}

#[test]
fn njs_variables_are_defined() {
    let http = "load_module modules/ngx_http_js_module.so;\nevents {}\nhttp {\n  js_import main.js;\n  js_set $foo main.foo;\n  js_var $bar;\n  server { listen 80; return 200 \"$foo $bar $baz\"; }\n}\n";
    assert_eq!(findings(http), one(7, "unknown \"baz\" variable"));
    let stream = "load_module modules/ngx_stream_module.so;\nload_module modules/ngx_stream_js_module.so;\nevents {}\nstream {\n  js_import main.js;\n  js_set $foo main.foo;\n  js_var $bar;\n  server { listen 80; return \"$foo $bar $baz\"; }\n}\n";
    assert_eq!(findings(stream), one(8, "unknown \"baz\" variable"));
}

#[test]
fn regexes_compiled_as_nginx_compiles_them() {
    let conf = |body: &str| {
        format!("events {{}}\nhttp {{\n  server {{\n    listen 80;\n    {body}\n  }}\n}}\n")
    };
    assert_eq!(
        findings(&conf("location ~* ^/(a|b { }")),
        one(
            5,
            "pcre2_compile() failed: missing closing parenthesis in \"^/(a|b\""
        )
    );
    assert_eq!(
        findings(&conf("location ~* ^/(?<slug>a|b)$ { return 200 $slug; }")),
        vec![]
    );
    assert_eq!(
        findings(&conf("if ($uri ~ ^/(?<uri>.*)) { }")),
        one(5, "the duplicate \"uri\" variable")
    );
    assert_eq!(
        findings(&conf("return 200 \"(?<x>a) $x\";")),
        one(5, "unknown \"x\" variable")
    );
}
