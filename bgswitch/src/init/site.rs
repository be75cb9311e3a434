//! The load balancer's front: from the `server` block that proxies to the
//! pools, a guess at the URL `[verify]` should request through it.

use nginx_edit::includes::ConfigSet;
use nginx_edit::Directive;

use super::servers::{descendants, virtual_servers};

/// A guessed `[verify] url`, and where to connect when the URL's host is
/// a name (curl's `--connect-to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyGuess {
    pub url: String,
    pub connect_to: Option<String>,
    /// Where the guess came from (`sites/app.conf:30`), or `None` when no
    /// server block was found.
    pub from: Option<String>,
}

/// The guess for the server at `file`:`line` (the first that proxies to
/// the pools), else the first server with a `listen`, else plain
/// `http://127.0.0.1/`.
pub fn verify_guess(set: &ConfigSet, at: Option<(usize, usize)>) -> VerifyGuess {
    let all: Vec<(usize, Directive<'_>)> = set
        .files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| virtual_servers(f.doc()).into_iter().map(move |d| (i, d)))
        .collect();
    let chosen = at
        .and_then(|(file, line)| all.iter().find(|(i, d)| *i == file && d.line() == line))
        .or_else(|| {
            all.iter()
                .find(|(_, d)| d.children().any(|c| c.is("listen")))
        });
    match chosen {
        Some((i, server)) => {
            let mut g = guess_for(*server);
            g.from = Some(format!(
                "{}:{}",
                set.files[*i].path.display(),
                server.line()
            ));
            g
        }
        None => VerifyGuess {
            url: "http://127.0.0.1/".into(),
            connect_to: None,
            from: None,
        },
    }
}

/// One server block's guess: the first TCP `listen` (https when it has
/// `ssl`), the first literal `server_name`, and `/health` when the server
/// has a location for it.
fn guess_for(server: Directive<'_>) -> VerifyGuess {
    let listen = server
        .children()
        .filter(|d| d.is("listen"))
        .filter_map(|d| {
            let addr = d.arg(0)?.text();
            if addr.starts_with("unix:") {
                return None;
            }
            let ssl = d.args().skip(1).any(|a| a.text() == "ssl");
            Some((split_listen(&addr), ssl))
        })
        .next();
    let ((ip, port), ssl) = listen.unwrap_or(((None, 80), false));
    let scheme = if ssl { "https" } else { "http" };
    let name = server
        .children()
        .filter(|d| d.is("server_name"))
        .flat_map(|d| d.args().map(|a| a.text()).collect::<Vec<_>>())
        .find(|n| {
            !n.is_empty()
                && n != "_"
                && !n.starts_with('~')
                && !n.contains('*')
                && !n.starts_with('.')
                && !n.contains('$')
        });
    let has_health = descendants(server)
        .iter()
        .any(|d| d.is("location") && d.args().last().is_some_and(|a| a.text() == "/health"));
    let path = if has_health { "/health" } else { "/" };
    let default_port = if ssl { 443 } else { 80 };
    let port_part = if port == default_port {
        String::new()
    } else {
        format!(":{port}")
    };
    let local = ip.unwrap_or_else(|| "127.0.0.1".into());
    match name {
        Some(host) => VerifyGuess {
            url: format!("{scheme}://{host}{port_part}{path}"),
            connect_to: Some(format!("{local}:{port}")),
            from: None,
        },
        None => VerifyGuess {
            url: format!("{scheme}://{local}{port_part}{path}"),
            connect_to: None,
            from: None,
        },
    }
}

/// `443` -> (None, 443); `127.0.0.1:8080` -> (Some(127.0.0.1), 8080);
/// `[::]:80` and `*:80` -> (None, 80); `10.0.0.1` -> (Some, 80).
fn split_listen(addr: &str) -> (Option<String>, u16) {
    if let Ok(p) = addr.parse::<u16>() {
        return (None, p);
    }
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, p)) => (format!("[{h}]"), p.strip_prefix(':').unwrap_or("")),
            None => (addr.to_string(), ""),
        }
    } else {
        match addr.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (addr.to_string(), ""),
        }
    };
    let port = port.parse().unwrap_or(80);
    let host = match host.as_str() {
        "*" | "0.0.0.0" | "[::]" | "" => None,
        _ => Some(host),
    };
    (host, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(split_listen("443"), (None, 443));
        assert_eq!(
            split_listen("127.0.0.1:8080"),
            (Some("127.0.0.1".into()), 8080)
        );
        assert_eq!(split_listen("[::]:80"), (None, 80));
        assert_eq!(split_listen("*:8443"), (None, 8443));
        assert_eq!(split_listen("10.0.0.1"), (Some("10.0.0.1".into()), 80));
    }
}
