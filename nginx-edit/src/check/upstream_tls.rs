//! TLS to upstreams, as the merge functions of the proxy, uwsgi and grpc
//! modules check it (`ngx_http_proxy_set_ssl` and its twins, nginx 1.22):
//! a location whose `*_pass` speaks TLS (`https://`, `suwsgi://`,
//! `grpcs://`; for `proxy_pass` also any URL with variables) needs a key
//! for its client certificate, and a trusted CA when it verifies the peer.
//! Settings inherit from `http` to `server` to each location.

use super::ssl::Place;

/// The modules, in the order nginx merges them (`auto/modules`).
const MODULES: [&str; 3] = ["proxy", "uwsgi", "grpc"];

/// One module's settings at one level; `None` is unset.
#[derive(Debug, Clone, Default)]
struct Settings {
    certificate: Option<String>,
    key: Option<bool>,
    verify: Option<bool>,
    trusted: Option<bool>,
}

/// One block level (`http`, `server`, a location, an `if`).
#[derive(Debug, Default)]
struct Level {
    settings: [Settings; 3],
    /// Where a `*_pass` that speaks TLS is, per module.
    pass: [Option<Place>; 3],
    /// Pre-order rank of the block (nginx merges a location, then the
    /// locations inside it).
    rank: usize,
}

/// The levels open, and the first refusal of each module so far.
#[derive(Debug, Default)]
pub struct UpstreamTls {
    stack: Vec<Level>,
    next_rank: usize,
    /// (module, rank, where, message).
    found: Vec<(usize, usize, Place, String)>,
}

impl UpstreamTls {
    /// A block opens.
    pub fn open(&mut self) {
        self.next_rank += 1;
        self.stack.push(Level {
            rank: self.next_rank,
            ..Level::default()
        });
    }

    /// A directive of the innermost block.
    pub fn directive(&mut self, name: &str, args: &[String], here: Place) {
        let Some(level) = self.stack.last_mut() else {
            return;
        };
        let first = args.first().map(String::as_str).unwrap_or_default();
        if let Some((m, tls)) = pass_speaks_tls(name, first) {
            if tls {
                level.pass[m] = Some(here);
            }
            return;
        }
        let Some((m, setting)) = MODULES
            .iter()
            .enumerate()
            .find_map(|(m, p)| Some((m, name.strip_prefix(p)?.strip_prefix("_ssl_")?)))
        else {
            return;
        };
        let s = &mut level.settings[m];
        match setting {
            "certificate" => s.certificate = Some(first.to_string()),
            "certificate_key" => s.key = Some(true),
            "verify" => s.verify = Some(first == "on"),
            "trusted_certificate" => s.trusted = Some(!first.is_empty()),
            _ => {}
        }
    }

    /// The innermost block closes: its `*_pass`es are judged with the
    /// settings it inherits.
    pub fn close(&mut self) {
        let Some(level) = self.stack.last() else {
            return;
        };
        for (m, p) in MODULES.iter().enumerate() {
            let Some(at) = level.pass[m] else {
                continue;
            };
            let pick = |f: fn(&Settings) -> Option<String>| {
                self.stack.iter().rev().find_map(|l| f(&l.settings[m]))
            };
            let certificate = pick(|s| s.certificate.clone());
            let key = pick(|s| s.key.map(|k| k.to_string()));
            let verify = pick(|s| s.verify.map(|v| v.to_string())).as_deref() == Some("true");
            let trusted = pick(|s| s.trusted.map(|t| t.to_string())).as_deref() == Some("true");
            let message = match certificate {
                Some(c) if key.is_none() => Some(format!(
                    "no \"{p}_ssl_certificate_key\" is defined for certificate \"{c}\""
                )),
                _ if verify && !trusted => {
                    Some(format!("no {p}_ssl_trusted_certificate for {p}_ssl_verify"))
                }
                _ => None,
            };
            if let Some(message) = message {
                self.found.push((m, level.rank, at, message));
            }
        }
        self.stack.pop();
    }

    /// Once the http block is read: the first refusal in merge order
    /// (module by module, each in the order of its locations).
    pub fn take_first(&mut self) -> Option<(Place, String)> {
        let found = std::mem::take(&mut self.found);
        *self = UpstreamTls::default();
        found
            .into_iter()
            .min_by_key(|(m, rank, _, _)| (*m, *rank))
            .map(|(_, _, at, message)| (at, message))
    }
}

/// Whether `name` is one of the modules' `*_pass`, and whether its URL
/// makes the location speak TLS to the upstream.
fn pass_speaks_tls(name: &str, url: &str) -> Option<(usize, bool)> {
    let lower = url.to_ascii_lowercase();
    match name {
        "proxy_pass" => Some((0, lower.starts_with("https://") || url.contains('$'))),
        "uwsgi_pass" => Some((1, lower.starts_with("suwsgi://"))),
        "grpc_pass" => Some((2, lower.starts_with("grpcs://"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(levels: &[&[&str]]) -> Option<String> {
        let mut t = UpstreamTls::default();
        for (i, level) in levels.iter().enumerate() {
            t.open();
            for line in *level {
                let mut words = line.split_whitespace().map(String::from);
                let name = words.next().unwrap_or_default();
                let args: Vec<String> = words.collect();
                t.directive(&name, &args, (0, i));
            }
        }
        for _ in levels {
            t.close();
        }
        t.take_first().map(|(_, m)| m)
    }

    #[test]
    fn inherited_settings_judged_where_tls_is_spoken() {
        assert_eq!(
            run(&[&["proxy_ssl_verify on"], &[], &["proxy_pass https://a"]]),
            Some("no proxy_ssl_trusted_certificate for proxy_ssl_verify".into())
        );
        assert_eq!(
            run(&[&["proxy_ssl_verify on"], &[], &["proxy_pass http://a"]]),
            None
        );
        assert_eq!(
            run(&[
                &[
                    "proxy_ssl_verify on",
                    "proxy_ssl_trusted_certificate /ca.pem"
                ],
                &[],
                &["proxy_pass http://$a"]
            ]),
            None
        );
        assert_eq!(
            run(&[
                &[],
                &["grpc_ssl_certificate /c.pem"],
                &["grpc_pass grpcs://a:1"]
            ]),
            Some("no \"grpc_ssl_certificate_key\" is defined for certificate \"/c.pem\"".into())
        );
    }
}
