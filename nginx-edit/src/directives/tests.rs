//! Unit tests of the directive table and of the `ngx_conf_handler` rules.

use super::*;
use Context::*;
use Terminator::{BlockStart as Brace, Semicolon as Semi};

const V1_22: u32 = nginx_version(1, 22, 1);

fn ok(name: &str, ctx: Context, nargs: usize, term: Terminator) -> &'static DirectiveSpec {
    match DirectiveSet::latest().check(name, ctx, nargs, term) {
        Ok(spec) => spec,
        Err(e) => panic!("{name} in {ctx:?} with {nargs} args: {e}"),
    }
}

fn err(name: &str, ctx: Context, nargs: usize, term: Terminator) -> String {
    match DirectiveSet::latest().check(name, ctx, nargs, term) {
        Ok(spec) => panic!("{name} in {ctx:?} with {nargs} args accepted: {spec:?}"),
        Err(e) => e.to_string(),
    }
}

fn not_allowed(name: &str) -> String {
    format!("\"{name}\" directive is not allowed here")
}

fn bad_args(name: &str) -> String {
    format!("invalid number of arguments in \"{name}\" directive")
}

#[test]
fn tables_are_sorted_by_name_bytes() {
    for table in [nginx_table(), third_party_table()] {
        for pair in table.windows(2) {
            assert!(
                pair[0].name <= pair[1].name,
                "{} > {}",
                pair[0].name,
                pair[1].name
            );
        }
    }
    assert!(nginx_table().iter().all(|d| d.source == Source::Nginx));
    assert!(third_party_table()
        .iter()
        .all(|d| matches!(d.source, Source::ThirdParty(_))));
}

#[test]
fn lookup_finds_every_entry_and_nothing_else() {
    for d in nginx_table() {
        assert!(lookup(d.name).contains(d), "{}", d.name);
        assert!(lookup(d.name).iter().all(|x| x.name == d.name));
    }
    for d in third_party_table() {
        assert!(lookup_third_party(d.name).contains(d), "{}", d.name);
    }
    for name in [
        "",
        "proxy_pas",
        "proxy_passs",
        "PROXY_PASS",
        "zzzz",
        "\u{0}",
        "é",
        "aaaa",
    ] {
        assert!(lookup(name).is_empty(), "{name:?}");
    }
    assert!(!DirectiveSet::latest().is_known("Proxy_Pass"));
    assert_eq!(
        err("no_such_directive", Main, 0, Semi),
        "unknown directive \"no_such_directive\""
    );
}

#[test]
fn table_size_per_kind_is_plausible() {
    let count = |k: ModuleKind| {
        nginx_table()
            .iter()
            .filter(|d| d.kind == k && d.exists_in(UNRELEASED))
            .count()
    };
    assert!(
        count(ModuleKind::Http) > 500,
        "http {}",
        count(ModuleKind::Http)
    );
    assert!(count(ModuleKind::Stream) > 80);
    assert!(count(ModuleKind::Mail) > 40);
    assert!(count(ModuleKind::Event) >= 10);
    assert!(count(ModuleKind::Core) >= 25);
    assert_eq!(count(ModuleKind::Conf), 1);
}

#[test]
fn bits_are_nginx_values() {
    assert_eq!(NGX_CONF_BLOCK, 0x100);
    assert_eq!(NGX_CONF_FLAG, 0x200);
    assert_eq!(NGX_CONF_ANY, 0x400);
    assert_eq!(NGX_CONF_1MORE, 0x800);
    assert_eq!(NGX_CONF_2MORE, 0x1000);
    assert_eq!(NGX_MAIN_CONF, 0x0100_0000);
    assert_eq!(NGX_ANY_CONF, 0xFF00_0000);
    assert_eq!(NGX_HTTP_LMT_CONF, 0x8000_0000);
    assert_eq!(MAX_ARGS, 8);
}

#[test]
fn proxy_pass_contexts() {
    for ctx in [HttpLocation, HttpLif, HttpLmt] {
        assert_eq!(ok("proxy_pass", ctx, 1, Semi).kind, ModuleKind::Http);
    }
    for ctx in [Http, HttpServer, HttpSif, HttpUpstream, Main, Event] {
        assert_eq!(err("proxy_pass", ctx, 1, Semi), not_allowed("proxy_pass"));
    }
    assert_eq!(
        err("proxy_pass", HttpLocation, 2, Semi),
        bad_args("proxy_pass")
    );
    assert_eq!(
        err("proxy_pass", HttpLocation, 0, Semi),
        bad_args("proxy_pass")
    );
    // The stream one is another module with other contexts.
    assert_eq!(
        ok("proxy_pass", StreamServer, 1, Semi).kind,
        ModuleKind::Stream
    );
    assert_eq!(
        err("proxy_pass", Stream, 1, Semi),
        not_allowed("proxy_pass")
    );
    let kinds: Vec<_> = lookup("proxy_pass").iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&ModuleKind::Http) && kinds.contains(&ModuleKind::Stream));
}

#[test]
fn listen_takes_one_or_more() {
    assert_eq!(err("listen", HttpServer, 0, Semi), bad_args("listen"));
    ok("listen", HttpServer, 1, Semi);
    ok("listen", HttpServer, 12, Semi);
    ok("listen", StreamServer, 3, Semi);
    ok("listen", MailServer, 1, Semi);
    assert_eq!(err("listen", Http, 1, Semi), not_allowed("listen"));
    assert_eq!(err("listen", HttpLocation, 1, Semi), not_allowed("listen"));
}

#[test]
fn worker_processes_is_main_only() {
    let spec = ok("worker_processes", Main, 1, Semi);
    assert_eq!(spec.kind, ModuleKind::Core);
    assert_eq!(spec.mask, NGX_MAIN_CONF | NGX_DIRECT_CONF | NGX_CONF_TAKE1);
    for ctx in [Event, Http, HttpServer, HttpLocation, Stream, Mail] {
        assert_eq!(
            err("worker_processes", ctx, 1, Semi),
            not_allowed("worker_processes")
        );
    }
    assert_eq!(
        err("worker_processes", Main, 2, Semi),
        bad_args("worker_processes")
    );
    assert_eq!(
        err("worker_processes", Main, 1, Brace),
        "directive \"worker_processes\" is not terminated by \";\""
    );
}

#[test]
fn sendfile_is_an_on_off_flag() {
    let spec = ok("sendfile", HttpLif, 1, Semi);
    assert!(spec.is_flag() && spec.on_off);
    assert_eq!(spec.arg_rule(), ArgRule::Flag);
    assert_eq!(err("sendfile", HttpLocation, 0, Semi), bad_args("sendfile"));
    assert_eq!(err("sendfile", HttpLocation, 2, Semi), bad_args("sendfile"));
    assert_eq!(spec.check_flag_value("on"), Ok(true));
    assert_eq!(spec.check_flag_value("OFF"), Ok(false));
    assert_eq!(spec.check_flag_value("oN"), Ok(true));
    let e = spec.check_flag_value("yes").expect_err("must fail");
    assert_eq!(
        e.to_string(),
        "invalid value \"yes\" in \"sendfile\" directive, it must be \"on\" or \"off\""
    );
    assert!(spec.check_flag_value("on ").is_err());
    assert!(spec.check_flag_value("").is_err());
}

#[test]
fn flag_handler_is_not_the_flag_bit() {
    // TAKE1 with ngx_conf_set_flag_slot: still "on"/"off" only.
    let d = ok("uwsgi_cache_background_update", HttpLocation, 1, Semi);
    assert!(!d.is_flag() && d.on_off);
    // FLAG with an enum handler in 1.22 ("leaf" is valid), TAKE1 later.
    let old = DirectiveSet::nginx(V1_22)
        .check("ssl_ocsp", HttpServer, 1, Semi)
        .expect("ssl_ocsp in 1.22");
    assert!(old.is_flag() && !old.on_off);
    assert_eq!(old.check_flag_value("leaf"), Ok(false));
    let new = ok("ssl_ocsp", HttpServer, 1, Semi);
    assert!(!new.is_flag());
}

#[test]
fn server_in_upstream_vs_server_block() {
    let ups = ok("server", HttpUpstream, 2, Semi);
    assert!(!ups.is_block());
    assert_eq!(ups.arg_rule(), ArgRule::OneOrMore);
    assert_eq!(err("server", HttpUpstream, 0, Semi), bad_args("server"));
    assert_eq!(
        err("server", HttpUpstream, 1, Brace),
        "directive \"server\" is not terminated by \";\""
    );
    let blk = ok("server", Http, 0, Brace);
    assert!(blk.is_block());
    assert_eq!(
        blk.block_body(Http),
        Some(BlockBody::Directives(HttpServer))
    );
    assert_eq!(
        err("server", Http, 0, Semi),
        "directive \"server\" has no opening \"{\""
    );
    assert_eq!(err("server", Http, 1, Brace), bad_args("server"));
    assert_eq!(err("server", HttpServer, 0, Brace), not_allowed("server"));
    let s = ok("server", Stream, 0, Brace);
    assert_eq!(
        s.block_body(Stream),
        Some(BlockBody::Directives(StreamServer))
    );
    ok("server", StreamUpstream, 1, Semi);
    let m = ok("server", Mail, 0, Brace);
    assert_eq!(m.block_body(Mail), Some(BlockBody::Directives(MailServer)));
}

#[test]
fn upstream_block() {
    let u = ok("upstream", Http, 1, Brace);
    assert_eq!(
        u.block_body(Http),
        Some(BlockBody::Directives(HttpUpstream))
    );
    assert_eq!(err("upstream", Http, 0, Brace), bad_args("upstream"));
    assert_eq!(err("upstream", Http, 2, Brace), bad_args("upstream"));
    assert_eq!(
        err("upstream", HttpServer, 1, Brace),
        not_allowed("upstream")
    );
    let s = ok("upstream", Stream, 1, Brace);
    assert_eq!(
        s.block_body(Stream),
        Some(BlockBody::Directives(StreamUpstream))
    );
}

#[test]
fn map_takes_two_args_and_has_a_custom_body() {
    let m = ok("map", Http, 2, Brace);
    assert_eq!(m.block_body(Http), Some(BlockBody::Custom));
    assert_eq!(err("map", Http, 1, Brace), bad_args("map"));
    assert_eq!(err("map", Http, 3, Brace), bad_args("map"));
    assert_eq!(
        err("map", Http, 2, Semi),
        "directive \"map\" has no opening \"{\""
    );
    assert_eq!(err("map", HttpServer, 2, Brace), not_allowed("map"));
    assert_eq!(
        ok("map", Stream, 2, Brace).block_body(Stream),
        Some(BlockBody::Custom)
    );
    for (name, nargs, ctx) in [
        ("types", 0, HttpLocation),
        ("geo", 1, Http),
        ("geo", 2, Http),
        ("split_clients", 2, Http),
        ("charset_map", 2, Http),
        ("geo", 2, Stream),
    ] {
        assert_eq!(
            ok(name, ctx, nargs, Brace).block_body(ctx),
            Some(BlockBody::Custom),
            "{name}"
        );
    }
}

#[test]
fn include_is_allowed_everywhere() {
    for ctx in Context::ALL {
        let d = ok("include", ctx, 1, Semi);
        assert_eq!(d.kind, ModuleKind::Conf);
        assert_eq!(err("include", ctx, 0, Semi), bad_args("include"));
        assert_eq!(err("include", ctx, 2, Semi), bad_args("include"));
    }
}

#[test]
fn keepalive_in_upstream_depends_on_version() {
    ok("keepalive", HttpUpstream, 1, Semi);
    ok("keepalive", HttpUpstream, 2, Semi);
    let old = DirectiveSet::nginx(V1_22);
    old.check("keepalive", HttpUpstream, 1, Semi)
        .expect("1 arg");
    assert_eq!(
        old.check("keepalive", HttpUpstream, 2, Semi)
            .expect_err("must fail"),
        DirectiveError::InvalidArgCount {
            name: "keepalive".into()
        }
    );
    assert_eq!(
        err("keepalive", HttpLocation, 1, Semi),
        not_allowed("keepalive")
    );
}

#[test]
fn return_takes_one_or_two() {
    for ctx in [HttpServer, HttpSif, HttpLocation, HttpLif] {
        ok("return", ctx, 1, Semi);
        ok("return", ctx, 2, Semi);
        assert_eq!(err("return", ctx, 0, Semi), bad_args("return"));
        assert_eq!(err("return", ctx, 3, Semi), bad_args("return"));
    }
    assert_eq!(err("return", Http, 1, Semi), not_allowed("return"));
    assert_eq!(err("return", HttpLmt, 1, Semi), not_allowed("return"));
    ok("return", StreamServer, 1, Semi);
    assert_eq!(err("return", StreamServer, 2, Semi), bad_args("return"));
}

#[test]
fn add_header_takes_two_or_three() {
    for ctx in [Http, HttpServer, HttpLocation, HttpLif] {
        ok("add_header", ctx, 2, Semi);
        ok("add_header", ctx, 3, Semi);
        assert_eq!(err("add_header", ctx, 1, Semi), bad_args("add_header"));
        assert_eq!(err("add_header", ctx, 4, Semi), bad_args("add_header"));
    }
    // Not in "if" at server level.
    assert_eq!(
        err("add_header", HttpSif, 2, Semi),
        not_allowed("add_header")
    );
}

#[test]
fn if_block() {
    let s = ok("if", HttpServer, 1, Brace);
    assert_eq!(s.arg_rule(), ArgRule::OneOrMore);
    assert_eq!(
        s.block_body(HttpServer),
        Some(BlockBody::Directives(HttpSif))
    );
    let l = ok("if", HttpLocation, 3, Brace);
    assert_eq!(
        l.block_body(HttpLocation),
        Some(BlockBody::Directives(HttpLif))
    );
    assert_eq!(err("if", HttpLocation, 0, Brace), bad_args("if"));
    assert_eq!(
        err("if", HttpLocation, 1, Semi),
        "directive \"if\" has no opening \"{\""
    );
    for ctx in [Http, HttpSif, HttpLif, HttpLmt, HttpUpstream] {
        assert_eq!(err("if", ctx, 1, Brace), not_allowed("if"));
    }
}

#[test]
fn location_block() {
    for parent in [HttpServer, HttpLocation] {
        let d = ok("location", parent, 1, Brace);
        assert_eq!(
            d.block_body(parent),
            Some(BlockBody::Directives(HttpLocation))
        );
        ok("location", parent, 2, Brace);
        assert_eq!(err("location", parent, 0, Brace), bad_args("location"));
        assert_eq!(err("location", parent, 3, Brace), bad_args("location"));
    }
    for ctx in [Http, HttpSif, HttpLif, HttpLmt] {
        assert_eq!(err("location", ctx, 1, Brace), not_allowed("location"));
    }
}

#[test]
fn limit_except_block() {
    let d = ok("limit_except", HttpLocation, 2, Brace);
    assert_eq!(
        d.block_body(HttpLocation),
        Some(BlockBody::Directives(HttpLmt))
    );
    assert_eq!(
        err("limit_except", HttpServer, 1, Brace),
        not_allowed("limit_except")
    );
    ok("deny", HttpLmt, 1, Semi);
    ok("allow", HttpLmt, 1, Semi);
}

#[test]
fn events_stream_mail_blocks() {
    for (name, body) in [
        ("events", Event),
        ("http", Http),
        ("stream", Stream),
        ("mail", Mail),
    ] {
        let d = ok(name, Main, 0, Brace);
        assert_eq!(d.kind, ModuleKind::Core);
        assert_eq!(d.block_body(Main), Some(BlockBody::Directives(body)));
        assert_eq!(err(name, Main, 1, Brace), bad_args(name));
        assert_eq!(err(name, Http, 0, Brace), not_allowed(name));
        assert_eq!(
            err(name, Main, 0, Semi),
            format!("directive \"{name}\" has no opening \"{{\"")
        );
    }
    assert_eq!(
        ok("worker_connections", Event, 1, Semi).kind,
        ModuleKind::Event
    );
    assert_eq!(
        err("worker_connections", Main, 1, Semi),
        not_allowed("worker_connections")
    );
}

#[test]
fn every_block_directive_has_a_body() {
    for d in nginx_table().iter().chain(third_party_table()) {
        if !d.is_block() {
            assert_eq!(d.block_body(Main), None);
            continue;
        }
        for ctx in Context::ALL.into_iter().filter(|c| d.allowed_in(*c)) {
            assert!(
                d.block_body(ctx).is_some(),
                "{} ({:?}) in {ctx:?}",
                d.name,
                d.kind
            );
        }
    }
    // The custom-body blocks extracted from the sources are the known ones.
    for d in nginx_table().iter().chain(third_party_table()) {
        let listed = CUSTOM_BODY_BLOCKS.contains(&d.name) || d.name.ends_with("_by_lua_block");
        assert_eq!(
            d.custom_body,
            d.is_block() && listed,
            "{} ({:?})",
            d.name,
            d.kind
        );
    }
    for name in CUSTOM_BODY_BLOCKS {
        assert!(
            nginx_table()
                .iter()
                .chain(third_party_table())
                .any(|d| d.name == *name),
            "{name}"
        );
    }
    assert_eq!(
        DirectiveSet::latest().block_body("types", HttpLocation),
        Some(BlockBody::Custom)
    );
    assert_eq!(
        DirectiveSet::latest().block_body("location", HttpLocation),
        Some(BlockBody::Directives(HttpLocation))
    );
    assert_eq!(
        DirectiveSet::latest().block_body("proxy_pass", HttpLocation),
        None
    );
    let lua = lookup_third_party("content_by_lua_block");
    assert!(!lua.is_empty());
    assert!(lua
        .iter()
        .all(|d| d.block_body(HttpLocation) == Some(BlockBody::RawLua)));
}

#[test]
fn arg_count_rules_match_ngx_conf_handler() {
    let spec = |mask| DirectiveSpec {
        name: "x",
        kind: ModuleKind::Http,
        mask,
        module: "m",
        set: "s",
        on_off: false,
        custom_body: false,
        source: Source::Nginx,
        since: BASELINE,
        removed_in: None,
        values: &[],
    };
    let all7 = NGX_CONF_TAKE1
        | NGX_CONF_TAKE2
        | NGX_CONF_TAKE3
        | NGX_CONF_TAKE4
        | NGX_CONF_TAKE5
        | NGX_CONF_TAKE6
        | NGX_CONF_TAKE7;
    assert!(spec(all7).accepts_arg_count(7));
    assert!(
        !spec(all7).accepts_arg_count(8),
        "NGX_CONF_MAX_ARGS counts the name"
    );
    assert!(!spec(all7).accepts_arg_count(0));
    assert!(spec(NGX_CONF_NOARGS).accepts_arg_count(0));
    assert!(!spec(NGX_CONF_NOARGS).accepts_arg_count(1));
    assert!(spec(NGX_CONF_ANY).accepts_arg_count(0));
    assert!(spec(NGX_CONF_ANY).accepts_arg_count(100));
    assert!(!spec(NGX_CONF_2MORE).accepts_arg_count(1));
    assert!(spec(NGX_CONF_2MORE).accepts_arg_count(20));
    assert!(spec(NGX_CONF_1MORE).accepts_arg_count(9));
    // FLAG wins over TAKEn bits, ANY over everything (ngx_conf_handler order).
    assert!(!spec(NGX_CONF_FLAG | NGX_CONF_TAKE2).accepts_arg_count(2));
    assert!(spec(NGX_CONF_ANY | NGX_CONF_FLAG).accepts_arg_count(0));
    assert!(spec(NGX_CONF_TAKE13).accepts_arg_count(3));
    assert!(!spec(NGX_CONF_TAKE13).accepts_arg_count(2));
    assert!(!spec(NGX_CONF_TAKE1).accepts_arg_count(usize::MAX));
}

#[test]
fn context_is_checked_before_terminator_and_args() {
    // Wrong place wins over wrong terminator / argument count...
    assert_eq!(
        err("proxy_pass", HttpServer, 5, Brace),
        not_allowed("proxy_pass")
    );
    // ...and the terminator is checked before the argument count.
    assert_eq!(
        err("proxy_pass", HttpLocation, 5, Brace),
        "directive \"proxy_pass\" is not terminated by \";\""
    );
    assert_eq!(
        err("location", HttpServer, 5, Semi),
        "directive \"location\" has no opening \"{\""
    );
}

#[test]
fn versions() {
    let old = DirectiveSet::nginx(V1_22);
    // "ssl" was removed in 1.25.1: unknown since then, not "not allowed".
    old.check("ssl", HttpServer, 1, Semi).expect("ssl in 1.22");
    assert_eq!(err("ssl", HttpServer, 1, Semi), "unknown directive \"ssl\"");
    // "http2" appeared in 1.25.1.
    assert_eq!(
        old.check("http2", HttpServer, 1, Semi)
            .expect_err("must fail")
            .to_string(),
        "unknown directive \"http2\""
    );
    ok("http2", HttpServer, 1, Semi);
    assert!(DirectiveSet::nginx(nginx_version(1, 25, 1)).is_known("http2"));
    assert!(!DirectiveSet::nginx(nginx_version(1, 25, 0)).is_known("http2"));
    // Only one variant of an entry exists in any given version.
    for version in [
        V1_22,
        nginx_version(1, 25, 1),
        nginx_version(1, 29, 7),
        UNRELEASED,
    ] {
        let set = DirectiveSet::nginx(version);
        for d in nginx_table().iter().filter(|d| set.contains(d)) {
            for other in lookup(d.name).iter().filter(|o| set.contains(o) && *o != d) {
                let same_kind = d.kind == other.kind
                    || d.kind == ModuleKind::Conf
                    || other.kind == ModuleKind::Conf;
                assert!(
                    !same_kind || d.context_bits() & other.context_bits() == 0,
                    "{} overlaps in {version}",
                    d.name
                );
            }
        }
    }
}

#[test]
fn third_party_sets() {
    let stock = DirectiveSet::latest();
    assert_eq!(
        stock
            .check("content_by_lua_block", HttpLocation, 0, Brace)
            .expect_err("must fail")
            .to_string(),
        "unknown directive \"content_by_lua_block\""
    );
    let lua = stock.with_third_party("lua-nginx-module").expect("label");
    let d = lua
        .check("content_by_lua_block", HttpLocation, 0, Brace)
        .expect("lua");
    assert_eq!(d.source, Source::ThirdParty("lua-nginx-module"));
    assert!(lua
        .check("content_by_lua_block", StreamServer, 0, Brace)
        .is_err());
    assert!(stock.with_third_party("no-such-module").is_none());
    let all = stock.with_all_third_party();
    for (label, _, _) in THIRD_PARTY_SOURCES {
        assert!(third_party_table()
            .iter()
            .any(|d| d.source == Source::ThirdParty(label) && all.contains(d)));
    }
    all.check("more_set_headers", HttpLocation, 1, Semi)
        .expect("headers-more");
    all.check("js_import", Http, 1, Semi).expect("njs");
}

#[test]
fn module_filter() {
    let no_stream = DirectiveSet::latest().with_filter(|d| !d.module.starts_with("ngx_stream_"));
    assert_eq!(
        no_stream
            .check("stream", Main, 0, Brace)
            .expect_err("must fail")
            .to_string(),
        "unknown directive \"stream\""
    );
    // proxy_pass still exists (http), so in a stream server it is "not allowed".
    assert_eq!(
        no_stream
            .check("proxy_pass", StreamServer, 1, Semi)
            .expect_err("must fail")
            .to_string(),
        not_allowed("proxy_pass")
    );
}

#[test]
fn error_wording() {
    let n = || "x".to_owned();
    let cases = [
        (
            DirectiveError::Unknown { name: n() },
            "unknown directive \"x\"",
        ),
        (
            DirectiveError::NotAllowedHere { name: n() },
            "\"x\" directive is not allowed here",
        ),
        (
            DirectiveError::NotTerminated { name: n() },
            "directive \"x\" is not terminated by \";\"",
        ),
        (
            DirectiveError::NoOpeningBrace { name: n() },
            "directive \"x\" has no opening \"{\"",
        ),
        (
            DirectiveError::InvalidArgCount { name: n() },
            "invalid number of arguments in \"x\" directive",
        ),
        (
            DirectiveError::InvalidFlagValue {
                name: n(),
                value: "1".into(),
            },
            "invalid value \"1\" in \"x\" directive, it must be \"on\" or \"off\"",
        ),
        (
            DirectiveError::InvalidValue {
                name: n(),
                value: "TLSv1.4".into(),
            },
            "invalid value \"TLSv1.4\"",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), text);
        assert_eq!(e.name(), "x");
    }
}

#[test]
fn context_names_and_bits() {
    for ctx in Context::ALL {
        assert_eq!(ctx.cmd_type().count_ones(), 1, "{ctx:?}");
        assert_eq!(ctx.cmd_type() & !NGX_ANY_CONF, 0);
    }
    assert_eq!(HttpSif.name(), "if");
    assert_eq!(StreamUpstream.name(), "upstream");
    assert_eq!(Main.module_kind(), ModuleKind::Core);
}

/// Compare verdicts with a real `nginx -t` when one is installed
/// (`NGINX_BIN`, default `/usr/sbin/nginx`). Skipped when missing, except
/// with `CI=true`, where a missing nginx fails the test.
mod against_nginx {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn nginx_bin() -> Option<String> {
        let bin = std::env::var("NGINX_BIN").unwrap_or_else(|_| "/usr/sbin/nginx".into());
        if Path::new(&bin).exists() {
            return Some(bin);
        }
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but nginx not found at {bin}");
        }
        eprintln!("skipping: nginx not found at {bin}");
        None
    }

    /// `nginx version: nginx/1.22.1` -> 1_022_001.
    fn version_of(bin: &str) -> Option<u32> {
        let out = Command::new(bin).arg("-v").output().ok()?;
        let text = String::from_utf8_lossy(&out.stderr);
        let v = text.split("nginx/").nth(1)?.split_whitespace().next()?;
        let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
        Some(nginx_version(it.next()??, it.next()??, it.next()??))
    }

    /// Runs `nginx -t` on `conf`; returns the `[emerg]` message, if any.
    fn nginx_t(bin: &str, conf: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, conf).expect("write conf");
        let out = Command::new(bin)
            .arg("-t")
            .arg("-q")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&file)
            .arg("-g")
            .arg(format!(
                "pid {}/nginx.pid; error_log stderr;",
                dir.path().display()
            ))
            .output()
            .expect("run nginx");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            Ok(())
        } else {
            Err(stderr)
        }
    }

    /// Modules a stock build may lack: dynamic in Debian's package and not
    /// loaded by a bare config (no `load_module`), or not configured at all.
    fn debian_static(d: &DirectiveSpec) -> bool {
        let m = d.module;
        !(m.starts_with("ngx_stream_")
            || m.starts_with("ngx_mail_")
            || m.contains("geoip")
            || m.contains("perl")
            || m.contains("xslt")
            || m.contains("image_filter"))
    }

    #[test]
    fn verdicts_match_nginx_t() {
        let Some(bin) = nginx_bin() else { return };
        let Some(version) = version_of(&bin) else {
            panic!("cannot read the version of {bin}");
        };
        let set = DirectiveSet::nginx(version).with_filter(debian_static);
        // (config with the directive at "@", directive, context, nargs, terminator)
        let http = |inner: &str| format!("events {{}}\nhttp {{\n{inner}\n}}\n");
        let server = |inner: &str| http(&format!("server {{\n{inner}\n}}"));
        let location = |inner: &str| server(&format!("location / {{\n{inner}\n}}"));
        let cases: Vec<(String, &str, Context, usize, Terminator)> = vec![
            (
                location("proxy_pass http://127.0.0.1:1;"),
                "proxy_pass",
                HttpLocation,
                1,
                Semi,
            ),
            (
                server("proxy_pass http://127.0.0.1:1;"),
                "proxy_pass",
                HttpServer,
                1,
                Semi,
            ),
            (
                location("proxy_pass a b;"),
                "proxy_pass",
                HttpLocation,
                2,
                Semi,
            ),
            (
                location("proxy_pass http://127.0.0.1:1 {}"),
                "proxy_pass",
                HttpLocation,
                1,
                Brace,
            ),
            (
                location("if ($arg_x) { proxy_pass http://127.0.0.1:1; }"),
                "proxy_pass",
                HttpLif,
                1,
                Semi,
            ),
            (
                location("limit_except GET { proxy_pass http://127.0.0.1:1; }"),
                "proxy_pass",
                HttpLmt,
                1,
                Semi,
            ),
            (server("listen;"), "listen", HttpServer, 0, Semi),
            (
                http("worker_processes 1;"),
                "worker_processes",
                Http,
                1,
                Semi,
            ),
            (
                "worker_processes 1 2;\nevents {}\n".into(),
                "worker_processes",
                Main,
                2,
                Semi,
            ),
            (http("sendfile on off;"), "sendfile", Http, 2, Semi),
            (http("sendfile yes;"), "sendfile", Http, 1, Semi),
            (
                http("upstream u { server 127.0.0.1:1 { } }"),
                "server",
                HttpUpstream,
                1,
                Brace,
            ),
            (http("server;"), "server", Http, 0, Semi),
            (http("upstream u;"), "upstream", Http, 1, Semi),
            (http("map $a;"), "map", Http, 1, Semi),
            (http("map $a $b c {}"), "map", Http, 3, Brace),
            (
                http("upstream u { server 127.0.0.1:1; keepalive 2 3; }"),
                "keepalive",
                HttpUpstream,
                2,
                Semi,
            ),
            (location("return;"), "return", HttpLocation, 0, Semi),
            (location("return 200 a b;"), "return", HttpLocation, 3, Semi),
            (
                location("add_header X;"),
                "add_header",
                HttpLocation,
                1,
                Semi,
            ),
            (
                location("add_header X y always;"),
                "add_header",
                HttpLocation,
                3,
                Semi,
            ),
            (
                server("if ($arg_x) { add_header X y; }"),
                "add_header",
                HttpSif,
                2,
                Semi,
            ),
            (location("if {}"), "if", HttpLocation, 0, Brace),
            (
                location("if ($arg_x) { if ($arg_y) {} }"),
                "if",
                HttpLif,
                1,
                Brace,
            ),
            (
                server("location a b c {}"),
                "location",
                HttpServer,
                3,
                Brace,
            ),
            (
                location("if ($arg_x) { location /a {} }"),
                "location",
                HttpLif,
                1,
                Brace,
            ),
            ("events x {}\n".into(), "events", Main, 1, Brace),
            (http("events {}"), "events", Http, 0, Brace),
            ("events {}\nstream {}\n".into(), "stream", Main, 0, Brace),
            ("events {}\nmail {}\n".into(), "mail", Main, 0, Brace),
            (
                http("no_such_directive;"),
                "no_such_directive",
                Http,
                0,
                Semi,
            ),
            (http("ssl on;"), "ssl", Http, 1, Semi),
            (server("http2 on;"), "http2", HttpServer, 1, Semi),
            (
                http("uwsgi_cache_background_update maybe;"),
                "uwsgi_cache_background_update",
                Http,
                1,
                Semi,
            ),
        ];
        let mut failures = Vec::new();
        for (conf, name, ctx, nargs, term) in &cases {
            let ours = set.check(name, *ctx, *nargs, *term);
            // Also run the on/off check the flag handler would do.
            let ours = ours.and_then(|spec| {
                let value = conf
                    .split(&format!("{name} "))
                    .nth(1)
                    .and_then(|rest| rest.split([';', ' ']).next())
                    .unwrap_or_default();
                if *nargs == 1 && spec.on_off {
                    spec.check_flag_value(value).map(|_| ())
                } else {
                    Ok(())
                }
            });
            let theirs = nginx_t(&bin, conf);
            let agree = match (&ours, &theirs) {
                (Ok(()), Ok(())) => true,
                (Err(e), Err(msg)) => msg.contains(&e.to_string()),
                _ => false,
            };
            if !agree {
                failures.push(format!("{conf}\n  ours: {ours:?}\n  nginx: {theirs:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "disagreements:\n{}",
            failures.join("\n")
        );
    }
}

/// The enum and bitmask names come from the arrays `post` points to.
#[test]
#[allow(clippy::unwrap_used)]
fn enum_and_bitmask_values() {
    let set = DirectiveSet::nginx(V1_22);
    let tokens = set.resolve("server_tokens", HttpLocation).unwrap();
    assert_eq!(tokens.value_rule(), ValueRule::First);
    assert!(tokens.check_values(["off"], V1_22).is_ok());
    assert!(
        tokens.check_values(["BUILD"], V1_22).is_ok(),
        "ngx_strcasecmp"
    );
    assert_eq!(
        tokens
            .check_values(["bogus"], V1_22)
            .unwrap_err()
            .to_string(),
        "invalid value \"bogus\""
    );
    let protocols = set.resolve("ssl_protocols", HttpServer).unwrap();
    assert_eq!(protocols.value_rule(), ValueRule::All);
    assert!(protocols
        .check_values(["TLSv1.2", "tlsv1.3"], V1_22)
        .is_ok());
    assert_eq!(
        protocols.check_values(["TLSv1.2", "TLSv1.4", "x"], V1_22),
        Err(DirectiveError::InvalidValue {
            name: "ssl_protocols".into(),
            value: "TLSv1.4".into()
        })
    );
    // `2` came with 1.29.4's proxy_http_version.
    let version = set.resolve("proxy_http_version", HttpLocation).unwrap();
    assert!(version.check_values(["2"], V1_22).is_err());
    assert!(version.check_values(["2"], UNRELEASED).is_ok());
    // Handlers that read the array themselves are not checked.
    let sendfile = set.resolve("sendfile", Http).unwrap();
    assert_eq!(sendfile.value_rule(), ValueRule::None);
    let every = nginx_table().iter().chain(third_party_table());
    for spec in every.filter(|d| d.set.ends_with("_enum_slot") || d.set.ends_with("_bitmask_slot"))
    {
        assert!(!spec.values.is_empty(), "{} has no values", spec.name);
    }
}
