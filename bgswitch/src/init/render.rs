//! The commented `bgswitch.toml` for a switch `init` found. Every line has
//! a comment that says what it is and whether it is a guess to check
//! (`EDIT`), because a config a user does not understand is a config they
//! will not trust with production traffic.

use std::fmt::Write as _;

use super::detect::{Candidate, Kind, PoolGuess, Servers};
use super::site::VerifyGuess;

/// Whether this build's configuration takes `https://` URLs and
/// `[verify] connect_to` (the HTTP client work adds them). Until then
/// they are written commented out, so the file loads.
pub const HTTPS_KNOWN: bool = false;

/// What goes into the file besides the switch itself.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub cand: &'a Candidate,
    /// `[nginx] config` as written (relative to the toml's directory, or absolute).
    pub config: String,
    /// `[nginx] main`, when the switch lives in a file the given one includes.
    pub main: Option<String>,
    /// The nginx file the user named and where the switch is, for the header.
    pub source: String,
    pub at: String,
    /// `pid` from the nginx config, if it sets one.
    pub pid_file: Option<String>,
    pub access_log: Option<String>,
    pub verify: VerifyGuess,
    /// The other switches found, described.
    pub others: Vec<String>,
    /// Extra comment lines for the top (the flag selector's install steps).
    pub preface: Vec<String>,
}

/// `key = value` with its comment aligned.
fn kv(out: &mut String, key: &str, value: &str, comment: &str) {
    let left = format!("{key} = {value}");
    line(out, &left, comment);
}

fn line(out: &mut String, left: &str, comment: &str) {
    if comment.is_empty() {
        let _ = writeln!(out, "{left}");
    } else if left.len() > 44 {
        // Too long to share a line: the comment goes above.
        let _ = writeln!(out, "# {comment}:\n{left}");
    } else {
        let _ = writeln!(out, "{left:<44} # {comment}");
    }
}

/// A TOML basic string.
pub fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    let v: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", v.join(", "))
}

/// The host of an address (`10.0.1.10:3000` -> `10.0.1.10`), `None` for a
/// unix socket.
fn host_port(addr: &str) -> Option<(&str, &str)> {
    if addr.starts_with("unix:") {
        return None;
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') => Some((h, p)),
        _ => Some((addr, "80")),
    }
}

/// The whole file.
pub fn toml(i: &Inputs<'_>) -> String {
    let c = i.cand;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# bgswitch.toml written by `bgswitch init` from {}:",
        i.source
    );
    let _ = writeln!(out, "# the switch is the {}.", i.at);
    out.push_str(
        "# Values are read or guessed from the nginx config. Check every line marked\n\
         # EDIT, then run `bgswitch status` and `bgswitch switch --dry-run`.\n",
    );
    if !i.others.is_empty() {
        out.push_str(
            "# Other candidates found (not used; `bgswitch init --kind ...` picks a kind):\n",
        );
        for o in &i.others {
            let _ = writeln!(out, "#   {o}");
        }
    }
    for p in &i.preface {
        if p.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {p}");
        }
    }

    out.push_str("\n[nginx]\n");
    kv(
        &mut out,
        "config",
        &q(&i.config),
        "the file that holds the switch (relative to this file)",
    );
    match &i.main {
        Some(m) => kv(&mut out, "main", &q(m), "follow includes from here"),
        None => line(
            &mut out,
            "# main = \"/etc/nginx/nginx.conf\"",
            "optional: follow includes from the main config",
        ),
    }
    kv(
        &mut out,
        "test_command",
        "[\"nginx\", \"-t\"]",
        "EDIT for a container: [\"docker\", \"exec\", \"proxy\", \"nginx\", \"-t\"]",
    );
    kv(
        &mut out,
        "reload_command",
        "[\"nginx\", \"-s\", \"reload\"]",
        "or [\"systemctl\", \"reload\", \"nginx\"]",
    );
    kv(
        &mut out,
        "pid_file",
        &q(i.pid_file.as_deref().unwrap_or("/run/nginx.pid")),
        "proves the reload took; nginx in a container: delete this line",
    );

    out.push_str("\n[switch]\n");
    let (kind_note, name_key, name_note) = match c.kind {
        Kind::Map => (
            "a map whose default names the live pool's upstream",
            "map",
            format!("the map's result variable (line {})", c.line),
        ),
        Kind::Upstream => (
            "one upstream; the idle pool's servers commented out or `down`",
            "upstream",
            format!("the upstream (line {})", c.line),
        ),
        Kind::Replace => (
            "a one-server upstream whose address is swapped",
            "upstream",
            format!("the upstream (line {})", c.line),
        ),
        Kind::Flag => (
            "no reload: nginx tests a flag file on every request",
            "map",
            "the variable the selector sets".to_string(),
        ),
    };
    kv(&mut out, "kind", &q(c.kind.as_str()), kind_note);
    kv(&mut out, name_key, &q(&c.name), &name_note);
    if let Some(dir) = &c.flag_dir {
        kv(
            &mut out,
            "flag_dir",
            &q(dir),
            "where the flag files live: must survive a reboot (not tmpfs)",
        );
        out.push_str("# flag_dir_volatile = true   # only if flag_dir is meant to be on tmpfs: a reboot empties it and the default pool is live again\n");
    }

    for p in &c.pools {
        pool(&mut out, c, p);
    }

    out.push_str("\n[gate]\n");
    kv(
        &mut out,
        "timeout",
        "\"60s\"",
        "how long the target pool may take to be ready",
    );
    kv(
        &mut out,
        "interval",
        "\"1s\"",
        "how often its health URLs are asked",
    );
    line(
        &mut out,
        "# version_field = \"version\"",
        "deploy: the JSON field of health that reports the version",
    );

    out.push_str("\n[verify]\n");
    let from = i
        .verify
        .from
        .as_deref()
        .map_or("no server block found".to_string(), |f| {
            format!("from the server at {f}")
        });
    let url = format!("url = {}", q(&i.verify.url));
    let url = if HTTPS_KNOWN || !i.verify.url.starts_with("https://") {
        url
    } else {
        format!("# {url}")
    };
    line(
        &mut out,
        &url,
        &format!("EDIT: a URL through nginx ({from})"),
    );
    if let Some(ct) = &i.verify.connect_to {
        let left = format!("connect_to = {}", q(ct));
        let left = if HTTPS_KNOWN {
            left
        } else {
            format!("# {left}")
        };
        line(
            &mut out,
            &left,
            "connect here; the URL's host stays the TLS name and Host",
        );
    }
    kv(
        &mut out,
        "header",
        "\"X-Pool\"",
        "EDIT: a response header the app sets to its pool's name ...",
    );
    line(
        &mut out,
        "# json_field = \"pool\"",
        "... or a top-level JSON field of the body",
    );
    kv(
        &mut out,
        "consecutive",
        "3",
        "answers in a row from the target pool",
    );
    kv(&mut out, "timeout", "\"10s\"", "how long verify may take");

    out.push_str("\n[smoke]\n");
    line(
        &mut out,
        "# requests = [\"GET /health 200\"]",
        "sent to the target pool before, and through nginx after",
    );

    out.push_str("\n[soak]\n");
    kv(
        &mut out,
        "duration",
        "\"0s\"",
        "watch errors this long after a switch (e.g. \"5m\")",
    );
    let log = i
        .access_log
        .as_deref()
        .unwrap_or("/var/log/nginx/access.log");
    line(
        &mut out,
        &format!("# access_log = {}", q(log)),
        "the log whose 5xx ratio the soak watches",
    );
    kv(
        &mut out,
        "max_5xx_ratio",
        "0.01",
        "more 5xx than this during the soak rolls back",
    );

    out.push_str("\n[drain]\n");
    kv(
        &mut out,
        "enabled",
        "true",
        "tell the old pool to drain once nginx's old workers are gone",
    );
    kv(
        &mut out,
        "old_workers_timeout",
        "\"60s\"",
        "how long in-flight requests may take to finish",
    );
    kv(
        &mut out,
        "wait_drained",
        "\"60s\"",
        "\"0s\": send drain and do not wait",
    );

    out.push_str("\n[state]\n");
    kv(
        &mut out,
        "journal",
        "\"/var/lib/bgswitch/journal.jsonl\"",
        "every switch and deploy, for history and rollback",
    );
    kv(
        &mut out,
        "lock",
        "\"/run/bgswitch.lock\"",
        "one run at a time",
    );

    out.push_str(
        "\n# [deploy]                                   # for `bgswitch deploy VERSION`\n",
    );
    line(
        &mut out,
        "# start_timeout = \"10m\"",
        "how long a pool's `start` may run (an image pull)",
    );
    line(
        &mut out,
        "# stop_old = \"after_drain\"",
        "or \"never\": leave the old pool running",
    );
    out
}

fn pool(out: &mut String, c: &Candidate, p: &PoolGuess) {
    let _ = writeln!(out, "\n[pools.{}]", p.name);
    let live = if p.live { " (live now)" } else { "" };
    match c.kind {
        Kind::Map | Kind::Flag => {
            let what = if c.kind == Kind::Map {
                "the map default"
            } else {
                "the value the selector sets"
            };
            match &p.target {
                Some(t) => kv(
                    out,
                    "target",
                    &q(t),
                    &format!("{what} that means {} is live{live}", p.name),
                ),
                None => kv(
                    out,
                    "target",
                    "\"FILL-IN-UPSTREAM\"",
                    &format!("EDIT: {what} that means {} is live", p.name),
                ),
            }
            if p.servers_from == Servers::Read && !p.servers.is_empty() {
                let _ = writeln!(
                    out,
                    "# servers of upstream {}: {}",
                    p.target.as_deref().unwrap_or(""),
                    p.servers.join(", ")
                );
            }
        }
        Kind::Upstream | Kind::Replace => {
            let note = match p.servers_from {
                Servers::Read => format!("the pool's addresses in upstream {}{live}", c.name),
                Servers::Guessed => format!(
                    "EDIT: guessed from the other pool's address; {}'s address is not in the file",
                    p.name
                ),
                Servers::Placeholder => format!(
                    "EDIT: FILL IN {}'s address (host:port); the file has only the live one",
                    p.name
                ),
            };
            kv(out, "servers", &list(&p.servers), &note);
        }
    }
    let hosts: Vec<(&str, &str)> = p
        .servers
        .iter()
        .filter(|_| p.servers_from != Servers::Placeholder)
        .filter_map(|s| host_port(s))
        .collect();
    let sidecars: Vec<String> = if hosts.is_empty() {
        vec!["http://HOST:9901/health".into()]
    } else {
        hosts
            .iter()
            .map(|(h, _)| format!("http://{h}:9901/health"))
            .collect()
    };
    let own: Vec<String> = if hosts.is_empty() {
        vec!["http://HOST:PORT/health".into()]
    } else {
        hosts
            .iter()
            .map(|(h, port)| format!("http://{h}:{port}/health"))
            .collect()
    };
    line(
        out,
        &format!("# health = {}", list(&sidecars)),
        "EDIT: a health-sidecar beside each server ...",
    );
    line(
        out,
        &format!("# health = {}", list(&own)),
        "... or the app's own /health (ready on 2xx)",
    );
    kv(
        out,
        "expect",
        &q(&p.name),
        &format!("what [verify] sees when {} answers", p.name),
    );
    let service = p
        .servers
        .iter()
        .filter_map(|s| host_port(s))
        .map(|(h, _)| h)
        .find(|h| super::detect::colour(h).is_some() && h.parse::<std::net::IpAddr>().is_err())
        .map_or(format!("app-{}", p.name), str::to_string);
    line(
        out,
        &format!(
            "# start = [\"docker\", \"compose\", \"up\", \"-d\", \"--force-recreate\", {}]",
            q(&service)
        ),
        "deploy: starts this pool ({version} and BGSWITCH_VERSION are the VERSION)",
    );
    line(
        out,
        &format!(
            "# stop = [\"docker\", \"compose\", \"stop\", {}]",
            q(&service)
        ),
        "deploy: stops this pool once it has drained",
    );
}
