//! Free loopback ports for tests and labs that start servers as child
//! processes.
//!
//! `bind("127.0.0.1:0")` hands out a port from the kernel's *ephemeral*
//! range, and closing that listener gives it back to the same pool that
//! every outgoing `connect()` draws its source port from. A load test next
//! door (thousands of connections a second through nginx) can then take the
//! port as a source port before the child process binds it, and the child
//! fails with `EADDRINUSE`. Ports below the ephemeral range are never used
//! as source ports, so these come from there: a per-process start (from the
//! pid) keeps concurrent test binaries apart, a counter keeps threads
//! apart, and a trial bind skips ports something already holds.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// Size of the window below the ephemeral range that ports come from.
const WINDOW: u32 = 10_000;

/// `n` distinct loopback ports that were free a moment ago and are outside
/// the kernel's ephemeral range.
pub fn free_loopback_ports(n: usize) -> std::io::Result<Vec<u16>> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let top = ephemeral_low().clamp(WINDOW + 1024, 65_535);
    let bottom = top - WINDOW;
    let start = std::process::id().wrapping_mul(7919) % WINDOW;
    let candidates = (0..WINDOW).map(|_| {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % WINDOW;
        (bottom + offset) as u16
    });
    let ports = claim(candidates, n);
    if ports.len() < n {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("no {n} free loopback ports in {bottom}..{top}"),
        ));
    }
    Ok(ports)
}

/// The first `n` of `candidates` that a trial bind finds free.
fn claim(candidates: impl Iterator<Item = u16>, n: usize) -> Vec<u16> {
    candidates
        .filter(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .take(n)
        .collect()
}

/// One free loopback port; see [`free_loopback_ports`].
pub fn free_loopback_port() -> std::io::Result<u16> {
    Ok(free_loopback_ports(1)?[0])
}

/// The lowest ephemeral port (`net.ipv4.ip_local_port_range`), 32768 when
/// it cannot be read.
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (Not "still bindable": another test binary running at the same time
    /// may bind one in between, which made this test flaky; the trial bind
    /// is what `a_held_port_is_skipped` tests.)
    #[test]
    fn ports_are_distinct_and_below_the_ephemeral_range() {
        let ports = free_loopback_ports(50).expect("ports");
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 50, "duplicates in {ports:?}");
        for p in ports {
            assert!(u32::from(p) < ephemeral_low(), "{p} is ephemeral");
        }
    }

    /// (Only held ports here: a port free a moment ago may be taken by
    /// another test's server in between, which made this test flaky.)
    #[test]
    fn a_held_port_is_skipped() {
        let held = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = held.local_addr().expect("addr").port();
        assert_eq!(claim([port, port].into_iter(), 1), Vec::<u16>::new());
        let free = free_loopback_port().expect("port");
        assert!(!claim([port, free].into_iter(), 2).contains(&port));
    }
}
