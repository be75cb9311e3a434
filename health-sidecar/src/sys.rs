//! The few libc calls the sidecar needs, each behind a safe function.
//!
//! `unsafe` is denied workspace-wide; these wrappers are the only place it
//! is allowed, one call per function, so each SAFETY argument stays small.

/// Sends `sig` to process `pid`. Returns false when the process is gone (or
/// the pid does not fit a `pid_t`), which callers treat as "nothing to do".
#[allow(unsafe_code)]
pub fn kill(pid: u32, sig: libc::c_int) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        // 0 and negative pids address process groups; never by accident.
        return false;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Sends `sig` to the process group led by `pgid` (a probe command started
/// with `process_group(0)`), so its children go too.
#[allow(unsafe_code)]
pub fn kill_group(pgid: u32, sig: libc::c_int) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        return false;
    }
    // SAFETY: kill(2) with a negative pid signals that group; integers only.
    unsafe { libc::kill(-pgid, sig) == 0 }
}

/// Reaps `pid` if it is a zombie child of ours, without blocking. Returns
/// its raw wait status when it was reaped.
#[allow(unsafe_code)]
pub fn reap(pid: u32) -> Option<libc::c_int> {
    let pid = libc::pid_t::try_from(pid).ok().filter(|p| *p > 0)?;
    let mut status: libc::c_int = 0;
    // SAFETY: `status` is a valid, writable c_int for the duration of the
    // call; WNOHANG makes it return at once.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then_some(status)
}

/// Opens a netlink `NETLINK_SOCK_DIAG` socket (the interface `ss` uses) with
/// a receive timeout, so a dump can never block the sidecar for long.
#[allow(unsafe_code)]
pub fn sock_diag_socket(timeout: std::time::Duration) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: socket(2) takes integers and returns a new descriptor or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2); nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let tv = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(1),
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros() as i32),
    };
    // SAFETY: `tv` is a valid timeval that outlives the call, and the length
    // passed is its size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(fd)
}

/// Sends one datagram on a netlink socket; unconnected netlink sockets
/// address the kernel by default.
#[allow(unsafe_code)]
pub fn send(fd: &std::os::fd::OwnedFd, msg: &[u8]) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `msg` is valid for reads of `msg.len()` bytes during the call.
    let n = unsafe { libc::send(fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Receives one datagram into `buf`; returns its length.
#[allow(unsafe_code)]
pub fn recv(fd: &std::os::fd::OwnedFd, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes during the call.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
}
