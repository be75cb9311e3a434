//! The checks nginx's set-handlers make as a directive is read, before
//! its module's own rules (`rules`): a field set twice in one block, a
//! number, size or time that does not parse, an `if` condition, the
//! markers a few handlers leave in their block.

use super::lazy_args::LazyArgs;
use super::{
    core_args, directive_args, handlers, hash_keys, limits, proxy_args, upstream_args, variables,
    Walker,
};
use crate::directives::DirectiveSpec;

impl Walker<'_> {
    /// The first checks of a set-handler: a field set twice in one block,
    /// a number, size or time that does not parse, an `if` condition.
    pub(super) fn handler_values(
        &mut self,
        spec: &DirectiveSpec,
        name: &str,
        args: &LazyArgs<'_>,
    ) -> Result<(), String> {
        let facts = self.facts.get(spec);
        if facts.set_once {
            // The table's own strings: `spec.name` is `name`.
            let key = handlers::field_key(spec.set, spec.name);
            if let Some(block) = self.blocks.last_mut() {
                if let Some((_, earlier)) = block.iter().find(|(k, _)| *k == key) {
                    return Err(handlers::duplicate_message(spec.set, name, earlier));
                }
                block.push((key.into(), spec.name.into()));
            }
        }
        if let Some(block) = self.blocks.last_mut() {
            match spec.set {
                "ngx_http_proxy_pass" if args.get().iter().any(|a| a.contains('$')) => {
                    let key = proxy_args::PASS_WITH_VARIABLES;
                    block.push((key.into(), spec.name.into()));
                }
                "ngx_http_proxy_redirect" => proxy_args::proxy_redirect(args.get(), block)?,
                "ngx_http_valid_referers" => hash_keys::valid_referers(args.get(), block)?,
                "ngx_http_proxy_cookie_path"
                | "ngx_http_proxy_cookie_domain"
                | "ngx_http_proxy_cookie_flags" => {
                    proxy_args::off_or_rules(name, args.get(), block)?;
                }
                "ngx_http_mirror" => proxy_args::mirror(args.get(), block)?,
                "ngx_http_v2_push" => proxy_args::http2_push(args.get(), block)?,
                // ngx_http_sub_filter: 255 pairs a level (after its empty
                // pattern check, which the argument rules make)
                "ngx_http_sub_filter" if args.get().first().is_some_and(|a| !a.is_empty()) => {
                    let key = proxy_args::SUB_FILTER_PAIR;
                    if block.iter().filter(|(k, _)| *k == key).count() == 255 {
                        return Err("number of search patterns exceeds 255".into());
                    }
                    block.push((key.into(), spec.name.into()));
                }
                s if s.ends_with("_store") || s.ends_with("_cache") => {
                    proxy_args::store_or_cache(s, name, args.get(), block)?;
                }
                _ => {}
            }
        }
        if facts.slot_value {
            if let Err(e) = handlers::slot_value(spec.set, args.get()) {
                return Err(format!("\"{name}\" directive {e}"));
            }
        }
        match spec.set {
            "ngx_http_rewrite_if" => {
                let names = handlers::if_condition(args.get())?;
                self.add_variables(names.iter().map(String::as_str))?;
            }
            "ngx_http_rewrite_return" => handlers::return_code(args.get())?,
            "ngx_http_core_error_page" => {
                // (its URI is compiled before the codes are read)
                if let Some(uri) = args.get().last() {
                    variables::script_error(uri)?;
                }
                handlers::error_page(args.get())?;
            }
            "ngx_conf_set_access_slot" => handlers::access(args.get())?,
            "ngx_http_upstream_keepalive" => {
                upstream_args::keepalive(args.get(), spec.accepts_arg_count(2))?;
            }
            _ => {}
        }
        // (`rewrite`'s pattern before its flag)
        if facts.patterns && spec.set == "ngx_http_rewrite" {
            self.patterns(spec, name, args.get())?;
        }
        if facts.arg_rules {
            directive_args::check(spec.set, name, args.get())?;
        }
        if facts.core_args {
            core_args::check(spec.set, name, args.get())?;
        }
        if facts.limits {
            let args = args.get();
            if let Some(key) = limits::limit_key(spec.set, args) {
                if let Some(block) = self.blocks.last_mut() {
                    if block.iter().any(|(k, _)| *k == key) {
                        return Err(format!("\"{name}\" directive is duplicate"));
                    }
                    block.push((key.into(), spec.name.into()));
                }
            }
            limits::connections(spec.set, args)?;
        }
        if facts.patterns && spec.set != "ngx_http_rewrite" {
            self.patterns(spec, name, args.get())?;
        }
        Ok(())
    }
}
