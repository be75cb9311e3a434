//! TLS to stream upstreams, as `ngx_stream_proxy_merge_srv_conf` checks
//! it (`ngx_stream_proxy_set_ssl`, nginx 1.22): a server with `proxy_ssl
//! on` needs a key for its client certificate and a trusted CA when it
//! verifies the peer. Settings inherit from `stream` to each `server`.

/// One level's `proxy_ssl*` settings; `None` is unset.
#[derive(Debug, Clone, Default)]
pub struct ProxyTls {
    enable: Option<bool>,
    certificate: Option<String>,
    key: bool,
    verify: Option<bool>,
    /// Whether `proxy_ssl_trusted_certificate` names a file (not `""`).
    trusted: Option<bool>,
}

impl ProxyTls {
    /// Records one directive of this level.
    pub fn directive(&mut self, name: &str, args: &[String]) {
        let first = args.first().map(String::as_str).unwrap_or_default();
        match name {
            "proxy_ssl" => self.enable = Some(first == "on"),
            "proxy_ssl_certificate" => self.certificate = Some(first.to_string()),
            "proxy_ssl_certificate_key" => self.key = true,
            "proxy_ssl_verify" => self.verify = Some(first == "on"),
            "proxy_ssl_trusted_certificate" => self.trusted = Some(!first.is_empty()),
            _ => {}
        }
    }

    /// A server's refusal, its settings merged with the block's (`prev`);
    /// nginx names no place for these.
    pub fn merge(&self, prev: &ProxyTls) -> Option<String> {
        if !self.enable.or(prev.enable).unwrap_or(false) {
            return None;
        }
        let certificate = self.certificate.as_ref().or(prev.certificate.as_ref());
        if let Some(c) = certificate.filter(|_| !self.key && !prev.key) {
            return Some(format!(
                "no \"proxy_ssl_certificate_key\" is defined for certificate \"{c}\""
            ));
        }
        let verify = self.verify.or(prev.verify).unwrap_or(false);
        if verify && !self.trusted.or(prev.trusted).unwrap_or(false) {
            return Some("no proxy_ssl_trusted_certificate for proxy_ssl_verify".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(lines: &[&str]) -> ProxyTls {
        let mut t = ProxyTls::default();
        for l in lines {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap_or_default();
            t.directive(name, &words.map(String::from).collect::<Vec<_>>());
        }
        t
    }

    #[test]
    fn proxy_ssl_needs_key_and_ca() {
        let top = level(&["proxy_ssl_verify on"]);
        assert_eq!(level(&[]).merge(&top), None);
        assert_eq!(
            level(&["proxy_ssl on"]).merge(&top),
            Some("no proxy_ssl_trusted_certificate for proxy_ssl_verify".into())
        );
        let server = level(&["proxy_ssl on", "proxy_ssl_certificate c.pem"]);
        assert_eq!(
            server.merge(&level(&[])),
            Some("no \"proxy_ssl_certificate_key\" is defined for certificate \"c.pem\"".into())
        );
        let key = level(&[
            "proxy_ssl_certificate_key k.pem",
            "proxy_ssl_trusted_certificate ca.pem",
        ]);
        assert_eq!(server.merge(&key), None);
    }
}
