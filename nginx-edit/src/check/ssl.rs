//! The TLS settings nginx checks only once a block is read: in
//! `ngx_http_ssl_merge_srv_conf` (a certificate without its key,
//! `ssl_verify_client` without `ssl_client_certificate`) and in
//! `ngx_http_ssl_init` after it (`listen ... ssl` with no certificate);
//! `ngx_stream_ssl_merge_conf` and `ngx_mail_ssl_merge_conf` for stream
//! and mail. Directives only record here; the checks run where nginx
//! runs them. Where nginx's message ends `in FILE:LINE`, the finding is
//! placed there and the message stops before ` in`, as for every other
//! located message.

/// A place in the configuration: file index and byte offset.
pub type Place = (usize, usize);

/// One level's TLS directives (`http`, a `server`), unmerged: `None` is
/// nginx's `NGX_CONF_UNSET`.
#[derive(Debug, Clone, Default)]
pub struct SslConf {
    /// `ssl_certificate` values and where the last one is.
    pub certificates: Option<(Vec<String>, Place)>,
    /// `ssl_certificate_key` values.
    pub keys: Option<Vec<String>>,
    pub reject_handshake: Option<bool>,
    /// `ssl on|off` and where (1.22's deprecated directive).
    pub enable: Option<(bool, Place)>,
    /// 0 off, 1 on, 2 optional, 3 optional_no_ca.
    pub verify: Option<u8>,
    pub client_certificate: Option<bool>,
    pub ocsp: Option<bool>,
    /// `ssl_ocsp_responder`, checked only with `ssl_ocsp` on.
    pub ocsp_responder: Option<String>,
    /// Stream and mail: where the (last) `listen ... ssl` is.
    pub listen: Option<(Place, &'static str)>,
    /// Mail: `starttls` (0 off, 1 on, 2 only).
    pub starttls: Option<u8>,
    /// Mail: where nginx says the TLS mode was set (`scf->file`, `line`):
    /// the last `listen ... ssl`, else the last `ssl` or `starttls`.
    pub file: Option<Place>,
}

impl SslConf {
    /// Records one directive of this level; `false` when it is not one of
    /// the TLS directives checked here.
    pub fn directive(&mut self, name: &str, args: &[String], here: Place) -> bool {
        let first = args.first().map(String::as_str).unwrap_or_default();
        match name {
            "ssl_certificate" => {
                let (list, place) = self.certificates.get_or_insert_with(|| (Vec::new(), here));
                list.push(first.to_string());
                *place = here;
            }
            "ssl_certificate_key" => self
                .keys
                .get_or_insert_with(Vec::new)
                .push(first.to_string()),
            "ssl_reject_handshake" => self.reject_handshake = Some(first == "on"),
            "ssl" => self.enable = Some((first == "on", here)),
            "ssl_verify_client" => {
                self.verify = Some(match first {
                    "on" => 1,
                    "optional" => 2,
                    "optional_no_ca" => 3,
                    _ => 0,
                });
            }
            // An empty name is a name set: it hides the outer level's.
            "ssl_client_certificate" => self.client_certificate = Some(!first.is_empty()),
            "ssl_ocsp" => self.ocsp = Some(first != "off"),
            "ssl_ocsp_responder" => self.ocsp_responder = Some(first.to_string()),
            _ => return false,
        }
        true
    }

    /// This server's settings merged with its block's (`prev`), as the
    /// `ngx_conf_merge_*` macros do.
    pub fn merged(&self, prev: &SslConf) -> SslConf {
        SslConf {
            certificates: self
                .certificates
                .clone()
                .or_else(|| prev.certificates.clone()),
            keys: self.keys.clone().or_else(|| prev.keys.clone()),
            reject_handshake: self.reject_handshake.or(prev.reject_handshake),
            enable: self.enable.or(prev.enable),
            verify: self.verify.or(prev.verify),
            client_certificate: self.client_certificate.or(prev.client_certificate),
            ocsp: self.ocsp.or(prev.ocsp),
            ocsp_responder: self
                .ocsp_responder
                .clone()
                .or_else(|| prev.ocsp_responder.clone()),
            listen: self.listen.or(prev.listen),
            starttls: self.starttls.or(prev.starttls),
            file: self.file.or(prev.file),
        }
    }

    /// Mail's `ssl` and `starttls` (`ngx_mail_ssl_enable`,
    /// `ngx_mail_ssl_starttls`): one level may not have both on; each
    /// places the TLS mode unless a `listen ... ssl` did. `Ok(false)`:
    /// not one of them.
    pub fn mail_mode(&mut self, name: &str, args: &[String], here: Place) -> Result<bool, String> {
        let first = args.first().map(String::as_str).unwrap_or_default();
        match name {
            "ssl" => {
                self.enable = Some((first == "on", here));
                if first == "on" && self.starttls.is_some_and(|t| t > 0) {
                    return Err("\"starttls\" directive conflicts with \"ssl on\"".into());
                }
            }
            "starttls" => {
                let value = match first {
                    "on" => 1,
                    "only" => 2,
                    _ => 0,
                };
                self.starttls = Some(value);
                if value > 0 && self.enable.is_some_and(|(on, _)| on) {
                    return Err("\"ssl\" directive conflicts with \"starttls\"".into());
                }
            }
            _ => return Ok(false),
        }
        if self.listen.is_none() {
            self.file = Some(here);
        }
        Ok(true)
    }

    /// `listen ... ssl` of a stream or mail server.
    pub fn listen_ssl(&mut self, here: Place) {
        self.listen = Some((here, "listen ... ssl"));
        self.file = Some(here);
    }

    fn has_certificates(&self) -> bool {
        self.certificates.is_some()
    }

    fn rejects(&self) -> bool {
        self.reject_handshake == Some(true)
    }

    /// The key check both the `ssl on` and the plain branches make.
    fn missing_key(&self, suffix: &str) -> Option<String> {
        let (list, _) = self.certificates.as_ref()?;
        let last = list.last().map(String::as_str).unwrap_or_default();
        match self.keys.as_ref().map(Vec::len) {
            None if !suffix.is_empty() => Some(format!(
                "no \"ssl_certificate_key\" is defined for the {}",
                suffix.trim_start_matches(" and the ")
            )),
            Some(n) if n >= list.len() => None,
            _ => Some(format!(
                "no \"ssl_certificate_key\" is defined for certificate \"{last}\"{suffix}"
            )),
        }
    }

    /// `ngx_http_ssl_merge_srv_conf`'s refusals for a merged server conf,
    /// with where to show each (nginx gives a line only for `ssl on`).
    pub fn http_merge(&self, server: Place) -> Option<(Place, String)> {
        let cert_place = self.certificates.as_ref().map_or(server, |(_, p)| *p);
        match self.enable {
            Some((true, at)) => {
                let suffix = " and the \"ssl\" directive";
                if self.has_certificates() {
                    if let Some(m) = self.missing_key(suffix) {
                        return Some((at, m));
                    }
                } else if !self.rejects() {
                    let m = "no \"ssl_certificate\" is defined for the \"ssl\" directive";
                    return Some((at, m.into()));
                }
            }
            _ if self.has_certificates() => {
                if let Some(m) = self.missing_key("") {
                    return Some((cert_place, m));
                }
            }
            _ if !self.rejects() => return None,
            _ => {}
        }
        // After the certificates load (files on the machine).
        let verify = self.verify.unwrap_or(0);
        if verify != 0 && verify != 3 && self.client_certificate != Some(true) {
            return Some((
                cert_place,
                "no ssl_client_certificate for ssl_verify_client".into(),
            ));
        }
        if self.ocsp == Some(true) && verify == 3 {
            return Some((
                cert_place,
                "\"ssl_ocsp\" is incompatible with \"ssl_verify_client optional_no_ca\"".into(),
            ));
        }
        if self.ocsp == Some(true) {
            if let Some(m) = self.ocsp_responder.as_deref().and_then(ocsp_responder) {
                return Some((cert_place, m));
            }
        }
        None
    }

    /// `ngx_stream_ssl_merge_conf` and `ngx_mail_ssl_merge_conf`: a server
    /// with `listen ... ssl` (or mail's `starttls`) needs a certificate and
    /// its key.
    pub fn listen_merge(&self) -> Option<(Place, String)> {
        let (at, what) = self.listen?;
        self.tls_merge(at, what)
    }

    /// `ngx_mail_ssl_merge_conf` for a merged server conf: the mode is
    /// `listen ... ssl`, else `ssl on`, else `starttls`; none, no checks.
    pub fn mail_merge(&self) -> Option<(Place, String)> {
        let what = if self.listen.is_some() {
            "listen ... ssl"
        } else if self.enable.is_some_and(|(on, _)| on) {
            "ssl"
        } else if self.starttls.is_some_and(|t| t > 0) {
            "starttls"
        } else {
            return None;
        };
        self.tls_merge(self.file?, what)
    }

    /// A TLS server's certificate, its key, then (once the files load)
    /// `ssl_verify_client`'s CA, as stream and mail check them.
    fn tls_merge(&self, at: Place, what: &str) -> Option<(Place, String)> {
        let suffix = format!(" and the \"{what}\" directive");
        if !self.has_certificates() {
            let m = format!("no \"ssl_certificate\" is defined for the \"{what}\" directive");
            return Some((at, m));
        }
        if let Some(m) = self.missing_key(&suffix) {
            return Some((at, m));
        }
        let verify = self.verify.unwrap_or(0);
        if verify != 0 && verify != 3 && self.client_certificate != Some(true) {
            // (nginx names no place for this one)
            return Some((at, "no ssl_client_certificate for ssl_verify_client".into()));
        }
        None
    }
}

/// `ngx_ssl_ocsp`: a responder must be an `http://` URL nginx can parse
/// (a host name is looked up: not modelled here).
fn ocsp_responder(url: &str) -> Option<String> {
    if url.is_empty() {
        return None;
    }
    let rest = match url.get(..7) {
        Some(p) if url.len() > 7 && p.eq_ignore_ascii_case("http://") => &url[7..],
        _ => {
            return Some(format!(
                "invalid URL prefix in OCSP responder \"{url}\" in \"ssl_ocsp_responder\""
            ))
        }
    };
    let kind = super::url::UrlKind {
        listen: false,
        uri_part: true,
        default_port: 80,
    };
    super::url::parse_url(rest.as_bytes(), kind)
        .err()
        .map(|e| format!("{e} in OCSP responder \"{rest}\" in \"ssl_ocsp_responder\""))
}

/// The http block's TLS settings: its own level and each server's.
#[derive(Debug, Default)]
pub struct HttpSsl {
    pub http: SslConf,
    /// (server number, where its `{` is, its settings), in order.
    pub servers: Vec<(usize, Place, SslConf)>,
}

impl HttpSsl {
    /// The settings of server number `id`, made on first use.
    pub fn server(&mut self, id: usize, brace: Place) -> &mut SslConf {
        if self.servers.last().is_none_or(|(n, _, _)| *n != id) {
            self.servers.push((id, brace, SslConf::default()));
        }
        let last = self.servers.len() - 1;
        &mut self.servers[last].2
    }

    /// The variables `ngx_http_ssl_compile_certificates` compiles: those
    /// of the certificates and keys of each server whose merged settings
    /// have certificates (a level no server inherits is never compiled),
    /// at the server's `{`.
    pub fn certificate_variables(&self) -> Vec<(Place, String)> {
        let mut out = Vec::new();
        for (_, brace, conf) in &self.servers {
            let merged = conf.merged(&self.http);
            let Some((certificates, _)) = &merged.certificates else {
                continue;
            };
            let keys = merged.keys.iter().flatten();
            for text in certificates.iter().chain(keys) {
                let names = super::variables::references(text);
                out.extend(names.map(|n| (*brace, n.to_ascii_lowercase())));
            }
        }
        out
    }

    /// The merge-time refusal of the first server that has one.
    pub fn merge(&self) -> Option<(Place, String)> {
        self.servers
            .iter()
            .find_map(|(_, brace, conf)| conf.merged(&self.http).http_merge(*brace))
    }

    /// `ngx_http_ssl_init`: each `listen ... ssl` address's default server
    /// needs a certificate (with `ssl_reject_handshake on` there, every
    /// server of the address without one needs it).
    pub fn listen_init(&self, addrs: &[super::listen::SslAddr]) -> Option<(Place, String)> {
        let conf = |id: usize| {
            let (_, brace, own) = self.servers.iter().find(|(n, _, _)| *n == id)?;
            Some((*brace, own.merged(&self.http)))
        };
        let refuse = |brace: Place| {
            let m = "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive";
            Some((brace, m.to_string()))
        };
        for a in addrs {
            let Some((brace, default)) = conf(a.default) else {
                continue;
            };
            if default.has_certificates() {
                continue;
            }
            if !default.rejects() {
                return refuse(brace);
            }
            for &s in &a.servers {
                if let Some((brace, c)) = conf(s) {
                    if !c.has_certificates() && !c.rejects() {
                        return refuse(brace);
                    }
                }
            }
        }
        None
    }
}
