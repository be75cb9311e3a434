//! Unit tests of `variables`.

#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn changeable_builtins() {
    assert!(CHANGEABLE.windows(2).all(|w| w[0] < w[1]));
    assert!(fixed_builtin("Host", |_| true, false));
    assert!(!fixed_builtin("args", |_| true, false));
    assert!(!fixed_builtin("http_x", |_| true, false));
    assert!(!fixed_builtin("mine", |_| true, false));
    assert!(!fixed_builtin(
        "geoip_city",
        |m| m != "ngx_http_geoip_module",
        false
    ));
}

#[test]
fn the_variable_table_is_sorted_for_binary_search() {
    let names: Vec<&str> = table::HTTP_VARIABLES.iter().map(|v| v.0).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]));
    assert!(fixed_builtin("Host", |_| true, false));
    assert!(!fixed_builtin("args", |_| true, false));
    assert!(!fixed_builtin("f5_app", |_| true, false));
}

#[test]
fn references_as_the_script_compiler_reads_them() {
    assert_eq!(references("$host").collect::<Vec<_>>(), vec!["host"]);
    assert_eq!(
        references("${host}x$uri/").collect::<Vec<_>>(),
        vec!["host", "uri"]
    );
    assert_eq!(
        references("/x/$1/$2$is_args$args").collect::<Vec<_>>(),
        vec!["is_args", "args"]
    );
    assert_eq!(
        references("^/(.*)$").collect::<Vec<_>>(),
        Vec::<&str>::new()
    );
    assert_eq!(
        references("cost: $").collect::<Vec<_>>(),
        Vec::<&str>::new()
    );
    assert_eq!(references("a$b-c").collect::<Vec<_>>(), vec!["b"]);
}

fn unknown_of(v: &HttpVariables) -> Vec<String> {
    v.unknown(|_| true, false)
        .into_iter()
        .map(|(_, _, m)| m)
        .collect()
}

fn args<'a>(list: &[&'a str]) -> Vec<(Cow<'a, str>, usize)> {
    list.iter().map(|s| (Cow::Borrowed(*s), 0)).collect()
}

#[test]
fn definitions_builtins_and_prefixes() {
    let mut v = HttpVariables::default();
    v.directive(
        0,
        ("", "proxy_set_header"),
        &args(&["X-Real-IP", "$remote_adr"]),
        false,
    )
    .unwrap();
    v.directive(
        0,
        ("", "return"),
        &args(&["200", "$later $http_x_y $arg_q $arg"]),
        false,
    )
    .unwrap();
    v.directive(0, ("", "set"), &args(&["$later", "1"]), false)
        .unwrap();
    v.directive(0, ("", "location"), &args(&["~", "^/(?<slug>.+)$x"]), false)
        .unwrap();
    v.define("$slug");
    v.directive(0, ("", "return"), &args(&["200", "$slug"]), false)
        .unwrap();
    v.directive(0, ("", "rewrite"), &args(&["^/a$b", "/c"]), false)
        .unwrap();
    v.directive(0, ("", "if"), &args(&["($uri", "~", "$nope)"]), false)
        .unwrap();
    assert_eq!(
        unknown_of(&v),
        // the header is compiled when the location is merged: last
        vec![
            "unknown \"arg\" variable",
            "unknown \"remote_adr\" variable"
        ]
    );
}

#[test]
fn newer_variables_and_missing_modules() {
    let mut v = HttpVariables::default();
    v.directive(
        0,
        ("", "return"),
        &args(&["200", "$ssl_sigalg $geoip_city"]),
        false,
    )
    .unwrap();
    let modules = |m: &str| m != "ngx_http_geoip_module";
    let names = |newer| -> Vec<String> {
        v.unknown(modules, newer)
            .into_iter()
            .map(|(_, _, m)| m)
            .collect()
    };
    assert_eq!(
        names(false),
        vec![
            "unknown \"ssl_sigalg\" variable",
            "unknown \"geoip_city\" variable"
        ]
    );
    assert_eq!(names(true), vec!["unknown \"geoip_city\" variable"]);
}

#[test]
fn malformed_references_as_the_script_compiler_refuses_them() {
    assert_eq!(script_error("$host ${host}x $1 $arg_a"), Ok(()));
    assert_eq!(script_error("x$"), Err("invalid variable name".into()));
    assert_eq!(script_error("${}"), Err("invalid variable name".into()));
    assert_eq!(script_error("$uri${"), Err("invalid variable name".into()));
    assert_eq!(
        script_error("${a b}"),
        Err("the closing bracket in \"a\" variable is missing".into())
    );
}

/// The variable `set` (or `map` ...) defines is a name, not a script:
/// `set $a-b 1;` defines `a-b`, `set ${a} 1;` defines `{a}`. An `if`'s
/// left side is one name to its end (`ngx_http_rewrite_variable`):
/// `($uri=a)` is the variable `uri=a`.
#[test]
fn defined_names_and_if_operands_are_whole_names() {
    let mut v = HttpVariables::default();
    v.directive(0, ("", "set"), &args(&["$a-b", "1"]), false)
        .unwrap();
    v.directive(0, ("", "set"), &args(&["${a}", "$a-b$x"]), false)
        .unwrap();
    v.directive(0, ("", "if"), &args(&["($uri=a)"]), false)
        .unwrap();
    v.directive(0, ("", "if"), &args(&["(", "$Host", "=", "$x", ")"]), false)
        .unwrap();
    v.directive(0, ("", "if"), &args(&["($request_uri)"]), false)
        .unwrap();
    v.directive(0, ("", "if"), &args(&["(-f", "$y)"]), false)
        .unwrap();
    assert_eq!(
        unknown_of(&v),
        // the value of `set` is a script: `$a-b` there is `$a`
        vec![
            "unknown \"a\" variable",
            "unknown \"x\" variable",
            "unknown \"uri=a\" variable",
            "unknown \"y\" variable"
        ]
    );
}

/// Uses of the core module's variables are never unknown: not kept.
#[test]
fn core_variable_uses_are_not_kept() {
    let mut v = HttpVariables::default();
    v.directive(
        0,
        ("", "return"),
        &args(&["200", "$host$URI $http_x_y $arg_q"]),
        false,
    )
    .unwrap();
    assert!(v.uses.is_empty(), "{:?}", v.uses);
    v.directive(0, ("", "return"), &args(&["200", "$geoip_city"]), false)
        .unwrap();
    assert_eq!(v.uses.len(), 1);
}
