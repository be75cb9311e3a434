//! Which directives' arguments nginx keeps as text (names, paths, regular
//! expressions) rather than compiling them as scripts: a `$` there names
//! no variable.

/// Directives whose arguments nginx keeps as literal text (or as regular
/// expressions), so a `$` in them is not a variable.
pub const LITERAL_ARGS: &[&str] = &[
    "error_log",
    "fastcgi_split_path_info",
    "grpc_ssl_ciphers",
    "include",
    "listen",
    "load_module",
    "location",
    "lock_file",
    "pid",
    "proxy_ssl_ciphers",
    "secure_link_secret",
    "server_name",
    "ssl_ciphers",
    "ssl_conf_command",
    "ssl_password_file",
    "userid_domain",
    "userid_name",
    "userid_p3p",
    "userid_path",
    "uwsgi_ssl_ciphers",
    "valid_referers",
];

/// Handlers that keep their arguments as text (file and path names,
/// header names, MIME types, zone and upstream names, addresses): a `$`
/// there is no variable (`proxy_set_body` and `ssl_certificate*` are
/// compiled when the servers are merged: not these).
pub fn literal_handler(set: &str, name: &str) -> bool {
    match set {
        "ngx_conf_set_str_slot" => name != "proxy_set_body",
        // (`ssl_certificate*` are compiled with the servers' TLS merge:
        // see `HttpSsl::certificate_variables`)
        "ngx_conf_set_str_array_slot" => true,
        "ngx_conf_set_keyval_slot" => name.ends_with("ssl_conf_command"),
        _ => matches!(
            set,
            "ngx_conf_set_access_slot"
                | "ngx_conf_set_path_slot"
                | "ngx_http_file_cache_set_slot"
                | "ngx_http_types_slot"
                | "ngx_http_upstream"
                | "ngx_http_upstream_server"
                | "ngx_http_upstream_zone"
                | "ngx_http_realip"
                | "ngx_http_realip_from"
                | "ngx_http_ssl_session_cache"
                | "ngx_http_mirror"
                | "ngx_http_log_open_file_cache"
                | "ngx_http_core_open_file_cache"
                | "ngx_http_access_rule"
                | "ngx_http_core_resolver"
                | "ngx_http_upstream_resolver"
                | "ngx_http_limit_conn"
                | "ngx_http_limit_req"
                | "ngx_http_ancient_browser"
                | "ngx_http_modern_browser"
                | "ngx_http_ancient_browser_value"
                | "ngx_http_modern_browser_value"
                // a regex, a URI kept as text, an ignored argument
                | "ngx_http_gzip_disable"
                | "ngx_http_auth_request"
                | "ngx_http_set_stub_status"
                // 1.22's obsolete http2 directives only warn
                | "ngx_http_v2_obsolete"
                | "ngx_http_geoip_country"
                | "ngx_http_geoip_org"
                | "ngx_http_geoip_city"
                | "ngx_http_geoip_proxy"
        ),
    }
}
