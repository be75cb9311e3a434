//! Counts the app's open server-side TCP connections, from the kernel.
//!
//! Asks the kernel through netlink `sock_diag` (see `sockdiag`), and falls
//! back to reading `/proc/net/tcp` and `/proc/net/tcp6` where netlink is not
//! available (a seccomp profile, a kernel without `inet_diag`). Both
//! describe the sockets of the network namespace the sidecar runs in: share
//! the app's namespace (`network_mode: "service:app"`, a Kubernetes pod)
//! and these are the app's. A connection counts when its *local* port is `--app-port` (the
//! server side; the client side of a loopback connection has an ephemeral
//! local port) and it is in a state where the app still holds the socket:
//!
//! | state | hex | why it counts |
//! |---|---|---|
//! | ESTABLISHED | 01 | a request may be in flight |
//! | SYN_RECV | 03 | a client is connecting and will be accepted |
//! | CLOSE_WAIT | 08 | the client closed, the app has not yet |
//!
//! LISTEN (0A) is the listener itself; FIN_WAIT*, LAST_ACK, CLOSING and
//! TIME_WAIT are sockets the app has already closed: the kernel finishes
//! them without the app, so they do not hold a drain open.

use std::io;

/// Counts connections on one port, from the best source available.
#[derive(Debug)]
pub struct ConnCounter {
    port: u16,
    source: Source,
    paths: [String; 2],
}

#[derive(Debug)]
enum Source {
    SockDiag(crate::sockdiag::SockDiag),
    Proc,
}

const COUNTED_STATES: [&str; 3] = ["01", "03", "08"];

impl ConnCounter {
    /// Uses netlink when a first dump works, `/proc` otherwise.
    pub fn new(port: u16) -> Self {
        let source = match crate::sockdiag::SockDiag::open() {
            Ok(mut d) => match d.count(port) {
                Ok(_) => Source::SockDiag(d),
                Err(_) => Source::Proc,
            },
            Err(_) => Source::Proc,
        };
        ConnCounter {
            port,
            source,
            paths: ["/proc/net/tcp".into(), "/proc/net/tcp6".into()],
        }
    }

    /// Always reads `/proc/net/tcp{,6}`.
    pub fn proc_only(port: u16) -> Self {
        ConnCounter {
            port,
            source: Source::Proc,
            paths: ["/proc/net/tcp".into(), "/proc/net/tcp6".into()],
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `sock_diag` or `proc`, for the startup log.
    pub fn source(&self) -> &'static str {
        match self.source {
            Source::SockDiag(_) => "netlink sock_diag",
            Source::Proc => "/proc/net/tcp{,6}",
        }
    }

    /// Counts now. A netlink failure switches to `/proc` for good (and this
    /// sample is taken there); a `/proc` read error is returned, and the
    /// caller keeps draining until the timeout.
    pub fn count(&mut self) -> io::Result<usize> {
        if let Source::SockDiag(d) = &mut self.source {
            match d.count(self.port) {
                Ok(n) => return Ok(n),
                Err(e) => {
                    eprintln!(
                        "health-sidecar: sock_diag failed ({e}); reading /proc/net/tcp instead"
                    );
                    self.source = Source::Proc;
                }
            }
        }
        self.count_proc()
    }

    /// Sums both tables. A missing `tcp6` (IPv6 disabled) counts as empty.
    fn count_proc(&self) -> io::Result<usize> {
        let mut total = 0;
        for path in &self.paths {
            match std::fs::read_to_string(path) {
                Ok(text) => total += count_in(&text, self.port),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io::Error::new(e.kind(), format!("{path}: {e}"))),
            }
        }
        Ok(total)
    }
}

/// Counts the lines of one `/proc/net/tcp{,6}` table whose local port is
/// `port` and whose state is one of [`COUNTED_STATES`], each connection
/// once. The kernel writes the table a page at a time and resumes by
/// position, so a socket opened or closed between two reads shifts the
/// rest: a busy port can show the same connection twice in one read (seen
/// in CI). A connection is its (local, remote) address pair, so a repeated
/// pair is the same socket read again.
pub fn count_in(table: &str, port: u16) -> usize {
    let mut seen = std::collections::HashSet::new();
    table
        .lines()
        .skip(1) // header
        .filter(|line| {
            let mut fields = line.split_ascii_whitespace();
            let (_sl, Some(local), Some(remote), Some(state)) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return false;
            };
            let local_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            local_port == Some(port)
                && COUNTED_STATES.contains(&state)
                && seen.insert((local, remote))
        })
        .count()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Port 8080 = 0x1F90; 0xA3C2 is an ephemeral client port.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:A3C2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:A3C2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F90 0100007F:A3C4 08 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:1F90 0100007F:A3C6 06 00000000:00000000 03:00000F9C 00000000     0        0 0 3 0000000000000000
   5: 0100007F:1F90 0100007F:A3C8 04 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 20 4 30 10 -1
   6: 0100007F:1F91 0100007F:A3CA 01 00000000:00000000 00:00000000 00000000     0        0 6 1 0000000000000000 20 4 30 10 -1
   7: 0100007F:1F90 0100007F:A3CC 03 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000
";

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:B000 01 00000000:00000000 00:00000000 00000000     0        0 8 1 0000000000000000 20 4 30 10 -1
   2: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:B002 08 00000000:00000000 00:00000000 00000000     0        0 9 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn counts_server_side_held_states_only() {
        // established (1), close_wait (3), syn_recv (7); not the listener,
        // the client side (2), time_wait (4), fin_wait1 (5), another port (6)
        assert_eq!(count_in(TCP, 8080), 3);
        assert_eq!(count_in(TCP, 8081), 1);
        assert_eq!(count_in(TCP, 0xA3C4), 0, "remote ports are not local ports");
    }

    #[test]
    fn counts_ipv6_and_mapped() {
        assert_eq!(count_in(TCP6, 8080), 2);
    }

    #[test]
    fn a_connection_read_twice_counts_once() {
        // the kernel resumed its page-by-page dump one line early: line 1
        // again, renumbered; line 3 is another connection on the same port
        let table = format!(
            "{TCP}   9: 0100007F:1F90 0100007F:A3C2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1\n"
        );
        assert_eq!(count_in(&table, 8080), 3);
        let other = format!(
            "{TCP}   9: 0100007F:1F90 0100007F:A3C9 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1\n"
        );
        assert_eq!(count_in(&other, 8080), 4);
    }

    #[test]
    fn tolerates_garbage() {
        assert_eq!(count_in("", 8080), 0);
        assert_eq!(count_in("header\nnot a table line\n0: zz:zz", 8080), 0);
    }

    #[test]
    fn reads_both_tables_and_tolerates_missing_tcp6() {
        let dir = tempfile::tempdir().unwrap();
        let v4 = dir.path().join("tcp");
        let v6 = dir.path().join("tcp6");
        std::fs::write(&v4, TCP).unwrap();
        std::fs::write(&v6, TCP6).unwrap();
        let mut c = ConnCounter::proc_only(8080);
        c.paths = [
            v4.to_string_lossy().into_owned(),
            v6.to_string_lossy().into_owned(),
        ];
        assert_eq!(c.count().unwrap(), 5);
        std::fs::remove_file(&v6).unwrap();
        assert_eq!(c.count().unwrap(), 3);
        std::fs::remove_file(&v4).unwrap();
        assert_eq!(c.count().unwrap(), 0);
    }

    #[test]
    fn sees_a_real_loopback_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut c = ConnCounter::proc_only(port);
        let before = c.count().unwrap();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert_eq!(c.count().unwrap(), before + 1);
        drop(client); // server side goes to CLOSE_WAIT: still held by the app
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(c.count().unwrap(), before + 1);
        drop(server);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(c.count().unwrap(), before);
    }
}
