//! What `check` asks this machine, as `nginx -t` does: host names (with
//! the system resolver) and the `user`'s user and group.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// `ngx_set_user` (`user NAME [GROUP];`), run as root: the user and the
/// group (the user's name when none is given) must exist on this machine.
/// Read from `/etc/passwd` and `/etc/group`, the files `getpwnam` and
/// `getgrnam` read on a machine without other name services. Not root:
/// nginx ignores the directive with a warning.
pub fn user_exists(args: &[String]) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let Some(user) = args.first().filter(|_| root) else {
        return Ok(());
    };
    let group = args.get(1).unwrap_or(user);
    let has = |file: &str, name: &str| {
        std::fs::read_to_string(file).map_or(true, |text| {
            text.lines().any(|l| l.split(':').next() == Some(name))
        })
    };
    if !has("/etc/passwd", user) {
        return Err(format!("getpwnam(\"{user}\") failed"));
    }
    if !has("/etc/group", group) {
        return Err(format!("getgrnam(\"{group}\") failed"));
    }
    Ok(())
}

/// Host name lookups as nginx's `getaddrinfo` makes them, remembered per
/// name and bounded in time (the system resolver has no timeout of its own).
#[derive(Debug, Default)]
pub struct Resolver {
    found: RefCell<HashMap<String, Vec<IpAddr>>>,
}

impl Resolver {
    /// How long one lookup may take before the name counts as not found.
    const TIMEOUT: Duration = Duration::from_secs(5);

    pub fn resolves(&self, host: &str) -> bool {
        !self.addresses(host).is_empty()
    }

    /// The addresses of `host` as `ngx_inet_resolve_host` orders them:
    /// IPv4 first, then IPv6, each once; none when it is not found.
    pub fn addresses(&self, host: &str) -> Vec<IpAddr> {
        if let Some(found) = self.found.borrow().get(host) {
            return found.clone();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let name = host.to_string();
        std::thread::spawn(move || {
            use std::net::ToSocketAddrs;
            let found: Vec<IpAddr> = (name.as_str(), 0u16)
                .to_socket_addrs()
                .map(|a| a.map(|a| a.ip()).collect())
                .unwrap_or_default();
            let _ = tx.send(found);
        });
        let mut found = rx.recv_timeout(Self::TIMEOUT).unwrap_or_default();
        // getaddrinfo lists each address once per socket type
        let mut seen = Vec::new();
        found.retain(|a| {
            let new = !seen.contains(a);
            seen.push(*a);
            new
        });
        found.sort_by_key(|a| a.is_ipv6());
        self.found
            .borrow_mut()
            .insert(host.to_string(), found.clone());
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_looked_up_only_as_root() {
        use std::os::unix::fs::MetadataExt;
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(user_exists(&args(&["root", "root"])), Ok(()));
        let missing = user_exists(&args(&["nginx-edit-no-such-user"]));
        let wrong_group = user_exists(&args(&["root", "nginx-edit-no-such-group"]));
        if root {
            assert_eq!(
                missing,
                Err("getpwnam(\"nginx-edit-no-such-user\") failed".into())
            );
            assert_eq!(
                wrong_group,
                Err("getgrnam(\"nginx-edit-no-such-group\") failed".into())
            );
        } else {
            assert_eq!((missing, wrong_group), (Ok(()), Ok(())));
        }
    }
}
