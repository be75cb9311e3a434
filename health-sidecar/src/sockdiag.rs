//! Counting connections through netlink `sock_diag`, the interface `ss`
//! uses. Unlike `/proc/net/tcp`, the kernel filters by TCP state before
//! answering, so a host with tens of thousands of `TIME_WAIT` sockets costs
//! nothing extra, and the answer is binary rather than text to parse.
//!
//! Messages are built and read by hand (a 72-byte request, and the fixed
//! layout of `struct inet_diag_msg`); see `linux/inet_diag.h`.

use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

/// `SOCK_DIAG_BY_FAMILY` from `linux/sock_diag.h`.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_HDRLEN: usize = 16;
/// `struct inet_diag_req_v2`: family, protocol, ext, pad, states, sockid (48).
const REQ_LEN: usize = 56;

/// The TCP states counted, as a bitmask of `1 << state`: ESTABLISHED (1),
/// SYN_RECV (3), CLOSE_WAIT (8). See `conns` for why these.
pub const STATES: u32 = (1 << 1) | (1 << 3) | (1 << 8);

/// An open sock_diag socket and its receive buffer.
#[derive(Debug)]
pub struct SockDiag {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl SockDiag {
    pub fn open() -> io::Result<SockDiag> {
        Ok(SockDiag {
            fd: crate::sys::sock_diag_socket(Duration::from_secs(1))?,
            seq: 0,
            buf: vec![0; 32 * 1024],
        })
    }

    /// Server-side connections on `port` in [`STATES`], IPv4 and IPv6.
    pub fn count(&mut self, port: u16) -> io::Result<usize> {
        let v4 = self.dump(libc::AF_INET as u8, port)?;
        let v6 = match self.dump(libc::AF_INET6 as u8, port) {
            Ok(n) => n,
            // IPv6 disabled in this kernel or namespace: nothing to count.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EAFNOSUPPORT)) => 0,
            Err(e) => return Err(e),
        };
        Ok(v4 + v6)
    }

    fn dump(&mut self, family: u8, port: u16) -> io::Result<usize> {
        self.seq = self.seq.wrapping_add(1);
        crate::sys::send(&self.fd, &request(family, self.seq))?;
        let mut total = 0;
        loop {
            let n = crate::sys::recv(&self.fd, &mut self.buf)?;
            match parse(&self.buf[..n], self.seq, port)? {
                Batch::More(c) => total += c,
                Batch::Done(c) => return Ok(total + c),
            }
        }
    }
}

/// Builds the dump request: all TCP sockets of `family` in [`STATES`].
pub fn request(family: u8, seq: u32) -> [u8; NLMSG_HDRLEN + REQ_LEN] {
    let mut m = [0u8; NLMSG_HDRLEN + REQ_LEN];
    m[0..4].copy_from_slice(&((NLMSG_HDRLEN + REQ_LEN) as u32).to_ne_bytes());
    m[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    m[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    // nlmsg_pid 0: the kernel fills in ours.
    m[16] = family;
    m[17] = libc::IPPROTO_TCP as u8;
    m[20..24].copy_from_slice(&STATES.to_ne_bytes());
    m
}

/// What one received datagram contributed.
#[derive(Debug, PartialEq, Eq)]
pub enum Batch {
    /// Matching sockets in this part; more parts follow.
    More(usize),
    /// Matching sockets in this last part (it held `NLMSG_DONE`).
    Done(usize),
}

/// Counts the `inet_diag_msg`s of one datagram whose source port is `port`.
/// Messages of another sequence number (left over from a dump that timed
/// out) are skipped.
pub fn parse(buf: &[u8], seq: u32, port: u16) -> io::Result<Batch> {
    let mut off = 0;
    let mut count = 0;
    while off + NLMSG_HDRLEN <= buf.len() {
        let len = u32_at(buf, off) as usize;
        if len < NLMSG_HDRLEN || off + len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "truncated netlink message",
            ));
        }
        let kind = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
        let msg_seq = u32_at(buf, off + 8);
        let payload = &buf[off + NLMSG_HDRLEN..off + len];
        if msg_seq == seq {
            match kind {
                NLMSG_DONE => return Ok(Batch::Done(count)),
                NLMSG_ERROR => {
                    let errno = payload
                        .get(0..4)
                        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                        .unwrap_or(0);
                    if errno != 0 {
                        return Err(io::Error::from_raw_os_error(-errno));
                    }
                }
                // inet_diag_msg: family, state, timer, retrans, then
                // inet_diag_sockid whose first field is the source port in
                // network byte order.
                SOCK_DIAG_BY_FAMILY
                    if payload.len() >= 6
                        && u16::from_be_bytes([payload[4], payload[5]]) == port =>
                {
                    count += 1;
                }
                _ => {}
            }
        }
        off += (len + 3) & !3; // NLMSG_ALIGN
    }
    Ok(Batch::More(count))
}

fn u32_at(buf: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn msg(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + payload.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&0x2u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    fn sock(sport: u16) -> Vec<u8> {
        let mut p = vec![2, 1, 0, 0];
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&[0u8; 66]);
        p
    }

    #[test]
    fn request_layout() {
        let r = request(10, 7);
        assert_eq!(u32_at(&r, 0), 72);
        assert_eq!(u16::from_ne_bytes([r[4], r[5]]), 20);
        assert_eq!(u16::from_ne_bytes([r[6], r[7]]), 0x301);
        assert_eq!(u32_at(&r, 8), 7);
        assert_eq!((r[16], r[17]), (10, 6));
        assert_eq!(u32_at(&r, 20), 0b1_0000_1010);
    }

    #[test]
    fn counts_matching_ports_until_done() {
        let mut b = sock(8080);
        b = msg(SOCK_DIAG_BY_FAMILY, 5, &b);
        b.extend(msg(SOCK_DIAG_BY_FAMILY, 5, &sock(8081)));
        b.extend(msg(SOCK_DIAG_BY_FAMILY, 5, &sock(8080)));
        b.extend(msg(SOCK_DIAG_BY_FAMILY, 4, &sock(8080))); // stale dump
        assert_eq!(parse(&b, 5, 8080).unwrap(), Batch::More(2));
        b.extend(msg(NLMSG_DONE, 4, &[0; 4])); // stale DONE is not ours
        assert_eq!(parse(&b, 5, 8080).unwrap(), Batch::More(2));
        b.extend(msg(NLMSG_DONE, 5, &[0; 4]));
        assert_eq!(parse(&b, 5, 8080).unwrap(), Batch::Done(2));
    }

    #[test]
    fn reports_kernel_errors_and_truncation() {
        let e = msg(NLMSG_ERROR, 1, &(-libc::EPERM).to_ne_bytes());
        assert_eq!(
            parse(&e, 1, 80).unwrap_err().raw_os_error(),
            Some(libc::EPERM)
        );
        let mut t = msg(SOCK_DIAG_BY_FAMILY, 1, &sock(80));
        t.truncate(30);
        assert!(parse(&t, 1, 80).is_err());
    }

    #[test]
    fn agrees_with_the_kernel_on_a_real_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut d = SockDiag::open().unwrap();
        assert_eq!(d.count(port).unwrap(), 0);
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert_eq!(d.count(port).unwrap(), 1, "established");
        drop(client);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(d.count(port).unwrap(), 1, "close_wait");
        drop(server);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(d.count(port).unwrap(), 0);

        let l6 = std::net::TcpListener::bind("[::1]:0").unwrap();
        let p6 = l6.local_addr().unwrap().port();
        let _c6 = std::net::TcpStream::connect(("::1", p6)).unwrap();
        let _s6 = l6.accept().unwrap();
        assert_eq!(d.count(p6).unwrap(), 1, "ipv6");
    }
}
