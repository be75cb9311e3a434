//! The checker's tables against the real nginx: every built-in http and
//! stream variable (known, unknown, may it be set again), and the PCRE2
//! library `check` compiles regexes with.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use e2e::check::check_verdict as ours;
use e2e::{nginx_test_file, require_nginx, Verdict};
use nginx_edit::check::{check_set, CheckOptions};
use nginx_edit::includes::ConfigSet;

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

/// `check` compiles regexes with the PCRE2 library nginx itself links (the
/// system libpcre2-8, found by pkg-config), not a bundled copy of another
/// release, whose messages and verdicts may differ.
#[test]
fn regexes_use_the_pcre2_nginx_links() {
    let Some(nginx) = require_nginx() else { return };
    let pcre2 = |binary: &Path| -> Option<String> {
        let out = std::process::Command::new("ldd")
            .arg(binary)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains("libpcre2-8"))
            .and_then(|l| l.split("=>").nth(1))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_string)
    };
    let theirs = pcre2(&nginx).expect("nginx links libpcre2-8");
    let ours = pcre2(&std::env::current_exe().unwrap());
    assert_eq!(
        ours.as_deref(),
        Some(theirs.as_str()),
        "nginx-edit is not linked with the system libpcre2-8: install libpcre2-dev \
         (scripts/dev.sh deps) and rebuild pcre2-sys (cargo clean -p pcre2-sys)"
    );
}

/// The stream variables: every one the checker's table accepts, the real
/// nginx (with Debian's stream module) accepts; every one it calls unknown
/// (newer releases, the stream geoip module, not installed), nginx rejects.
#[test]
fn builtin_stream_variables_are_the_ones_nginx_knows() {
    let Some(nginx) = require_nginx() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let conf = dir.path().join("nginx.conf");
    // `${name}`, a prefix one (`proxy_protocol_tlv_`) with a suffix
    let probe = |n: &str| -> String {
        if n.ends_with('_') {
            format!("{n}probe")
        } else {
            n.to_string()
        }
    };
    let config = |names: &[&str]| {
        let value: String = names
            .iter()
            .map(|n| format!("${{{}}} ", probe(n)))
            .collect();
        format!(
            "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\nevents {{}}\nstream {{\n    server {{\n        listen 127.0.0.1:18098;\n        return \"{value}\";\n    }}\n}}\n"
        )
    };
    let names: Vec<&str> = nginx_edit::check::builtin_stream_variables().collect();
    assert!(names.len() > 50, "{} variables", names.len());
    std::fs::write(&conf, config(&names)).unwrap();
    let set = ConfigSet::load(&conf, None).unwrap();
    let unknown: Vec<String> = check_set(&set, &CheckOptions::default())
        .into_iter()
        .map(|f| {
            let name = f.message.strip_prefix("unknown \"").unwrap_or(&f.message);
            name.strip_suffix("\" variable").unwrap_or(name).to_string()
        })
        .collect();
    assert!(unknown.iter().any(|n| n == "geoip_city"), "{unknown:?}");
    let known: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !unknown.iter().any(|u| *u == probe(n)))
        .collect();
    std::fs::write(&conf, config(&known)).unwrap();
    assert_eq!(ours(&conf), Verdict::Ok);
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

/// `set $name` of each built-in http variable: the checker refuses it
/// (`the duplicate "name" variable`) exactly when the real nginx does
/// (the variables nginx lets change: `$args`, `$limit_rate`, `$ssl_*` ...).
#[test]
fn builtin_variables_set_again_as_nginx_allows() {
    let Some(nginx) = require_nginx() else { return };
    let names = nginx_edit::check::builtin_http_variables();
    let config = |name: &str| {
        format!("events {{}}\nhttp {{\n    server {{\n        set ${name} 1;\n    }}\n}}\n")
    };
    let refused = set_again_as_nginx_allows(&nginx, names, config, 4);
    assert!(refused > 80, "{refused} refused");
}

/// The same for stream (`set` in a stream server; the TLS variables may
/// change).
#[test]
fn builtin_stream_variables_set_again_as_nginx_allows() {
    let Some(nginx) = require_nginx() else { return };
    let names = nginx_edit::check::builtin_stream_variables();
    let config = |name: &str| {
        format!(
            "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\nevents {{}}\n\
             stream {{\n    server {{\n        set ${name} 1;\n    }}\n}}\n"
        )
    };
    let refused = set_again_as_nginx_allows(&nginx, names, config, 5);
    assert!(refused > 30, "{refused} refused");
}

/// Runs `config(name)` (a `set $name` at `line`) for each of `names`
/// through nginx and the checker; fails where one refuses it as a
/// duplicate and the other does not. Returns how many nginx refused.
fn set_again_as_nginx_allows<'n>(
    nginx: &Path,
    names: impl IntoIterator<Item = &'n str>,
    config: impl Fn(&str) -> String,
    line: usize,
) -> usize {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let conf = dir.path().join("nginx.conf");
    let (mut refused, mut wrong) = (0, Vec::new());
    for name in names {
        // a prefix variable (`http_`) is probed with a name under it
        let name = if name.ends_with('_') {
            format!("{name}probe")
        } else {
            name.to_string()
        };
        std::fs::write(&conf, config(&name)).unwrap();
        let theirs = nginx_test_file(nginx, dir.path(), &conf);
        let duplicate = Verdict::Error {
            message: format!("the duplicate \"{name}\" variable"),
            line,
        };
        if (theirs == duplicate) != (ours(&conf) == duplicate) {
            wrong.push(format!("set ${name}: nginx {theirs:?}"));
        }
        refused += usize::from(theirs == duplicate);
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    refused
}

/// Patterns PCRE2 refuses and patterns it accepts that a hand-written
/// check might not, in a `location ~*` and an `if (... ~ ...)`: the same
/// verdict and message as the real nginx for each.
#[test]
fn hard_regexes_get_nginx_verdict() {
    let Some(nginx) = require_nginx() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let conf = dir.path().join("nginx.conf");
    let patterns = [
        r"^/(a",
        r"a{2,1}",
        r"(?<1a>x)",
        r"\x{100}",
        r"\p{Xx}",
        r"[z-a]",
        r"(?<=a+)b",
        r"\k<nope>",
        r"(?#comment",
        r"(?i",
        r"[[:foo:]]",
        r"(*FOO)",
        r"\8",
        r"(?<n>a)(?<n>b)",
        r"(?J)(?<n>a)|(?<n>b)",
        r"a{65536}",
        r"\c",
        r"[\d-z]",
        r"abc)",
        r"a**",
        r"a++b",
        r"[^]",
        r"[]a]",
        r"\g{-5}(a)",
        r"(?R",
        r"\o{777777}",
        r"\Qabc",
        r"(?|(a)|(b)(c))\3",
        r"\p{L}+",
        r"(?<host>x)",
        r"(?<args>x)",
        r"(?<URI>x)",
        r"(?<http_host>x)",
        r"(?<geoip_city>x)",
        "\u{e9}(",
    ];
    let (mut wrong, mut refused) = (Vec::new(), 0);
    for p in patterns {
        for body in [
            format!("location ~* \"{p}\" {{ return 204; }}"),
            format!("if ($uri ~ \"{p}\") {{ return 204; }}"),
        ] {
            std::fs::write(
                &conf,
                format!("events {{}}\nhttp {{\n    server {{\n        {body}\n    }}\n}}\n"),
            )
            .unwrap();
            let theirs = nginx_test_file(&nginx, dir.path(), &conf);
            refused += usize::from(theirs != Verdict::Ok);
            if theirs != ours(&conf) {
                wrong.push(format!("{body}: nginx {theirs:?}, ours {:?}", ours(&conf)));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(refused > 40, "only {refused} refused");
}
