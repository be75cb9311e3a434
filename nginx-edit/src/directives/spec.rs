//! What one table entry says about a directive: block or not, its
//! argument count, its `on`/`off` and enum values, the contexts it is
//! allowed in, and what its block holds.

use super::*;

impl DirectiveSpec {
    /// `NGX_CONF_BLOCK`: must be followed by `{`.
    pub const fn is_block(&self) -> bool {
        self.mask & NGX_CONF_BLOCK != 0
    }

    /// `NGX_CONF_FLAG`: exactly one argument. Whether the value must be
    /// `on`/`off` is [`on_off`](Self::on_off).
    pub const fn is_flag(&self) -> bool {
        self.mask & NGX_CONF_FLAG != 0
    }

    /// Context bits (`NGX_*_CONF`, high byte) of the mask.
    pub const fn context_bits(&self) -> u32 {
        self.mask & NGX_ANY_CONF
    }

    /// Whether nginx would consider this entry in `ctx` (module type and
    /// context bit both match); steps 2-3 of `ngx_conf_handler`.
    pub const fn allowed_in(&self, ctx: Context) -> bool {
        let kind_ok =
            matches!(self.kind, ModuleKind::Conf) || self.kind as u8 == ctx.module_kind() as u8;
        kind_ok && self.mask & ctx.cmd_type() != 0
    }

    /// The argument-count rule.
    pub const fn arg_rule(&self) -> ArgRule {
        let m = self.mask;
        if m & NGX_CONF_ANY != 0 {
            ArgRule::Any
        } else if m & NGX_CONF_FLAG != 0 {
            ArgRule::Flag
        } else if m & NGX_CONF_1MORE != 0 {
            ArgRule::OneOrMore
        } else if m & NGX_CONF_2MORE != 0 {
            ArgRule::TwoOrMore
        } else {
            ArgRule::Exact((m & NGX_CONF_ARGS_NUMBER) as u8)
        }
    }

    /// Whether `nargs` arguments (not counting the name) pass nginx's count
    /// check, exactly as `ngx_conf_handler` does it.
    pub const fn accepts_arg_count(&self, nargs: usize) -> bool {
        let nelts = nargs.saturating_add(1);
        match self.arg_rule() {
            ArgRule::Any => true,
            ArgRule::Flag => nelts == 2,
            ArgRule::OneOrMore => nelts >= 2,
            ArgRule::TwoOrMore => nelts >= 3,
            ArgRule::Exact(_) => nelts <= MAX_ARGS && self.mask & ARGUMENT_NUMBER[nelts - 1] != 0,
        }
    }

    /// How the set-handler checks arguments against
    /// [`values`](Self::values): the generic `ngx_conf_set_enum_slot` and
    /// `ngx_conf_set_bitmask_slot`, and `ngx_mail_ssl_starttls`, which calls
    /// the enum handler before anything else. Other handlers that point
    /// `post` at such an array (`least_time`, which checks its second
    /// argument first) are not modelled.
    pub fn value_rule(&self) -> ValueRule {
        if self.values.is_empty() {
            return ValueRule::None;
        }
        match self.set {
            "ngx_conf_set_enum_slot" | "ngx_mail_ssl_starttls" => ValueRule::First,
            "ngx_conf_set_bitmask_slot" => ValueRule::All,
            _ => ValueRule::None,
        }
    }

    /// Whether `value` (unquoted) is one of the [`values`](Self::values)
    /// nginx release `version` lists; compared as `ngx_strcasecmp` does
    /// after an equal-length test, i.e. ASCII case-insensitively.
    pub fn accepts_value(&self, value: &str, version: u32) -> bool {
        self.values
            .iter()
            .any(|&(name, since)| since <= version && name.eq_ignore_ascii_case(value))
    }

    /// The enum/bitmask check of the handler ([`value_rule`](Self::value_rule))
    /// on a directive's arguments in release `version`: the first argument
    /// not listed is nginx's `invalid value "X"`.
    pub fn check_values<'a>(
        &self,
        args: impl IntoIterator<Item = &'a str>,
        version: u32,
    ) -> Result<(), DirectiveError> {
        let take = match self.value_rule() {
            ValueRule::None => 0,
            ValueRule::First => 1,
            ValueRule::All => usize::MAX,
        };
        match args
            .into_iter()
            .take(take)
            .find(|v| !self.accepts_value(v, version))
        {
            Some(value) => Err(DirectiveError::InvalidValue {
                name: self.name.to_owned(),
                value: value.to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// Whether the entry exists in nginx release `version` ([`nginx_version`]).
    pub const fn exists_in(&self, version: u32) -> bool {
        let after_start = self.since <= version;
        match self.removed_in {
            Some(end) => after_start && version < end,
            None => after_start,
        }
    }

    /// Check a value of an `on`/`off` directive (only when
    /// [`on_off`](Self::on_off); other directives always pass): `Ok(true)` for
    /// `on`, `Ok(false)` for `off` (ASCII case-insensitive, after unquoting),
    /// else nginx's `invalid value "X" in "Y" directive, it must be "on" or
    /// "off"`. Returns `Ok(false)` for non-`on_off` directives.
    pub fn check_flag_value(&self, value: &str) -> Result<bool, DirectiveError> {
        if !self.on_off {
            return Ok(false);
        }
        parse_on_off(value).ok_or_else(|| DirectiveError::InvalidFlagValue {
            name: self.name.to_owned(),
            value: value.to_owned(),
        })
    }

    /// What the `{ ... }` body of this block directive holds when it appears
    /// in `parent`: directives of some [`Context`], or a custom-handler body
    /// ([`custom_body`](Self::custom_body)). `None` for non-block directives
    /// and for blocks this module does not know how to descend into (the test
    /// suite checks every block directive of the tables is covered).
    pub fn block_body(&self, parent: Context) -> Option<BlockBody> {
        if !self.is_block() {
            return None;
        }
        if self.custom_body {
            return Some(if self.name.ends_with("_by_lua_block") {
                BlockBody::RawLua
            } else {
                BlockBody::Custom
            });
        }
        let ctx = match (self.kind, self.name) {
            (ModuleKind::Core, "events") => Context::Event,
            (ModuleKind::Core, "http") => Context::Http,
            (ModuleKind::Core, "mail") => Context::Mail,
            (ModuleKind::Core, "stream") => Context::Stream,
            (ModuleKind::Http, "server") => Context::HttpServer,
            (ModuleKind::Http, "location") => Context::HttpLocation,
            (ModuleKind::Http, "limit_except") => Context::HttpLmt,
            (ModuleKind::Http, "upstream") => Context::HttpUpstream,
            // ngx_http_rewrite_if: SIF when the enclosing location conf is the
            // server's own (no location name), LIF inside a location.
            (ModuleKind::Http, "if") => match parent {
                Context::HttpServer => Context::HttpSif,
                _ => Context::HttpLif,
            },
            (ModuleKind::Mail, "server") => Context::MailServer,
            (ModuleKind::Stream, "server") => Context::StreamServer,
            (ModuleKind::Stream, "upstream") => Context::StreamUpstream,
            _ => return None,
        };
        Some(BlockBody::Directives(ctx))
    }
}
