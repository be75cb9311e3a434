//! `parse --format crossplane` against crossplane 0.5.8 (nginxinc/crossplane).
//!
//! - small cases with the exact JSON expected; the same cases are run
//!   through the real crossplane, which must print that JSON too, except
//!   for the cases where nginx's tokenizer and crossplane's disagree (see
//!   docs/crossplane.md), where crossplane must print something else;
//! - every config of ../shared/corpus (when present) and fixtures/ against
//!   the real crossplane: byte-identical output, unless nginx rejects the
//!   file or crossplane's own lexer reads it differently from nginx;
//! - the `xp.json` references of the corpus;
//! - the CLI: same bytes as the library, exit codes.
//!
//! The real crossplane is found as the `crossplane` command on PATH (or its
//! interpreter in `CROSSPLANE_PYTHON`); without it these comparisons are
//! skipped, except under `CI=true`, where they fail.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nginx_edit::crossplane::{write_crossplane, xp_arg, Options, Status};
use nginx_edit::{Document, Item, Items};

fn opts(flags: &[&str]) -> Options {
    Options {
        include_comments: flags.contains(&"--include-comments"),
        single_file: flags.contains(&"--single-file"),
        indent: flags
            .iter()
            .position(|f| *f == "-i")
            .map(|i| flags[i + 1].parse().unwrap()),
    }
}

fn ours(main: &Path, flags: &[&str]) -> (String, Status) {
    let mut out = Vec::new();
    let status = write_crossplane(&mut out, main, &opts(flags)).unwrap();
    (String::from_utf8(out).unwrap(), status)
}

// ---------------------------------------------------------------------------
// The real crossplane

/// Runs crossplane's own CLI code in one Python process for many requests
/// (spawning `crossplane` per file costs ~0.15 s); `real_command_is_equivalent`
/// checks that this prints what the `crossplane` command prints.
const HELPER: &str = r#"
import sys, io, json, contextlib
import crossplane
from crossplane.__main__ import parse_args
from crossplane.lexer import lex
if crossplane.__version__ != "0.5.8":
    sys.exit("crossplane 0.5.8 required, found " + crossplane.__version__)
class Buf(io.StringIO):
    def close(self):
        pass
for line in sys.stdin:
    req = json.loads(line)
    if req[0] == "lex":
        try:
            res = {"tokens": [[t, q] for t, _, q in lex(req[1])]}
        except Exception as e:
            res = {"error": str(e)}
    else:
        buf = Buf()
        kw = parse_args(req).__dict__
        f = kw.pop("_subcommand")
        with contextlib.redirect_stdout(buf):
            f(**kw)
        res = {"out": buf.getvalue()}
    sys.stdout.write(json.dumps(res) + "\n")
"#;

struct Crossplane {
    python: String,
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The real crossplane, or `None` (skip) when it is not installed; under
/// `CI=true` a missing crossplane fails the test.
fn crossplane() -> Option<Crossplane> {
    let found = (|| {
        let command = find_on_path("crossplane")?;
        let ok = Command::new(&command)
            .arg("--version")
            .output()
            .ok()?
            .status
            .success();
        if !ok {
            return None;
        }
        let mut candidates = Vec::new();
        if let Ok(p) = std::env::var("CROSSPLANE_PYTHON") {
            candidates.push(p);
        }
        // A pip-installed script names its interpreter in the shebang.
        let text = std::fs::read(&command).ok()?;
        if let Some(first) = text.split(|&c| c == b'\n').next() {
            let first = String::from_utf8_lossy(first);
            if let Some(rest) = first.strip_prefix("#!") {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let interp = match words.as_slice() {
                    [env, py, ..] if env.ends_with("/env") => *py,
                    [py, ..] => *py,
                    [] => "",
                };
                if interp.contains("python") {
                    candidates.push(interp.to_string());
                }
            }
        }
        candidates.push("python3".into());
        candidates.into_iter().find_map(|python| {
            let out = Command::new(&python)
                .args(["-c", "import crossplane; print(crossplane.__version__)"])
                .output()
                .ok()?;
            (String::from_utf8_lossy(&out.stdout).trim() == "0.5.8")
                .then_some(Crossplane { python })
        })
    })();
    match found {
        Some(c) => Some(c),
        None if ci() => panic!(
            "CI=true: the crossplane 0.5.8 command is required (pip install crossplane==0.5.8)"
        ),
        None => {
            eprintln!("crossplane 0.5.8 not installed: comparison skipped");
            None
        }
    }
}

impl Crossplane {
    /// Answers each request: `["lex", FILE]` or a `crossplane` argv.
    fn batch(&self, requests: &[Vec<String>]) -> Vec<serde_json::Value> {
        let mut child = Command::new(&self.python)
            .args(["-c", HELPER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = String::new();
        for r in requests {
            input.push_str(&serde_json::to_string(r).unwrap());
            input.push('\n');
        }
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "crossplane helper failed");
        let answers: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(answers.len(), requests.len());
        answers
    }

    fn parse_many(&self, jobs: &[(PathBuf, Vec<&str>)]) -> Vec<String> {
        let requests: Vec<Vec<String>> = jobs
            .iter()
            .map(|(path, flags)| {
                let mut argv = vec!["parse".to_string()];
                argv.extend(flags.iter().map(|f| f.to_string()));
                argv.push(path.to_string_lossy().into_owned());
                argv
            })
            .collect();
        self.batch(&requests)
            .into_iter()
            .map(|v| v["out"].as_str().unwrap().to_string())
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Small cases

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    flags: &'static [&'static str],
    /// Exact output; `{D}` stands for the case's folder.
    expected: &'static str,
    /// Whether crossplane prints the same (false: nginx and crossplane
    /// tokenize the input differently, docs/crossplane.md).
    crossplane_agrees: bool,
    status: Status,
}

const CASES: &[Case] = &[
    Case {
        name: "quotes keep backslash pairs except the quote's own",
        files: &[(
            "nginx.conf",
            "http {\n    log_format main '\\'a\\' \"b\"' \"c\\\"d\" 'e\\\\f' \\#x\\ y \"\" '\\\"q';\n}\n",
        )],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"http","line":1,"args":[],"block":[{"directive":"log_format","line":2,"args":["main","'a' \"b\"","c\"d","e\\\\f","\\#x\\ y","","\\\"q"]}]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Ok,
    },
    Case {
        name: "comments between arguments are always reported",
        files: &[(
            "nginx.conf",
            "# top\nevents { worker_connections 512; } # after events\nhttp { #x\n    access_log off # between\n        # own line\n        ;\n    server # s\n    { listen 80; }\n}\n",
        )],
        flags: &[],
        expected: r##"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"events","line":2,"args":[],"block":[{"directive":"worker_connections","line":2,"args":["512"]}]},{"directive":"http","line":3,"args":[],"block":[{"directive":"access_log","line":4,"args":["off"]},{"directive":"#","line":4,"args":[],"comment":" between"},{"directive":"#","line":4,"args":[],"comment":" own line"},{"directive":"server","line":7,"args":[],"block":[{"directive":"listen","line":8,"args":["80"]}]},{"directive":"#","line":7,"args":[],"comment":" s"}]}]}]}"##,
        crossplane_agrees: true,
        status: Status::Ok,
    },
    Case {
        name: "--include-comments",
        files: &[(
            "nginx.conf",
            "# top\nevents { worker_connections 512; } # after events\nhttp { #x\n    access_log off # between\n        # own line\n        ;\n    server # s\n    { listen 80; }\n}\n",
        )],
        flags: &["--include-comments"],
        expected: r##"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"#","line":1,"args":[],"comment":" top"},{"directive":"events","line":2,"args":[],"block":[{"directive":"worker_connections","line":2,"args":["512"]}]},{"directive":"#","line":2,"args":[],"comment":" after events"},{"directive":"http","line":3,"args":[],"block":[{"directive":"#","line":3,"args":[],"comment":"x"},{"directive":"access_log","line":4,"args":["off"]},{"directive":"#","line":4,"args":[],"comment":" between"},{"directive":"#","line":4,"args":[],"comment":" own line"},{"directive":"server","line":7,"args":[],"block":[{"directive":"listen","line":8,"args":["80"]}]},{"directive":"#","line":7,"args":[],"comment":" s"}]}]}]}"##,
        crossplane_agrees: true,
        status: Status::Ok,
    },
    Case {
        name: "if arguments lose their parentheses",
        files: &[(
            "nginx.conf",
            "http {\n    server {\n        if ($a) { return 404; }\n        if ( $a = b ) { return 403; }\n        if ($request_method = POST ) { return 405; }\n        if ( $x ~* \"^(a|b)$\" ) { set $y 1; }\n    }\n}\n",
        )],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"http","line":1,"args":[],"block":[{"directive":"server","line":2,"args":[],"block":[{"directive":"if","line":3,"args":["$a"],"block":[{"directive":"return","line":3,"args":["404"]}]},{"directive":"if","line":4,"args":["$a","=","b"],"block":[{"directive":"return","line":4,"args":["403"]}]},{"directive":"if","line":5,"args":["$request_method","=","POST"],"block":[{"directive":"return","line":5,"args":["405"]}]},{"directive":"if","line":6,"args":["$x","~*","^(a|b)$"],"block":[{"directive":"set","line":6,"args":["$y","1"]}]}]}]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Ok,
    },
    Case {
        name: "Lua blocks are one argument",
        files: &[(
            "nginx.conf",
            "http {\n    server {\n        location / {\n            content_by_lua_block {\n                local t = {1, \"}\"} -- }\n                ngx.say(t[2])\n            }\n            set_by_lua_block $x { return \"a\" }\n        }\n    }\n}\n",
        )],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"http","line":1,"args":[],"block":[{"directive":"server","line":2,"args":[],"block":[{"directive":"location","line":3,"args":["/"],"block":[{"directive":"content_by_lua_block","line":4,"args":["\n                local t = {1, \"}\"} -- }\n                ngx.say(t[2])\n            "]},{"directive":"set_by_lua_block","line":8,"args":["$x"," return \"a\" "]}]}]}]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Ok,
    },
    Case {
        name: "the analyzer drops directives, skips or flattens their blocks",
        files: &[(
            "nginx.conf",
            "user;\nhttp {\n    server_tokens on { gzip on; }\n    gzip maybe;\n    keepalive_timeout;\n    server;\n    listen 80;\n    location / { root /x; }\n}\n",
        )],
        flags: &[],
        expected: r#"{"status":"failed","errors":[{"file":"{D}/nginx.conf","error":"invalid number of arguments in \"user\" directive in {D}/nginx.conf:1","line":1},{"file":"{D}/nginx.conf","error":"directive \"server_tokens\" is not terminated by \";\" in {D}/nginx.conf:3","line":3},{"file":"{D}/nginx.conf","error":"invalid value \"maybe\" in \"gzip\" directive, it must be \"on\" or \"off\" in {D}/nginx.conf:4","line":4},{"file":"{D}/nginx.conf","error":"invalid number of arguments in \"keepalive_timeout\" directive in {D}/nginx.conf:5","line":5},{"file":"{D}/nginx.conf","error":"directive \"server\" has no opening \"{\" in {D}/nginx.conf:6","line":6},{"file":"{D}/nginx.conf","error":"\"listen\" directive is not allowed here in {D}/nginx.conf:7","line":7},{"file":"{D}/nginx.conf","error":"\"location\" directive is not allowed here in {D}/nginx.conf:8","line":8}],"config":[{"file":"{D}/nginx.conf","status":"failed","errors":[{"error":"invalid number of arguments in \"user\" directive in {D}/nginx.conf:1","line":1},{"error":"directive \"server_tokens\" is not terminated by \";\" in {D}/nginx.conf:3","line":3},{"error":"invalid value \"maybe\" in \"gzip\" directive, it must be \"on\" or \"off\" in {D}/nginx.conf:4","line":4},{"error":"invalid number of arguments in \"keepalive_timeout\" directive in {D}/nginx.conf:5","line":5},{"error":"directive \"server\" has no opening \"{\" in {D}/nginx.conf:6","line":6},{"error":"\"listen\" directive is not allowed here in {D}/nginx.conf:7","line":7},{"error":"\"location\" directive is not allowed here in {D}/nginx.conf:8","line":8}],"parsed":[{"directive":"http","line":2,"args":[],"block":[{"directive":"root","line":8,"args":["/x"]}]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Failed,
    },
    Case {
        name: "a top-level block crossplane refuses ends the file at its }",
        files: &[(
            "nginx.conf",
            "events {}\nserver {\n    listen 80;\n    location / { root /x; }\n}\nhttp {}\n",
        )],
        flags: &[],
        expected: r#"{"status":"failed","errors":[{"file":"{D}/nginx.conf","error":"\"server\" directive is not allowed here in {D}/nginx.conf:2","line":2},{"file":"{D}/nginx.conf","error":"\"listen\" directive is not allowed here in {D}/nginx.conf:3","line":3},{"file":"{D}/nginx.conf","error":"\"location\" directive is not allowed here in {D}/nginx.conf:4","line":4},{"file":"{D}/nginx.conf","error":"\"root\" directive is not allowed here in {D}/nginx.conf:4","line":4}],"config":[{"file":"{D}/nginx.conf","status":"failed","errors":[{"error":"\"server\" directive is not allowed here in {D}/nginx.conf:2","line":2},{"error":"\"listen\" directive is not allowed here in {D}/nginx.conf:3","line":3},{"error":"\"location\" directive is not allowed here in {D}/nginx.conf:4","line":4},{"error":"\"root\" directive is not allowed here in {D}/nginx.conf:4","line":4}],"parsed":[{"directive":"events","line":1,"args":[],"block":[]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Failed,
    },
    Case {
        name: "includes: sorted glob, missing file, each file once, include context",
        files: &[
            (
                "nginx.conf",
                "events {}\nhttp {\n    include conf.d/*.conf;\n    include missing.conf;\n    include conf.d/b.conf;\n    listen 80;\n}\n",
            ),
            ("conf.d/b.conf", "server { listen 8080; }\n"),
            ("conf.d/a.conf", "upstream a { server 127.0.0.1:1; }\nlisten 1;\n"),
        ],
        flags: &[],
        // `listen` in nginx.conf is reported "in conf.d/b.conf": crossplane
        // names the last included file after an include (kept as is).
        expected: r#"{"status":"failed","errors":[{"file":"{D}/nginx.conf","error":"[Errno 2] No such file or directory: '{D}/missing.conf'","line":4},{"file":"{D}/nginx.conf","error":"\"listen\" directive is not allowed here in {D}/conf.d/b.conf:6","line":6},{"file":"{D}/conf.d/a.conf","error":"\"listen\" directive is not allowed here in {D}/conf.d/a.conf:2","line":2}],"config":[{"file":"{D}/nginx.conf","status":"failed","errors":[{"error":"[Errno 2] No such file or directory: '{D}/missing.conf'","line":4},{"error":"\"listen\" directive is not allowed here in {D}/conf.d/b.conf:6","line":6}],"parsed":[{"directive":"events","line":1,"args":[],"block":[]},{"directive":"http","line":2,"args":[],"block":[{"directive":"include","line":3,"args":["conf.d/*.conf"],"includes":[1,2]},{"directive":"include","line":4,"args":["missing.conf"],"includes":[]},{"directive":"include","line":5,"args":["conf.d/b.conf"],"includes":[2]}]}]},{"file":"{D}/conf.d/a.conf","status":"failed","errors":[{"error":"\"listen\" directive is not allowed here in {D}/conf.d/a.conf:2","line":2}],"parsed":[{"directive":"upstream","line":1,"args":["a"],"block":[{"directive":"server","line":1,"args":["127.0.0.1:1"]}]}]},{"file":"{D}/conf.d/b.conf","status":"ok","errors":[],"parsed":[{"directive":"server","line":1,"args":[],"block":[{"directive":"listen","line":1,"args":["8080"]}]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Failed,
    },
    Case {
        name: "--single-file",
        files: &[
            ("nginx.conf", "http {\n    include conf.d/*.conf;\n}\n"),
            ("conf.d/a.conf", "server { listen 8080; }\n"),
        ],
        flags: &["--single-file"],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"http","line":1,"args":[],"block":[{"directive":"include","line":2,"args":["conf.d/*.conf"]}]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Ok,
    },
    Case {
        name: "-i 2",
        files: &[("nginx.conf", "events {}\nhttp { gzip on; }\n")],
        flags: &["-i", "2"],
        expected: "{\n  \"status\": \"ok\",\n  \"errors\": [],\n  \"config\": [\n    {\n      \"file\": \"{D}/nginx.conf\",\n      \"status\": \"ok\",\n      \"errors\": [],\n      \"parsed\": [\n        {\n          \"directive\": \"events\",\n          \"line\": 1,\n          \"args\": [],\n          \"block\": []\n        },\n        {\n          \"directive\": \"http\",\n          \"line\": 2,\n          \"args\": [],\n          \"block\": [\n            {\n              \"directive\": \"gzip\",\n              \"line\": 2,\n              \"args\": [\n                \"on\"\n              ]\n            }\n          ]\n        }\n      ]\n    }\n  ]\n}",
        crossplane_agrees: true,
        status: Status::Ok,
    },
    Case {
        name: "non-ASCII is escaped, invalid UTF-8 replaced",
        files: &[("nginx.conf", "env \"r\u{e9}sum\u{e9} \u{1F600} \u{7f}\";\n")],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"env","line":1,"args":["r\u00e9sum\u00e9 \ud83d\ude00 \u007f"]}]}]}"#,
        crossplane_agrees: true,
        status: Status::Ok,
    },
    // nginx and crossplane disagree (docs/crossplane.md): nginx wins.
    Case {
        name: "nginx: ${var} followed by a space ends the token; } does not",
        files: &[(
            "nginx.conf",
            "http {\n    server {\n        location / { try_files ${uri} /x =404; }\n    }\n    log_format x b};\n}\n",
        )],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"http","line":1,"args":[],"block":[{"directive":"server","line":2,"args":[],"block":[{"directive":"location","line":3,"args":["/"],"block":[{"directive":"try_files","line":3,"args":["${uri}","/x","=404"]}]}]},{"directive":"log_format","line":5,"args":["x","b}"]}]}]}]}"#,
        crossplane_agrees: false,
        status: Status::Ok,
    },
    Case {
        name: "nginx: a closing quote glued to a byte is an error",
        files: &[("nginx.conf", "http {\n    log_format x \"a\"b;\n}\n")],
        flags: &[],
        expected: r#"{"status":"failed","errors":[{"file":"{D}/nginx.conf","error":"unexpected \"b\" in {D}/nginx.conf:2","line":2}],"config":[{"file":"{D}/nginx.conf","status":"failed","errors":[{"error":"unexpected \"b\" in {D}/nginx.conf:2","line":2}],"parsed":[]}]}"#,
        crossplane_agrees: false,
        status: Status::Syntax,
    },
    Case {
        name: "nginx: a missing ; before } is an error",
        files: &[("nginx.conf", "http {\n    gzip on\n}\n")],
        flags: &[],
        expected: r#"{"status":"failed","errors":[{"file":"{D}/nginx.conf","error":"unexpected \"}\" in {D}/nginx.conf:3","line":3}],"config":[{"file":"{D}/nginx.conf","status":"failed","errors":[{"error":"unexpected \"}\" in {D}/nginx.conf:3","line":3}],"parsed":[]}]}"#,
        crossplane_agrees: false,
        status: Status::Syntax,
    },
    Case {
        name: "nginx: CR LF inside quotes is kept, form feed is a token byte",
        files: &[(
            "nginx.conf",
            "http {\r\n    log_format x \"a\r\nb\";\r\n    log_format y a\u{c}b;\r\n}\r\n",
        )],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"http","line":1,"args":[],"block":[{"directive":"log_format","line":2,"args":["x","a\r\nb"]},{"directive":"log_format","line":4,"args":["y","a\fb"]}]}]}]}"#,
        crossplane_agrees: false,
        status: Status::Ok,
    },
    Case {
        name: "nginx: a last comment without a newline is a comment",
        files: &[("nginx.conf", "events {}\n# end")],
        flags: &["--include-comments"],
        expected: r##"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"events","line":1,"args":[],"block":[]},{"directive":"#","line":2,"args":[],"comment":" end"}]}]}"##,
        crossplane_agrees: false,
        status: Status::Ok,
    },
    Case {
        name: "lua-nginx-module: every *_by_lua_block is Lua",
        files: &[(
            "nginx.conf",
            "exit_worker_by_lua_block { ngx.log(ngx.ERR, \"}\") }\n",
        )],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"exit_worker_by_lua_block","line":1,"args":[" ngx.log(ngx.ERR, \"}\") "]}]}]}"#,
        crossplane_agrees: false,
        status: Status::Ok,
    },
    Case {
        name: "lua-nginx-module: long brackets hide braces, `{` may follow the name",
        files: &[(
            "nginx.conf",
            "http { server { location / {\n content_by_lua_block { local s = [[ } ]] ngx.say(s) }\n rewrite_by_lua_block{ --[[ a\n } ]] ngx.exit(1) }\n } } }\n",
        )],
        flags: &[],
        expected: r#"{"status":"ok","errors":[],"config":[{"file":"{D}/nginx.conf","status":"ok","errors":[],"parsed":[{"directive":"http","line":1,"args":[],"block":[{"directive":"server","line":1,"args":[],"block":[{"directive":"location","line":1,"args":["/"],"block":[{"directive":"content_by_lua_block","line":2,"args":[" local s = [[ } ]] ngx.say(s) "]},{"directive":"rewrite_by_lua_block","line":3,"args":[" --[[ a\n } ]] ngx.exit(1) "]}]}]}]}]}]}"#,
        crossplane_agrees: false,
        status: Status::Ok,
    },
    Case {
        name: "nginx: end of file inside a statement",
        files: &[("nginx.conf", "events {}\nhttp {\n    gzip on")],
        flags: &[],
        expected: r#"{"status":"failed","errors":[{"file":"{D}/nginx.conf","error":"unexpected end of file, expecting \";\" or \"}\" in {D}/nginx.conf:3","line":3}],"config":[{"file":"{D}/nginx.conf","status":"failed","errors":[{"error":"unexpected end of file, expecting \";\" or \"}\" in {D}/nginx.conf:3","line":3}],"parsed":[]}]}"#,
        crossplane_agrees: false,
        status: Status::Syntax,
    },
];

/// Writes a case's files into a fresh folder; returns it and the main path.
fn materialize(case: &Case) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in case.files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    let main = dir.path().join(case.files[0].0);
    (dir, main)
}

fn expected(case: &Case, dir: &Path) -> String {
    case.expected
        .replace("{D}", &dir.to_string_lossy())
        .to_string()
        + "\n"
}

#[test]
fn cases_print_the_expected_json() {
    for case in CASES {
        let (dir, main) = materialize(case);
        let (out, status) = ours(&main, case.flags);
        assert_eq!(out, expected(case, dir.path()), "case: {}", case.name);
        assert_eq!(status, case.status, "case: {}", case.name);
        // The output is valid JSON.
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
    }
}

#[test]
fn cases_against_real_crossplane() {
    let Some(xp) = crossplane() else { return };
    let dirs: Vec<_> = CASES.iter().map(materialize).collect();
    let jobs: Vec<(PathBuf, Vec<&str>)> = CASES
        .iter()
        .zip(&dirs)
        .map(|(c, (_, main))| (main.clone(), c.flags.to_vec()))
        .collect();
    let theirs = xp.parse_many(&jobs);
    for ((case, (dir, _)), theirs) in CASES.iter().zip(&dirs).zip(theirs) {
        let want = expected(case, dir.path());
        if case.crossplane_agrees {
            assert_eq!(theirs, want, "crossplane disagrees on case: {}", case.name);
        } else {
            assert_ne!(theirs, want, "crossplane now agrees on case: {}", case.name);
        }
    }
}

#[test]
fn real_command_is_equivalent_to_the_helper() {
    let Some(xp) = crossplane() else { return };
    let case = &CASES[7];
    let (_dir, main) = materialize(case);
    let command = find_on_path("crossplane").unwrap();
    for flags in [vec![], vec!["--include-comments", "-i", "4"]] {
        let out = Command::new(&command)
            .arg("parse")
            .args(&flags)
            .arg(&main)
            .output()
            .unwrap();
        assert!(out.status.success());
        let helper = xp.parse_many(&[(main.clone(), flags.clone())]);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), helper[0]);
        assert_eq!(helper[0], ours(&main, &flags).0);
    }
}

// ---------------------------------------------------------------------------
// Corpus

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> Option<PathBuf> {
    let p = workspace().join("../shared/corpus");
    p.is_dir().then_some(p)
}

/// Every config file under `dir` (not the JSON references, notes or
/// compressed files), sorted.
fn configs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            configs(&p, out);
        } else if !matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("json" | "md" | "bz2" | "tsv")
        ) {
            out.push(p);
        }
    }
}

/// The tokens crossplane's lexer would give for `doc` if it read the file
/// as nginx does: names and arguments (crossplane's strings), `;`, `{`,
/// `}`, Lua bodies; comments go to `comments`.
fn our_tokens(items: Items<'_>, out: &mut Vec<String>, comments: &mut Vec<String>) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for item in items {
        let d = match item {
            Item::Comment(c) => {
                comments.push(format!("#{}", text(c.text())));
                continue;
            }
            Item::Directive(d) => d,
        };
        out.push(text(&xp_arg(d.name_token().raw())));
        out.extend(d.args().map(|a| text(&xp_arg(a.raw()))));
        if let Some(lua) = d.lua_body() {
            out.push(text(lua));
            out.push(";".into());
        } else if let Some(block) = d.block() {
            out.push("{".into());
            our_tokens(block, out, comments);
            out.push("}".into());
        } else {
            out.push(";".into());
        }
    }
}

/// crossplane's tokens and, apart, its comments (sorted: nginx-edit keeps
/// comments found between arguments after their directive).
fn their_tokens(answer: &serde_json::Value) -> Option<(Vec<String>, Vec<String>)> {
    let tokens = answer["tokens"].as_array()?;
    let (mut toks, mut comments) = (Vec::new(), Vec::new());
    for t in tokens {
        let s = t[0].as_str()?.to_string();
        if t[1] == false && s.starts_with('#') {
            comments.push(s);
        } else {
            toks.push(s);
        }
    }
    comments.sort();
    Some((toks, comments))
}

#[test]
fn corpus_and_fixtures_against_real_crossplane() {
    let Some(xp) = crossplane() else { return };
    let mut files = Vec::new();
    if let Some(c) = corpus() {
        configs(&c, &mut files);
    }
    configs(&workspace().join("fixtures"), &mut files);
    assert!(!files.is_empty());
    let variants: [&[&str]; 3] = [&[], &["--include-comments"], &["--single-file"]];
    let jobs: Vec<(PathBuf, Vec<&str>)> = files
        .iter()
        .flat_map(|f| variants.iter().map(move |v| (f.clone(), v.to_vec())))
        .collect();
    let theirs = xp.parse_many(&jobs);
    let (mut same, mut rejected, mut lexed) = (0, 0, Vec::new());
    let mut unexplained = Vec::new();
    let mut lex_cache = std::collections::HashMap::new();
    for ((path, flags), theirs) in jobs.iter().zip(theirs) {
        let (mine, status) = ours(path, flags);
        if mine == theirs {
            same += 1;
            continue;
        }
        let payload: serde_json::Value = serde_json::from_str(&mine).unwrap();
        if status == Status::Syntax {
            // nginx rejects a file of the payload: that file is failed with
            // nginx's message and nothing parsed.
            let bad = payload["config"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["parsed"] == serde_json::json!([]) && c["status"] == "failed");
            assert!(
                bad.is_some(),
                "{}: no failed file in {mine}",
                path.display()
            );
            rejected += 1;
            continue;
        }
        // Otherwise crossplane's lexer must read some file of the payload
        // differently from nginx.
        let mut differs = false;
        for c in payload["config"].as_array().unwrap() {
            let file = c["file"].as_str().unwrap().to_string();
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            let answer = lex_cache
                .entry(file.clone())
                .or_insert_with(|| xp.batch(&[vec!["lex".into(), file.clone()]]).remove(0));
            let Ok(doc) = Document::parse(&bytes) else {
                continue;
            };
            let (mut mine, mut comments) = (Vec::new(), Vec::new());
            our_tokens(doc.items(), &mut mine, &mut comments);
            comments.sort();
            if their_tokens(answer) != Some((mine, comments)) {
                differs = true;
            }
        }
        if differs {
            lexed.push(path.display().to_string());
        } else {
            unexplained.push(format!(
                "{} {flags:?}\n  crossplane: {theirs}  nginx-edit: {mine}",
                path.display()
            ));
        }
    }
    eprintln!(
        "{} runs: {same} identical, {rejected} rejected by nginx, {} read differently by crossplane's lexer: {:?}",
        jobs.len(),
        lexed.len(),
        lexed
    );
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
    assert!(same > 0);
}

/// `xp.json` files beside go-crossplane's configs, normalized: paths made
/// relative to the main file's folder, empty blocks dropped (the references
/// omit them, as go-crossplane prints them).
fn normalize(v: &serde_json::Value, prefix: &str) -> serde_json::Value {
    fn strip(items: &mut serde_json::Value) {
        for s in items.as_array_mut().into_iter().flatten() {
            let obj = s.as_object_mut().unwrap();
            if obj.get("block") == Some(&serde_json::json!([])) {
                obj.remove("block");
            }
            if let Some(b) = obj.get_mut("block") {
                strip(b);
            }
        }
    }
    let text = serde_json::to_string(v).unwrap().replace(prefix, "");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for c in v["config"].as_array_mut().unwrap() {
        strip(&mut c["parsed"]);
    }
    v
}

/// References that do not describe the config beside them any more (the
/// config was edited after the reference was made, or the reference was
/// made by another crossplane build): checked against the real crossplane,
/// which must disagree with them too.
const STALE_REFERENCES: &[&str] = &[
    "bad-args",
    "directive-with-space",
    "includes-regular",
    "lua-block-larger",
    "lua-block-tricky",
    "with-comments",
];

/// References that nginx's tokenizer contradicts (the file is invalid for
/// nginx): we must report the file as failed.
const NGINX_REJECTS: &[&str] = &["quote-behavior"];

#[test]
fn xp_json_references() {
    let Some(corpus) = corpus() else {
        eprintln!("../shared/corpus not present: skipped");
        return;
    };
    let xp = crossplane();
    let mut matched = 0;
    let mut refs: Vec<PathBuf> = std::fs::read_dir(corpus.join("go-crossplane"))
        .unwrap()
        .map(|e| e.unwrap().path().join("xp.json"))
        .filter(|p| p.is_file())
        .collect();
    refs.sort();
    assert!(!refs.is_empty());
    for r in &refs {
        let dir = r.parent().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let reference: serde_json::Value =
            serde_json::from_slice(&std::fs::read(r).unwrap()).unwrap();
        let ref_main = reference["config"][0]["file"].as_str().unwrap().to_string();
        let ref_prefix = match ref_main.rfind('/') {
            Some(i) => ref_main[..=i].to_string(),
            None => String::new(),
        };
        let main = dir.join(Path::new(&ref_main).file_name().unwrap());
        let our_prefix = format!("{}/", dir.display());
        let want = normalize(&reference, &ref_prefix);
        // The references were made with or without --include-comments.
        let found = [&[][..], &["--include-comments"][..]].iter().any(|flags| {
            let (out, _) = ours(&main, flags);
            normalize(&serde_json::from_str(&out).unwrap(), &our_prefix) == want
        });
        if STALE_REFERENCES.contains(&name.as_str()) {
            assert!(
                !found,
                "{name}: reference matches now; remove it from STALE_REFERENCES"
            );
            if let Some(xp) = &xp {
                for flags in [vec![], vec!["--include-comments"]] {
                    let theirs = xp.parse_many(&[(main.clone(), flags)]).remove(0);
                    let theirs = normalize(&serde_json::from_str(&theirs).unwrap(), &our_prefix);
                    assert_ne!(theirs, want, "{name}: crossplane matches the reference");
                }
            }
        } else if NGINX_REJECTS.contains(&name.as_str()) {
            let (_, status) = ours(&main, &[]);
            assert_eq!(status, Status::Syntax, "{name}");
        } else {
            assert!(found, "{name}: output differs from {}", r.display());
            matched += 1;
        }
    }
    eprintln!("{matched} of {} xp.json references matched", refs.len());
}

// ---------------------------------------------------------------------------
// CLI

fn cli(args: &[&str], file: &Path) -> (Vec<u8>, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_nginx-edit"))
        .args(["parse", "--format", "crossplane"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    (out.stdout, out.status.code().unwrap())
}

#[test]
fn cli_prints_the_library_output_with_documented_exit_codes() {
    for case in CASES {
        let (_dir, main) = materialize(case);
        let (out, code) = cli(case.flags, &main);
        let (lib, status) = ours(&main, case.flags);
        assert_eq!(String::from_utf8(out).unwrap(), lib, "case: {}", case.name);
        let want = match status {
            Status::Ok | Status::Failed => 0,
            Status::Syntax => 3,
            Status::Unreadable => 2,
        };
        assert_eq!(code, want, "case: {}", case.name);
    }
    // An unreadable main file: crossplane's JSON, and exit 2.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.conf");
    let (out, code) = cli(&[], &missing);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["config"][0]["errors"][0]["line"], serde_json::Value::Null);
    let msg = v["errors"][0]["error"].as_str().unwrap();
    assert!(
        msg.starts_with("[Errno 2] No such file or directory: '"),
        "{msg}"
    );
}

#[test]
fn crossplane_strings_of_tokens() {
    let cases: &[(&str, &str)] = &[
        (r#""a\"b""#, r#"a"b"#),
        (r#"'a\"b'"#, r#"a\"b"#),
        (r"'a\'b'", r"a'b"),
        (r"'a\\'", r"a\\"),
        (r#""a\\\"b""#, r#"a\\"b"#),
        (r"\#a\ b", r"\#a\ b"),
        (r#""""#, ""),
        (r"a\;b", r"a\;b"),
        (r#""a\nb""#, r"a\nb"),
    ];
    for (raw, want) in cases {
        assert_eq!(&*xp_arg(raw.as_bytes()), want.as_bytes(), "{raw}");
    }
}
