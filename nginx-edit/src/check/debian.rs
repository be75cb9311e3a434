//! Debian's `nginx` package is not upstream 1.22.1: its security updates
//! backport directives (1.22.1-9+deb12u8 added `max_headers`, from nginx
//! 1.29.8, in its own `ngx_http_header_count_module`). `--modules debian`
//! models one package version, named here and in `--help`; a test reads
//! the installed package's version and fails when it is another one.

use crate::directives::{nginx_table, nginx_version, DirectiveSpec};

/// The Debian package version `--modules debian` models (`dpkg-query -W nginx`).
pub const PACKAGE_VERSION: &str = "1.22.1-9+deb12u11";

/// The upstream release that package is built from.
pub const UPSTREAM_VERSION: u32 = nginx_version(1, 22, 1);

/// A directive a Debian revision backported from a later nginx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backport {
    pub name: &'static str,
    /// The first package revision that has it.
    pub revision: &'static str,
    /// A use of it valid in `http { }` (the test against the package).
    pub example: &'static str,
}

/// Every backported directive of [`PACKAGE_VERSION`] (its changelog and
/// patches: `zcat /usr/share/doc/nginx/changelog.Debian.gz`).
pub const BACKPORTS: &[Backport] = &[Backport {
    name: "max_headers",
    revision: "1.22.1-9+deb12u8",
    example: "max_headers 100;",
}];

/// The table's entry for a backported directive `name` (as upstream
/// defines it: same contexts, arguments and handler), if it is one.
pub fn backport(name: &str) -> Option<&'static DirectiveSpec> {
    BACKPORTS.iter().find(|b| b.name == name)?;
    nginx_table().iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_backport_is_in_the_table_after_the_release() {
        for b in BACKPORTS {
            let spec = backport(b.name).unwrap();
            assert!(spec.since > UPSTREAM_VERSION, "{} is not newer", b.name);
            assert!(b.revision.starts_with("1.22.1-"), "{}", b.revision);
        }
        assert!(backport("proxy_pass").is_none());
    }
}
