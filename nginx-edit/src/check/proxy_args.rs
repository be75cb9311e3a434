//! `proxy_redirect` as `ngx_http_proxy_redirect` reads it (nginx 1.22.1,
//! `src/http/modules/ngx_http_proxy_module.c`): `off` excludes any other
//! `proxy_redirect` in the block, `default` needs the block's own
//! `proxy_pass` before it, one argument is `off` or `default`. The same
//! `off`-or-rules lists of `proxy_cookie_path`, `proxy_cookie_domain` and
//! `proxy_cookie_flags`, and the `*_store` / `*_cache` pair each module
//! (proxy, fastcgi, uwsgi, scgi) refuses in one block.

use std::borrow::Cow;

/// The block's earlier set-once fields and markers, as the walker keeps
/// them: (key, directive name).
pub type Block = Vec<(Cow<'static, str>, Cow<'static, str>)>;

const OFF: &str = "proxy_redirect off";
const RULES: &str = "proxy_redirect rules";
/// `http2_push off` and `http2_push URI` of a level.
const PUSH_OFF: &str = "http2_push off";
const PUSH_URI: &str = "http2_push URI";
/// One `sub_filter` pair of a level (nginx takes 255).
pub const SUB_FILTER_PAIR: &str = "sub_filter pair";
/// Set by a `proxy_pass` whose URL holds variables.
pub const PASS_WITH_VARIABLES: &str = "proxy_pass with variables";

fn has(block: &Block, key: &str) -> bool {
    block.iter().any(|(k, _)| k == key)
}

/// One `proxy_redirect` in a block that has seen `block`.
pub fn proxy_redirect(args: &[String], block: &mut Block) -> Result<(), String> {
    let duplicate = || Err("\"proxy_redirect\" directive is duplicate".to_string());
    if has(block, OFF) {
        return duplicate();
    }
    if let [one] = args {
        if one == "off" {
            if has(block, RULES) {
                return duplicate();
            }
            block.push((OFF.into(), "proxy_redirect".into()));
            return Ok(());
        }
        if one != "default" {
            return Err(format!("invalid parameter \"{one}\""));
        }
        if has(block, PASS_WITH_VARIABLES) {
            return Err(
                "\"proxy_redirect default\" cannot be used with \"proxy_pass\" \
                        directive with variables"
                    .into(),
            );
        }
        if !has(block, "proxy_pass") {
            return Err(
                "\"proxy_redirect default\" should be placed after the \"proxy_pass\" directive"
                    .into(),
            );
        }
    }
    if !has(block, RULES) {
        block.push((RULES.into(), "proxy_redirect".into()));
    }
    Ok(())
}

/// `ngx_http_proxy_cookie_path`, `_domain`, `_flags`: `off` alone in its
/// block, or rules (two arguments or more); one argument is `off`.
pub fn off_or_rules(name: &str, args: &[String], block: &mut Block) -> Result<(), String> {
    let off = format!("{name} off");
    let rules = format!("{name} rules");
    let duplicate = || Err(format!("\"{name}\" directive is duplicate"));
    if has(block, &off) {
        return duplicate();
    }
    if let [one] = args {
        if one != "off" {
            return Err(format!("invalid parameter \"{one}\""));
        }
        if has(block, &rules) {
            return duplicate();
        }
        block.push((off.into(), name.to_string().into()));
        return Ok(());
    }
    if !has(block, &rules) {
        block.push((rules.into(), name.to_string().into()));
    }
    Ok(())
}

/// `ngx_http_mirror`: `off` alone in its block (a second `off` too), or
/// URIs.
pub fn mirror(args: &[String], block: &mut Block) -> Result<(), String> {
    let (off, uris) = ("mirror off", "mirror uris");
    let duplicate = || Err("\"mirror\" directive is duplicate".to_string());
    let key = if args.first().is_some_and(|a| a == "off") {
        if has(block, off) || has(block, uris) {
            return duplicate();
        }
        off
    } else {
        if has(block, off) {
            return duplicate();
        }
        uris
    };
    if !has(block, key) {
        block.push((key.into(), "mirror".into()));
    }
    Ok(())
}

/// `ngx_http_{proxy,fastcgi,uwsgi,scgi}_{store,cache}` after their
/// duplicate check: a `*_store` and a `*_cache` that are not `off` may
/// not share a block (`set` is the handler, `name` the directive).
pub fn store_or_cache(
    set: &str,
    name: &str,
    args: &[String],
    block: &mut Block,
) -> Result<(), String> {
    let Some(module) = ["proxy", "fastcgi", "uwsgi", "scgi"].into_iter().find(|m| {
        set.strip_prefix("ngx_http_")
            .and_then(|s| s.strip_prefix(m))
            .is_some_and(|s| s == "_store" || s == "_cache")
    }) else {
        return Ok(());
    };
    if args.first().is_none_or(|a| a == "off") {
        return Ok(());
    }
    let (mine, other) = if set.ends_with("_store") {
        ("store", "cache")
    } else {
        ("cache", "store")
    };
    let other_on = format!("{module}_{other} on");
    if has(block, &other_on) {
        return Err(format!(
            "\"{name}\" directive is incompatible with \"{module}_{other}\""
        ));
    }
    block.push((
        format!("{module}_{mine} on").into(),
        name.to_string().into(),
    ));
    Ok(())
}

/// `ngx_http_v2_push`: a level has `off` once, or URIs, never both.
pub fn http2_push(args: &[String], block: &mut Block) -> Result<(), String> {
    let has = |key: &str| block.iter().any(|(k, _)| k == key);
    let off = args.first().is_some_and(|a| a == "off");
    let refusal = match (off, has(PUSH_OFF), has(PUSH_URI)) {
        (true, _, true) => "\"off\" parameter cannot be used with URI",
        (true, true, _) => "is duplicate",
        (false, true, _) => "URI cannot be used with \"off\" parameter",
        (false, false, true) => return Ok(()),
        _ => "",
    };
    if !refusal.is_empty() {
        return Err(format!("\"http2_push\" directive {refusal}"));
    }
    let key = if off { PUSH_OFF } else { PUSH_URI };
    block.push((key.into(), "http2_push".into()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&str]) -> Result<(), String> {
        let mut block = Block::new();
        for line in lines {
            let args: Vec<String> = line.split_whitespace().map(String::from).collect();
            if args[0] == "proxy_pass" {
                block.push(("proxy_pass".into(), "proxy_pass".into()));
                continue;
            }
            proxy_redirect(&args[1..], &mut block)?;
        }
        Ok(())
    }

    #[test]
    fn redirect_rules_in_nginx_words() {
        assert_eq!(
            run(&["proxy_pass http://a", "proxy_redirect default"]),
            Ok(())
        );
        assert_eq!(
            run(&["proxy_redirect default", "proxy_pass http://a"]),
            Err(
                "\"proxy_redirect default\" should be placed after the \"proxy_pass\" directive"
                    .into()
            )
        );
        assert_eq!(
            run(&["proxy_redirect off", "proxy_redirect / /x"]),
            Err("\"proxy_redirect\" directive is duplicate".into())
        );
        assert_eq!(
            run(&["proxy_redirect / /x", "proxy_redirect off"]),
            Err("\"proxy_redirect\" directive is duplicate".into())
        );
        assert_eq!(
            run(&["proxy_redirect yes"]),
            Err("invalid parameter \"yes\"".into())
        );
        assert_eq!(
            run(&["proxy_redirect / /x", "proxy_redirect /a /b"]),
            Ok(())
        );
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn cookie_rules_or_off() {
        let name = "proxy_cookie_path";
        let mut block = Block::new();
        assert_eq!(off_or_rules(name, &words("/a /b"), &mut block), Ok(()));
        assert_eq!(off_or_rules(name, &words("/c /d"), &mut block), Ok(()));
        assert_eq!(
            off_or_rules(name, &words("off"), &mut block),
            Err("\"proxy_cookie_path\" directive is duplicate".into())
        );
        let mut block = Block::new();
        assert_eq!(off_or_rules(name, &words("off"), &mut block), Ok(()));
        assert_eq!(
            off_or_rules(name, &words("x"), &mut block),
            Err("\"proxy_cookie_path\" directive is duplicate".into())
        );
        assert_eq!(
            off_or_rules(name, &words("x"), &mut Block::new()),
            Err("invalid parameter \"x\"".into())
        );
    }

    #[test]
    fn store_and_cache_exclude_each_other() {
        let mut block = Block::new();
        let (store, cache) = ("ngx_http_fastcgi_store", "ngx_http_fastcgi_cache");
        assert_eq!(
            store_or_cache(cache, "fastcgi_cache", &words("off"), &mut block),
            Ok(())
        );
        assert_eq!(
            store_or_cache(store, "fastcgi_store", &words("on"), &mut block),
            Ok(())
        );
        assert_eq!(
            store_or_cache(cache, "fastcgi_cache", &words("one"), &mut block),
            Err("\"fastcgi_cache\" directive is incompatible with \"fastcgi_store\"".into())
        );
        let mut block = Block::new();
        assert_eq!(
            store_or_cache(cache, "fastcgi_cache", &words("$x"), &mut block),
            Ok(())
        );
        assert_eq!(
            store_or_cache(store, "fastcgi_store", &words("/data$uri"), &mut block),
            Err("\"fastcgi_store\" directive is incompatible with \"fastcgi_cache\"".into())
        );
    }
}
