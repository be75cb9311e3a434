//! Which processes still hold a listening socket, read from `/proc`.
//!
//! After a reload nginx's master starts the new workers, waits about
//! 100 ms, then tells the old ones to quit; an old worker closes its
//! listening sockets when it sees that signal and then only finishes the
//! requests it has. So "no old worker holds a listening socket" is the
//! moment from which every new connection reaches a new worker.
//!
//! How it is read: every socket a process holds is an fd whose link in
//! `/proc/PID/fd` reads `socket:[INODE]`. The sockets in LISTEN state are
//! the rows of `/proc/PID/net/tcp` and `tcp6` whose `st` column is `0A`
//! (and the rows of `/proc/PID/net/unix` flagged `__SO_ACCEPTCON`), each
//! with its inode in the `inode` column. Reading these tables through the
//! master's pid (not `/proc/net`) reads its network namespace, so an nginx
//! in a container's namespace is seen as it sees itself. A process holds
//! a listening socket when one of its socket inodes is in that set.

use std::collections::HashSet;
use std::io;

/// The inodes of the sockets in LISTEN state in the network namespace of
/// `pid` (TCP over IPv4 and IPv6, and unix stream sockets).
pub fn listening_inodes(pid: u32) -> io::Result<HashSet<u64>> {
    let mut out = HashSet::new();
    for table in ["tcp", "tcp6"] {
        match std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) {
            Ok(text) => out.extend(tcp_listening(&text)),
            // no IPv6 in this kernel or namespace
            Err(e) if e.kind() == io::ErrorKind::NotFound && table == "tcp6" => {}
            Err(e) => return Err(e),
        }
    }
    if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/unix")) {
        out.extend(unix_listening(&text));
    }
    Ok(out)
}

/// Inodes of the LISTEN rows (`st` = `0A`) of a `/proc/net/tcp` table:
/// `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
fn tcp_listening(table: &str) -> impl Iterator<Item = u64> + '_ {
    table.lines().skip(1).filter_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        match (f.get(3), f.get(9)) {
            (Some(&"0A"), Some(inode)) => inode.parse().ok(),
            _ => None,
        }
    })
}

/// Inodes of the listening rows of `/proc/net/unix`:
/// `Num RefCount Protocol Flags Type St Inode [Path]`, listening when
/// `Flags` has `__SO_ACCEPTCON` (0x10000).
fn unix_listening(table: &str) -> impl Iterator<Item = u64> + '_ {
    table.lines().skip(1).filter_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let flags = u32::from_str_radix(f.get(3)?, 16).ok()?;
        (flags & 0x10000 != 0).then(|| f.get(6)?.parse().ok())?
    })
}

/// The inodes of the sockets `pid` holds open. A process that is gone
/// holds none.
pub fn socket_inodes(pid: u32) -> io::Result<HashSet<u64>> {
    let entries = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e),
    };
    let mut out = HashSet::new();
    for entry in entries.flatten() {
        // An fd closed between the listing and the readlink is skipped.
        let Ok(link) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let link = link.to_string_lossy();
        if let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
            .and_then(|s| s.parse().ok())
        {
            out.insert(inode);
        }
    }
    Ok(out)
}

/// Those of `pids` that still hold one of the listening sockets of the
/// namespace of `master`. Errors name what could not be read.
pub fn still_listening(master: u32, pids: &[u32]) -> Result<Vec<u32>, String> {
    let listening = listening_inodes(master).map_err(|e| format!("/proc/{master}/net/tcp: {e}"))?;
    let mut out = Vec::new();
    for &pid in pids {
        let held = socket_inodes(pid).map_err(|e| format!("/proc/{pid}/fd: {e}"))?;
        if !held.is_disjoint(&listening) {
            out.push(pid);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::fd::AsRawFd;

    fn inode_of(fd: i32) -> u64 {
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
        let link = link.to_string_lossy().into_owned();
        link.trim_start_matches("socket:[")
            .trim_end_matches(']')
            .parse()
            .unwrap()
    }

    #[test]
    fn a_listener_is_listening_and_a_connection_is_not() {
        let me = std::process::id();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (l, c) = (inode_of(listener.as_raw_fd()), inode_of(client.as_raw_fd()));
        let listening = listening_inodes(me).unwrap();
        assert!(listening.contains(&l));
        assert!(!listening.contains(&c));
        let held = socket_inodes(me).unwrap();
        assert!(held.contains(&l) && held.contains(&c));
        assert_eq!(still_listening(me, &[me]).unwrap(), vec![me]);
        drop(listener);
        assert!(!socket_inodes(me).unwrap().contains(&l));
        // Another test of this process may have forked a child that holds
        // the listener until its exec closes it: the socket leaves LISTEN
        // once that child has exec'd.
        let gone = (0..200).any(|_| {
            let gone = !listening_inodes(me).unwrap().contains(&l);
            if !gone {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            gone
        });
        assert!(gone, "a closed listener is still listening after 2 s");
    }

    #[test]
    fn tables_are_read_by_their_columns() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000 100 0 0 10 0\n\
           1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000 20 4 30 10 -1\n";
        assert_eq!(tcp_listening(tcp).collect::<Vec<_>>(), vec![4242]);
        let unix = "Num       RefCount Protocol Flags    Type St Inode Path\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 5151 /run/app.sock\n\
            0000000000000000: 00000003 00000000 00000000 0001 03 5252 /run/app.sock\n";
        assert_eq!(unix_listening(unix).collect::<Vec<_>>(), vec![5151]);
        // a process that is gone holds nothing
        assert!(socket_inodes(u32::MAX).unwrap().is_empty());
    }
}
