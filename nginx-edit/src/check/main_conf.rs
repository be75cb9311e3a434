//! Handlers of the main context that read their own arguments, as nginx
//! 1.22.1 words their refusals (`src/core/nginx.c`,
//! `src/core/ngx_thread_pool.c`, `src/core/ngx_log.c`): `worker_priority`,
//! `worker_cpu_affinity`, `thread_pool` (and the pools `aio threads=`
//! names, checked when the configuration is read), `load_module` after the
//! first block that counted the modules, and `error_log` destinations.

use super::numbers::atoi;
use super::{syslog, Walker};
use crate::directives::DirectiveSpec;

/// The thread pools named so far, as `ngx_thread_pool_add` keeps them.
#[derive(Debug, Default)]
pub(super) struct ThreadPools {
    /// Name, whether a `thread_pool` gave it threads, where it was first
    /// named (file, byte offset).
    pools: Vec<(String, bool, (usize, usize))>,
}

impl ThreadPools {
    /// `thread_pool NAME threads=N [max_queue=N]`.
    fn define(&mut self, args: &[String], at: (usize, usize)) -> Result<(), String> {
        let Some((name, params)) = args.split_first() else {
            return Ok(());
        };
        let i = self.add(name, at);
        if self.pools[i].1 {
            return Err(format!("duplicate thread pool \"{name}\""));
        }
        let mut threads = false;
        for p in params {
            if let Some(n) = p.strip_prefix("threads=") {
                if atoi(n.as_bytes()).is_none_or(|n| n <= 0) {
                    return Err(format!("invalid threads value \"{p}\""));
                }
                threads = true;
            } else if let Some(n) = p.strip_prefix("max_queue=") {
                if atoi(n.as_bytes()).is_none() {
                    return Err(format!("invalid max_queue value \"{p}\""));
                }
            }
        }
        if !threads {
            return Err("\"thread_pool\" must have \"threads\" parameter".into());
        }
        self.pools[i].1 = true;
        Ok(())
    }

    fn add(&mut self, name: &str, at: (usize, usize)) -> usize {
        match self.pools.iter().position(|(n, _, _)| n == name) {
            Some(i) => i,
            None => {
                self.pools.push((name.to_string(), false, at));
                self.pools.len() - 1
            }
        }
    }

    /// `ngx_thread_pool_init_conf`: the first pool named but never given
    /// threads (`default` has 32 of its own), where it was first named.
    pub(super) fn unknown(&self) -> Option<((usize, usize), String)> {
        self.pools
            .iter()
            .find(|(name, threads, _)| !threads && name != "default")
            .map(|(name, _, at)| (*at, format!("unknown thread pool \"{name}\"")))
    }
}

/// `ngx_set_priority`: an optional sign, then a number; `set` says
/// whether an earlier one gave a priority other than 0.
fn priority(args: &[String], set: &mut bool) -> Result<(), String> {
    if *set {
        return Err("\"worker_priority\" directive is duplicate".into());
    }
    let Some(v) = args.first() else {
        return Ok(());
    };
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    match atoi(digits.as_bytes()) {
        Some(n) => {
            *set = n != 0;
            Ok(())
        }
        None => Err("\"worker_priority\" directive invalid number".into()),
    }
}

/// `ngx_set_cpu_affinity` (Linux: `CPU_SETSIZE` is 1024).
fn cpu_affinity(args: &[String]) -> Result<(), String> {
    let masks = match args.split_first() {
        Some((first, rest)) if first == "auto" => {
            if rest.len() > 1 {
                return Err(
                    "invalid number of arguments in \"worker_cpu_affinity\" directive".into(),
                );
            }
            rest
        }
        _ => args,
    };
    for m in masks {
        if m.len() > 1024 {
            return Err("\"worker_cpu_affinity\" supports up to 1024 CPUs only".into());
        }
        // read from the last CPU's digit back, spaces skipped
        if let Some(c) = m.bytes().rev().find(|&c| !matches!(c, b' ' | b'0' | b'1')) {
            return Err(format!(
                "invalid character \"{}\" in \"worker_cpu_affinity\"",
                char::from(c)
            ));
        }
    }
    Ok(())
}

impl Walker<'_> {
    /// The main context's own handlers, run before the generic checks
    /// (none of them sets a field those would test first).
    pub(super) fn main_handlers(
        &mut self,
        spec: &DirectiveSpec,
        args: &[String],
        at: (usize, usize),
    ) -> Result<(), String> {
        match spec.set {
            "ngx_set_priority" => priority(args, &mut self.priority_set),
            "ngx_set_cpu_affinity" => cpu_affinity(args),
            "ngx_thread_pool" => self.thread_pools.define(args, at),
            "ngx_error_log"
            | "ngx_http_core_error_log"
            | "ngx_stream_core_error_log"
            | "ngx_mail_core_error_log" => {
                let Some(dest) = args.first() else {
                    return Ok(());
                };
                let path = &self.set.files[at.0].path;
                let conf_file = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let lookup = |host: &str| self.resolver.resolves(host);
                let lookups: Option<&dyn Fn(&str) -> bool> =
                    self.options.resolve.then_some(&lookup);
                syslog::error_log(dest, &conf_file.to_string_lossy(), lookups)
            }
            _ => Ok(()),
        }
    }

    /// `aio threads=NAME`: a pool without variables is added where it is
    /// first named (`ngx_http_core_set_aio`).
    pub(super) fn aio_pool(&mut self, args: &[String], at: (usize, usize)) {
        if let Some(name) = args.first().and_then(|a| a.strip_prefix("threads=")) {
            if !name.contains('$') {
                self.thread_pools.add(name, at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn priorities_and_affinities() {
        let mut set = false;
        assert_eq!(priority(&words("0"), &mut set), Ok(()));
        assert_eq!(priority(&words("-5"), &mut set), Ok(()));
        assert_eq!(
            priority(&words("+3"), &mut set),
            Err("\"worker_priority\" directive is duplicate".into())
        );
        assert_eq!(
            priority(&words("high"), &mut false),
            Err("\"worker_priority\" directive invalid number".into())
        );
        assert_eq!(cpu_affinity(&words("auto 0101")), Ok(()));
        assert_eq!(cpu_affinity(&words("01 10")), Ok(()));
        assert_eq!(
            cpu_affinity(&words("0x")),
            Err("invalid character \"x\" in \"worker_cpu_affinity\"".into())
        );
        assert_eq!(
            cpu_affinity(&words("auto 01 10")),
            Err("invalid number of arguments in \"worker_cpu_affinity\" directive".into())
        );
    }

    #[test]
    fn thread_pools() {
        let mut pools = ThreadPools::default();
        let at = (0, 0);
        pools.add("later", at);
        assert_eq!(
            pools.unknown(),
            Some((at, "unknown thread pool \"later\"".into()))
        );
        assert_eq!(pools.define(&words("later threads=4"), at), Ok(()));
        assert_eq!(pools.unknown(), None);
        assert_eq!(
            pools.define(&words("later threads=2"), at),
            Err("duplicate thread pool \"later\"".into())
        );
        assert_eq!(
            pools.define(&words("p threads=0"), at),
            Err("invalid threads value \"threads=0\"".into())
        );
        assert_eq!(
            pools.define(&words("q max_queue=-1"), at),
            Err("invalid max_queue value \"max_queue=-1\"".into())
        );
        assert_eq!(
            pools.define(&words("r max_queue=5"), at),
            Err("\"thread_pool\" must have \"threads\" parameter".into())
        );
        pools.add("default", at);
        assert_eq!(
            pools.unknown(),
            Some((at, "unknown thread pool \"p\"".into()))
        );
    }
}
