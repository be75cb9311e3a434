//! The README cannot drift from the binaries.
//!
//! - The walk-through (between `<!-- walkthrough:start -->` and
//!   `<!-- walkthrough:end -->`) is run as written in a scratch lab: a real
//!   nginx on loopback with the map seed layout, apps that answer their own
//!   `/health`, started and stopped by the lab's `start.sh` / `stop.sh`
//!   (blue runs v1 and is live). Every `$ ` line of its `console` blocks
//!   runs through `sh` in the lab's folder, in order, and must exit 0; the
//!   lines the README shows under it must appear in what it printed, in
//!   order (digits and the lab's folder aside: ports, timings and the
//!   folder differ from run to run). `...` in the README skips lines.
//! - The block marked `<!-- readme-test: edit -->` is the hand edit after
//!   `bgswitch init`: each key it names is set in what init wrote, to the
//!   value the lab's own (working) configuration has for it. The nginx
//!   commands, pid file and state paths are the lab's too (its nginx has
//!   its own prefix); every other line stays as init wrote it.
//! - Every other `bgswitch`, `nginx-edit` and `health-sidecar` command line
//!   in the README's code blocks must be accepted by that binary's
//!   argument parser.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::deploy::{deploy_lab, wait_until, Apps};
use e2e::workspace_binaries;

const README: &str = include_str!("../README.md");

/// A fenced code block: its info string, the `<!-- readme-test: X -->`
/// marker on the line before it (if any), and its text.
#[derive(Debug)]
struct Block {
    info: String,
    marker: Option<String>,
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines();
    let mut previous = "";
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let marker = previous
                .trim()
                .strip_prefix("<!-- readme-test:")
                .and_then(|m| m.strip_suffix("-->"))
                .map(|m| m.trim().to_string());
            let mut text = String::new();
            for l in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                text.push_str(l);
                text.push('\n');
            }
            out.push(Block {
                info: info.trim().to_string(),
                marker,
                text,
            });
            previous = "";
        } else {
            previous = line;
        }
    }
    out
}

fn walkthrough() -> &'static str {
    let start = README
        .find("<!-- walkthrough:start -->")
        .expect("README has <!-- walkthrough:start -->");
    let end = README
        .find("<!-- walkthrough:end -->")
        .expect("README has <!-- walkthrough:end -->");
    &README[start..end]
}

/// `$ COMMAND` lines of a console block, each with the output shown under it.
fn commands(console: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in console.lines() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push((cmd.to_string(), Vec::new()));
        } else if let Some((_, shown)) = out.last_mut() {
            shown.push(line.to_string());
        }
    }
    out
}

/// Digits made `0`, the lab's folder made `LAB`, spaces collapsed:
/// what stays the same from one run to the next.
fn normal(line: &str, lab_dir: &Path) -> String {
    // runs of spaces too: timings are right-aligned
    let digits = zero_digits(line)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // the README shows the folder of the run it was captured from
    digits.replace(&zero_digits(&lab_dir.display().to_string()), "LAB")
}

fn zero_digits(line: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('0');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

/// Each shown line (but `...`) appears in `printed`, in order.
fn assert_shown(cmd: &str, shown: &[String], printed: &str, lab_dir: &Path) {
    let printed: Vec<String> = printed.lines().map(|l| normal(l, lab_dir)).collect();
    let mut at = 0;
    for line in shown {
        if line.trim() == "..." || line.trim().is_empty() {
            continue;
        }
        let want = normal(line, lab_dir);
        match printed[at..].iter().position(|p| *p == want) {
            Some(i) => at += i + 1,
            None => panic!(
                "README shows under `{cmd}` the line\n  {line}\nwhich it did not print (in this order):\n{}",
                printed.join("\n")
            ),
        }
    }
}

/// Sets `key` (dotted) in `table` to `value`.
fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap();
    let mut t = table;
    for p in parts {
        t = t
            .entry(p)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap();
    }
    t.insert(last.to_string(), value);
}

fn get<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut v = table.get(parts.next()?)?;
    for p in parts {
        v = v.as_table()?.get(p)?;
    }
    Some(v)
}

/// The dotted keys of the leaves of `table`.
fn leaves(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = format!("{prefix}{k}");
        match v {
            toml::Value::Table(t) => leaves(t, &format!("{key}."), out),
            _ => out.push(key),
        }
    }
}

/// The lab's own settings, not the README's: its nginx has its own prefix
/// and pid file, and its journal and lock live in its folder.
const LAB_ONLY: [&str; 5] = [
    "nginx.test_command",
    "nginx.reload_command",
    "nginx.pid_file",
    "state.journal",
    "state.lock",
];

#[test]
fn the_walkthrough_runs_as_written() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    // blue's app says `starting` for a second after its start
    let blue =
        bgswitch::http::Url::parse(&format!("http://127.0.0.1:{}/health", lab.blue.app)).unwrap();
    wait_until(Duration::from_secs(20), || {
        bgswitch::http::request("GET", &blue, &[], Duration::from_secs(2))
            .is_ok_and(|r| r.status == 200)
    });
    let walk = walkthrough();
    let all = blocks(walk);
    // The lab's working configuration moves aside: the walk-through's
    // `bgswitch init -o bgswitch.toml` writes a new one.
    let lab_toml: toml::Table =
        toml::from_str(&std::fs::read_to_string(&lab.config).unwrap()).unwrap();
    std::fs::rename(&lab.config, lab.dir.join("lab.toml")).unwrap();
    // The site file the README shows is the lab's (ports aside).
    let site = std::fs::read_to_string(&lab.site).unwrap();
    for b in all.iter().filter(|b| b.marker.as_deref() == Some("site")) {
        let lines = |t: &str| t.lines().map(|l| normal(l, &lab.dir)).collect::<Vec<_>>();
        assert_eq!(
            lines(&b.text),
            lines(&site),
            "the README's site file is not the lab's"
        );
    }
    let (bin, _) = workspace_binaries();
    let path = format!(
        "{}:/usr/sbin:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for b in &all {
        match (b.info.as_str(), b.marker.as_deref()) {
            ("console", _) => {
                for (cmd, shown) in commands(&b.text) {
                    let o = Command::new("sh")
                        .arg("-c")
                        .arg(format!("exec 2>&1; {cmd}"))
                        .current_dir(&lab.dir)
                        .env("PATH", &path)
                        .output()
                        .unwrap();
                    let printed = String::from_utf8_lossy(&o.stdout).to_string();
                    println!("$ {cmd}\n{printed}");
                    assert!(o.status.success(), "`{cmd}`: {:?}\n{printed}", o.status);
                    assert_shown(&cmd, &shown, &printed, &lab.dir);
                    ran += 1;
                }
            }
            ("toml", Some("init-output")) => {
                let written = std::fs::read_to_string(lab.dir.join("bgswitch.toml")).unwrap();
                let shown: Vec<String> = b.text.lines().map(String::from).collect();
                assert_shown("bgswitch init", &shown, &written, &lab.dir);
            }
            ("toml", Some("edit")) => {
                let edit: toml::Table = toml::from_str(&b.text).unwrap();
                let file = lab.dir.join("bgswitch.toml");
                let mut cfg: toml::Table =
                    toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                let mut keys = Vec::new();
                leaves(&edit, "", &mut keys);
                keys.extend(LAB_ONLY.iter().map(|k| k.to_string()));
                for key in keys {
                    let value = get(&lab_toml, &key).unwrap_or_else(|| {
                        panic!("the README's edit names {key}, which the lab does not set")
                    });
                    set(&mut cfg, &key, value.clone());
                }
                std::fs::write(&file, toml::to_string(&cfg).unwrap()).unwrap();
            }
            _ => {}
        }
    }
    assert!(ran >= 5, "the walk-through has only {ran} commands");
}

/// The binary named first on a command line, and its arguments.
fn split(line: &str) -> Option<Vec<String>> {
    let line = line.trim().trim_start_matches("$ ");
    let line = line.split(" #").next()?.trim();
    let words = shell_words(line)?;
    let first = words.first()?;
    ["bgswitch", "nginx-edit", "health-sidecar"]
        .contains(&first.as_str())
        .then_some(words)
}

/// Splits like `sh` for the quoting the README uses: '...', "...", spaces.
fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                    word.push(q);
                }
            }
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            // pipes, redirections and continuations end what the binary sees
            '|' | '>' | '<' | ';' | '&' | '\\' => break,
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

#[test]
fn every_command_line_in_the_readme_parses() {
    use clap::Parser;
    let mut checked = 0;
    for b in blocks(README) {
        if !matches!(b.info.as_str(), "sh" | "console" | "bash" | "") {
            continue;
        }
        for line in b.text.lines() {
            // a console block's output lines are not commands
            if b.info == "console" && !line.starts_with("$ ") {
                continue;
            }
            let Some(words) = split(line) else { continue };
            let result = match words[0].as_str() {
                "bgswitch" => bgswitch::cli::Cli::try_parse_from(&words)
                    .map(drop)
                    .map_err(|e| e.to_string()),
                "nginx-edit" => nginx_edit::cli::Cli::try_parse_from(&words)
                    .map(drop)
                    .map_err(|e| e.to_string()),
                // `health-sidecar drain ...` is the client (client.rs)
                _ if words.get(1).is_some_and(|w| w == "drain") => {
                    let mut rest = vec!["health-sidecar drain".to_string()];
                    rest.extend(words[2..].iter().cloned());
                    health_sidecar::client::DrainCli::try_parse_from(&rest)
                        .map(drop)
                        .map_err(|e| e.to_string())
                }
                _ => health_sidecar::cli::Cli::try_parse_from(&words)
                    .map(drop)
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = result {
                // `--help` and `--version` "fail" with their own output
                assert!(
                    words.iter().any(|w| w == "--help" || w == "--version"),
                    "README: `{line}` is refused by {}:\n{e}",
                    words[0]
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} command lines found");
}
