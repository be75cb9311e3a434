//! Which modules the nginx being modelled has: Debian's package (its
//! dynamic modules only after `load_module`, its backports), or every
//! standard module.

use super::{debian, Modules, Walker};
use crate::directives::{DirectiveSpec, Source};
use crate::document::Directive;

/// Modules Debian's nginx 1.22 package builds as dynamic modules (each is
/// usable only after `load_module`), by the file that holds them.
fn shared_object(spec: &DirectiveSpec) -> Option<String> {
    let module = spec.module;
    if let Source::ThirdParty(_) = spec.source {
        return Some(module.replace("_core_module", "_module"));
    }
    const OWN_FILE: &[&str] = &[
        "ngx_http_geoip_module",
        "ngx_stream_geoip_module",
        "ngx_http_image_filter_module",
        "ngx_http_perl_module",
        "ngx_http_xslt_filter_module",
    ];
    if OWN_FILE.contains(&module) {
        Some(module.to_string())
    } else if module.starts_with("ngx_stream_") {
        Some("ngx_stream_module".into())
    } else if module.starts_with("ngx_mail_") {
        Some("ngx_mail_module".into())
    } else {
        None
    }
}

/// Modules of nginx's tree that Debian's package does not build at all.
const NOT_BUILT: &[&str] = &[
    "ngx_http_degradation_module",
    "ngx_google_perftools_module",
    "ngx_kqueue_module",
    "ngx_devpoll_module",
    "ngx_eventport_module",
    "ngx_iocp_module",
];

impl Walker<'_> {
    /// Whether the binary being modelled has the module of `spec`,
    /// remembered per module until the next `load_module`.
    pub(super) fn has_module(&self, spec: &DirectiveSpec) -> bool {
        let mut cache = self.module_cache.borrow_mut();
        if let Some(&(_, has)) = cache.iter().find(|(m, _)| std::ptr::eq(*m, spec.module)) {
            return has;
        }
        let has = self.has_module_uncached(spec);
        cache.push((spec.module, has));
        has
    }

    pub(super) fn has_module_uncached(&self, spec: &DirectiveSpec) -> bool {
        if NOT_BUILT.contains(&spec.module) {
            return false;
        }
        match (self.options.modules, shared_object(spec)) {
            (_, Some(so)) if matches!(spec.source, Source::ThirdParty(_)) => {
                self.loaded.contains(&so)
            }
            (Modules::All, _) | (Modules::Debian, None) => true,
            (Modules::Debian, Some(so)) => self.loaded.contains(&so),
        }
    }

    /// `load_module` (`ngx_load_module`): not after a block that counted
    /// the modules (events, http, stream, mail); each module once
    /// (`ngx_add_module`: nginx's own modules are named as their files).
    pub(super) fn load_module(&mut self, d: Directive<'_>) -> Result<(), String> {
        if self.modules_used {
            return Err("\"load_module\" directive is specified too late".into());
        }
        let Some(arg) = d.arg(0) else {
            return Ok(());
        };
        let path = arg.text();
        let stem = path.rsplit('/').next().unwrap_or(&path);
        let stem = stem.trim_end_matches(".so").to_string();
        if self.loaded.contains(&stem) {
            return Err(format!("module \"{stem}\" is already loaded"));
        }
        self.loaded.push(stem);
        self.module_cache.borrow_mut().clear();
        Ok(())
    }

    /// Whether the directives Debian's package backports exist: its own
    /// release with `--modules debian`.
    pub(super) fn backports(&self) -> bool {
        self.options.modules == Modules::Debian
            && self.options.nginx_version == debian::UPSTREAM_VERSION
    }

    /// Whether the binary being modelled has one of nginx's own modules.
    pub(super) fn has_module_named(&self, module: &str) -> bool {
        crate::directives::nginx_table()
            .iter()
            .find(|spec| spec.module == module)
            .map_or(!NOT_BUILT.contains(&module), |spec| self.has_module(spec))
    }
}
